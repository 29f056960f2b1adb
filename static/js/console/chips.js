/* A report's agencies as chips: each one's status, its alarm in words, the unit sent and
 * when it is due. Shown in the open reports list and among the possible duplicates. */
import { alarmBadge, alarming, time } from "../live.js";
import { agencyName, config } from "./context.js";
import { presence } from "./presence.js";

export function chipsFor(report) {
  const span = document.createElement("span");
  span.className = "chips";
  for (const assignment of report.assignments) {
    const chip = document.createElement("span");
    chip.className = `chip ${assignment.status}${alarming(assignment) ? " escalated" : ""}`;
    chip.dataset.agency = assignment.agency;
    chip.textContent = `${agencyName[assignment.agency] || assignment.agency} · ${config.labels.assignment[assignment.status] || assignment.status}`;
    const alarm = alarmBadge(assignment);
    if (alarm) chip.append(" · ", alarm);
    presence.mark(chip, assignment);  // waiting on an agency nobody watches: call them
    // The unit sent, and while it is on its way, when it is due (SPEC §8).
    if (assignment.unit) {
      let unit = ` · ${assignment.unit}`;
      if (assignment.status === "dispatched" && assignment.eta_minutes !== null && assignment.dispatched_at) {
        unit += ` · ${interpolate(gettext("due %s"), [time(new Date(Date.parse(assignment.dispatched_at) + assignment.eta_minutes * 60000).toISOString())])}`;
      }
      const detail = document.createElement("span");
      detail.className = "chip-unit";
      detail.textContent = unit;
      chip.append(detail);
    }
    span.append(chip, " ");
  }
  return span;
}
