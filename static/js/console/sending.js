/* Sending: the report (Ctrl+Enter), or a call that needs no dispatch (information, prank,
 * ghost, another caller about a report already open). Failure keeps every field as it was. */
import { api } from "../live.js";
import { $, agencyName, categoryByCode, config, fields, form, state } from "./context.js";
import { clearErrors, failureMessage, OFFLINE, RETRYING, say, showErrors } from "./status.js";
import { draftKey } from "./draft.js";
import { resetForm, startCall } from "./call.js";
import { chooseCategory, matches } from "./category_picker.js";
import { loadOpenReports } from "./open_reports.js";

export async function logCall(outcome, reportId) {
  if (state.busy) return;
  if (!fields.phone.value.trim()) {
    showErrors({ caller_phone: [gettext("Enter the caller's number first.")] });
    return;
  }
  startCall();
  say(gettext("Logging…"));
  const body = { caller_phone: fields.phone.value, caller_name: fields.name.value, outcome,
                 received_at: state.receivedAt.toISOString() };
  if (reportId) body.report = reportId;
  const label = config.labels.outcome[outcome] || outcome;
  await send("/api/v1/calls/", body,
    () => interpolate(gettext("Logged: %(outcome)s."), { outcome: label }, true));
}

export async function submitReport() {
  if (state.busy) return;
  clearErrors();
  if (!state.category) {
    const typed = matches(fields.category.value);
    if (fields.category.value && typed.length === 1) chooseCategory(typed[0]);
    else {
      showErrors({ category: [gettext("Choose the incident type from the list.")] });
      return;
    }
  }
  startCall();
  const category = categoryByCode[state.category];
  const body = {
    caller_phone: fields.phone.value, caller_name: fields.name.value, category: state.category,
    description: fields.description.value, address: fields.address.value,
    kecamatan: fields.kecamatan.value || null,
    priority: fields.priority.value ? Number(fields.priority.value) : null,
    latitude: state.latitude, longitude: state.longitude,
    received_at: state.receivedAt.toISOString(),
  };
  if (state.latitude !== null) {
    body.location_source = state.locationSource || "operator";
    body.location_accuracy_m = state.locationAccuracy;
  }
  const defaults = new Set(category.agencies);
  const changed = state.agencies.size !== defaults.size || [...state.agencies].some((c) => !defaults.has(c));
  if (changed || defaults.size === 0) body.agencies = [...state.agencies];
  say(gettext("Sending…"));
  await send("/api/v1/reports/", body, (report) => {
    const names = report.assignments.map((a) => agencyName[a.agency] || a.agency).join(", ");
    return interpolate(gettext("Report %(number)s sent to %(agencies)s."),
      { number: report.number, agencies: names }, true);
  });
}

/** Posts the call or report. Success: the form is cleared and `success(data)` is said.
 * Failure: every field stays as it was, with the reason. */
async function send(url, body, success) {
  state.busy = true;
  $("#submit-report").disabled = true;
  try {
    const result = await sendOnce(url, body, () => say(RETRYING(), "error"));
    if (result.ok) {
      const message = success(result.data);
      resetForm();
      say(message, "ok");
      loadOpenReports();
    } else if (result.status === 400) {
      showErrors(result.data);
      say(gettext("Check the marked fields."), "error");
    } else {
      say(failureMessage(result), "error");
    }
  } catch (error) {
    say(OFFLINE(), "error");
  } finally {
    state.busy = false;
    $("#submit-report").disabled = false;
  }
}

/** One draft is one report however often it is sent (issue 35 §2): it carries its own
 * Idempotency-Key, and a send whose answer was lost (the network) or that was asked to wait
 * (429, after an outage) is sent again with the same key — the server answers a repeat with
 * the first answer and makes nothing twice. Bounded: a few tries within ~15 s. */
const RETRY_DELAYS_MS = [1000, 3000, 6000];
async function sendOnce(url, body, retrying) {
  const key = { "Idempotency-Key": draftKey() };
  for (let attempt = 0; ; attempt += 1) {
    let result;
    try {
      result = await api("POST", url, body, key);
    } catch (error) {
      if (attempt >= RETRY_DELAYS_MS.length) throw error;
      retrying();
      await sleep(RETRY_DELAYS_MS[attempt]);
      continue;
    }
    if (result.status !== 429 || attempt >= RETRY_DELAYS_MS.length) return result;
    retrying();
    await sleep(Math.min(10, Math.max(1, result.retryAfter)) * 1000);
  }
}

function sleep(ms) { return new Promise((resolve) => { setTimeout(resolve, ms); }); }

export function init() {
  form.addEventListener("submit", (event) => { event.preventDefault(); submitReport(); });
  document.querySelectorAll("[data-outcome]").forEach((button) => {
    button.addEventListener("click", () => logCall(button.dataset.outcome));
  });
}
