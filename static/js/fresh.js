/* Dispatch 112 — "informasi baru": what the command centre changed on a report (SPEC §11),
 * marked on the agency's card and the field app until the viewer has seen it. Shared by
 * the agency's desk and the field app; kept in sessionStorage so a reload keeps the mark. */
const KEY = "dispatch112.fresh";
// A report's fields, by the part of a card that shows them.
const PART_OF = { description: "what", address: "where", kecamatan: "where", latitude: "where",
  longitude: "where", priority: "priority" };

function load() {
  try { return JSON.parse(sessionStorage.getItem(KEY)) || {}; } catch (error) { return {}; }
}
const state = load();
function save() {
  try { sessionStorage.setItem(KEY, JSON.stringify(state)); } catch (error) { /* private mode */ }
}
function entry(reportId) {
  state[reportId] = state[reportId] || { parts: [], notes: [] };
  return state[reportId];
}

/** Takes a live event; returns true when it brought new information about its report. */
export function take(event) {
  if (!event || !event.report || !event.data) return false;
  const reportId = event.report.id;
  if (event.kind === "report.edited" && Array.isArray(event.data.fields)) {
    const parts = new Set(entry(reportId).parts);
    for (const field of event.data.fields) if (PART_OF[field]) parts.add(PART_OF[field]);
    entry(reportId).parts = [...parts];
    save();
    return true;
  }
  if (event.kind === "call.attached") {
    const known = entry(reportId).notes;
    if (!known.some((n) => n.id === event.event_id)) {
      known.push({ id: event.event_id, note: event.data.note || "", at: event.server_time, fresh: true });
      entry(reportId).parts = [...new Set([...entry(reportId).parts, "calls"])];
      save();
    }
    return true;
  }
  return false;
}

export function isFresh(reportId, part) {
  return Boolean(state[reportId] && state[reportId].parts.includes(part));
}

/** A <mark> saying "informasi baru", or null when `part` of the report was seen. */
export function badge(reportId, part) {
  if (!isFresh(reportId, part)) return null;
  const mark = document.createElement("mark");
  mark.className = "fresh";
  mark.dataset.part = part;
  mark.textContent = gettext("new information");
  return mark;
}

/** The attached calls' notes the report's agencies were sent live. */
export function notes(reportId) {
  return (state[reportId] && state[reportId].notes) || [];
}

/** The viewer has seen the report: its marks go (the notes stay, unmarked). */
export function seen(reportId) {
  const known = state[reportId];
  if (!known || !known.parts.length) return false;
  known.parts = [];
  known.notes.forEach((n) => { n.fresh = false; });
  save();
  return true;
}

/** Forgets reports no longer shown (closed, left). */
export function keepOnly(reportIds) {
  const keep = new Set(reportIds.map(String));
  for (const id of Object.keys(state)) if (!keep.has(id)) delete state[id];
  save();
}

