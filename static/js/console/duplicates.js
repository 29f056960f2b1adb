/* Possible duplicates of the call being typed (same type, place, pin or number): the server
 * lists them as the form fills; Alt+1…9 attaches the call to one instead of a new report. */
import { api, time } from "../live.js";
import { $, fields, state } from "./context.js";
import { chipsFor } from "./chips.js";

let duplicateTimer = null;
let attach = () => {};

export function refreshDuplicates() {
  clearTimeout(duplicateTimer);
  duplicateTimer = setTimeout(async () => {
    const params = new URLSearchParams();
    if (state.category) params.set("category", state.category);
    if (fields.kecamatan.value) params.set("kecamatan", fields.kecamatan.value);
    if (state.latitude !== null) {
      params.set("latitude", state.latitude);
      params.set("longitude", state.longitude);
    }
    if (fields.phone.value.replace(/\D/g, "").length >= 8) params.set("phone", fields.phone.value);
    if ([...params.keys()].length === 0) { state.duplicates = []; renderDuplicates(); return; }
    try {
      const result = await api("GET", `/api/v1/reports/duplicates/?${params}`);
      state.duplicates = result.ok ? result.data.slice(0, 9) : [];
    } catch (error) {
      state.duplicates = [];
    }
    renderDuplicates();
  }, 250);
}

export function renderDuplicates() {
  const list = $("#duplicates");
  list.replaceChildren();
  if (!state.duplicates.length) {
    const empty = document.createElement("li");
    empty.className = "hint";
    empty.textContent = gettext("None.");
    list.append(empty);
    return;
  }
  state.duplicates.forEach((report, index) => {
    const item = document.createElement("li");
    const text = document.createElement("span");
    text.textContent = `${report.number} · ${report.category_name} · ${report.address}`
      + (report.kecamatan_name ? `, ${report.kecamatan_name}` : "")
      + ` · ${time(report.received_at)}`;
    const button = document.createElement("button");
    button.type = "button";
    button.tabIndex = -1;
    button.textContent = interpolate(gettext("Attach (Alt+%(n)s)"), { n: index + 1 }, true);
    button.addEventListener("click", () => attach(report));
    item.append(text, " ", button, chipsFor(report));
    list.append(item);
  });
}

/** `onAttach(report)`: the call is attached to that report (sending.js logs it). */
export function init({ onAttach }) {
  attach = onAttach;
  fields.kecamatan.addEventListener("change", refreshDuplicates);
  renderDuplicates();
}
