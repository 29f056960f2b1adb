/* The pin map (Leaflet, vendored): a click drops the report's pin; the caller's handset
 * position (AML) is drawn as a circle of its accuracy. The form works without the map. */
import { $, config, state } from "./context.js";
import { saveDraft } from "./draft.js";
import { refreshDuplicates } from "./duplicates.js";

let map = null;
let marker = null;
let handset = null;

export function init() {
  $("#clear-pin").addEventListener("click", () => { setPin(null, null); refreshDuplicates(); saveDraft(); });
  if (!window.L) return;  // the form works without the map
  // The map folds away so the whole form fits a 1366×768 screen; Leaflet measures its box
  // when it is shown.
  $("#pin-details").addEventListener("toggle", () => {
    if (!map) return;
    map.invalidateSize();
    if (state.latitude === null) map.setView(config.map.center, 13);
    if ($("#pin-details").open) $("#map").scrollIntoView({ block: "nearest" });
  });
  map = window.L.map("map", { keyboard: false });
  // Each kecamatan named: with no internet (no tiles) the operator still knows where to
  // drop the pin (issue 37 §8). The map opens on the city's centre, where most pins go.
  const centres = (config.kecamatan || []).filter((k) => k.latitude !== null && k.longitude !== null)
    .map((k) => ({ name: k.name, code: k.code, at: [Number(k.latitude), Number(k.longitude)] }));
  map.setView(config.map.center, 13);
  const tiles = window.L.tileLayer(config.map.tiles, { maxZoom: 19, attribution: "© OpenStreetMap" });
  let tileErrors = 0;
  let tilesLoaded = false;
  tiles.on("tileload", () => { tilesLoaded = true; });
  tiles.on("tileerror", () => {
    tileErrors += 1;
    // The pin map shows few tiles: two failures and no success mean no tile server.
    if (tileErrors >= 2 && !tilesLoaded && map.hasLayer(tiles)) {
      map.removeLayer(tiles); // (Leaflet redraws its attribution links: out of the tab order again)
      map.getContainer().classList.add("no-tiles");
      untab();
    }
  });
  tiles.addTo(map);
  for (const k of centres) {
    window.L.marker(k.at, {
      icon: window.L.divIcon({ className: "kec-label", html: escapeText(k.name), iconSize: null }),
      interactive: false, keyboard: false,
    }).addTo(map);
  }

  // Keyboard flow goes address → description; the map is for the mouse.
  map.getContainer().tabIndex = -1;
  untab();
  map.on("click", (event) => {
    setPin(Number(event.latlng.lat.toFixed(6)), Number(event.latlng.lng.toFixed(6)));
    state.locationSource = "operator";
    state.locationAccuracy = null;
    refreshDuplicates();
    saveDraft();
  });
}

function escapeText(value) {
  const span = document.createElement("span");
  span.textContent = String(value);
  return span.innerHTML;
}

/** Keyboard flow goes address → description: the map's links are for the mouse. */
function untab() {
  map.getContainer().querySelectorAll("a").forEach((link) => { link.tabIndex = -1; });
}

export function setPin(latitude, longitude) {
  const has = latitude !== null && latitude !== undefined && longitude !== null && longitude !== undefined;
  state.latitude = has ? latitude : null;
  state.longitude = has ? longitude : null;
  if (!has) { state.locationSource = ""; state.locationAccuracy = null; }
  $("#pin-text").textContent = has ? `${latitude}, ${longitude}` : gettext("No pin.");
  $("#clear-pin").hidden = !has;
  if (!map) return;
  if (marker) { marker.remove(); marker = null; }
  if (has) marker = window.L.marker([latitude, longitude], { keyboard: false }).addTo(map);  // no tab stop
}

/** Opens the map on `latitude, longitude` (the caller's handset). */
export function showOnMap(latitude, longitude) {
  $("#pin-details").open = true;
  if (!map) return;
  map.invalidateSize();
  map.setView([latitude, longitude], 16);
}

/** The handset's accuracy circle: one at a time, none for null. */
export function drawHandset(aml, accuracy) {
  if (handset) { handset.remove(); handset = null; }
  if (!aml || !map) return;
  handset = window.L.circle([aml.latitude, aml.longitude], {
    radius: Math.max(accuracy || 0, 5), color: "#2f6db5", weight: 2, fillOpacity: 0.12,
  }).addTo(map);
}
