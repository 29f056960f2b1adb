/* Dispatch 112 — the field app (/field/, SPEC §7): one unit's crew on a phone.
 * Every tap goes through a queue kept on the phone (localStorage) and is sent with the time
 * it was tapped and an Idempotency-Key, now or when the network comes back; a replay of a
 * tap the server already has changes nothing. The last known state is kept too, so the app
 * opens on the current assignment with no network (the service worker caches the shell).
 * One module of ~480 lines, for a reason: the service worker's offline shell lists its files
 * (units/views.py SHELL_FILES), and a module it does not hold would fail to load offline. It
 * imports only live.js and fresh.js, both in the shell. */
import * as UI from "./live.js";
import * as Fresh from "./fresh.js";

const config = JSON.parse(document.getElementById("live-config").textContent);
const QUEUE_KEY = `dispatch112.field.queue.${config.username}`;
const STATE_KEY = `dispatch112.field.state.${config.username}`;
const POSITION_EVERY_MS = 5000;
const $ = (id) => document.getElementById(id);
const units = new Map(config.units.map((u) => [u.id, u]));
let unitId = config.unit_id;
let assignments = new Map(); // id → { assignment, report }
let position = null;
let positionSentAt = 0;
let currentJobId = null;
let live = null;
let watch = null;
let chatFor = null;

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register(config.service_worker, { scope: "/field/" }).catch(() => {});
}

// --- What the phone remembers ------------------------------------------------------------------
// The page itself may come from the service worker's cache (no network): it then says what
// the server knew when that copy was fetched, which can be older than what the phone saw
// since (a sign-on, an assignment, a queued tap). The state is kept with the server's time
// it was kept at (`at`): a page older than that, or any page opened with no network, is a
// cached copy and the kept state wins; a newer page is the server's word.
function restore() {
  let saved = null;
  try { saved = JSON.parse(localStorage.getItem(STATE_KEY)); } catch (error) { return; }
  if (!saved) return;
  const cachedPage = !navigator.onLine
    || (saved.at && Date.parse(config.server_time) <= Date.parse(saved.at));
  if (cachedPage && saved.unitId !== undefined) {
    unitId = saved.unitId;
    for (const unit of saved.units || []) units.set(unit.id, unit);
  }
  if (saved.unitId === unitId) assignments = new Map(saved.assignments || []);
}
function persist() {
  try {
    localStorage.setItem(STATE_KEY, JSON.stringify({
      unitId, at: now().toISOString(), assignments: [...assignments], units: [...units.values()],
    }));
  } catch (error) { /* storage full or private mode: the server still has it */ }
}
function queue() {
  try { return JSON.parse(localStorage.getItem(QUEUE_KEY)) || []; } catch (error) { return []; }
}
function saveQueue(items) { localStorage.setItem(QUEUE_KEY, JSON.stringify(items)); banner(); }
function newKey() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
function now() { return live ? live.now() : new Date(); }

// --- The queue: taps sent in order, kept until the server has answered -------------------------
let flushing = false;
function enqueue(url, body, label) {
  const items = queue();
  items.push({ key: newKey(), url, label, body: { ...body, occurred_at: now().toISOString() } });
  saveQueue(items);
  flush();
}
async function flush() {
  if (flushing) return;
  flushing = true;
  try {
    for (;;) {
      const items = queue();
      if (!items.length) break;
      const item = items[0];
      let response;
      try {
        response = await UI.api("POST", item.url, item.body, { "Idempotency-Key": item.key });
      } catch (failure) { break; } // no network: kept, sent when it returns
      if (response.status >= 500 || response.status === 429) break; // the server is busy: later
      const data = response.data;
      saveQueue(queue().slice(1));
      if (response.ok) { $("job-error").textContent = ""; answered(item, data); }
      else {
        const detail = data && (data.detail || Object.values(data).flat().join(" "));
        $("job-error").textContent = `${item.label || ""}: ${detail || gettext("The request was refused.")}`;
      }
    }
  } finally {
    flushing = false;
    banner();
  }
}
window.addEventListener("online", flush);
setInterval(flush, 10000);

