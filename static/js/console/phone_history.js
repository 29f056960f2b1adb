/* The caller's number, looked up as it is typed: earlier calls, and a warning for a repeat
 * prank number. */
import { api, time } from "../live.js";
import { $, config, fields } from "./context.js";

let phoneTimer = null;

export function lookUpPhone() {
  clearTimeout(phoneTimer);
  phoneTimer = setTimeout(async () => {
    const digits = fields.phone.value.replace(/\D/g, "");
    const panel = $("#phone-history");
    if (digits.length < 8) { panel.hidden = true; return; }
    let result;
    try { result = await api("GET", `/api/v1/calls/history/?phone=${encodeURIComponent(fields.phone.value)}`); }
    catch (error) { return; }
    if (!result.ok) { panel.hidden = true; return; }
    renderHistory(result.data);
  }, 250);
}

function renderHistory(history) {
  const panel = $("#phone-history");
  panel.replaceChildren();
  panel.classList.toggle("flagged", history.flagged);
  const summary = document.createElement("p");
  summary.textContent = history.calls_total === 0
    ? gettext("First call from this number.")
    : interpolate(gettext("%(calls)s earlier calls, %(pranks)s prank or ghost calls in the last 30 days."),
        { calls: history.calls_total, pranks: history.prank_count }, true);
  panel.append(summary);
  if (history.flagged) {
    const warning = document.createElement("p");
    warning.className = "warning";
    warning.textContent = gettext("Repeat prank number: verify before dispatching.");
    panel.append(warning);
  }
  if (history.calls.length) {
    const list = document.createElement("ul");
    for (const call of history.calls.slice(0, 5)) {
      const item = document.createElement("li");
      item.textContent = `${time(call.received_at, true)} · ${config.labels.outcome[call.outcome] || call.outcome}`
        + (call.report_number ? ` · ${call.report_number}` : "");
      list.append(item);
    }
    panel.append(list);
  }
  panel.hidden = false;
}
