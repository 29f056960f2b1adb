/* The agency's queue: one card per open assignment of its own, in SPEC §11's order, each with
 * its clocks, its partners and its buttons; what the command centre changed is marked
 * "informasi baru" until the desk has seen it. Cards are updated in place, never redrawn. */
import { alarm, alarmBadge, alarming, duration, level, time } from "../live.js";
import * as Fresh from "../fresh.js";
import { agencyName, cards, config, now, OPEN, own, queue, text } from "./context.js";

const target = config.agency.response_target_seconds;
// What the card's buttons do (init): act(entry, action), openForm(card, entry, action),
// openDetail(report).
let steps = { act() {}, openForm() {}, openDetail() {} };

/** Keeps the report's assignment of this agency in the queue while it is open; returns it. */
export function upsertFromReport(report) {
  const mine = report.assignments.find((a) => a.agency === own);
  if (!mine) return null;
  if (report.status === "open" && OPEN.has(mine.status)) {
    queue.set(mine.id, { assignment: mine, report });
    return mine;
  }
  queue.delete(mine.id);
  return null;
}

function order(a, b) {
  // SPEC §11, as GET /api/v1/assignments/ lists it: waiting for us first, then under way;
  // P1 before P2 before P3; then oldest. An alarm shows on the card, never above a new P1.
  const rank = (entry) => (entry.assignment.status === "notified" ? 0 : 1);
  return rank(a) - rank(b) || a.report.priority - b.report.priority
    || a.assignment.notified_at.localeCompare(b.assignment.notified_at) || a.assignment.id - b.assignment.id;
}

export function render() {
  const list = document.getElementById("queue");
  const entries = [...queue.values()].sort(order);
  for (const [id, card] of cards) {
    if (!queue.has(id)) { card.remove(); cards.delete(id); }
  }
  entries.forEach((entry, index) => {
    let card = cards.get(entry.assignment.id);
    if (!card) {
      card = document.createElement("li");
      cards.set(entry.assignment.id, card);
    }
    fill(card, entry);
    if (list.children[index] !== card) list.insertBefore(card, list.children[index] || null);
  });
  document.getElementById("queue-empty").hidden = entries.length > 0;
  tick();
}

function fill(card, entry) {
  const { assignment, report } = entry;
  const status = assignment.status;
  card.className = `assignment p${report.priority} ${status}${alarming(assignment) ? " escalated" : ""}`;
  card.dataset.report = report.number;
  card.dataset.reportId = report.id;
  card.dataset.assignment = assignment.id;
  if (card.dataset.status === status && card.dataset.version === versionOf(entry)) return;
  const keepForm = card.dataset.status === status ? card.querySelector("form.inline") : null;
  card.dataset.status = status;
  card.dataset.version = versionOf(entry);
  card.replaceChildren();

  const head = document.createElement("div");
  head.className = "card-head";
  head.append(text("span", "badge", `P${report.priority}`), text("strong", "", report.category_name),
    text("span", "hint", report.number), text("span", `chip ${status}`, config.labels.assignment[status]));
  withFresh(head, report, "priority");
  card.append(head);
  const found = alarm(assignment);
  if (found) {  // in words and an icon, not only in red (issue 17 §4)
    const line = text("p", `alarm ${found.kind}`, "");
    line.append(alarmBadge(assignment), " · ", found.kind === "overdue"
      ? gettext("no unit on scene yet") : gettext("nobody acknowledged it in time"));
    card.append(line);
  }
  card.append(withFresh(text("p", "where", report.address + (report.kecamatan_name ? `, ${report.kecamatan_name}` : "")), report, "where"));
  card.append(withFresh(text("p", "what", report.description), report, "what"));
  for (const call of Fresh.notes(report.id)) {
    const line = text("p", "later-call", interpolate(gettext("Another caller (%(time)s): %(note)s"),
      { time: time(call.at), note: call.note || "–" }, true));
    if (call.fresh) withFresh(line, report, "calls");
    card.append(line);
  }

  const clocks = document.createElement("p");
  clocks.className = "clocks";
  clocks.append(clock("received", gettext("Since the call"), report.received_at));
  clocks.append(clock("notified", gettext("Since notified"), assignment.notified_at));
  if (status === "dispatched" && assignment.eta_minutes !== null) {
    const due = new Date(Date.parse(assignment.dispatched_at) + assignment.eta_minutes * 60000).toISOString();
    clocks.append(clock("eta", interpolate(gettext("ETA (%(unit)s)"), { unit: assignment.unit || "–" }, true), due));
  }
  card.append(clocks);

  const partners = report.assignments.filter((a) => a.agency !== own);
  if (partners.length) {
    const chips = document.createElement("p");
    chips.className = "chips";
    for (const partner of partners) {
      chips.append(text("span", `chip ${partner.status}`, `${agencyName[partner.agency] || partner.agency} · ${config.labels.assignment[partner.status]}`), " ");
    }
    card.append(chips);
  }

  card.append(buttons(card, entry));
  card.append(text("p", "card-error", ""));
  if (keepForm) card.append(keepForm);
}

