/* The console's report view (SPEC §11): beside the call form, one open report as it stands
 * and as it moves: its agencies (status, unit, ETA, clocks, why one rejected), the calls
 * attached to it, the chat, the timeline, and the operator's actions on it. It follows the
 * report live (console.js passes every event on); a new call (F2) comes first and the view
 * returns once the call is sent or logged. Drawn by report_view_render.js. */
import { api } from "../live.js";
import { $, agencyName, config } from "./context.js";
import { failureMessage } from "./status.js";
import { closeReport, handOver } from "./closing.js";
import { loadOpenReports } from "./open_reports.js";
import { fieldName, render as draw, renderChat, tick } from "./report_view_render.js";

const state = { id: null, report: null, events: [], messages: [], calls: [], onCall: false };
let refreshTimer = null;

const actions = {
  cancel: cancelAssignment,
  close: async (report, why) => { await closeReport(report, why); scheduleRefresh(); },
  handOver,
};
const render = () => draw(state, actions);

function reason(result) {
  if (!result.data) return failureMessage(result);
  if (result.data.detail) return result.data.detail;
  return Object.entries(result.data).map(([field, errors]) => `${fieldName(field)}: ${[].concat(errors).join(" ")}`).join(" · ");
}

function tell(message, kind) {
  const line = $("#rv-status-line");
  line.textContent = message;
  line.className = `rv-status-line ${kind || ""}`;
}

async function act(method, url, body, done) {
  tell(gettext("Sending…"));
  let result;
  try { result = await api(method, url, body); } catch (error) { tell(gettext("The server cannot be reached: try again."), "error"); return null; }
  if (!result.ok) { tell(reason(result), "error"); return null; }
  tell(done, "ok");
  scheduleRefresh();
  return result.data;
}

// --- Opening, hiding, following ---------------------------------------------------------------
function show() {
  $("#report-view").hidden = false;
  $(".console").classList.add("viewing");
}

function hide() {
  $("#report-view").hidden = true;
  $(".console").classList.remove("viewing");
}

function markRow() {
  document.querySelectorAll("#open-reports tbody tr").forEach((row) => {
    row.classList.toggle("viewing", Number(row.dataset.reportId) === state.id);
  });
}

/** Shows the report `id` in the view (a row's click or Enter). */
export async function open(id) {
  const changed = state.id !== id;
  state.id = id;
  if (changed) {
    Object.assign(state, { report: null, events: [], messages: [], calls: [] });
    $("#rv-edit").open = false;
    tell("");
    ["#rv-assignments", "#rv-chat", "#rv-timeline", "#rv-calls"].forEach((s) => $(s).replaceChildren());
  }
  show();
  markRow();
  $("#report-view").focus({ preventScroll: true });
  await load();
}

export function close() {
  const id = state.id;
  state.id = null;
  hide();
  markRow();
  const row = document.querySelector(`#open-reports tr[data-report-id="${id}"]`);
  if (row) row.focus();
}

/** The report shown, or null. */
export const current = () => state.id;

const SOURCES = {
  report: (id) => [`/api/v1/reports/${id}/`, (data) => { state.report = data; }],
  events: (id) => [`/api/v1/reports/${id}/events/`, (data) => { state.events = data; }],
  messages: (id) => [`/api/v1/reports/${id}/messages/`, (data) => { state.messages = data; }],
  calls: (id) => [`/api/v1/calls/?report=${id}&limit=50`,
    (data) => { state.calls = data.results.filter((c) => c.outcome === "attached"); }],
};

/** Reads `parts` of the report's view (all of them by default) and renders it. */
async function load(parts = Object.keys(SOURCES)) {
  const id = state.id;
  if (id === null) return;
  const wanted = parts.map((part) => SOURCES[part](id));
  let results;
  try {
    results = await Promise.all(wanted.map(([url]) => api("GET", url)));
  } catch (error) {
    tell(gettext("The server cannot be reached: try again."), "error");
    return;
  }
  if (state.id !== id) return;
  results.forEach((result, index) => { if (result.ok) wanted[index][1](result.data); });
  render();
}

// Live events carry the report as it is now; only the timeline's who and when (and an
// attached call) are read again, once per burst of events.
const pending = new Set();
function scheduleRefresh(...parts) {
  (parts.length ? parts : ["events"]).forEach((part) => pending.add(part));
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => { const due = [...pending]; pending.clear(); load(due); }, 250);
}