function answered(item, data) {
  if (!data) return;
  if (data.call_sign) { units.set(data.id, data); render(); return; }
  if (data.report !== undefined && data.status) {
    const known = assignments.get(data.id);
    if (known) assignments.set(data.id, { ...known, assignment: data });
    persist();
    render();
  }
}

function banner() {
  const waiting = queue().length;
  const offline = !navigator.onLine;
  const element = $("field-offline");
  element.hidden = !offline && !waiting;
  element.textContent = offline
    ? interpolate(ngettext("No signal: %s step will be sent when the network returns.",
      "No signal: %s steps will be sent when the network returns.", waiting), [waiting])
    : interpolate(ngettext("Sending %s step…", "Sending %s steps…", waiting), [waiting]);
  if (offline && !waiting) element.textContent = gettext("No signal. Your taps are kept and sent later.");
}
window.addEventListener("offline", banner);

// --- Live --------------------------------------------------------------------------------------
// The server sends a field officer only what is theirs to see: every assignment it sends
// is kept (currentJob picks the unit's own), so that signing on again to the same unit
// (which brings no new snapshot) finds its assignment at once.
function take(report) {
  for (const assignment of report.assignments) {
    if (assignment.unit_id === null && !assignments.has(assignment.id)) continue;
    assignments.set(assignment.id, { assignment, report });
  }
}
function connect() {
  live = UI.connectLive({
    onSnapshot(data) {
      assignments = new Map();
      for (const entry of data.assignments) {
        const { report, ...assignment } = entry;
        assignments.set(assignment.id, { assignment, report });
      }
      for (const unit of data.units || []) units.set(unit.id, unit);
      persist();
      render();
    },
    onEvent(event) {
      if (event.type === "unit.updated") units.set(event.unit.id, event.unit);
      else if (event.report) {
        take(event.report);
        // What the command centre changed, marked "informasi baru" until the crew sees it.
        if (Fresh.take(event) && event.report.id === shownReport()) {
          if (navigator.vibrate) navigator.vibrate([200, 100, 200]);
        }
      }
      if (event.type === "message.created" && event.message && event.report && event.report.id === chatFor) {
        addMessage(event.message);
      }
      persist();
      render();
    },
    onStatus(status) {
      if (status === "unauthorized") UI.banner(status);
      if (status === "connected") flush();
    },
    receipts: true, // the command centre sees that the crew has it (SPEC §12)
  });
  UI.watchSeen(live, $("job"));
}

// --- GPS -----------------------------------------------------------------------------------------
function startGps() {
  if (watch !== null || !navigator.geolocation) return;
  watch = navigator.geolocation.watchPosition((fix) => {
    position = fix.coords;
    sendPosition(false);
    renderDistance();
  }, () => { /* no fix: the app works without */ }, { enableHighAccuracy: true, maximumAge: 5000, timeout: 30000 });
}
let positionTimer = null;
function sendPosition(force) {
  if (!position || unitId === null) return;
  const wait = POSITION_EVERY_MS - (Date.now() - positionSentAt);
  if (!force && wait > 0) {
    // At most every 5 s, but the latest fix always goes (at the end of the 5 s).
    if (positionTimer === null) positionTimer = setTimeout(() => { positionTimer = null; sendPosition(true); }, wait);
    return;
  }
  positionSentAt = Date.now();
  const fix = { latitude: position.latitude, longitude: position.longitude,
                accuracy_m: position.accuracy, recorded_at: now().toISOString() };
  if (live && live.send({ type: "position", unit: unitId, ...fix })) return;
  if (navigator.onLine) UI.api("POST", `/api/v1/units/${unitId}/position/`, fix).catch(() => {});
}
function here() {
  return position ? { latitude: position.latitude, longitude: position.longitude, accuracy_m: position.accuracy } : {};
}

// --- Screens -------------------------------------------------------------------------------------
/** The assignment as the crew sees it: the server's last word, with the taps still in the
 * queue applied on top (a late live event must not undo a tap the server has not had). */
