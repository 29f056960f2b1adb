/* Dispatch 112 — the live map (/map/, SPEC §8): open reports by priority, units by status,
 * live from /ws/events/. Markers are kept by id and updated in place (setLatLng / setIcon),
 * never redrawn all at once: a city of a thousand moving units stays smooth. */
import { alarmBadge, api, banner, connectLive } from "./live.js";
import { createPresence } from "./presence.js";

const config = JSON.parse(document.getElementById("live-config").textContent);
const OPEN = new Set(["notified", "acknowledged", "dispatched", "on_scene"]);
const COLOURS = { 1: "#c62828", 2: "#ef6c00", 3: "#2e7d32" };
const agencyName = Object.fromEntries(config.agencies.map((a) => [a.code, a.short_name]));
// Who is online per agency (SPEC §12): the command centre's snapshot carries it.
const presence = createPresence(config.agencies.filter((a) => a.active !== false));
const presenceStrip = document.getElementById("map-presence");
const centroid = Object.fromEntries(config.kecamatan.map((k) => [k.code, [Number(k.latitude), Number(k.longitude)]]));
const reports = new Map(); // id → { report, marker }
const units = new Map(); // id → { unit, marker }
let selected = null;

const map = L.map("map", { zoomControl: !config.wall });
// The first view is the whole city (every kecamatan, Tembalang and Mijen included), not a
// fixed zoom around the centre that leaves the edges out.
const cityBounds = L.latLngBounds(Object.values(centroid));
if (cityBounds.isValid()) map.fitBounds(cityBounds, { padding: [24, 24] });
else map.setView(config.map.center, 13);
// No internet in the command centre: after a few failed tiles the layer is dropped (no flood
// of errors) and the markers stand on a plain background with the kecamatan labelled.
const tiles = L.tileLayer(config.map.tiles, { maxZoom: 19, attribution: "© OpenStreetMap" });
let tileErrors = 0;
tiles.on("tileerror", () => {
  tileErrors += 1;
  if (tileErrors >= 4 && map.hasLayer(tiles)) {
    map.removeLayer(tiles);
    document.getElementById("map").classList.add("no-tiles");
    document.getElementById("tiles-note").hidden = false;
  }
});
tiles.addTo(map);
for (const k of config.kecamatan) {
  L.marker(centroid[k.code], {
    icon: L.divIcon({ className: "kec-label", html: escapeHtml(k.name), iconSize: null }),
    interactive: false, keyboard: false,
  }).addTo(map);
}

function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

// --- Filters ---------------------------------------------------------------------------------
const filters = document.getElementById("map-filters");
const agencySelect = document.getElementById("filter-agency");
for (const agency of config.agencies) {
  if (config.own_agency && agency.code !== config.own_agency) continue;
  const option = document.createElement("option");
  option.value = agency.code;
  option.textContent = agency.short_name;
  agencySelect.append(option);
}
const statusBox = document.getElementById("filter-status");
for (const [status, label] of Object.entries(config.labels.unit)) {
  const wrapper = document.createElement("label");
  const box = document.createElement("input");
  Object.assign(box, { type: "checkbox", name: "unit_status", value: status, checked: true });
  wrapper.append(box, ` ${label}`);
  statusBox.append(wrapper);
}
filters.addEventListener("change", () => { for (const id of reports.keys()) placeReport(id); for (const id of units.keys()) placeUnit(id); queueDeclutter(); });
function filterValues() {
  const data = new FormData(filters);
  return { agency: data.get("agency"), priorities: new Set(data.getAll("priority")), statuses: new Set(data.getAll("unit_status")), follow: data.get("follow") };
}
function show(marker, visible) {
  if (visible && !map.hasLayer(marker)) marker.addTo(map);
  if (!visible && map.hasLayer(marker)) map.removeLayer(marker);
}

