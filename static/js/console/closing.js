/* Closing a report (prank, not an emergency, a duplicate, resolved) in the console's own
 * dialog, and handing one over to another 112 centre (EIDO, SPEC §10). */
import { api } from "../live.js";
import { $, config } from "./context.js";
import { OFFLINE, refusal, say } from "./status.js";
import { loadOpenReports } from "./open_reports.js";

export async function closeReport(report, reason) {
  // The product's own dialog, never the browser's confirm(): Enter closes, Esc keeps it open.
  const answer = await askClose(report, reason);
  if (answer === null) return;
  const body = { reason };
  if (reason === "duplicate") {
    const found = await api("GET", `/api/v1/reports/?number=${encodeURIComponent(answer.original)}`)
      .catch(() => null);
    if (!found || !found.ok || !found.data.results.length) {
      say(interpolate(gettext("No report %(number)s."), { number: answer.original }, true), "error");
      return;
    }
    body.duplicate_of = found.data.results[0].id;
  }
  if (answer.publicNote) body.public_note = answer.publicNote;
  try {
    const result = await api("POST", `/api/v1/reports/${report.id}/close/`, body);
    if (result.ok) say(interpolate(gettext("%(number)s closed."), { number: report.number }, true), "ok");
    else say(refusal(result), "error");
  } catch (error) {
    say(OFFLINE(), "error");
  }
  loadOpenReports();
}

/** Asks, in #close-dialog, to close `report` as `reason`: {publicNote, original} — the note a
 * city app's public reads (Open311 reports only: never the internal notes, which may name
 * the caller), the original's number for a duplicate — or null when the operator cancels. */
function askClose(report, reason) {
  const dialog = $("#close-dialog");
  const note = $("#close-public-note");
  const original = $("#close-original");
  const forPublic = report.source === "open311";
  const duplicate = reason === "duplicate";
  $("#close-number").textContent = report.number;
  $("#close-reason").textContent = config.labels.close[reason];
  $("#close-public").hidden = !forPublic;
  $("#close-duplicate").hidden = !duplicate;
  original.required = duplicate;
  note.value = "";
  original.value = "";
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue !== "close" ? null
      : { publicNote: forPublic ? note.value.trim() : "", original: original.value.trim() }),
    { once: true });
    dialog.showModal();
    (duplicate ? original : forPublic ? note : dialog.querySelector('button[value="close"]')).focus();
  });
}

// --- Handover to another 112 centre ---------------------------------------------------------
// The dialog stays open while the peer answers, and on a failure it shows why, so the
// operator can try again or cancel; only the peer's answer with its own number closes the
// report here.
let handoverReport = null;
const handoverDialog = () => $("#handover-dialog");

/** Opens the handover dialog for `report`. */
export function handOver(report) {
  handoverReport = report;
  const select = $("#handover-centre");
  select.replaceChildren(...config.peer_centres.map((centre) => new Option(centre.name, centre.code)));
  $("#handover-number").textContent = report.number;
  const status = $("#handover-status");
  status.textContent = "";
  status.className = "";
  handoverDialog().showModal();
}

async function sendHandover() {
  const report = handoverReport;
  const dialog = handoverDialog();
  const send = dialog.querySelector('button[value="send"]');
  const status = $("#handover-status");
  const centre = config.peer_centres.find((c) => c.code === $("#handover-centre").value);
  if (!report || !centre || send.disabled) return;
  send.disabled = true;
  status.className = "";
  status.textContent = interpolate(gettext("Sending %(number)s to %(centre)s…"),
    { number: report.number, centre: centre.name }, true);
  let failure = null;
  let result = null;
  try {
    result = await api("POST", `/api/v1/reports/${report.id}/handover/`, { centre: centre.code });
    if (!result.ok) failure = refusal(result);
  } catch (error) {
    failure = OFFLINE();
  }
  send.disabled = false;
  if (failure) {
    status.textContent = failure;
    status.className = "error";
    if (!dialog.open) say(failure, "error");  // closed (Esc) while the peer was asked
  } else {
    dialog.close();
    say(interpolate(gettext("%(number)s handed over to %(centre)s as %(peer)s."),
      { number: report.number, centre: result.data.centre, peer: result.data.peer_number }, true), "ok");
  }
  loadOpenReports();
}

export function init() {
  const dialog = handoverDialog();
  if (!dialog) return;
  dialog.querySelector("form").addEventListener("submit", (event) => {
    if (event.submitter && event.submitter.value === "send") {
      event.preventDefault();
      sendHandover();
    }
  });
}
