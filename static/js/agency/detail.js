/* A report's details beside the queue, with the inter-agency chat. The caller's number comes
 * masked; "Show number" reads it in full, which the server records (UU PDP). */
import { api, time } from "../live.js";
import { agencyName, config, own, text } from "./context.js";
import { markSeen } from "./queue.js";

let detailReport = null;
const messageIds = new Set();
const revealed = new Map(); // a number once shown stays shown while the page is open

/** A live event about a report: the open details follow it. */
export function follow(event) {
  if (event.type === "message.created" && detailReport === event.report.id && event.message) addMessage(event.message);
  if (detailReport === event.report.id) renderDetail(event.report);
}

function addMessage(message) {
  if (messageIds.has(message.id)) return;
  messageIds.add(message.id);
  const who = message.author_agency ? agencyName[message.author_agency] || message.author_agency : gettext("Command centre");
  const item = document.createElement("li");
  item.className = message.author_agency === own ? "mine" : "";
  item.append(text("span", "who", `${who} · ${time(message.created_at)}`), text("span", "body", message.body));
  document.getElementById("messages").append(item);
}

function renderDetail(report) {
  document.getElementById("detail-title").textContent = `${report.number} · ${report.category_name}`;
  const facts = document.getElementById("detail-facts");
  facts.replaceChildren();
  const rows = [
    [gettext("Received"), time(report.received_at)],
    [gettext("Location"), report.address + (report.kecamatan_name ? `, ${report.kecamatan_name}` : "")],
    [gettext("What help is needed"), report.description],
  ];
  for (const [term, value] of rows) facts.append(text("dt", "", term), text("dd", "", value));
  facts.append(text("dt", "", gettext("Caller")), callerFacts(report));
  const chips = document.getElementById("detail-agencies");
  chips.replaceChildren();
  for (const a of report.assignments) chips.append(text("span", `chip ${a.status}`, `${agencyName[a.agency] || a.agency} · ${config.labels.assignment[a.status]}`), " ");
}

function callerFacts(report) {
  const dd = text("dd", "caller", `${report.caller_name || gettext("anonymous")} · `);
  const phone = revealed.get(report.id) || (report.caller_phone_masked ? null : report.caller_phone);
  if (phone) {
    const link = text("a", "phone", phone);
    link.href = `tel:${phone}`;
    dd.append(link);
    return dd;
  }
  dd.append(text("span", "phone masked", report.caller_phone || gettext("erased")), " ");
  const button = text("button", "reveal", gettext("Show number"));
  button.type = "button";
  button.title = gettext("Your access to the caller's number is recorded.");
  button.addEventListener("click", async () => {
    button.disabled = true;
    const result = await api("GET", `/api/v1/reports/${report.id}/`);
    if (!result.ok) { button.disabled = false; return; }
    revealed.set(report.id, result.data.caller_phone);
    dd.replaceWith(callerFacts(result.data));
  });
  dd.append(button);
  return dd;
}

export async function openDetail(report) {
  markSeen(report.id);
  detailReport = report.id;
  messageIds.clear();
  document.getElementById("messages").replaceChildren();
  renderDetail(report);
  const panel = document.getElementById("detail");
  panel.hidden = false;
  panel.scrollIntoView({ block: "start" });
  const result = await api("GET", `/api/v1/reports/${report.id}/messages/`);
  if (result.ok && detailReport === report.id) result.data.forEach(addMessage);
  document.getElementById("message-body").focus();
}

export function init() {
  document.getElementById("detail-close").addEventListener("click", () => {
    detailReport = null;
    document.getElementById("detail").hidden = true;
  });
  document.getElementById("message-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = document.getElementById("message-body");
    if (!input.value.trim() || detailReport === null) return;
    const result = await api("POST", `/api/v1/reports/${detailReport}/messages/`, { body: input.value });
    if (result.ok) { addMessage(result.data); input.value = ""; }
  });
}