// --- Reports ---------------------------------------------------------------------------------
function reportPlace(report) {
  if (report.latitude !== null && report.longitude !== null) return [Number(report.latitude), Number(report.longitude)];
  return centroid[report.kecamatan] || null;
}
function upsertReport(report) {
  const open = report.status === "open" && report.assignments.some((a) => OPEN.has(a.status));
  const known = reports.get(report.id);
  if (!open) {
    if (known) { map.removeLayer(known.marker); reports.delete(report.id); }
    if (selected === report.id) closeDetail();
    return;
  }
  const place = reportPlace(report);
  if (!place) return;
  if (known) {
    known.report = report;
    known.marker.setLatLng(place);
    known.marker.setStyle({ fillColor: COLOURS[report.priority] });
    known.marker.setTooltipContent(reportLabel(report));
  } else {
    const marker = L.circleMarker(place, { radius: 11, color: "#1b1f24", weight: 2, fillColor: COLOURS[report.priority], fillOpacity: 0.9 });
    marker.bindTooltip(reportLabel(report));
    marker.on("click", () => openDetail(report.id));
    reports.set(report.id, { report, marker });
  }
  placeReport(report.id);
  if (selected === report.id) renderDetail();
}
function reportLabel(report) {
  return `${escapeHtml(report.number)} · P${report.priority} · ${escapeHtml(report.category_name)}`;
}
function placeReport(id) {
  const { report, marker } = reports.get(id);
  const f = filterValues();
  const visible = f.priorities.has(String(report.priority)) && (!f.agency || report.assignments.some((a) => a.agency === f.agency && OPEN.has(a.status)));
  show(marker, visible);
  const element = marker.getElement();
  if (element) element.dataset.report = report.number;
}

// --- Units -----------------------------------------------------------------------------------
function unitPlace(unit) {
  if (unit.latitude !== null && unit.longitude !== null) return [unit.latitude, unit.longitude];
  const home = centroid[unit.home_kecamatan];
  if (!home) return null;
  // Units at home with no position yet: spread around the kecamatan's centre, not stacked.
  const angle = (unit.id * 2.399) % (2 * Math.PI);
  const ring = 0.004 + 0.002 * (unit.id % 3);
  return [home[0] + ring * Math.sin(angle), home[1] + ring * Math.cos(angle)];
}
function unitIcon(unit, shift = 0) {
  return L.divIcon({
    className: "unit-marker",
    html: `<span class="unit-icon unit-${unit.status}" data-unit="${escapeHtml(unit.call_sign)}" data-status="${unit.status}">▲ ${escapeHtml(unit.call_sign)}</span>`,
    iconSize: null,
    // Stacked below the others at the same spot (declutter): the label moves, not the place.
    iconAnchor: [0, -shift * labelStepPx],
  });
}

// --- Declutter: call signs never sit on each other -------------------------------------------
// Each label, in call-sign order, takes the free line nearest its place (the marker's place
// does not move, its label does): a dozen units in Semarang Tengah piled up.
let labelStepPx = 22; // a label's height and a hair: measured (the wall's are larger)
const MAX_SHIFT = 16;
let declutterQueued = false;
function labelWidth(entry) {
  if (!entry.width) {
    const label = entry.marker.getElement() && entry.marker.getElement().firstElementChild;
    entry.width = (label && label.offsetWidth) || 12 + 9 * entry.unit.call_sign.length;
    if (label && label.offsetHeight) labelStepPx = Math.max(labelStepPx, label.offsetHeight + 1);
  }
  return entry.width;
}
function declutter() {
  declutterQueued = false;
  const placed = [];
  const shown = [...units.values()].filter((entry) => map.hasLayer(entry.marker));
  shown.sort((a, b) => a.unit.call_sign.localeCompare(b.unit.call_sign));
  for (const entry of shown) {
    const at = map.latLngToLayerPoint(entry.marker.getLatLng());
    const width = labelWidth(entry);
    const free = (y) => !placed.some((r) => at.x < r.x + r.width && r.x < at.x + width
      && y < r.y + labelStepPx && r.y < y + labelStepPx);
    // The nearest free line: on the place, then one below, one above, two below…
    let shift = 0;
    for (let k = 1; k <= MAX_SHIFT && !free(at.y + shift * labelStepPx); k += 1) {
      shift = free(at.y + k * labelStepPx) ? k : -k;
    }
    placed.push({ x: at.x, y: at.y + shift * labelStepPx, width });
    if (entry.shift !== shift) {
      entry.shift = shift;
      entry.marker.setIcon(unitIcon(entry.unit, shift));
    }
  }
}
function queueDeclutter() {
  if (declutterQueued) return;
  declutterQueued = true;
  window.setTimeout(declutter, 250); // at most four times a second, however many move
}
map.on("zoomend", queueDeclutter);
function upsertUnit(update) {
  const known = units.get(update.id);
  // A position carries the unit's place and status only: merged into what is known.
  const unit = { ...(known ? known.unit : {}), ...update };
  if (unit.active === false) { if (known) { map.removeLayer(known.marker); units.delete(unit.id); } return; }
  const place = unitPlace(unit);
  if (!place) return;
  if (known) {
    const statusChanged = known.unit.status !== unit.status;
    known.unit = unit;
    known.marker.setLatLng(place);
    if (statusChanged) known.marker.setIcon(unitIcon(unit, known.shift || 0));
  } else {
    const marker = L.marker(place, { icon: unitIcon(unit), keyboard: false, title: unit.call_sign });
    marker.bindTooltip(`${escapeHtml(unit.call_sign)} · ${escapeHtml(agencyName[unit.agency] || unit.agency)}`);
    units.set(unit.id, { unit, marker, shift: 0 });
    addFollowOption(unit);
  }
  placeUnit(unit.id);
  queueDeclutter();
}
function placeUnit(id) {
  const { unit, marker } = units.get(id);
  const f = filterValues();
  show(marker, f.statuses.has(unit.status) && (!f.agency || unit.agency === f.agency));
  if (f.follow && String(unit.id) === f.follow) map.panTo(marker.getLatLng(), { animate: true });
}
const follow = document.getElementById("follow");
function addFollowOption(unit) {
  const option = document.createElement("option");
  option.value = unit.id;
  option.textContent = unit.call_sign;
  follow.append(option);
}