function withPending(assignment) {
  let shown = assignment;
  const prefix = `/api/v1/assignments/${assignment.id}/`;
  for (const item of queue()) {
    if (!item.url.startsWith(prefix)) continue;
    const at = item.body.occurred_at;
    const action = item.url.slice(prefix.length).replace(/\/$/, "");
    if (action === "depart") shown = { ...shown, departed_at: shown.departed_at || at };
    if (action === "arrive" && shown.status === "dispatched") shown = { ...shown, status: "on_scene", arrived_at: at };
    if (action === "resolve" && shown.status === "on_scene") shown = { ...shown, status: "resolved", resolved_at: at };
  }
  return shown;
}

function currentJob() {
  const shown = [...assignments.values()].map((entry) => ({ ...entry, assignment: withPending(entry.assignment) }));
  const mine = shown.filter(({ assignment }) =>
    assignment.unit_id === unitId && ["dispatched", "on_scene"].includes(assignment.status));
  return mine.sort((a, b) => Date.parse(b.assignment.dispatched_at || 0) - Date.parse(a.assignment.dispatched_at || 0))[0] || null;
}

function render() {
  $("sign-on").hidden = unitId !== null;
  $("on-duty").hidden = unitId === null;
  if (unitId === null) { renderChoices(); return; }
  const unit = units.get(unitId);
  const job = currentJob();
  // A queued arrival shows the unit on scene already, as the step itself shows.
  const status = job && job.assignment.status === "on_scene" ? "on_scene" : unit && unit.status;
  $("my-unit").textContent = unit ? unit.call_sign : "";
  $("my-status").textContent = status ? (config.labels.unit[status] || status) : "";
  $("my-status").className = `chip unit-${status || ""}`;
  const jobId = job ? job.assignment.id : null;
  if (jobId !== null && jobId !== currentJobId) announce(job);
  currentJobId = jobId;
  $("waiting").hidden = job !== null;
  $("job").hidden = job === null;
  if (job) renderJob(job);
  else {
    $("set-available").disabled = unit && unit.status === "available";
    $("set-out").disabled = unit && unit.status === "out_of_service";
  }
}

function freshMark(element, report, part) {
  const mark = Fresh.badge(report.id, part);
  if (mark) element.append(" ", mark);
}
function shownReport() {
  const job = currentJob();
  return job ? job.report.id : null;
}
// Seen: the crew touched the job; the marks go at once.
$("job").addEventListener("pointerdown", () => {
  const reportId = shownReport();
  if (reportId !== null && Fresh.seen(reportId)) {
    document.querySelectorAll("#job mark.fresh").forEach((mark) => mark.remove());
  }
});

function renderChoices() {
  const list = $("unit-choices");
  list.replaceChildren();
  for (const unit of units.values()) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "field-button";
    button.textContent = `${unit.call_sign} · ${config.labels.kind[unit.kind] || unit.kind}`;
    button.addEventListener("click", () => signOn(unit));
    item.append(button);
    list.append(item);
  }
}

function renderJob({ assignment, report }) {
  $("job").dataset.assignment = assignment.id; // seen when on screen (UI.watchSeen)
  $("job-number").textContent = report.number;
  $("job-priority").textContent = `P${report.priority}`;
  $("job-priority").dataset.priority = report.priority;
  $("job-category").textContent = report.category_name;
  $("job-address").textContent = [report.address, report.kecamatan_name].filter(Boolean).join(", ");
  $("job-description").textContent = report.description;
  freshMark($("job-address"), report, "where");
  freshMark($("job-description"), report, "what");
  freshMark($("job-category"), report, "priority");
  const calls = $("job-calls");
  calls.replaceChildren();
  for (const call of Fresh.notes(report.id)) {
    const line = document.createElement("li");
    line.textContent = interpolate(gettext("Another caller (%(time)s): %(note)s"),
      { time: UI.time(call.at), note: call.note || "–" }, true);
    if (call.fresh) freshMark(line, report, "calls");
    calls.append(line);
  }
  if (!$("job-caller").dataset.revealed || $("job-caller").dataset.report !== String(report.id)) {
    $("job-caller").textContent = `${report.caller_name || gettext("Anonymous caller")} · ${report.caller_phone}`;
    $("job-caller").dataset.report = report.id;
    delete $("job-caller").dataset.revealed;
  }
  const place = report.latitude !== null
    ? `geo:${report.latitude},${report.longitude}?q=${report.latitude},${report.longitude}`
    : `geo:0,0?q=${encodeURIComponent([report.address, report.kecamatan_name, "Semarang"].filter(Boolean).join(", "))}`;
  $("job-navigate").href = place;
  const dispatched = assignment.status === "dispatched";
  $("act-depart").hidden = !(dispatched && !assignment.departed_at);
  $("act-arrive").hidden = !dispatched;
  $("act-resolve").hidden = assignment.status !== "on_scene";
  renderDistance();
  if (chatFor !== report.id) loadChat(report.id);
}

