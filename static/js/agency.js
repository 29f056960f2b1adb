/* Dispatch 112 — an agency's live queue, desk or phone (the page's entry module). The work is
 * done by the modules in agency/, one job each, whose imports only point down; this one wires
 * the cards' buttons to their steps and applies the live connection's news: the queue, the
 * open details, the fleet, and a beep for new work. */
import { banner, beep, connectLive, watchSeen } from "./live.js";
import { own, queue, setLive } from "./agency/context.js";
import * as actions from "./agency/actions.js";
import * as alerting from "./agency/alerting.js";
import * as detail from "./agency/detail.js";
import * as fleet from "./agency/fleet.js";
import * as desk from "./agency/queue.js";

function onSnapshot(snapshot) {
  fleet.onSnapshot(snapshot.units);
  queue.clear();
  for (const item of snapshot.assignments) {
    if (item.agency === own) queue.set(item.id, { assignment: item, report: item.report });
  }
  desk.render();
}

function onEvent(event) {
  if (event.type === "unit.updated") { fleet.onUnit(event.unit); return; }
  if (!event.report) return;
  // What the command centre changed (an edit, a later caller's words): marked until seen.
  if (desk.takeNews(event)) beep();
  const before = event.assignment && queue.has(event.assignment.id);
  desk.upsertFromReport(event.report);
  if (event.type === "assignment.created" && event.assignment && event.assignment.agency === own && !before) {
    const entry = queue.get(event.assignment.id);
    if (entry) { beep(); alerting.notify(entry); }
  }
  const flagged = event.kind === "assignment.escalated" || event.kind === "assignment.overdue";
  if (flagged && event.assignment && event.assignment.agency === own && queue.has(event.assignment.id)) {
    beep(true);
    alerting.notify(queue.get(event.assignment.id));
  }
  detail.follow(event);
  desk.render();
}

alerting.init();
fleet.init();
desk.init({ act: actions.act, openForm: actions.openForm, openDetail: detail.openDetail });
detail.init();
// receipts: this desk tells the command centre what it has shown and what a person has seen.
const connection = connectLive({ onSnapshot, onEvent, onStatus: banner, receipts: true });
setLive(connection);
watchSeen(connection, document.getElementById("queue"));
