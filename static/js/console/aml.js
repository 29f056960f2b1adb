/* The caller's handset position (AML, SPEC §9): the latest one for each number, shown next to
 * the form for the number being typed, with its accuracy circle on the pin map. */
import { time } from "../live.js";
import { $, fields } from "./context.js";
import { drawHandset } from "./pin_map.js";

const amlByPhone = new Map(); // by the caller's number (+62…)

/** The number as the server keeps it (+62…), so the form's number finds its AML position. */
export function e164(raw) {
  let number = (raw || "").replace(/[\s\-./()]/g, "");
  if (number.startsWith("+62")) number = number.slice(3);
  else if (number.startsWith("0062")) number = number.slice(4);
  else if (number.startsWith("62")) number = number.slice(2);
  else if (number.startsWith("0")) number = number.slice(1);
  else return number;
  if (number.startsWith("0")) number = number.slice(1);
  return "+62" + number;
}

export function onAml(frame) {
  if (frame.latitude === null || frame.latitude === undefined) return;
  const known = amlByPhone.get(frame.caller_phone);
  if (!known || Date.parse(frame.located_at) >= Date.parse(known.located_at)) amlByPhone.set(frame.caller_phone, frame);
  renderAml();
}

/** The handset position of the number in the form, or null. */
export function currentAml() {
  const phone = e164(fields.phone.value);
  return phone.startsWith("+62") ? amlByPhone.get(phone) || null : null;
}

export const accuracyOf = (aml) => (aml.accuracy_m !== null && aml.accuracy_m !== undefined ? Math.round(aml.accuracy_m) : null);

/** The caller's handset position next to the form, with its accuracy circle on the map. */
export function renderAml() {
  const aml = currentAml();
  $("#aml-banner").hidden = !aml;
  drawHandset(aml, aml && accuracyOf(aml));
  if (!aml) return;
  $("#aml-text").textContent = interpolate(
    gettext("The caller's handset (AML): %(lat)s, %(lng)s · ±%(accuracy)s m · %(time)s"),
    { lat: aml.latitude.toFixed(5), lng: aml.longitude.toFixed(5), accuracy: accuracyOf(aml) ?? "?",
      time: time(aml.located_at) }, true);
}
