/* Dispatch 112 — official warnings (CAP 1.2, SPEC §10) as a banner on the board and the
 * console. live.js hands over the snapshot's `cap_alerts` and the live `cap.alert` /
 * `cap.removed` frames; an alert leaves the banner at its `expires`, by the server's clock.
 * A page that shows the banner (interop/_alerts.html) imports this module. */
import { beep, onWarnings, time } from "./live.js";

const alerts = new Map();
const RANK = { Extreme: 0, Severe: 1, Moderate: 2, Minor: 3, Unknown: 4 };
let now = () => new Date();

function severityLabel(severity) {
  const labels = {
    Extreme: gettext("Extreme"), Severe: gettext("Severe"), Moderate: gettext("Moderate"),
    Minor: gettext("Minor"), Unknown: gettext("Unknown severity"),
  };
  return labels[severity] || labels.Unknown;
}

function line(parent, tag, className, text) {
  if (!text) return null;
  const element = document.createElement(tag);
  if (className) element.className = className;
  element.textContent = text;
  parent.append(element);
  return element;
}

function card(alert) {
  const article = document.createElement("article");
  article.className = `cap-alert severity-${(alert.severity || "Unknown").toLowerCase()}`;
  article.dataset.alertId = alert.id;
  const head = document.createElement("div");
  head.className = "cap-head";
  line(head, "strong", "cap-event", alert.event);
  line(head, "span", "cap-severity", severityLabel(alert.severity));
  if (alert.expires) line(head, "span", "cap-until", interpolate(gettext("until %s"), [time(alert.expires)]));
  article.append(head);
  line(article, "p", "cap-headline", alert.headline);
  line(article, "p", "cap-area", alert.area);
  const more = document.createElement("details");
  line(more, "summary", "", interpolate(gettext("Details · %s"), [alert.sender_name]));
  line(more, "p", "", alert.description);
  line(more, "p", "cap-instruction", alert.instruction);
  if (alert.web) {
    const link = line(more, "a", "", alert.web);
    link.href = alert.web;
    link.rel = "noopener noreferrer";
    link.target = "_blank";
  }
  article.append(more);
  return article;
}

function render() {
  const box = document.getElementById("cap-alerts");
  if (!box) return;
  const current = now().getTime();
  for (const [id, alert] of alerts) {
    if (alert.expires && Date.parse(alert.expires) <= current) alerts.delete(id);
  }
  const shown = [...alerts.values()].sort((a, b) =>
    (RANK[a.severity] ?? 4) - (RANK[b.severity] ?? 4) || b.id - a.id);
  box.replaceChildren(...shown.map(card));
  box.hidden = shown.length === 0;
}

setInterval(render, 10000);
onWarnings({
  snapshot(list, clock) {
    if (clock) now = clock;
    alerts.clear();
    for (const alert of list || []) alerts.set(alert.id, alert);
    render();
  },
  live(frame, clock) {
    if (clock) now = clock;
    if (frame.type === "cap.alert") {
      alerts.set(frame.id, frame);
      beep(frame.severity === "Extreme" || frame.severity === "Severe");
    } else if (frame.type === "cap.removed") {
      alerts.delete(frame.id);
    }
    render();
  },
});
