/* An assignment's steps from the desk: acknowledge, dispatch (a unit from the fleet, closest
 * first, or one typed in), reject, arrived, resolved. The answer is applied at once; the live
 * event that follows confirms it. */
import { api, duration } from "../live.js";
import { cards, config, refusal, text } from "./context.js";
import { render, upsertFromReport } from "./queue.js";

/** Opens the card's inline form for `action` (dispatch, reject, resolve). */
export function openForm(card, entry, action, freeText) {
  card.querySelectorAll("form.inline").forEach((form) => form.remove());
  const form = document.createElement("form");
  form.className = "inline";
  if (freeText) form.dataset.freeText = "1";
  const field = (name, label, attributes) => {
    const wrapper = document.createElement("label");
    wrapper.append(text("span", "", label));
    const input = document.createElement("input");
    input.name = name;
    Object.assign(input, attributes);
    wrapper.append(input);
    form.append(wrapper);
    return input;
  };
  let first;
  if (action === "dispatch" && !form.dataset.freeText) {
    // An agency with a fleet: its units, the closest available first; one tap sends one.
    unitChoices(card, entry, form).then((shown) => { if (!shown) openFreeText(); });
    card.append(form);
    return;
  }
  function openFreeText() { form.dataset.freeText = "1"; form.remove(); openForm(card, entry, "dispatch", true); }
  if (action === "dispatch") {
    first = field("unit", gettext("Unit"), { placeholder: gettext("e.g. Ambulance 3"), maxLength: 80 });
    field("eta_minutes", gettext("ETA in minutes"), { type: "number", min: 0, max: 1440, required: true, inputMode: "numeric" });
  } else if (action === "reject") {
    first = field("reason", gettext("Reason"), { required: true, maxLength: 2000 });
  } else {
    first = field("note", gettext("What was done (optional)"), { maxLength: 2000 });
  }
  const submit = text("button", "primary", { dispatch: gettext("Dispatch"), reject: gettext("Reject"), resolve: gettext("Resolved") }[action]);
  submit.type = "submit";
  form.append(submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const body = Object.fromEntries(new FormData(form));
    if (body.eta_minutes !== undefined) body.eta_minutes = Number(body.eta_minutes);
    act(entry, action, body);
  });
  card.append(form);
  first.focus();
}

/** The dispatch list (SPEC §7): GET …/units/, available first by estimated travel time.
 * Resolves false when the agency has no units (the free-text form is shown instead). */
async function unitChoices(card, entry, form) {
  let result;
  try {
    result = await api("GET", `/api/v1/assignments/${entry.assignment.id}/units/`);
  } catch (failure) { return false; }
  if (!result.ok || !result.data || !result.data.length) return false;
  form.classList.add("unit-choices");
  form.append(text("p", "hint small", gettext("Closest available unit first. One tap dispatches it with the estimated ETA.")));
  const list = document.createElement("ul");
  list.className = "unit-list";
  result.data.forEach((unit, index) => {
    const item = document.createElement("li");
    const choose = document.createElement("button");
    choose.type = "button";
    choose.className = unit.status === "available" ? (index === 0 ? "primary unit" : "unit") : "unit busy";
    choose.dataset.callSign = unit.call_sign;
    const distance = unit.distance_m === null ? "—" : `${(unit.distance_m / 1000).toFixed(1)} km`;
    const eta = unit.eta_minutes === null ? "" : interpolate(gettext("ETA %s min"), [unit.eta_minutes]);
    const age = unit.position_age_s === null ? gettext("from its home kecamatan")
      : interpolate(gettext("position %s ago"), [duration(unit.position_age_s * 1000)]);
    choose.append(text("strong", "", unit.call_sign), text("span", "", ` ${config.labels.unit[unit.status] || unit.status} · ${distance} · ${eta}`),
      text("span", "small unit-age", ` (${age})`));
    choose.addEventListener("click", () => {
      const body = { unit: unit.call_sign };
      if (unit.eta_minutes !== null) body.eta_minutes = unit.eta_minutes;
      if (unit.status !== "available") {
        if (!window.confirm(interpolate(gettext("%s is busy. Divert it to this report?"), [unit.call_sign]))) return;
        body.divert = true;
      }
      act(entry, "dispatch", body);
    });
    item.append(choose);
    list.append(item);
  });
  form.append(list);
  return true;
}

/** Posts the step; a refusal is said on the card. */
export async function act(entry, action, body) {
  const card = cards.get(entry.assignment.id);
  const error = card && card.querySelector(".card-error");
  let result;
  try {
    result = await api("POST", `/api/v1/assignments/${entry.assignment.id}/${action}/`, body || {});
  } catch (failure) {
    if (error) error.textContent = gettext("The server cannot be reached: try again.");
    return;
  }
  if (!result.ok) {
    if (error) error.textContent = refusal(result, gettext("The request was refused."));
    return;
  }
  // The live event follows; apply the answer now so the tap feels instant.
  const report = { ...entry.report, assignments: entry.report.assignments.map((a) => (a.id === result.data.id ? result.data : a)) };
  if (card) card.querySelectorAll("form.inline").forEach((form) => form.remove());
  upsertFromReport(report);
  render();
}
