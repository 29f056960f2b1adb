/* Drawing the console's report view (report_view.js): the report as it stands, its agencies
 * with their clocks, the attached calls, the chat and the timeline. */
import { alarmBadge, alarming, duration, time } from "../live.js";
import { receiptWords, unheard } from "../presence.js";
import { $, agencyName, config, hasPeers } from "./context.js";
import { presence } from "./presence.js";

const OPEN = new Set(["notified", "acknowledged", "dispatched", "on_scene"]);
const view = () => $("#report-view");

function el(tag, className, content) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (content !== undefined) element.textContent = content;
  return element;
}

/** Draws `state.report` and what belongs to it; `actions` are the buttons' work: cancel(a),
 * close(report, why), handOver(report). */
export function render(state, actions) {
  const report = state.report;
  if (!report) return;
  $("#rv-number").textContent = report.number;
  $("#rv-priority").textContent = `P${report.priority}`;
  $("#rv-priority").dataset.priority = report.priority;
  $("#rv-category").textContent = report.category_name;
  const closed = report.status === "closed";
  $("#rv-status").textContent = closed ? gettext("closed") : gettext("open");
  $("#rv-status").className = `rv-status ${report.status}`;
  const banner = $("#rv-closed");
  banner.hidden = !closed;
  if (closed) {
    banner.textContent = interpolate(gettext("This report was closed at %(time)s: %(reason)s."),
      { time: time(report.closed_at), reason: config.labels.close[report.close_reason] || report.close_reason }, true);
  }
  view().classList.toggle("closed", closed);
  view().querySelectorAll(".rv-action").forEach((element) => { element.hidden = closed; });
  $("#rv-where").textContent = report.address + (report.kecamatan_name ? `, ${report.kecamatan_name}` : "");
  $("#rv-caller").textContent = `${report.caller_name || gettext("anonymous")} · ${report.caller_phone || "–"} · ${time(report.received_at)}`;
  $("#rv-description").textContent = report.description;
  renderAssignments(report, actions);
  renderAddAgency(report);
  renderEdit(report);
  renderCloseAs(report, actions);
  renderCalls(state.calls);
  renderChat(state.messages);
  renderTimeline(state.events);
  tick();
}

function renderAssignments(report, actions) {
  const list = $("#rv-assignments");
  list.replaceChildren();
  for (const a of report.assignments) {
    const item = el("li", `rv-assignment ${a.status}${alarming(a) ? " escalated" : ""}`);
    item.dataset.agency = a.agency;
    const head = el("div", "rv-a-head");
    head.append(el("strong", "", agencyName[a.agency] || a.agency),
      el("span", `chip ${a.status}`, config.labels.assignment[a.status] || a.status));
    const alarm = alarmBadge(a);
    if (alarm) head.append(alarm);
    if (OPEN.has(a.status) && report.status === "open") {
      const cancel = el("button", "small rv-cancel", gettext("Cancel"));
      cancel.type = "button";
      cancel.title = gettext("Take this agency off the report, saying why");
      cancel.addEventListener("click", () => actions.cancel(a));
      head.append(cancel);
    }
    item.append(head);
    const facts = [];
    if (a.unit) facts.push(interpolate(gettext("unit %(unit)s"), { unit: a.unit }, true));
    if (a.status === "dispatched" && a.eta_minutes !== null && a.dispatched_at) {
      facts.push(interpolate(gettext("ETA %(time)s"), { time: time(new Date(Date.parse(a.dispatched_at) + a.eta_minutes * 60000).toISOString()) }, true));
    }
    if (facts.length) item.append(el("p", "rv-a-facts", facts.join(" · ")));
    item.append(receiptLine(a));
    // Both clocks run from when the agency was notified: until it answered (acknowledged,
    // dispatched or rejected), and until its unit was on scene.
    const clocks = el("p", "rv-a-clocks");
    clocks.append(clock(gettext("answered after"), a.notified_at, a.acknowledged_at || a.rejected_at || a.cancelled_at));
    if (a.status !== "rejected" && a.status !== "cancelled") {
      clocks.append(" · ", clock(gettext("on scene after"), a.notified_at, a.arrived_at || a.resolved_at));
    }
    item.append(clocks);
    if (a.status === "rejected") item.append(el("p", "rv-a-why", interpolate(gettext("Rejected: %(reason)s"), { reason: a.reject_reason }, true)));
    if (a.status === "cancelled" && a.cancel_reason) item.append(el("p", "rv-a-why", interpolate(gettext("Cancelled: %(reason)s"), { reason: a.cancel_reason }, true)));
    if (a.resolution_note) item.append(el("p", "rv-a-note", a.resolution_note));
    list.append(item);
  }
}