function follow() {
  document.addEventListener("dispatch:event", (event) => {
    const live = event.detail;
    if (state.id === null || !live.report || live.report.id !== state.id) return;
    state.report = live.report;  // the report as it is now (full caller: the command centre)
    if (live.type === "message.created" && live.message && !state.messages.some((m) => m.id === live.message.id)) {
      state.messages.push(live.message);
    }
    render();
    if (live.kind === "call.attached") scheduleRefresh("events", "calls");
    else scheduleRefresh("events");
  });
  document.addEventListener("dispatch:snapshot", () => { if (state.id !== null) load(); });
  document.addEventListener("console:call", (event) => {
    state.onCall = event.detail.active;
    if (state.id === null) return;
    if (state.onCall) hide();
    else { show(); load(); }
  });
  $("#report-view").addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.target.closest("details[open] form")) { event.preventDefault(); close(); }
  });
  $("#rv-hide").addEventListener("click", close);
}

// --- Actions ---------------------------------------------------------------------------------
async function cancelAssignment(assignment) {
  const why = window.prompt(interpolate(gettext("Why is %(agency)s taken off %(number)s? The agency is told."),
    { agency: agencyName[assignment.agency] || assignment.agency, number: state.report.number }, true));
  if (!why || !why.trim()) return;
  await act("POST", `/api/v1/assignments/${assignment.id}/cancel/`, { reason: why.trim() },
    interpolate(gettext("%(agency)s cancelled."), { agency: agencyName[assignment.agency] || assignment.agency }, true));
}

async function addAgency(event) {
  event.preventDefault();
  const code = $("#rv-add-agency").value;
  if (!code || state.id === null) return;
  const note = $("#rv-add-note").value.trim();
  const done = await act("POST", `/api/v1/reports/${state.id}/assignments/`, { agency: code, note },
    interpolate(gettext("%(agency)s added: notified now."), { agency: agencyName[code] || code }, true));
  if (done) { $("#rv-add-agency").value = ""; $("#rv-add-note").value = ""; }
}

async function correct(event) {
  event.preventDefault();
  const editForm = event.target;
  const report = state.report;
  if (!report) { tell(gettext("The report is still loading: try again in a moment."), "error"); return; }
  const changes = {};
  if (Number(editForm.priority.value) !== report.priority) changes.priority = Number(editForm.priority.value);
  if (editForm.kecamatan.value !== (report.kecamatan || "")) changes.kecamatan = editForm.kecamatan.value || null;
  if (editForm.address.value.trim() !== report.address) changes.address = editForm.address.value.trim();
  if (editForm.description.value.trim() !== report.description) changes.description = editForm.description.value.trim();
  // The pin (a second caller's better description of the place): both or neither.
  const pin = [editForm.latitude.value.trim(), editForm.longitude.value.trim()];
  if (pin.join() !== [report.latitude ?? "", report.longitude ?? ""].join()) {
    // A number, or the text as typed so that the server names what is wrong with it.
    const parse = (value) => (value === "" ? null
      : Number.isNaN(Number(value.replace(",", "."))) ? value : Number(value.replace(",", ".")));
    [changes.latitude, changes.longitude] = pin.map(parse);
  }
  if (!Object.keys(changes).length) { tell(gettext("Nothing changed.")); return; }
  const done = await act("PATCH", `/api/v1/reports/${report.id}/`, changes,
    interpolate(gettext("%(number)s corrected: the agencies see it as new information."), { number: report.number }, true));
  if (done) {
    delete editForm.dataset.dirty;
    $("#rv-edit").open = false;
    $("#report-view").querySelector(".rv-col").scrollTop = 0;
    state.report = done;
    render();
    loadOpenReports();
  }
}

async function sendMessage(event) {
  event.preventDefault();
  const input = $("#rv-chat-body");
  const body = input.value.trim();
  if (!body || state.id === null) return;
  const message = await act("POST", `/api/v1/reports/${state.id}/messages/`, { body }, gettext("Sent."));
  if (message) {
    input.value = "";
    if (!state.messages.some((m) => m.id === message.id)) state.messages.push(message);
    renderChat(state.messages);
  }
}

export function init() {
  follow();
  $("#rv-add").addEventListener("submit", addAgency);
  const editForm = $("#rv-edit-form");
  editForm.addEventListener("input", () => { editForm.dataset.dirty = "1"; });
  editForm.addEventListener("submit", correct);
  $("#rv-chat-form").addEventListener("submit", sendMessage);
  for (const kecamatan of config.kecamatan) {
    const option = document.createElement("option");
    option.textContent = kecamatan.name;
    option.value = kecamatan.code;
    $("#rv-edit-kecamatan").append(option);
  }
  setInterval(tick, 1000);
}
