/* The console's page: its configuration (json_script), its form, and the call in progress
 * that the other console modules read and change. */

export const config = JSON.parse(document.getElementById("console-config").textContent);
// The server's clock, not the workstation's: received_at must be right even if the PC's is not.
const serverOffset = Date.parse(config.server_time) - Date.now();
export const now = () => new Date(Date.now() + serverOffset);
export const $ = (selector) => document.querySelector(selector);

export const form = $("#report-form");
export const fields = {
  phone: $("#caller_phone"), name: $("#caller_name"), category: $("#category-input"),
  priority: $("#priority"), kecamatan: $("#kecamatan"), address: $("#address"),
  description: $("#description"),
};
export const categoryByCode = Object.fromEntries(config.categories.map((c) => [c.code, c]));
export const agencyName = Object.fromEntries(config.agencies.map((a) => [a.code, a.short_name]));

/** The call being typed (kept in localStorage by draft.js until the server confirms it). */
export const state = {
  receivedAt: null, category: null, agencies: new Set(), agenciesTouched: false,
  latitude: null, longitude: null, highlighted: 0, options: [], duplicates: [],
  chipFocus: 0, busy: false, locationSource: "", locationAccuracy: null,
};

export const hasPeers = () => (config.peer_centres || []).length > 0;
