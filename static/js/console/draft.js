/* The draft of the call being typed, in localStorage: kept until the server confirms the
 * report or the call, so nothing is lost to a reload, a crash or an outage. */
import { config, fields, state } from "./context.js";

export const DRAFT_KEY = "dispatch112.draft." + config.username;

export function isDirty() {
  return Boolean(state.receivedAt || fields.phone.value || fields.description.value
    || fields.address.value || state.category);
}

export function saveDraft() {
  if (!isDirty()) { localStorage.removeItem(DRAFT_KEY); return; }
  localStorage.setItem(DRAFT_KEY, JSON.stringify({
    receivedAt: state.receivedAt && state.receivedAt.toISOString(), key: state.draftKey,
    phone: fields.phone.value, name: fields.name.value, categoryText: fields.category.value,
    category: state.category, agencies: [...state.agencies], agenciesTouched: state.agenciesTouched,
    priority: fields.priority.value, kecamatan: fields.kecamatan.value,
    address: fields.address.value, description: fields.description.value,
    latitude: state.latitude, longitude: state.longitude,
    locationSource: state.locationSource, locationAccuracy: state.locationAccuracy,
  }));
}

/** The draft kept in this browser, or null. */
export function readDraft() {
  try { return JSON.parse(localStorage.getItem(DRAFT_KEY) || "null"); } catch (error) { return null; }
}

export function dropDraft() { localStorage.removeItem(DRAFT_KEY); }

/** The draft's Idempotency-Key: one draft is one report however often it is sent. */
export function draftKey() {
  if (!state.draftKey) {
    state.draftKey = window.crypto && window.crypto.randomUUID ? window.crypto.randomUUID()
      : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    saveDraft();
  }
  return state.draftKey;
}
