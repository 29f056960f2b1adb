/* The incident type with type-ahead (a combobox), and the agencies it sends to as chips (one
 * tab stop; arrows move, Space toggles). Choosing a type proposes its priority and agencies. */
import { $, agencyName, categoryByCode, config, fields, state } from "./context.js";
import { saveDraft } from "./draft.js";
import { refreshDuplicates } from "./duplicates.js";

/** The types whose name or code starts with what was typed (or a word of the name does),
 * then those that contain it: eight at most. */
export function matches(text) {
  const query = text.trim().toLowerCase();
  if (!query) return config.categories.slice(0, 8);
  const starts = [], contains = [];
  for (const category of config.categories) {
    const name = category.name.toLowerCase();
    if (name.startsWith(query) || category.code.startsWith(query)
        || name.split(/\s+/).some((word) => word.startsWith(query))) starts.push(category);
    else if (name.includes(query) || category.code.includes(query)) contains.push(category);
  }
  return starts.concat(contains).slice(0, 8);
}

function renderOptions() {
  const list = $("#category-options");
  list.replaceChildren();
  state.options.forEach((category, index) => {
    const option = document.createElement("li");
    option.id = `category-option-${index}`;
    option.setAttribute("role", "option");
    option.setAttribute("aria-selected", String(index === state.highlighted));
    option.textContent = category.name;
    option.addEventListener("mousedown", (event) => { event.preventDefault(); chooseCategory(category); });
    list.append(option);
  });
  const open = state.options.length > 0;
  list.hidden = !open;
  fields.category.setAttribute("aria-expanded", String(open));
  if (open) fields.category.setAttribute("aria-activedescendant", `category-option-${state.highlighted}`);
}

function openOptions() {
  state.options = matches(fields.category.value);
  state.highlighted = 0;
  renderOptions();
}

export function closeOptions() {
  state.options = [];
  renderOptions();
  fields.category.removeAttribute("aria-activedescendant");
}

export function chooseCategory(category) {
  state.category = category.code;
  fields.category.value = category.name;
  fields.priority.value = String(category.default_priority);
  state.agencies = new Set(category.agencies.filter((code) => agencyName[code]));
  state.agenciesTouched = false;
  closeOptions();
  renderChips();
  refreshDuplicates();
  saveDraft();
}

export function renderChips() {
  const group = $("#agency-chips");
  group.replaceChildren();
  config.agencies.forEach((agency, index) => {
    const chip = document.createElement("button");
    chip.type = "button";
    chip.className = "chip-toggle";
    chip.dataset.agency = agency.code;
    chip.textContent = agency.short_name;
    chip.setAttribute("aria-pressed", String(state.agencies.has(agency.code)));
    chip.tabIndex = index === state.chipFocus ? 0 : -1;
    chip.addEventListener("click", () => {
      if (state.agencies.has(agency.code)) state.agencies.delete(agency.code);
      else state.agencies.add(agency.code);
      state.agenciesTouched = true;
      state.chipFocus = index;
      renderChips();
      group.children[index].focus();
      saveDraft();
    });
    group.append(chip);
  });
}

export function init() {
  fields.category.addEventListener("input", () => {
    const chosen = categoryByCode[state.category];
    if (!chosen || chosen.name !== fields.category.value) state.category = null;
    openOptions();
  });
  fields.category.addEventListener("focus", () => { if (!state.category) openOptions(); });
  fields.category.addEventListener("blur", () => setTimeout(closeOptions, 100));
  fields.category.addEventListener("keydown", (event) => {
    const open = state.options.length > 0;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!open) { openOptions(); return; }
      const step = event.key === "ArrowDown" ? 1 : -1;
      state.highlighted = (state.highlighted + step + state.options.length) % state.options.length;
      renderOptions();
    } else if (event.key === "Enter" && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      if (open) {
        chooseCategory(state.options[state.highlighted]);
        fields.kecamatan.focus();
      }
    } else if (event.key === "Tab" && open && !event.shiftKey) {
      chooseCategory(state.options[state.highlighted]);
    } else if (event.key === "Escape") {
      closeOptions();
    }
  });
  $("#agency-chips").addEventListener("keydown", (event) => {
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
    if (!step) return;
    event.preventDefault();
    const count = config.agencies.length;
    state.chipFocus = (state.chipFocus + step + count) % count;
    renderChips();
    $("#agency-chips").children[state.chipFocus].focus();
  });
  renderChips();
}