/** What reached the agency (SPEC §12): delivered to a screen, seen by a person; while it
 *  waits unseen, that it has not reached any screen yet — or, past DISPATCH_UNHEARD_SECONDS,
 *  that nobody heard it, with the number to call. */
function receiptLine(a) {
  const line = el("p", "rv-a-receipt");
  const words = receiptWords(a);
  if (unheard(a)) {
    line.classList.add("unheard");
    line.append(gettext("Not heard: no screen of the agency has shown it. Call them."));
    const number = presence.phoneOf(a.agency);
    if (number) {
      const phone = el("a", "", `☎ ${number}`);
      phone.href = `tel:${number.replace(/[^\d+]/g, "")}`;
      line.append(" ", phone);
    }
  } else if (words) {
    line.textContent = words;
  } else if (a.status === "notified") {
    line.classList.add("waiting");
    line.textContent = gettext("not on any screen of the agency yet");
  }
  return line;
}

/** A clock from `since` to `until` (running while `until` is empty). */
function clock(label, since, until) {
  const span = el("span", "rv-clock");
  span.dataset.since = since;
  if (until) span.dataset.until = until;
  span.append(`${label} `, el("b", "", "–"));
  return span;
}

export function tick() {
  const now = Date.now();
  view().querySelectorAll(".rv-clock").forEach((span) => {
    const end = span.dataset.until ? Date.parse(span.dataset.until) : now;
    span.querySelector("b").textContent = duration(Math.max(0, end - Date.parse(span.dataset.since)));
    span.classList.toggle("running", !span.dataset.until);
  });
}

function renderAddAgency(report) {
  const select = $("#rv-add-agency");
  const chosen = select.value;
  const on = new Set(report.assignments.map((a) => a.agency));
  select.replaceChildren(el("option", "", gettext("Add an agency…")));
  select.firstChild.value = "";
  for (const agency of config.agencies) {
    if (on.has(agency.code) || agency.active === false) continue;
    const option = el("option", "", agency.short_name);
    option.value = agency.code;
    select.append(option);
  }
  select.value = [...select.options].some((o) => o.value === chosen) ? chosen : "";
}

function renderEdit(report) {
  const form = $("#rv-edit-form");
  if (form.contains(document.activeElement) || form.dataset.report === String(report.id) && form.dataset.dirty) return;
  form.dataset.report = report.id;
  form.priority.value = String(report.priority);
  form.kecamatan.value = report.kecamatan || "";
  form.address.value = report.address;
  form.description.value = report.description;
  form.latitude.value = report.latitude ?? "";
  form.longitude.value = report.longitude ?? "";
}

function renderCloseAs(report, actions) {
  const group = $("#rv-close-as");
  group.replaceChildren(el("span", "hint", gettext("Close as:")));
  for (const why of ["resolved", "duplicate", "non_emergency", "prank"]) {
    const button = el("button", "small", config.labels.close[why]);
    button.type = "button";
    button.addEventListener("click", () => actions.close(report, why));
    group.append(button);
  }
  if (hasPeers()) {
    const button = el("button", "small handover", gettext("Hand over"));
    button.type = "button";
    button.addEventListener("click", () => actions.handOver(report));
    group.append(button);
  }
}

