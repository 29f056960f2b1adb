/* What the console tells the operator: the status line, the fields' errors, why a request
 * failed, and the product's own yes/no question (never the browser's confirm()). */
import { $, fields, form } from "./context.js";

export function failureMessage(result) {
  if (result.status === 401 || result.status === 403) {
    return gettext("Your session has ended: log in again in another tab. The draft is kept.");
  }
  if (result.status >= 500) {
    // e.g. 503: the database is not answering. Nothing was saved; the draft stays.
    const detail = result.data && result.data.detail;
    return detail ? `${detail} ${gettext("The draft is kept: try again with Ctrl+Enter.")}`
      : gettext("The server had an error. The draft is kept: try again with Ctrl+Enter.");
  }
  return (result.data && result.data.detail) || gettext("The request was refused.");
}

/** The server's words for a refusal: its detail, else every field's messages. */
export function refusal(result) {
  return (result.data && (result.data.detail || Object.values(result.data).flat().join(" ")))
    || failureMessage(result);
}

export const RETRYING = () => gettext(
  "The server cannot be reached: trying again by itself. The draft is kept in this browser.");
export const OFFLINE = () => gettext(
  "The server cannot be reached. The draft is kept in this browser: send again with Ctrl+Enter.");

export function say(message, kind) {
  const status = $("#form-status");
  status.textContent = message;
  status.className = kind || "";
}

export function clearErrors() {
  document.querySelectorAll("[data-error-for]").forEach((p) => { p.textContent = ""; });
  document.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
}

export function showErrors(errors) {
  clearErrors();
  let first = null;
  for (const [field, messages] of Object.entries(errors || {})) {
    const slot = document.querySelector(`[data-error-for="${field}"]`)
      || document.querySelector('[data-error-for="non_field_errors"]');
    slot.textContent = [].concat(messages).join(" ");
    const input = field === "category" ? fields.category : form.elements[field];
    if (input && input.setAttribute) {
      input.setAttribute("aria-invalid", "true");
      first = first || input;
    }
  }
  if (first) first.focus();
}

/** The product's own yes/no question (#ask-dialog), never the browser's confirm():
 * resolves true when the operator says yes (Enter), false on Esc or the other button. */
export function ask(question, yes) {
  const dialog = $("#ask-dialog");
  $("#ask-question").textContent = question;
  dialog.querySelector('button[value="yes"]').textContent = yes;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
    dialog.showModal();
    dialog.querySelector('button[value="yes"]').focus();
  });
}