/** The card's buttons: the steps its status allows, and the details with the chat. */
function buttons(card, entry) {
  const { assignment, report } = entry;
  const status = assignment.status;
  const actions = document.createElement("div");
  actions.className = "actions";
  const button = (label, handler, kind) => {
    const element = text("button", kind || "", label);
    element.type = "button";
    element.addEventListener("click", handler);
    actions.append(element);
  };
  if (status === "notified") button(gettext("Acknowledge"), () => steps.act(entry, "acknowledge"), "primary");
  if (status === "notified" || status === "acknowledged") {
    button(gettext("Dispatch unit"), () => steps.openForm(card, entry, "dispatch"), status === "acknowledged" ? "primary" : "");
    button(gettext("Reject"), () => steps.openForm(card, entry, "reject"), "danger");
  }
  if (status === "dispatched") button(gettext("Arrived on scene"), () => steps.act(entry, "arrive"), "primary");
  if (status === "on_scene") button(gettext("Resolved"), () => steps.openForm(card, entry, "resolve"), "primary");
  button(gettext("Details & chat"), () => steps.openDetail(report));
  return actions;
}

/** Appends the "informasi baru" mark to `element` while that part of the report is unseen. */
function withFresh(element, report, part) {
  const mark = Fresh.badge(report.id, part);
  if (mark) element.append(" ", mark);
  return element;
}

/** A live event: marks what the command centre changed; true when it brought news. */
export function takeNews(event) {
  if (!Fresh.take(event)) return false;
  for (const card of cards.values()) if (card.dataset.reportId === String(event.report.id)) delete card.dataset.version;
  return true;
}

// Seen: the viewer touched the card (or opened its details); the marks go at once.
export function markSeen(reportId) {
  if (!Fresh.seen(reportId)) return;
  for (const card of cards.values()) {
    if (card.dataset.reportId !== String(reportId)) continue;
    card.querySelectorAll("mark.fresh").forEach((mark) => mark.remove());
    delete card.dataset.version;
  }
}

function versionOf(entry) {
  return JSON.stringify([entry.assignment, entry.report.assignments.map((a) => [a.agency, a.status])]);
}

function clock(kind, label, since) {
  const span = document.createElement("span");
  span.className = `clock ${kind}`;
  span.dataset.since = since;
  span.dataset.kind = kind;
  span.append(text("span", "label", label + " "), text("b", "", "–"));
  return span;
}

export function tick() {
  const at = now();
  document.querySelectorAll(".clock[data-since]").forEach((element) => {
    const since = Date.parse(element.dataset.since);
    const value = element.querySelector("b");
    if (element.dataset.kind === "eta") {
      const left = since - at;
      value.textContent = left >= 0 ? duration(left) : interpolate(gettext("%(time)s late"), { time: duration(-left) }, true);
      element.dataset.level = left >= 60000 ? "green" : left >= 0 ? "amber" : "red";
    } else {
      value.textContent = duration(at - since);
      element.dataset.level = level(at - since, target);
    }
  });
}

/** `cardSteps`: what the cards' buttons do (actions.js, detail.js). */
export function init(cardSteps) {
  steps = cardSteps;
  const list = document.getElementById("queue");
  list.addEventListener("pointerdown", (event) => {
    const card = event.target.closest("li[data-report-id]");
    if (card) markSeen(Number(card.dataset.reportId));
  });
  list.addEventListener("focusin", (event) => {
    const card = event.target.closest("li[data-report-id]");
    if (card) markSeen(Number(card.dataset.reportId));
  });
  setInterval(tick, 1000);
}
