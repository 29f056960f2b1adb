// The header's language picker switches as soon as a language is chosen (no inline handler:
// the Content-Security-Policy allows scripts from files only).
document.addEventListener("change", (event) => {
  if (event.target.matches("form.lang select[name=language]")) event.target.form.submit();
});
