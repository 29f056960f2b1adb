/* Dispatch 112 — the command centre's live board: every open report, each agency's status. */
import "./alerts.js";
import * as UI from "./live.js";
import { createPresence } from "./presence.js";

const config = JSON.parse(document.getElementById("live-config").textContent);
const agency = Object.fromEntries(config.agencies.map((a) => [a.code, a]));
const reports = new Map();
const presence = createPresence(config.agencies);
let live = null;

async function load() {
  const result = await UI.api("GET", "/api/v1/reports/?status=open&limit=500");
  if (!result.ok) return;
  reports.clear();
  for (const report of result.data.results) reports.set(report.id, report);
  render();
}

function onEvent(event) {
  if (!event.report) return; // a unit's own event (SPEC §7): nothing on the board changes
  if (event.report.status === "open") reports.set(event.report.id, event.report);
  else reports.delete(event.report.id);
  if (event.kind === "assignment.escalated" || event.kind === "assignment.overdue") UI.beep(true);
  render();
}
const alarming = (report) => report.assignments.some(UI.alarming);

function cell(row, content) {
  const td = document.createElement("td");
  if (typeof content === "string") td.textContent = content; else td.append(content);
  row.append(td);
}

function render() {
  const body = document.querySelector("#board tbody");
  body.replaceChildren();
  const sorted = [...reports.values()].sort((a, b) => alarming(b) - alarming(a)
    || a.priority - b.priority || a.received_at.localeCompare(b.received_at));
  for (const report of sorted) {
    const row = document.createElement("tr");
    row.className = `p${report.priority}${alarming(report) ? " alarm-row" : ""}`;
    row.dataset.report = report.number;
    cell(row, report.number);
    cell(row, `P${report.priority}`);
    cell(row, report.category_name);
    cell(row, report.address + (report.kecamatan_name ? `, ${report.kecamatan_name}` : ""));
    const since = document.createElement("span");
    since.className = "clock";
    since.dataset.since = report.received_at;
    // Coloured against the tightest target among the agencies still working on it.
    const targets = report.assignments.filter((a) => ["notified", "acknowledged", "dispatched"].includes(a.status))
      .map((a) => (agency[a.agency] || { response_target_seconds: 600 }).response_target_seconds);
    since.dataset.target = targets.length ? Math.min(...targets) : "";
    cell(row, since);
    const chips = document.createElement("span");
    chips.className = "chips";
    for (const a of report.assignments) {
      const chip = document.createElement("span");
      chip.className = `chip ${a.status}${UI.alarming(a) ? " escalated" : ""}`;
      chip.dataset.agency = a.agency;
      chip.textContent = `${(agency[a.agency] || {}).short_name || a.agency} · ${config.labels.assignment[a.status]}`;
      const alarm = UI.alarmBadge(a);
      if (alarm) chip.append(" · ", alarm);
      presence.mark(chip, a);
      chips.append(chip, " ");
    }
    cell(row, chips);
    body.append(row);
  }
  document.getElementById("board-count").textContent = `(${sorted.length})`;
  document.getElementById("board-empty").hidden = sorted.length > 0;
  tick();
}

function tick() {
  const now = live ? live.now() : new Date();
  document.querySelectorAll("#board .clock").forEach((element) => {
    const elapsed = now - Date.parse(element.dataset.since);
    element.textContent = UI.duration(elapsed);
    element.dataset.level = element.dataset.target ? UI.level(elapsed, Number(element.dataset.target)) : "";
  });
}

// Each agency's units: how many are free, on their way, on scene, out of service (SPEC §8).
const units = new Map();
const STATUSES = ["available", "dispatched", "en_route", "on_scene", "out_of_service"];
function renderUnits() {
  const table = document.getElementById("board-units");
  if (!table) return;
  table.hidden = units.size === 0;
  const counts = {};
  for (const unit of units.values()) {
    if (!unit.active) continue;
    counts[unit.agency] = counts[unit.agency] || Object.fromEntries(STATUSES.map((s) => [s, 0]));
    counts[unit.agency][unit.status] += 1;
  }
  const body = table.querySelector("tbody");
  body.replaceChildren();
  for (const code of Object.keys(counts).sort()) {
    const row = document.createElement("tr");
    row.dataset.agency = code;
    cell(row, (agency[code] || {}).short_name || code);
    for (const status of STATUSES) {
      const count = document.createElement("span");
      count.dataset.status = status;
      count.className = counts[code][status] ? `chip unit-${status}` : "hint";
      count.textContent = counts[code][status];
      cell(row, count);
    }
    body.append(row);
  }
}

live = UI.connectLive({
  // The snapshot lists assignments; the board lists reports, so it reloads them.
  onSnapshot(snapshot) {
    presence.update(snapshot.presence);
    units.clear();
    for (const unit of snapshot.units || []) units.set(unit.id, unit);
    renderUnits();
    load();
  },
  onEvent(event) {
    if (event.type === "unit.updated") { units.set(event.unit.id, event.unit); renderUnits(); return; }
    onEvent(event);
  },
  onLive(frame) {
    if (frame.type === "presence.updated") { presence.update(frame.presence); render(); }
  },
  onStatus: UI.banner,
});
setInterval(tick, 1000);
