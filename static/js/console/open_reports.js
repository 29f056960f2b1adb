/* The open reports beside the form: alarms first, then by priority and age; a row opens the
 * report's view (click, or Enter), and carries the "close as" and "hand over" buttons. */
import { alarming, api, time } from "../live.js";
import { $, config, hasPeers } from "./context.js";
import { chipsFor } from "./chips.js";
import { presence } from "./presence.js";

let renderedOpen = "";
// What a row's click and buttons do (init): open the report's view, close, hand over.
let act = { open() {}, current: () => null, close() {}, handOver() {} };
const alarmed = (report) => report.assignments.some(alarming);

export async function loadOpenReports() {
  let result;
  try { result = await api("GET", "/api/v1/reports/?status=open&limit=200"); } catch (error) { return; }
  if (!result.ok) return;
  const reports = result.data.results.sort((a, b) => alarmed(b) - alarmed(a)
    || a.priority - b.priority || a.received_at.localeCompare(b.received_at));
  $("#open-count").textContent = `(${result.data.count})`;
  // A reload that changes nothing (a live event about another centre's business, a
  // reconnect) leaves the rows alone, and with them the operator's place in the list.
  const signature = JSON.stringify([presence.version(), reports.map((report) => [report, alarmed(report)])]);
  if (signature === renderedOpen) return;
  renderedOpen = signature;
  const body = $("#open-reports tbody");
  const focused = document.activeElement && document.activeElement.closest("#open-reports tbody tr");
  const focusedId = focused ? focused.dataset.reportId : null;
  body.replaceChildren(...reports.map(row));
  if (focusedId) {
    const again = body.querySelector(`tr[data-report-id="${focusedId}"]`);
    if (again) again.focus();
  }
}

function row(report) {
  const tr = document.createElement("tr");
  tr.className = `p${report.priority}${alarmed(report) ? " alarm-row" : ""}`;
  tr.dataset.report = report.number;
  tr.dataset.reportId = report.id;
  // Click, or Enter on the focused row: the report's view (report_view.js).
  tr.tabIndex = 0;
  tr.setAttribute("aria-label", interpolate(gettext("%(number)s: open its view"), { number: report.number }, true));
  if (act.current() === report.id) tr.classList.add("viewing");
  tr.addEventListener("click", (event) => {
    if (!event.target.closest("button")) act.open(report.id);
  });
  tr.addEventListener("keydown", (event) => {
    if (event.target !== tr) return;
    if (event.key === "Enter" && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      act.open(report.id);
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const next = event.key === "ArrowDown" ? tr.nextElementSibling : tr.previousElementSibling;
      if (next) next.focus();
    }
  });
  // Two lines per cell keep the list beside the form at 1366 px: the number never wraps.
  const cells = [[report.number, time(report.received_at), "number"], [`P${report.priority}`, "", "priority"],
    [report.category_name, report.address + (report.kecamatan_name ? `, ${report.kecamatan_name}` : "")
      + sourceNote(report), "what"]];
  for (const [first, second, name] of cells) {
    const cell = document.createElement("td");
    cell.className = name;
    const main = document.createElement("span");
    main.className = "main";
    main.textContent = first;
    cell.append(main);
    if (second) {
      const sub = document.createElement("span");
      sub.className = "sub";
      sub.textContent = second;
      cell.append(sub);
    }
    tr.append(cell);
  }
  const agencies = document.createElement("td");
  agencies.append(chipsFor(report), closeButtons(report));
  tr.append(agencies);
  return tr;
}

function closeButtons(report) {
  const actions = document.createElement("div");
  actions.className = "close-as";
  actions.setAttribute("role", "group");
  actions.setAttribute("aria-label", gettext("Close as"));
  for (const reason of ["prank", "non_emergency", "duplicate", "resolved"]) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "small";
    button.textContent = config.labels.close[reason];
    button.addEventListener("click", () => act.close(report, reason));
    actions.append(button, " ");
  }
  if (hasPeers()) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "small handover";
    button.textContent = gettext("Hand over");
    button.title = gettext("Send to another 112 centre (the caller reached the wrong city)");
    button.addEventListener("click", () => act.handOver(report));
    actions.append(button);
  }
  return actions;
}

/** Where a report came from when it was not a call here: a city app or another centre. */
function sourceNote(report) {
  if (!report.source || report.source === "call") return "";
  const from = report.source === "open311" ? gettext("city app") : gettext("another 112 centre");
  return ` · ${interpolate(gettext("from %(origin)s (%(kind)s)"), { origin: report.origin, kind: from }, true)}`;
}

// Live: any event reloads the open list (debounced); a slow poll is only a safety net.
let reloadTimer = null;
export function reloadSoon() {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(loadOpenReports, 150);
}

/** `rowActions`: open(id) and current() of the report's view, close(report, reason) and
 * handOver(report). Loads the list, and again every minute (live events reload it sooner). */
export function init(rowActions) {
  act = rowActions;
  loadOpenReports();
  setInterval(loadOpenReports, 60000);
}
