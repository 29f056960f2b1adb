/* Unheard (SPEC §12): an assignment that no screen of its agency showed within
 * DISPATCH_UNHEARD_SECONDS. The server says so once (`assignment.unheard`, with the agency's
 * phone number); the console keeps a banner line for it, loud, until the agency's screen
 * shows it, the agency answers, or the operator says they called. A reload rebuilds the
 * banner from the snapshot. */
import { beep } from "../live.js";
import { unheard } from "../presence.js";
import { $, agencyName } from "./context.js";
import { presence } from "./presence.js";

const waiting = new Map(); // assignment id → { assignment, report, phone }
const CALLED_KEY = "dispatch112.console.called";

function called() {
  try { return new Set(JSON.parse(sessionStorage.getItem(CALLED_KEY) || "[]")); } catch (error) { return new Set(); }
}

function markCalled(id) {
  const ids = called();
  ids.add(id);
  sessionStorage.setItem(CALLED_KEY, JSON.stringify([...ids].slice(-200)));
  waiting.delete(id);
  render();
}

export function onSnapshot(snapshot) {
  waiting.clear();
  const done = called();
  for (const item of snapshot.assignments || []) {
    if (unheard(item) && !done.has(item.id)) {
      waiting.set(item.id, { assignment: item, report: item.report, phone: presence.phoneOf(item.agency) });
    }
  }
  render();
}

export function onEvent(event) {
  if (event.type === "assignment.unheard" && event.assignment) {
    waiting.set(event.assignment.id, { assignment: event.assignment, report: event.report, phone: event.phone || presence.phoneOf(event.assignment.agency) });
    beep(true);
  } else if (event.report) {
    // The agency's screen showed it, or it answered, or the report closed: no longer unheard.
    for (const a of event.report.assignments) if (waiting.has(a.id) && !unheard(a)) waiting.delete(a.id);
  }
  render();
}

function render() {
  const list = $("#unheard");
  list.replaceChildren();
  for (const [id, { assignment, report, phone }] of waiting) {
    const item = document.createElement("li");
    item.dataset.assignment = id;
    const words = document.createElement("span");
    words.textContent = interpolate(gettext("%(agency)s has not heard %(number)s (P%(priority)s %(category)s): no screen of theirs showed it."),
      { agency: agencyName[assignment.agency] || assignment.agency, number: report.number, priority: report.priority, category: report.category_name }, true);
    item.append(words);
    if (phone) {
      const link = document.createElement("a");
      link.className = "call-them";
      link.href = `tel:${phone.replace(/[^\d+]/g, "")}`;
      link.textContent = interpolate(gettext("Call %(phone)s"), { phone }, true);
      item.append(" ", link);
    }
    const done = document.createElement("button");
    done.type = "button";
    done.className = "small";
    done.textContent = gettext("I called them");
    done.addEventListener("click", () => markCalled(id));
    item.append(" ", done);
    list.append(item);
  }
  list.hidden = waiting.size === 0;
}
