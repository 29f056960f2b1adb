/* The agency's fleet (SPEC §7): who is available now, live from unit.updated, below the
 * queue (folded on a phone, where the queue comes first; open from the start on a wide
 * screen), and the table where the desk adds, takes out of service and retires its units. */
import { api } from "../live.js";
import { config, refusal, text } from "./context.js";

const fleet = new Map();

function manage() { return document.getElementById("fleet-manage"); }

/** The snapshot's units replace what was known. */
export function onSnapshot(units) {
  fleet.clear();
  for (const unit of units || []) fleet.set(unit.id, unit);
  renderFleet();
  if (manage()?.open) loadManage();
}

/** A unit.updated event. */
export function onUnit(unit) {
  fleet.set(unit.id, unit);
  renderFleet();
  renderManage();
}

function renderFleet() {
  const section = document.getElementById("fleet");
  const list = document.getElementById("fleet-units");
  if (!section || !list) return;
  section.hidden = fleet.size === 0;
  list.replaceChildren();
  const order = { available: 0, dispatched: 1, en_route: 2, on_scene: 3, out_of_service: 4 };
  const units = [...fleet.values()].filter((u) => u.active)
    .sort((a, b) => order[a.status] - order[b.status] || a.call_sign.localeCompare(b.call_sign));
  // Folded (a phone): the count says enough until the desk opens it.
  const summary = document.getElementById("fleet-summary");
  if (summary) {
    summary.textContent = units.length ? interpolate(gettext("%(available)s of %(total)s available"),
      { available: units.filter((u) => u.status === "available").length, total: units.length }, true) : "";
  }
  for (const unit of units) {
    const chip = text("li", `chip unit-${unit.status}`, `${unit.call_sign} · ${config.labels.unit[unit.status] || unit.status}`);
    chip.dataset.unit = unit.call_sign;
    if (unit.report_number) chip.title = unit.report_number;
    list.append(chip);
  }
}

// --- Managing the fleet (the agency's own units) ---------------------------------------------------
function option(value, label, selected) {
  const element = document.createElement("option");
  element.value = value;
  element.textContent = label;
  element.selected = value === selected;
  return element;
}

function kindSelect(selected) {
  const select = document.createElement("select");
  for (const [value, label] of Object.entries(config.labels.kind)) select.append(option(value, label, selected));
  return select;
}

function homeSelect(selected) {
  const select = document.createElement("select");
  select.append(option("", "—", selected || ""));
  for (const k of config.kecamatan) select.append(option(k.code, k.name, selected));
  return select;
}

async function changeUnit(unit, body, row) {
  const result = await api("PATCH", `/api/v1/units/${unit.id}/`, body).catch(() => null);
  const error = row.querySelector(".error");
  if (!result || !result.ok) {
    error.textContent = refusal(result, gettext("The server cannot be reached: try again."));
    return;
  }
  error.textContent = "";
  fleet.set(unit.id, result.data);
  renderManage();
  renderFleet();
}

async function setUnitStatus(unit, status, row) {
  const result = await api("POST", `/api/v1/units/${unit.id}/status/`, { status }).catch(() => null);
  if (!result || !result.ok) {
    row.querySelector(".error").textContent = (result && result.data && result.data.detail) || gettext("The request was refused.");
    return;
  }
  fleet.set(unit.id, result.data);
  renderManage();
  renderFleet();
}

async function loadManage() {
  const result = await api("GET", "/api/v1/units/?active=all").catch(() => null);
  if (result && result.ok) for (const unit of result.data) fleet.set(unit.id, unit);
  renderManage();
}

function renderManage() {
  if (!manage() || !manage().open) return;
  const body = document.querySelector("#fleet-table tbody");
  body.replaceChildren();
  for (const unit of [...fleet.values()].sort((a, b) => a.call_sign.localeCompare(b.call_sign))) {
    const row = document.createElement("tr");
    row.dataset.unit = unit.call_sign;
    if (!unit.active) row.className = "retired";
    const kind = kindSelect(unit.kind);
    kind.addEventListener("change", () => changeUnit(unit, { kind: kind.value }, row));
    const home = homeSelect(unit.home_kecamatan);
    home.addEventListener("change", () => changeUnit(unit, { home_kecamatan: home.value }, row));
    const cells = [text("strong", "", unit.call_sign), kind, home,
      text("span", `chip unit-${unit.status}`, config.labels.unit[unit.status] || unit.status)];
    for (const content of cells) { const cell = document.createElement("td"); cell.append(content); row.append(cell); }
    const actions = document.createElement("td");
    const toggle = text("button", "", unit.status === "out_of_service" ? gettext("Back in service") : gettext("Out of service"));
    toggle.type = "button";
    toggle.hidden = !unit.active || ["dispatched", "en_route", "on_scene"].includes(unit.status);
    toggle.addEventListener("click", () => setUnitStatus(unit, unit.status === "out_of_service" ? "available" : "out_of_service", row));
    const retire = text("button", "", unit.active ? gettext("Retire") : gettext("Reactivate"));
    retire.type = "button";
    retire.addEventListener("click", () => changeUnit(unit, { active: !unit.active }, row));
    actions.append(toggle, " ", retire, text("span", "error", ""));
    row.append(actions);
    body.append(row);
  }
}

export function init() {
  const more = document.getElementById("desk-more");
  if (more && window.matchMedia("(min-width: 601px)").matches) more.open = true;
  const table = manage();
  if (!table) return;
  const form = document.getElementById("unit-add");
  for (const [value, label] of Object.entries(config.labels.kind)) form.kind.append(option(value, label));
  form.home_kecamatan.append(option("", "—"));
  for (const k of config.kecamatan) form.home_kecamatan.append(option(k.code, k.name));
  table.addEventListener("toggle", () => { if (table.open) loadManage(); });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = document.getElementById("unit-add-error");
    const result = await api("POST", "/api/v1/units/", Object.fromEntries(new FormData(form))).catch(() => null);
    if (!result || !result.ok) {
      error.textContent = refusal(result, gettext("The server cannot be reached: try again."));
      return;
    }
    error.textContent = "";
    form.reset();
    fleet.set(result.data.id, result.data);
    renderManage();
    renderFleet();
  });
}
