/* The agency's desk: its configuration (json_script), its own assignments and their cards,
 * and the server's clock once the live connection has it. */

export const config = JSON.parse(document.getElementById("live-config").textContent);
export const own = config.agency.code;
export const agencyName = Object.fromEntries(config.agencies.map((a) => [a.code, a.short_name]));
export const OPEN = new Set(["notified", "acknowledged", "dispatched", "on_scene"]);
export const queue = new Map();  // own assignment id → {assignment, report}
export const cards = new Map();  // assignment id → element

let live = null;
export function setLive(connection) { live = connection; }
export const now = () => (live ? live.now() : new Date());

export function text(tag, className, content) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  element.textContent = content;
  return element;
}

/** The server's words for a refusal: its detail, else every field's messages. */
export function refusal(result, otherwise) {
  return (result && result.data && (result.data.detail || Object.values(result.data).flat().join(" "))) || otherwise;
}
