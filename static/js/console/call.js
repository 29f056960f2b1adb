/* The call in progress: its clock from the moment it was picked up, a new call (F2), the form
 * cleared once the server has the report, and the draft put back after a reload. */
import { $, agencyName, categoryByCode, fields, form, now, state } from "./context.js";
import { ask, clearErrors, say } from "./status.js";
import { DRAFT_KEY, dropDraft, isDirty, readDraft, saveDraft } from "./draft.js";
import { closeOptions, renderChips } from "./category_picker.js";
import { setPin } from "./pin_map.js";
import { refreshDuplicates, renderDuplicates } from "./duplicates.js";
import { lookUpPhone } from "./phone_history.js";
import { renderAml } from "./aml.js";

export function startCall() {
  if (!state.receivedAt) {
    state.receivedAt = now();
    saveDraft();
    // A call comes first: the report's view steps aside until it is sent or logged.
    document.dispatchEvent(new CustomEvent("console:call", { detail: { active: true } }));
  }
  renderClock();
}

export function renderClock() {
  const clock = $("#call-clock");
  if (!state.receivedAt) { clock.textContent = "–"; return; }
  const seconds = Math.max(0, Math.floor((now() - state.receivedAt) / 1000));
  clock.textContent = `${String(Math.floor(seconds / 60)).padStart(2, "0")}:${String(seconds % 60).padStart(2, "0")}`;
}

export function resetForm() {
  form.reset();
  clearErrors();
  Object.assign(state, { receivedAt: null, draftKey: null, category: null, agencies: new Set(),
    agenciesTouched: false, latitude: null, longitude: null, duplicates: [],
    locationSource: "", locationAccuracy: null });
  fields.category.value = "";
  closeOptions();
  setPin(null, null);
  renderChips();
  renderDuplicates();
  $("#phone-history").hidden = true;
  $("#draft-note").hidden = true;
  dropDraft();
  renderClock();
  renderAml();
  document.dispatchEvent(new CustomEvent("console:call", { detail: { active: false } }));
}

export const discardCall = () => ask(gettext("Discard the call in progress?"), gettext("Discard"));

export async function newCall() {
  if (isDirty() && !(await discardCall())) return;
  resetForm();
  say("");
  startCall();
  fields.phone.focus();
}

function restoreDraft() {
  const draft = readDraft();
  if (!draft) return;
  state.receivedAt = draft.receivedAt ? new Date(draft.receivedAt) : null;
  state.draftKey = draft.key || null; // a send whose answer was lost is the same report
  fields.phone.value = draft.phone || "";
  fields.name.value = draft.name || "";
  fields.category.value = draft.categoryText || "";
  state.category = categoryByCode[draft.category] ? draft.category : null;
  state.agencies = new Set((draft.agencies || []).filter((code) => agencyName[code]));
  state.agenciesTouched = Boolean(draft.agenciesTouched);
  fields.priority.value = draft.priority || "";
  fields.kecamatan.value = draft.kecamatan || "";
  fields.address.value = draft.address || "";
  fields.description.value = draft.description || "";
  setPin(draft.latitude, draft.longitude);
  state.locationSource = draft.locationSource || "";
  state.locationAccuracy = draft.locationAccuracy ?? null;
  renderChips();
  $("#draft-note").hidden = false;
  lookUpPhone();
  refreshDuplicates();
}

/** Starts the clock's ticking and puts back a draft this browser kept. */
export function init() {
  form.addEventListener("input", () => { if (isDirty()) startCall(); saveDraft(); });
  $("#new-call").addEventListener("click", newCall);
  // Another tab sent or discarded this operator's draft: this one follows.
  window.addEventListener("storage", (event) => {
    if (event.key === DRAFT_KEY && event.newValue === null && !isDirty()) resetForm();
  });
  restoreDraft();
  renderClock();
  setInterval(renderClock, 1000);
}