function renderCalls(calls) {
  const list = $("#rv-calls");
  list.replaceChildren();
  if (!calls.length) { list.append(el("li", "hint", gettext("None."))); return; }
  for (const call of [...calls].sort((a, b) => a.received_at.localeCompare(b.received_at))) {
    list.append(el("li", "", `${time(call.received_at)} · ${call.caller_name || gettext("anonymous")} · ${call.caller_phone}${call.note ? ` — ${call.note}` : ""}`));
  }
}

export function renderChat(messages) {
  const list = $("#rv-chat");
  list.replaceChildren();
  if (!messages.length) { list.append(el("li", "hint", gettext("No messages yet."))); return; }
  for (const message of messages) {
    const who = message.author_agency ? agencyName[message.author_agency] || message.author_agency : gettext("Command centre");
    const item = el("li", message.author_agency ? "" : "mine");
    item.append(el("span", "who", `${who} · ${time(message.created_at)}`), " ", el("span", "body", message.body));
    list.append(item);
  }
  list.scrollTop = list.scrollHeight;
}

function renderTimeline(events) {
  const list = $("#rv-timeline");
  list.replaceChildren();
  for (const event of events) {
    const item = el("li", `rv-event ${event.kind.replace(".", "-")}`);
    const who = event.actor_name || gettext("the system");
    item.append(el("time", "", time(event.created_at)), " ", el("span", "what", describe(event)),
      " ", el("span", "who", `— ${who}`));
    list.append(item);
  }
  list.scrollTop = list.scrollHeight;
}

function describe(event) {
  const data = event.data || {};
  const agency = event.agency ? agencyName[event.agency] || event.agency : "";
  const say = (text, extra) => interpolate(text, { agency, ...extra }, true);
  switch (event.kind) {
    case "report.created": return gettext("Report created");
    case "assignment.created": return data.added
      ? say(gettext("%(agency)s added%(note)s"), { note: data.note ? `: ${data.note}` : "" }) : say(gettext("%(agency)s notified"));
    case "assignment.acknowledged": return say(gettext("%(agency)s acknowledged"));
    case "assignment.dispatched": return say(gettext("%(agency)s dispatched %(unit)s, ETA %(eta)s min"), { unit: data.unit || "–", eta: data.eta_minutes ?? "–" });
    case "assignment.departed": return say(gettext("%(agency)s under way"));
    case "assignment.arrived": return say(gettext("%(agency)s on scene"));
    case "assignment.resolved": return say(gettext("%(agency)s resolved"));
    case "assignment.rejected": return say(gettext("%(agency)s rejected: %(reason)s"), { reason: data.reject_reason || "–" });
    case "assignment.cancelled": return data.reason ? say(gettext("%(agency)s cancelled: %(reason)s"), { reason: data.reason }) : say(gettext("%(agency)s cancelled"));
    case "assignment.escalated": return say(gettext("%(agency)s late to acknowledge"));
    case "assignment.overdue": return say(gettext("%(agency)s past the response target"));
    case "assignment.delivered": return say(gettext("%(agency)s: on a screen"));
    case "assignment.seen": return say(gettext("%(agency)s: seen"));
    case "assignment.unheard": return say(gettext("%(agency)s did not hear it: no screen showed it"));
    case "assignment.unit_diverted": return say(gettext("%(agency)s: unit %(unit)s diverted to %(number)s"), { unit: data.unit, number: data.to_report });
    case "report.edited": return interpolate(gettext("Report corrected: %(fields)s"), { fields: (data.fields || []).map(fieldName).join(", ") }, true);
    case "call.attached": return data.note ? interpolate(gettext("Another call attached: %(note)s"), { note: data.note }, true) : gettext("Another call attached");
    case "message.created": return gettext("Chat message");
    case "report.closed": return interpolate(gettext("Report closed: %(reason)s"), { reason: config.labels.close[data.reason] || data.reason }, true);
    default: return event.kind;
  }
}

/** A report's field in words (an edit's timeline entry, an error the server named). */
export function fieldName(field) {
  return { description: gettext("what help is needed"), address: gettext("address"), kecamatan: gettext("kecamatan"),
    latitude: gettext("pin"), longitude: gettext("pin"), priority: gettext("priority") }[field] || field;
}