function renderDistance() {
  const job = currentJob();
  const element = $("job-distance");
  if (!job || !position || job.report.latitude === null) { element.textContent = ""; return; }
  const metres = haversine(position.latitude, position.longitude, Number(job.report.latitude), Number(job.report.longitude));
  element.textContent = metres < 1000 ? interpolate(gettext("%s m away"), [Math.round(metres)])
    : interpolate(gettext("%s km away"), [(metres / 1000).toFixed(1)]);
}
function haversine(lat1, lng1, lat2, lng2) {
  const rad = Math.PI / 180, dLat = (lat2 - lat1) * rad, dLng = (lng2 - lng1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * 6371000 * Math.asin(Math.sqrt(a));
}

function announce(job) {
  UI.beep(true);
  if (navigator.vibrate) navigator.vibrate([400, 150, 400, 150, 400]);
  const title = interpolate(gettext("New assignment %s"), [job.report.number]);
  const body = `${job.report.category_name} · ${job.report.address}`;
  if ("Notification" in window && Notification.permission === "granted" && navigator.serviceWorker) {
    navigator.serviceWorker.ready.then((registration) => registration.showNotification(title, { body, tag: `assignment-${job.assignment.id}`, renotify: true, vibrate: [400, 150, 400] })).catch(() => {});
  }
}

// --- The app's own dialog (never the browser's confirm/alert): big buttons at the bottom,
// where the thumb is; the confirming button has the focus, so no keyboard pops up unless
// the crew chooses to write a note. Resolves with the note ("" without one), null if not.
function ask({ title, text = "", note = null, ok, cancel = null, kind = "done" }) {
  const dialog = $("field-dialog");
  if (dialog.open) return Promise.resolve(null); // one question at a time
  $("field-dialog-title").textContent = title;
  $("field-dialog-text").textContent = text;
  $("field-dialog-text").hidden = !text;
  $("field-dialog-note-box").hidden = note === null;
  $("field-dialog-note-label").textContent = note || "";
  $("field-dialog-note").value = "";
  $("field-dialog-ok").textContent = ok;
  $("field-dialog-ok").className = `field-button ${kind}`;
  $("field-dialog-cancel").textContent = cancel || "";
  $("field-dialog-cancel").hidden = cancel === null;
  $("field-dialog").classList.toggle("single", cancel === null);
  return new Promise((resolve) => {
    const done = (value) => {
      dialog.removeEventListener("close", onClose);
      $("field-dialog-cancel").onclick = null;
      resolve(value);
    };
    const onClose = () => done(dialog.returnValue === "ok" ? $("field-dialog-note").value : null);
    dialog.addEventListener("close", onClose);
    $("field-dialog-cancel").onclick = () => dialog.close("cancel");
    dialog.returnValue = "";
    dialog.showModal();
    $("field-dialog-ok").focus();
  });
}
function tell(message) {
  return ask({ title: message, ok: gettext("OK"), kind: "muted" });
}

// --- Taps ----------------------------------------------------------------------------------------
function step(action, label, extra = {}) {
  const job = currentJob();
  if (!job) return;
  const body = { ...here(), ...extra };
  enqueue(`/api/v1/assignments/${job.assignment.id}/${action}/`, body, label);
  sendPosition(true);
  render(); // shown at once (withPending); the server's answer confirms it
}
$("act-depart").addEventListener("click", () => step("depart", gettext("Depart")));
$("act-arrive").addEventListener("click", () => step("arrive", gettext("Arrived on scene")));
$("act-resolve").addEventListener("click", async () => {
  const job = currentJob();
  if (!job) return;
  const answer = await ask({
    title: gettext("Finish this assignment?"),
    text: `${job.report.number} · ${job.report.category_name}`,
    note: gettext("What was done (optional)"),
    ok: gettext("Done"), cancel: gettext("Back"), kind: "done",
  });
  if (answer === null) return;
  step("resolve", gettext("Done"), answer.trim() ? { note: answer.trim() } : {});
});
function setStatus(status) {
  enqueue(`/api/v1/units/${unitId}/status/`, { status }, config.labels.unit[status]);
  const unit = units.get(unitId);
  if (unit) units.set(unitId, { ...unit, status });
  render();
}
$("set-available").addEventListener("click", () => setStatus("available"));
$("set-out").addEventListener("click", () => setStatus("out_of_service"));

async function signOn(unit) {
  if ("Notification" in window && Notification.permission === "default") Notification.requestPermission().catch(() => {});
  let result;
  try { result = await UI.api("POST", `/api/v1/units/${unit.id}/sign-on/`, {}); }
  catch (failure) { tell(gettext("Signing on needs the network: try again when there is signal.")); return; }
  if (!result.ok) { tell((result.data && result.data.detail) || gettext("The request was refused.")); return; }
  unitId = unit.id;
  units.set(unit.id, result.data);
  persist();
  render();
  startGps();
  sendPosition(true);
}
$("sign-off").addEventListener("click", async () => {
  const sure = await ask({
    title: gettext("Sign off this unit for the rest of the shift?"),
    ok: gettext("Sign off"), cancel: gettext("Back"), kind: "muted",
  });
  if (sure === null) return;
  let result;
  try { result = await UI.api("POST", `/api/v1/units/${unitId}/sign-off/`, {}); }
  catch (failure) { tell(gettext("Signing off needs the network: try again when there is signal.")); return; }
  if (!result.ok) { tell((result.data && result.data.detail) || gettext("The request was refused.")); return; }
  unitId = null;
  assignments = new Map();
  persist();
  render();
});

// --- The caller's number (the read is recorded) and the chat --------------------------------------
$("reveal-phone").addEventListener("click", async () => {
  const job = currentJob();
  if (!job) return;
  const result = await UI.api("GET", `/api/v1/reports/${job.report.id}/`).catch(() => null);
  if (!result || !result.ok) { $("job-error").textContent = gettext("The number needs the network."); return; }
  const caller = $("job-caller");
  caller.replaceChildren();
  const link = document.createElement("a");
  link.href = `tel:${result.data.caller_phone}`;
  link.textContent = `${result.data.caller_name || gettext("Anonymous caller")} · ${result.data.caller_phone}`;
  caller.append(link);
  caller.dataset.revealed = "1";
});
function addMessage(message) {
  const item = document.createElement("li");
  item.textContent = `${UI.time(message.created_at)} ${message.author}: ${message.body}`;
  $("messages").append(item);
}
async function loadChat(reportId) {
  chatFor = reportId;
  $("messages").replaceChildren();
  const result = await UI.api("GET", `/api/v1/reports/${reportId}/messages/`).catch(() => null);
  if (result && result.ok && chatFor === reportId) result.data.forEach(addMessage);
}
$("message-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const job = currentJob();
  const input = $("message-body");
  if (!job || !input.value.trim()) return;
  const result = await UI.api("POST", `/api/v1/reports/${job.report.id}/messages/`, { body: input.value }).catch(() => null);
  if (result && result.ok) input.value = "";
  else $("job-error").textContent = gettext("The message was not sent: try again.");
});

restore();
render();
banner();
connect();
if (unitId !== null) startGps();
flush();
