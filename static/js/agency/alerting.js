/* New work is heard and seen: the beep (with its on/off switch) and the browser's
 * notifications, when the desk allowed them. */
import { beep, SOUND_KEY, soundOn } from "../live.js";

export function notify(entry) {
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  const report = entry.report;
  new Notification(interpolate(gettext("New assignment: %(category)s"), { category: report.category_name }, true),
    { body: `${report.number} · ${report.address}`, tag: `assignment-${entry.assignment.id}` });
}

function renderSoundToggle() {
  const button = document.getElementById("sound-toggle");
  button.setAttribute("aria-pressed", String(soundOn()));
  button.textContent = soundOn() ? gettext("Sound on") : gettext("Sound off");
}

export function init() {
  document.getElementById("sound-toggle").addEventListener("click", () => {
    localStorage.setItem(SOUND_KEY, soundOn() ? "off" : "on");
    renderSoundToggle();
    if (soundOn()) beep();
  });
  const permission = document.getElementById("notify-permission");
  if ("Notification" in window && Notification.permission === "default") {
    permission.hidden = false;
    permission.addEventListener("click", () => Notification.requestPermission().then(() => { permission.hidden = true; }));
  }
  renderSoundToggle();
}
