/* The phone system (SPEC §9): calls ringing or in progress at the centre, the call answered
 * at this desk becoming the form's call, and Alt+A taking the caller's handset position (AML)
 * as the report's location. */
import { api, beep, time } from "../live.js";
import { $, config, fields, now, state } from "./context.js";
import { failureMessage, OFFLINE, say } from "./status.js";
import { isDirty, saveDraft } from "./draft.js";
import { discardCall, renderClock, resetForm } from "./call.js";
import { setPin, showOnMap } from "./pin_map.js";
import { refreshDuplicates } from "./duplicates.js";
import { lookUpPhone } from "./phone_history.js";
import { accuracyOf, currentAml, e164, onAml, renderAml } from "./aml.js";

const phoneCalls = new Map(); // by the PBX's call id

const CALL_STATE = {
  ringing: () => gettext("Ringing"), answered: () => gettext("On the line"),
  abandoned: () => gettext("Caller hung up before answer"),
};

/** The snapshot's calls and positions replace what was known. */
export function onSnapshot(snapshot) {
  phoneCalls.clear();
  for (const frame of snapshot.phone_calls || []) onPhoneCall(frame, false);
  for (const frame of snapshot.aml || []) onAml(frame);
  renderIncoming();
}

/** A live frame without an event id: a call's new state, or a handset position. */
export function onLive(frame) {
  if (frame.type === "telephony.call") onPhoneCall(frame, true);
  else if (frame.type === "aml.location") onAml(frame);
}

function onPhoneCall(frame, live) {
  if (frame.state === "ended" || frame.dismissed_at) phoneCalls.delete(frame.call_id);
  else phoneCalls.set(frame.call_id, frame);
  if (live && frame.state === "ringing") beep(Boolean(frame.history && frame.history.flagged));
  if (live && frame.state === "answered" && frame.operator === config.username) openPhoneCall(frame, false);
  renderIncoming();
}

/** The call answered at this desk becomes the form's call: its number, and the clock from
 * the answer (received_at). A call already being typed is never overwritten unasked. */
async function openPhoneCall(frame, asked) {
  const same = e164(fields.phone.value) === frame.caller_phone;
  if (!same && isDirty() && !asked) { renderIncoming(); return; }
  if (!same && isDirty() && !(await discardCall())) return;
  if (!same) resetForm();
  fields.phone.value = frame.caller_phone;
  state.receivedAt = new Date(frame.answered_at || frame.ringing_at || now());
  frame.opened = true;
  saveDraft();
  renderClock();
  lookUpPhone();
  refreshDuplicates();
  renderAml();
  renderIncoming();
  say(interpolate(gettext("Call from %(number)s answered."), { number: frame.caller_phone }, true), "ok");
  fields.category.focus();
}

function renderIncoming() {
  const list = $("#incoming");
  list.replaceChildren();
  for (const frame of phoneCalls.values()) {
    if (frame.state === "answered" && frame.operator && frame.operator !== config.username) continue;
    const item = document.createElement("li");
    item.className = frame.state + (frame.history && frame.history.flagged ? " flagged" : "");
    item.dataset.callId = frame.call_id;
    const label = document.createElement("span");
    label.className = "call-state";
    label.textContent = (CALL_STATE[frame.state] || (() => frame.state))();
    const number = document.createElement("span");
    number.className = "call-number";
    number.textContent = frame.caller_phone || gettext("Number withheld");
    item.append(label, number);
    if (frame.extension) item.append(interpolate(gettext("ext. %(ext)s"), { ext: frame.extension }, true));
    const at = frame.state === "abandoned" ? frame.ended_at : frame.ringing_at || frame.answered_at;
    if (at) item.append(" · " + time(at));
    if (frame.history) {
      const history = document.createElement("span");
      history.className = "call-history";
      history.textContent = frame.history.flagged
        ? interpolate(gettext("Repeat prank number: %(pranks)s prank or ghost calls."), { pranks: frame.history.prank_count }, true)
        : frame.history.calls_total === 0 ? gettext("First call from this number.")
          : interpolate(gettext("%(calls)s earlier calls."), { calls: frame.history.calls_total }, true);
      item.append(history);
    }
    const button = document.createElement("button");
    button.type = "button";
    button.tabIndex = -1;
    if (frame.state === "abandoned") {
      button.textContent = gettext("Dismiss");
      // Recorded on the server (who, when): gone from every console, and after a reload.
      button.addEventListener("click", async () => {
        button.disabled = true;
        const result = await api("POST", `/api/v1/telephony/calls/${encodeURIComponent(frame.call_id)}/dismiss/`)
          .catch(() => null);
        if (result && (result.ok || result.status === 404)) {
          phoneCalls.delete(frame.call_id);
          renderIncoming();
        } else {
          button.disabled = false;
          say(result ? failureMessage(result) : OFFLINE(), "error");
        }
      });
      item.append(button);
    } else if (frame.state === "answered" && !(frame.opened && e164(fields.phone.value) === frame.caller_phone)) {
      button.textContent = gettext("Open this call");
      button.addEventListener("click", () => openPhoneCall(frame, true));
      item.append(button);
    }
    list.append(item);
  }
  list.hidden = list.children.length === 0;
}

/** Alt+A: the handset's position becomes the report's location (source aml, accuracy). */
export function useAml() {
  const aml = currentAml();
  if (!aml) return false;
  setPin(Number(aml.latitude.toFixed(6)), Number(aml.longitude.toFixed(6)));
  state.locationSource = "aml";
  state.locationAccuracy = aml.accuracy_m ?? null;
  showOnMap(aml.latitude, aml.longitude);
  $("#pin-text").textContent += " · " + interpolate(gettext("AML ±%(accuracy)s m"),
    { accuracy: accuracyOf(aml) ?? "?" }, true);
  refreshDuplicates();
  saveDraft();
  renderAml();
  return true;
}

export function init() {
  fields.phone.addEventListener("input", () => { lookUpPhone(); refreshDuplicates(); renderAml(); });
  $("#use-aml").addEventListener("click", useAml);
}