// --- Detail: a report, its agencies, and the viewer's agency's ranked units ---------------------
function closeDetail() { selected = null; document.getElementById("map-detail").hidden = true; }
function openDetail(id) { selected = id; renderDetail(); }
async function renderDetail() {
  const entry = reports.get(selected);
  const panel = document.getElementById("map-detail");
  if (!entry) { closeDetail(); return; }
  const { report } = entry;
  panel.hidden = false;
  panel.replaceChildren();
  const close = document.createElement("button");
  Object.assign(close, { type: "button", className: "link", textContent: `${gettext("Close")} ✕` });
  close.addEventListener("click", closeDetail);
  const title = document.createElement("h2");
  title.textContent = `${report.number} · P${report.priority} ${report.category_name}`;
  const where = document.createElement("p");
  where.textContent = [report.address, report.kecamatan_name].filter(Boolean).join(", ");
  const what = document.createElement("p");
  what.textContent = report.description;
  const chips = document.createElement("div");
  for (const a of report.assignments) {
    const chip = document.createElement("span");
    chip.className = `chip ${a.status}`;
    chip.textContent = `${agencyName[a.agency] || a.agency} · ${config.labels.assignment[a.status]}${a.unit ? ` · ${a.unit}` : ""}`;
    const alarm = alarmBadge(a);
    if (alarm) chip.append(" · ", alarm);
    chips.append(chip, " ");
  }
  panel.append(close, title, where, what, chips);
  const mine = config.own_agency && report.assignments.find((a) => a.agency === config.own_agency && ["notified", "acknowledged"].includes(a.status));
  if (!mine) return;
  const result = await api("GET", `/api/v1/assignments/${mine.id}/units/`).catch(() => null);
  if (!result || !result.ok || !result.data.length || selected !== report.id) return;
  const list = document.createElement("ul");
  list.className = "unit-list";
  for (const unit of result.data) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = unit.status === "available" ? "unit" : "unit busy";
    const distance = unit.distance_m === null ? "—" : `${(unit.distance_m / 1000).toFixed(1)} km`;
    button.textContent = `${unit.call_sign} · ${config.labels.unit[unit.status]} · ${distance}`;
    button.disabled = unit.status !== "available";
    button.addEventListener("click", async () => {
      const body = { unit: unit.call_sign };
      if (unit.eta_minutes !== null) body.eta_minutes = unit.eta_minutes;
      const sent = await api("POST", `/api/v1/assignments/${mine.id}/dispatch/`, body).catch(() => null);
      if (!sent || !sent.ok) button.textContent += ` — ${(sent && sent.data && sent.data.detail) || gettext("The request was refused.")}`;
    });
    item.append(button);
    list.append(item);
  }
  panel.append(list);
}

// --- Live --------------------------------------------------------------------------------------
connectLive({
  onSnapshot(snapshot) {
    const seen = new Map();
    for (const item of snapshot.assignments) seen.set(item.report.id, item.report);
    for (const id of [...reports.keys()]) if (!seen.has(id)) { map.removeLayer(reports.get(id).marker); reports.delete(id); }
    for (const report of seen.values()) upsertReport(report);
    for (const unit of snapshot.units || []) upsertUnit(unit);
    if (snapshot.presence) { presence.update(snapshot.presence); presence.summary(presenceStrip); }
  },
  onEvent(event) {
    if (event.type === "unit.updated") upsertUnit(event.unit);
    else if (event.report) upsertReport(event.report);
  },
  onLive(frame) {
    if (frame.type === "presence.updated") { presence.update(frame.presence); presence.summary(presenceStrip); return; }
    // The units that moved since the last frame, coalesced by the server (SPEC §7).
    if (frame.type === "unit.positions") frame.units.forEach(upsertUnit);
  },
  onStatus: banner,
});
