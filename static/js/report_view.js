/* Dispatch 112 — the console's report view (SPEC §11): beside the call form, one open report
 * as it stands and as it moves: its agencies (status, unit, ETA, clocks, why one rejected),
 * the calls attached to it, the chat, the timeline, and the operator's actions on it. It
 * follows the report live (console.js passes every event on); a new call (F2) comes first
 * and the view returns once the call is sent or logged. */
"use strict";
(function () {
  const C = window.DispatchConsole;
  if (!C) return;
  const config = JSON.parse(document.getElementById("console-config").textContent);
  const gettext = window.gettext || ((s) => s);
  const interpolate = window.interpolate || ((s) => s);
  const UI = window.DispatchUI;
  const $ = (selector) => document.querySelector(selector);
  const view = $("#report-view");
  const grid = document.querySelector(".console");
  const agencyName = Object.fromEntries(config.agencies.map((a) => [a.code, a.short_name]));
  const OPEN = new Set(["notified", "acknowledged", "dispatched", "on_scene"]);
  const state = { id: null, report: null, events: [], messages: [], calls: [], onCall: false };
  let refreshTimer = null;

  // --- Server calls: in the page's language (the API follows Accept-Language) -------------------
  async function request(method, url, body) {
    const response = await fetch(url, {
      method, credentials: "same-origin", signal: AbortSignal.timeout(10000),
      headers: { "Content-Type": "application/json", Accept: "application/json",
        "Accept-Language": document.documentElement.lang || "id", "X-CSRFToken": UI.csrf() },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    try { data = await response.json(); } catch (error) { data = null; }
    return { ok: response.ok, status: response.status, data };
  }

  function reason(result) {
    if (!result.data) return C.failureMessage(result);
    if (result.data.detail) return result.data.detail;
    return Object.entries(result.data).map(([field, errors]) => `${fieldName(field)}: ${[].concat(errors).join(" ")}`).join(" · ");
  }

  function tell(message, kind) {
    const line = $("#rv-status-line");
    line.textContent = message;
    line.className = `rv-status-line ${kind || ""}`;
  }

  async function act(method, url, body, done) {
    tell(gettext("Sending…"));
    let result;
    try { result = await request(method, url, body); } catch (error) { tell(gettext("The server cannot be reached: try again."), "error"); return null; }
    if (!result.ok) { tell(reason(result), "error"); return null; }
    tell(done, "ok");
    scheduleRefresh();
    return result.data;
  }

  // --- Opening, hiding, following ---------------------------------------------------------------
  function show() {
    view.hidden = false;
    grid.classList.add("viewing");
  }

  function hide() {
    view.hidden = true;
    grid.classList.remove("viewing");
  }

  function markRow() {
    document.querySelectorAll("#open-reports tbody tr").forEach((row) => {
      row.classList.toggle("viewing", Number(row.dataset.reportId) === state.id);
    });
  }

  async function open(id) {
    const changed = state.id !== id;
    state.id = id;
    if (changed) {
      Object.assign(state, { report: null, events: [], messages: [], calls: [] });
      $("#rv-edit").open = false;
      tell("");
      ["#rv-assignments", "#rv-chat", "#rv-timeline", "#rv-calls"].forEach((s) => $(s).replaceChildren());
    }
    show();
    markRow();
    view.focus({ preventScroll: true });
    await load();
  }

  function close() {
    const id = state.id;
    state.id = null;
    hide();
    markRow();
    const row = document.querySelector(`#open-reports tr[data-report-id="${id}"]`);
    if (row) row.focus();
  }

  const SOURCES = {
    report: (id) => [`/api/v1/reports/${id}/`, (data) => { state.report = data; }],
    events: (id) => [`/api/v1/reports/${id}/events/`, (data) => { state.events = data; }],
    messages: (id) => [`/api/v1/reports/${id}/messages/`, (data) => { state.messages = data; }],
    calls: (id) => [`/api/v1/calls/?report=${id}&limit=50`,
      (data) => { state.calls = data.results.filter((c) => c.outcome === "attached"); }],
  };

  /** Reads `parts` of the report's view (all of them by default) and renders it. */
  async function load(parts = Object.keys(SOURCES)) {
    const id = state.id;
    if (id === null) return;
    const wanted = parts.map((part) => SOURCES[part](id));
    let results;
    try {
      results = await Promise.all(wanted.map(([url]) => request("GET", url)));
    } catch (error) {
      tell(gettext("The server cannot be reached: try again."), "error");
      return;
    }
    if (state.id !== id) return;
    results.forEach((result, index) => { if (result.ok) wanted[index][1](result.data); });
    render();
  }

  // Live events carry the report as it is now; only the timeline's who and when (and an
  // attached call) are read again, once per burst of events.
  const pending = new Set();
  function scheduleRefresh(...parts) {
    (parts.length ? parts : ["events"]).forEach((part) => pending.add(part));
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => { const parts = [...pending]; pending.clear(); load(parts); }, 250);
  }

  document.addEventListener("dispatch:event", (event) => {
    const live = event.detail;
    if (state.id === null || !live.report || live.report.id !== state.id) return;
    state.report = live.report;  // the report as it is now (full caller: the command centre)
    if (live.type === "message.created" && live.message && !state.messages.some((m) => m.id === live.message.id)) {
      state.messages.push(live.message);
    }
    render();
    if (live.kind === "call.attached") scheduleRefresh("events", "calls");
    else scheduleRefresh("events");
  });
  document.addEventListener("dispatch:snapshot", () => { if (state.id !== null) load(); });
  document.addEventListener("console:call", (event) => {
    state.onCall = event.detail.active;
    if (state.id === null) return;
    if (state.onCall) hide();
    else { show(); load(); }
  });
  view.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.target.closest("details[open] form")) { event.preventDefault(); close(); }
  });
  $("#rv-hide").addEventListener("click", close);

  // --- Rendering -------------------------------------------------------------------------------
  function el(tag, className, content) {
    const element = document.createElement(tag);
    if (className) element.className = className;
    if (content !== undefined) element.textContent = content;
    return element;
  }

  function render() {
    const report = state.report;
    if (!report) return;
    $("#rv-number").textContent = report.number;
    $("#rv-priority").textContent = `P${report.priority}`;
    $("#rv-priority").dataset.priority = report.priority;
    $("#rv-category").textContent = report.category_name;
    const closed = report.status === "closed";
    $("#rv-status").textContent = closed ? gettext("closed") : gettext("open");
    $("#rv-status").className = `rv-status ${report.status}`;
    const banner = $("#rv-closed");
    banner.hidden = !closed;
    if (closed) {
      banner.textContent = interpolate(gettext("This report was closed at %(time)s: %(reason)s."),
        { time: C.formatTime(report.closed_at), reason: config.labels.close[report.close_reason] || report.close_reason }, true);
    }
    view.classList.toggle("closed", closed);
    view.querySelectorAll(".rv-action").forEach((element) => { element.hidden = closed; });
    $("#rv-where").textContent = report.address + (report.kecamatan_name ? `, ${report.kecamatan_name}` : "");
    $("#rv-caller").textContent = `${report.caller_name || gettext("anonymous")} · ${report.caller_phone || "–"} · ${C.formatTime(report.received_at)}`;
    $("#rv-description").textContent = report.description;
    renderAssignments(report);
    renderAddAgency(report);
    renderEdit(report);
    renderCloseAs(report);
    renderCalls();
    renderChat();
    renderTimeline();
    tick();
  }

  function renderAssignments(report) {
    const list = $("#rv-assignments");
    list.replaceChildren();
    for (const a of report.assignments) {
      const item = el("li", `rv-assignment ${a.status}${UI.alarming(a) ? " escalated" : ""}`);
      item.dataset.agency = a.agency;
      const head = el("div", "rv-a-head");
      head.append(el("strong", "", agencyName[a.agency] || a.agency),
        el("span", `chip ${a.status}`, config.labels.assignment[a.status] || a.status));
      const alarm = UI.alarmBadge(a);
      if (alarm) head.append(alarm);
      if (OPEN.has(a.status) && report.status === "open") {
        const cancel = el("button", "small rv-cancel", gettext("Cancel"));
        cancel.type = "button";
        cancel.title = gettext("Take this agency off the report, saying why");
        cancel.addEventListener("click", () => cancelAssignment(a));
        head.append(cancel);
      }
      item.append(head);
      const facts = [];
      if (a.unit) facts.push(interpolate(gettext("unit %(unit)s"), { unit: a.unit }, true));
      if (a.status === "dispatched" && a.eta_minutes !== null && a.dispatched_at) {
        facts.push(interpolate(gettext("ETA %(time)s"), { time: C.formatTime(new Date(Date.parse(a.dispatched_at) + a.eta_minutes * 60000).toISOString()) }, true));
      }
      if (facts.length) item.append(el("p", "rv-a-facts", facts.join(" · ")));
      // Both clocks run from when the agency was notified: until it answered (acknowledged,
      // dispatched or rejected), and until its unit was on scene.
      const clocks = el("p", "rv-a-clocks");
      clocks.append(clock(gettext("answered after"), a.notified_at, a.acknowledged_at || a.rejected_at || a.cancelled_at));
      if (a.status !== "rejected" && a.status !== "cancelled") {
        clocks.append(" · ", clock(gettext("on scene after"), a.notified_at, a.arrived_at || a.resolved_at));
      }
      item.append(clocks);
      if (a.status === "rejected") item.append(el("p", "rv-a-why", interpolate(gettext("Rejected: %(reason)s"), { reason: a.reject_reason }, true)));
      if (a.status === "cancelled" && a.cancel_reason) item.append(el("p", "rv-a-why", interpolate(gettext("Cancelled: %(reason)s"), { reason: a.cancel_reason }, true)));
      if (a.resolution_note) item.append(el("p", "rv-a-note", a.resolution_note));
      list.append(item);
    }
  }

  /** A clock from `since` to `until` (running while `until` is empty). */
  function clock(label, since, until) {
    const span = el("span", "rv-clock");
    span.dataset.since = since;
    if (until) span.dataset.until = until;
    span.append(`${label} `, el("b", "", "–"));
    return span;
  }

  function tick() {
    const now = Date.now();
    view.querySelectorAll(".rv-clock").forEach((span) => {
      const end = span.dataset.until ? Date.parse(span.dataset.until) : now;
      span.querySelector("b").textContent = UI.duration(Math.max(0, end - Date.parse(span.dataset.since)));
      span.classList.toggle("running", !span.dataset.until);
    });
  }

  function renderAddAgency(report) {
    const select = $("#rv-add-agency");
    const chosen = select.value;
    const on = new Set(report.assignments.map((a) => a.agency));
    select.replaceChildren(el("option", "", gettext("Add an agency…")));
    select.firstChild.value = "";
    for (const agency of config.agencies) {
      if (on.has(agency.code) || agency.active === false) continue;
      const option = el("option", "", agency.short_name);
      option.value = agency.code;
      select.append(option);
    }
    select.value = [...select.options].some((o) => o.value === chosen) ? chosen : "";
  }

  function renderEdit(report) {
    const form = $("#rv-edit-form");
    if (form.contains(document.activeElement) || form.dataset.report === String(report.id) && form.dataset.dirty) return;
    form.dataset.report = report.id;
    form.priority.value = String(report.priority);
    form.kecamatan.value = report.kecamatan || "";
    form.address.value = report.address;
    form.description.value = report.description;
    form.latitude.value = report.latitude ?? "";
    form.longitude.value = report.longitude ?? "";
  }

  function renderCloseAs(report) {
    const group = $("#rv-close-as");
    group.replaceChildren(el("span", "hint", gettext("Close as:")));
    for (const why of ["resolved", "duplicate", "non_emergency", "prank"]) {
      const button = el("button", "small", config.labels.close[why]);
      button.type = "button";
      button.addEventListener("click", async () => { await C.closeReport(report, why); scheduleRefresh(); });
      group.append(button);
    }
    if (C.hasPeers()) {
      const button = el("button", "small handover", gettext("Hand over"));
      button.type = "button";
      button.addEventListener("click", () => C.handOver(report));
      group.append(button);
    }
  }

  function renderCalls() {
    const list = $("#rv-calls");
    list.replaceChildren();
    if (!state.calls.length) { list.append(el("li", "hint", gettext("None."))); return; }
    for (const call of [...state.calls].sort((a, b) => a.received_at.localeCompare(b.received_at))) {
      list.append(el("li", "", `${C.formatTime(call.received_at)} · ${call.caller_name || gettext("anonymous")} · ${call.caller_phone}${call.note ? ` — ${call.note}` : ""}`));
    }
  }

  function renderChat() {
    const list = $("#rv-chat");
    list.replaceChildren();
    if (!state.messages.length) { list.append(el("li", "hint", gettext("No messages yet."))); return; }
    for (const message of state.messages) {
      const who = message.author_agency ? agencyName[message.author_agency] || message.author_agency : gettext("Command centre");
      const item = el("li", message.author_agency ? "" : "mine");
      item.append(el("span", "who", `${who} · ${C.formatTime(message.created_at)}`), " ", el("span", "body", message.body));
      list.append(item);
    }
    list.scrollTop = list.scrollHeight;
  }

  function renderTimeline() {
    const list = $("#rv-timeline");
    list.replaceChildren();
    for (const event of state.events) {
      const item = el("li", `rv-event ${event.kind.replace(".", "-")}`);
      const who = event.actor_name || gettext("the system");
      item.append(el("time", "", C.formatTime(event.created_at)), " ", el("span", "what", describe(event)),
        " ", el("span", "who", `— ${who}`));
      list.append(item);
    }
    list.scrollTop = list.scrollHeight;
  }

  function describe(event) {
    const data = event.data || {};
    const agency = event.agency ? agencyName[event.agency] || event.agency : "";
    const say = (text, extra) => interpolate(text, { agency, ...extra }, true);
    switch (event.kind) {
      case "report.created": return gettext("Report created");
      case "assignment.created": return data.added
        ? say(gettext("%(agency)s added%(note)s"), { note: data.note ? `: ${data.note}` : "" }) : say(gettext("%(agency)s notified"));
      case "assignment.acknowledged": return say(gettext("%(agency)s acknowledged"));
      case "assignment.dispatched": return say(gettext("%(agency)s dispatched %(unit)s, ETA %(eta)s min"), { unit: data.unit || "–", eta: data.eta_minutes ?? "–" });
      case "assignment.departed": return say(gettext("%(agency)s under way"));
      case "assignment.arrived": return say(gettext("%(agency)s on scene"));
      case "assignment.resolved": return say(gettext("%(agency)s resolved"));
      case "assignment.rejected": return say(gettext("%(agency)s rejected: %(reason)s"), { reason: data.reject_reason || "–" });
      case "assignment.cancelled": return data.reason ? say(gettext("%(agency)s cancelled: %(reason)s"), { reason: data.reason }) : say(gettext("%(agency)s cancelled"));
      case "assignment.escalated": return say(gettext("%(agency)s late to acknowledge"));
      case "assignment.overdue": return say(gettext("%(agency)s past the response target"));
      case "assignment.unit_diverted": return say(gettext("%(agency)s: unit %(unit)s diverted to %(number)s"), { unit: data.unit, number: data.to_report });
      case "report.edited": return interpolate(gettext("Report corrected: %(fields)s"), { fields: (data.fields || []).map(fieldName).join(", ") }, true);
      case "call.attached": return data.note ? interpolate(gettext("Another call attached: %(note)s"), { note: data.note }, true) : gettext("Another call attached");
      case "message.created": return gettext("Chat message");
      case "report.closed": return interpolate(gettext("Report closed: %(reason)s"), { reason: config.labels.close[data.reason] || data.reason }, true);
      default: return event.kind;
    }
  }

  function fieldName(field) {
    return { description: gettext("what help is needed"), address: gettext("address"), kecamatan: gettext("kecamatan"),
      latitude: gettext("pin"), longitude: gettext("pin"), priority: gettext("priority") }[field] || field;
  }

  // --- Actions ---------------------------------------------------------------------------------
  async function cancelAssignment(assignment) {
    const why = window.prompt(interpolate(gettext("Why is %(agency)s taken off %(number)s? The agency is told."),
      { agency: agencyName[assignment.agency] || assignment.agency, number: state.report.number }, true));
    if (!why || !why.trim()) return;
    await act("POST", `/api/v1/assignments/${assignment.id}/cancel/`, { reason: why.trim() },
      interpolate(gettext("%(agency)s cancelled."), { agency: agencyName[assignment.agency] || assignment.agency }, true));
  }

  $("#rv-add").addEventListener("submit", async (event) => {
    event.preventDefault();
    const code = $("#rv-add-agency").value;
    if (!code || state.id === null) return;
    const note = $("#rv-add-note").value.trim();
    const done = await act("POST", `/api/v1/reports/${state.id}/assignments/`, { agency: code, note },
      interpolate(gettext("%(agency)s added: notified now."), { agency: agencyName[code] || code }, true));
    if (done) { $("#rv-add-agency").value = ""; $("#rv-add-note").value = ""; }
  });

  const editForm = $("#rv-edit-form");
  editForm.addEventListener("input", () => { editForm.dataset.dirty = "1"; });
  editForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const report = state.report;
    if (!report) { tell(gettext("The report is still loading: try again in a moment."), "error"); return; }
    const changes = {};
    if (Number(editForm.priority.value) !== report.priority) changes.priority = Number(editForm.priority.value);
    if (editForm.kecamatan.value !== (report.kecamatan || "")) changes.kecamatan = editForm.kecamatan.value || null;
    if (editForm.address.value.trim() !== report.address) changes.address = editForm.address.value.trim();
    if (editForm.description.value.trim() !== report.description) changes.description = editForm.description.value.trim();
    // The pin (a second caller's better description of the place): both or neither.
    const pin = [editForm.latitude.value.trim(), editForm.longitude.value.trim()];
    if (pin.join() !== [report.latitude ?? "", report.longitude ?? ""].join()) {
      // A number, or the text as typed so that the server names what is wrong with it.
      const parse = (value) => (value === "" ? null
        : Number.isNaN(Number(value.replace(",", "."))) ? value : Number(value.replace(",", ".")));
      [changes.latitude, changes.longitude] = pin.map(parse);
    }
    if (!Object.keys(changes).length) { tell(gettext("Nothing changed.")); return; }
    const done = await act("PATCH", `/api/v1/reports/${report.id}/`, changes,
      interpolate(gettext("%(number)s corrected: the agencies see it as new information."), { number: report.number }, true));
    if (done) {
      delete editForm.dataset.dirty;
      $("#rv-edit").open = false;
      view.querySelector(".rv-col").scrollTop = 0;
      state.report = done;
      render();
      C.reload();
    }
  });

  $("#rv-chat-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("#rv-chat-body");
    const body = input.value.trim();
    if (!body || state.id === null) return;
    const message = await act("POST", `/api/v1/reports/${state.id}/messages/`, { body }, gettext("Sent."));
    if (message) {
      input.value = "";
      if (!state.messages.some((m) => m.id === message.id)) state.messages.push(message);
      renderChat();
    }
  });

  for (const kecamatan of config.kecamatan) {
    const option = el("option", "", kecamatan.name);
    option.value = kecamatan.code;
    $("#rv-edit-kecamatan").append(option);
  }
  setInterval(tick, 1000);

  window.DispatchReportView = { open, close, current: () => state.id };
})();
