/* Dispatch 112 — an agency's live queue (desk or phone). */
"use strict";
(function () {
  const config = JSON.parse(document.getElementById("live-config").textContent);
  const gettext = window.gettext || ((s) => s);
  const interpolate = window.interpolate || ((s) => s);
  const UI = window.DispatchUI;
  const Fresh = window.DispatchFresh;
  const own = config.agency.code;
  const target = config.agency.response_target_seconds;
  const agencyName = Object.fromEntries(config.agencies.map((a) => [a.code, a.short_name]));
  const OPEN = new Set(["notified", "acknowledged", "dispatched", "on_scene"]);
  const queue = new Map();  // own assignment id → {assignment, report}
  const cards = new Map();  // assignment id → element
  let detailReport = null;
  let live = null;

  // --- Sound and browser notifications for new work ------------------------------------------
  const beep = UI.beep;
  function notify(entry) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    const report = entry.report;
    new Notification(interpolate(gettext("New assignment: %(category)s"), { category: report.category_name }, true),
      { body: `${report.number} · ${report.address}`, tag: `assignment-${entry.assignment.id}` });
  }
  function renderSoundToggle() {
    const button = document.getElementById("sound-toggle");
    button.setAttribute("aria-pressed", String(UI.soundOn()));
    button.textContent = UI.soundOn() ? gettext("Sound on") : gettext("Sound off");
  }
  document.getElementById("sound-toggle").addEventListener("click", () => {
    localStorage.setItem(UI.SOUND_KEY, UI.soundOn() ? "off" : "on");
    renderSoundToggle();
    if (UI.soundOn()) beep();
  });
  const permission = document.getElementById("notify-permission");
  if ("Notification" in window && Notification.permission === "default") {
    permission.hidden = false;
    permission.addEventListener("click", () => Notification.requestPermission().then(() => { permission.hidden = true; }));
  }

  // --- State from the live connection -------------------------------------------------------------
  function upsertFromReport(report) {
    const mine = report.assignments.find((a) => a.agency === own);
    if (!mine) return null;
    if (report.status === "open" && OPEN.has(mine.status)) {
      queue.set(mine.id, { assignment: mine, report });
      return mine;
    }
    queue.delete(mine.id);
    return null;
  }

  // The agency's fleet (SPEC §7): who is available now, live from unit.updated. Below the
  // queue, folded on a phone (the queue comes first), open from the start on a wide screen.
  const fleet = new Map();
  const more = document.getElementById("desk-more");
  if (more && window.matchMedia("(min-width: 601px)").matches) more.open = true;
  function renderFleet() {
    const section = document.getElementById("fleet");
    const list = document.getElementById("fleet-units");
    if (!section || !list) return;
    section.hidden = fleet.size === 0;
    list.replaceChildren();
    const order = { available: 0, dispatched: 1, en_route: 2, on_scene: 3, out_of_service: 4 };
    const units = [...fleet.values()].filter((u) => u.active)
      .sort((a, b) => order[a.status] - order[b.status] || a.call_sign.localeCompare(b.call_sign));
    // Folded (a phone): the count says enough until the desk opens it.
    const summary = document.getElementById("fleet-summary");
    if (summary) {
      summary.textContent = units.length ? interpolate(gettext("%(available)s of %(total)s available"),
        { available: units.filter((u) => u.status === "available").length, total: units.length }, true) : "";
    }
    for (const unit of units) {
      const chip = text("li", `chip unit-${unit.status}`, `${unit.call_sign} · ${config.labels.unit[unit.status] || unit.status}`);
      chip.dataset.unit = unit.call_sign;
      if (unit.report_number) chip.title = unit.report_number;
      list.append(chip);
    }
  }

  function onSnapshot(snapshot) {
    fleet.clear();
    for (const unit of snapshot.units || []) fleet.set(unit.id, unit);
    renderFleet();
    if (document.getElementById("fleet-manage")?.open) loadManage();
    queue.clear();
    for (const item of snapshot.assignments) {
      if (item.agency === own) queue.set(item.id, { assignment: item, report: item.report });
    }
    render();
  }

  function onEvent(event) {
    if (event.type === "unit.updated") { fleet.set(event.unit.id, event.unit); renderFleet(); renderManage(); return; }
    if (!event.report) return;
    // What the command centre changed (an edit, a later caller's words): marked until seen.
    if (Fresh && Fresh.take(event)) {
      for (const card of cards.values()) if (card.dataset.reportId === String(event.report.id)) delete card.dataset.version;
      beep();
    }
    const before = event.assignment && queue.has(event.assignment.id);
    upsertFromReport(event.report);
    if (event.type === "assignment.created" && event.assignment && event.assignment.agency === own && !before) {
      const entry = queue.get(event.assignment.id);
      if (entry) { beep(); notify(entry); }
    }
    const flagged = event.kind === "assignment.escalated" || event.kind === "assignment.overdue";
    if (flagged && event.assignment && event.assignment.agency === own && queue.has(event.assignment.id)) {
      beep(true);
      notify(queue.get(event.assignment.id));
    }
    if (event.type === "message.created" && detailReport === event.report.id && event.message) addMessage(event.message);
    if (detailReport === event.report.id) renderDetail(event.report);
    render();
  }

  // --- The queue ------------------------------------------------------------------------------------
  function order(a, b) {
    // SPEC §11, as GET /api/v1/assignments/ lists it: waiting for us first, then under way;
    // P1 before P2 before P3; then oldest. An alarm shows on the card, never above a new P1.
    const rank = (entry) => (entry.assignment.status === "notified" ? 0 : 1);
    return rank(a) - rank(b) || a.report.priority - b.report.priority
      || a.assignment.notified_at.localeCompare(b.assignment.notified_at) || a.assignment.id - b.assignment.id;
  }

  function render() {
    const list = document.getElementById("queue");
    const entries = [...queue.values()].sort(order);
    for (const [id, card] of cards) {
      if (!queue.has(id)) { card.remove(); cards.delete(id); }
    }
    entries.forEach((entry, index) => {
      let card = cards.get(entry.assignment.id);
      if (!card) {
        card = document.createElement("li");
        cards.set(entry.assignment.id, card);
      }
      fill(card, entry);
      if (list.children[index] !== card) list.insertBefore(card, list.children[index] || null);
    });
    document.getElementById("queue-empty").hidden = entries.length > 0;
    tick();
  }

  function text(tag, className, content) {
    const element = document.createElement(tag);
    if (className) element.className = className;
    element.textContent = content;
    return element;
  }

  function fill(card, entry) {
    const { assignment, report } = entry;
    const status = assignment.status;
    card.className = `assignment p${report.priority} ${status}${UI.alarming(assignment) ? " escalated" : ""}`;
    card.dataset.report = report.number;
    card.dataset.reportId = report.id;
    card.dataset.assignment = assignment.id;
    if (card.dataset.status === status && card.dataset.version === versionOf(entry)) return;
    const keepForm = card.dataset.status === status ? card.querySelector("form.inline") : null;
    card.dataset.status = status;
    card.dataset.version = versionOf(entry);
    card.replaceChildren();

    const head = document.createElement("div");
    head.className = "card-head";
    head.append(text("span", "badge", `P${report.priority}`), text("strong", "", report.category_name),
      text("span", "hint", report.number), text("span", `chip ${status}`, config.labels.assignment[status]));
    withFresh(head, report, "priority");
    card.append(head);
    const alarm = UI.alarm(assignment);
    if (alarm) {  // in words and an icon, not only in red (issue 17 §4)
      const line = text("p", `alarm ${alarm.kind}`, "");
      line.append(UI.alarmBadge(assignment), " · ", alarm.kind === "overdue"
        ? gettext("no unit on scene yet") : gettext("nobody acknowledged it in time"));
      card.append(line);
    }
    card.append(withFresh(text("p", "where", report.address + (report.kecamatan_name ? `, ${report.kecamatan_name}` : "")), report, "where"));
    card.append(withFresh(text("p", "what", report.description), report, "what"));
    for (const call of Fresh ? Fresh.notes(report.id) : []) {
      const line = text("p", "later-call", interpolate(gettext("Another caller (%(time)s): %(note)s"),
        { time: UI.time(call.at), note: call.note || "–" }, true));
      if (call.fresh) withFresh(line, report, "calls");
      card.append(line);
    }

    const clocks = document.createElement("p");
    clocks.className = "clocks";
    clocks.append(clock("received", gettext("Since the call"), report.received_at));
    clocks.append(clock("notified", gettext("Since notified"), assignment.notified_at));
    if (status === "dispatched" && assignment.eta_minutes !== null) {
      const due = new Date(Date.parse(assignment.dispatched_at) + assignment.eta_minutes * 60000).toISOString();
      clocks.append(clock("eta", interpolate(gettext("ETA (%(unit)s)"), { unit: assignment.unit || "–" }, true), due));
    }
    card.append(clocks);

    const partners = report.assignments.filter((a) => a.agency !== own);
    if (partners.length) {
      const chips = document.createElement("p");
      chips.className = "chips";
      for (const partner of partners) {
        chips.append(text("span", `chip ${partner.status}`, `${agencyName[partner.agency] || partner.agency} · ${config.labels.assignment[partner.status]}`), " ");
      }
      card.append(chips);
    }

    const actions = document.createElement("div");
    actions.className = "actions";
    const button = (label, handler, kind) => {
      const element = text("button", kind || "", label);
      element.type = "button";
      element.addEventListener("click", handler);
      actions.append(element);
    };
    if (status === "notified") button(gettext("Acknowledge"), () => act(entry, "acknowledge"), "primary");
    if (status === "notified" || status === "acknowledged") {
      button(gettext("Dispatch unit"), () => openForm(card, entry, "dispatch"), status === "acknowledged" ? "primary" : "");
      button(gettext("Reject"), () => openForm(card, entry, "reject"), "danger");
    }
    if (status === "dispatched") button(gettext("Arrived on scene"), () => act(entry, "arrive"), "primary");
    if (status === "on_scene") button(gettext("Resolved"), () => openForm(card, entry, "resolve"), "primary");
    button(gettext("Details & chat"), () => openDetail(report));
    card.append(actions);
    card.append(text("p", "card-error", ""));
    if (keepForm) card.append(keepForm);
  }

  /** Appends the "informasi baru" mark to `element` while that part of the report is unseen. */
  function withFresh(element, report, part) {
    const mark = Fresh && Fresh.badge(report.id, part);
    if (mark) element.append(" ", mark);
    return element;
  }

  // Seen: the viewer touched the card (or opened its details); the marks go at once.
  function markSeen(reportId) {
    if (!Fresh || !Fresh.seen(reportId)) return;
    for (const card of cards.values()) {
      if (card.dataset.reportId !== String(reportId)) continue;
      card.querySelectorAll("mark.fresh").forEach((mark) => mark.remove());
      delete card.dataset.version;
    }
  }
  document.getElementById("queue").addEventListener("pointerdown", (event) => {
    const card = event.target.closest("li[data-report-id]");
    if (card) markSeen(Number(card.dataset.reportId));
  });
  document.getElementById("queue").addEventListener("focusin", (event) => {
    const card = event.target.closest("li[data-report-id]");
    if (card) markSeen(Number(card.dataset.reportId));
  });

  function versionOf(entry) {
    return JSON.stringify([entry.assignment, entry.report.assignments.map((a) => [a.agency, a.status])]);
  }

  function clock(kind, label, since) {
    const span = document.createElement("span");
    span.className = `clock ${kind}`;
    span.dataset.since = since;
    span.dataset.kind = kind;
    span.append(text("span", "label", label + " "), text("b", "", "–"));
    return span;
  }

  function tick() {
    const now = live ? live.now() : new Date();
    document.querySelectorAll(".clock[data-since]").forEach((element) => {
      const at = Date.parse(element.dataset.since);
      const value = element.querySelector("b");
      if (element.dataset.kind === "eta") {
        const left = at - now;
        value.textContent = left >= 0 ? UI.duration(left) : interpolate(gettext("%(time)s late"), { time: UI.duration(-left) }, true);
        element.dataset.level = left >= 60000 ? "green" : left >= 0 ? "amber" : "red";
      } else {
        value.textContent = UI.duration(now - at);
        element.dataset.level = UI.level(now - at, target);
      }
    });
  }

  // --- Actions --------------------------------------------------------------------------------------
  function openForm(card, entry, action, freeText) {
    card.querySelectorAll("form.inline").forEach((form) => form.remove());
    const form = document.createElement("form");
    form.className = "inline";
    if (freeText) form.dataset.freeText = "1";
    const field = (name, label, attributes) => {
      const wrapper = document.createElement("label");
      wrapper.append(text("span", "", label));
      const input = document.createElement("input");
      input.name = name;
      Object.assign(input, attributes);
      wrapper.append(input);
      form.append(wrapper);
      return input;
    };
    let first;
    if (action === "dispatch" && !form.dataset.freeText) {
      // An agency with a fleet: its units, the closest available first; one tap sends one.
      unitChoices(card, entry, form, field).then((shown) => { if (!shown) openFreeText(); });
      card.append(form);
      return;
    }
    function openFreeText() { form.dataset.freeText = "1"; form.remove(); openForm(card, entry, "dispatch", true); }
    if (action === "dispatch") {
      first = field("unit", gettext("Unit"), { placeholder: gettext("e.g. Ambulance 3"), maxLength: 80 });
      field("eta_minutes", gettext("ETA in minutes"), { type: "number", min: 0, max: 1440, required: true, inputMode: "numeric" });
    } else if (action === "reject") {
      first = field("reason", gettext("Reason"), { required: true, maxLength: 2000 });
    } else {
      first = field("note", gettext("What was done (optional)"), { maxLength: 2000 });
    }
    const submit = text("button", "primary", { dispatch: gettext("Dispatch"), reject: gettext("Reject"), resolve: gettext("Resolved") }[action]);
    submit.type = "submit";
    form.append(submit);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const body = Object.fromEntries(new FormData(form));
      if (body.eta_minutes !== undefined) body.eta_minutes = Number(body.eta_minutes);
      act(entry, action, body);
    });
    card.append(form);
    first.focus();
  }

  /** The dispatch list (SPEC §7): GET …/units/, available first by estimated travel time.
   * Resolves false when the agency has no units (the free-text form is shown instead). */
  async function unitChoices(card, entry, form) {
    let result;
    try {
      result = await UI.api("GET", `/api/v1/assignments/${entry.assignment.id}/units/`);
    } catch (failure) { return false; }
    if (!result.ok || !result.data || !result.data.length) return false;
    form.classList.add("unit-choices");
    form.append(text("p", "hint small", gettext("Closest available unit first. One tap dispatches it with the estimated ETA.")));
    const list = document.createElement("ul");
    list.className = "unit-list";
    result.data.forEach((unit, index) => {
      const item = document.createElement("li");
      const choose = document.createElement("button");
      choose.type = "button";
      choose.className = unit.status === "available" ? (index === 0 ? "primary unit" : "unit") : "unit busy";
      choose.dataset.callSign = unit.call_sign;
      const distance = unit.distance_m === null ? "—" : `${(unit.distance_m / 1000).toFixed(1)} km`;
      const eta = unit.eta_minutes === null ? "" : interpolate(gettext("ETA %s min"), [unit.eta_minutes]);
      const age = unit.position_age_s === null ? gettext("from its home kecamatan")
        : interpolate(gettext("position %s ago"), [UI.duration(unit.position_age_s * 1000)]);
      choose.append(text("strong", "", unit.call_sign), text("span", "", ` ${config.labels.unit[unit.status] || unit.status} · ${distance} · ${eta}`),
        text("span", "small unit-age", ` (${age})`));
      choose.addEventListener("click", () => {
        const body = { unit: unit.call_sign };
        if (unit.eta_minutes !== null) body.eta_minutes = unit.eta_minutes;
        if (unit.status !== "available") {
          if (!window.confirm(interpolate(gettext("%s is busy. Divert it to this report?"), [unit.call_sign]))) return;
          body.divert = true;
        }
        act(entry, "dispatch", body);
      });
      item.append(choose);
      list.append(item);
    });
    form.append(list);
    return true;
  }

  async function act(entry, action, body) {
    const card = cards.get(entry.assignment.id);
    const error = card && card.querySelector(".card-error");
    let result;
    try {
      result = await UI.api("POST", `/api/v1/assignments/${entry.assignment.id}/${action}/`, body || {});
    } catch (failure) {
      if (error) error.textContent = gettext("The server cannot be reached: try again.");
      return;
    }
    if (!result.ok) {
      if (error) error.textContent = (result.data && (result.data.detail || Object.values(result.data).flat().join(" "))) || gettext("The request was refused.");
      return;
    }
    // The live event follows; apply the answer now so the tap feels instant.
    const report = { ...entry.report, assignments: entry.report.assignments.map((a) => (a.id === result.data.id ? result.data : a)) };
    if (card) card.querySelectorAll("form.inline").forEach((form) => form.remove());
    upsertFromReport(report);
    render();
  }

  // --- Details and inter-agency chat ------------------------------------------------------------
  const messageIds = new Set();
  function addMessage(message) {
    if (messageIds.has(message.id)) return;
    messageIds.add(message.id);
    const who = message.author_agency ? agencyName[message.author_agency] || message.author_agency : gettext("Command centre");
    const item = document.createElement("li");
    item.className = message.author_agency === own ? "mine" : "";
    item.append(text("span", "who", `${who} · ${UI.time(message.created_at)}`), text("span", "body", message.body));
    document.getElementById("messages").append(item);
  }

  function renderDetail(report) {
    document.getElementById("detail-title").textContent = `${report.number} · ${report.category_name}`;
    const facts = document.getElementById("detail-facts");
    facts.replaceChildren();
    const rows = [
      [gettext("Received"), UI.time(report.received_at)],
      [gettext("Location"), report.address + (report.kecamatan_name ? `, ${report.kecamatan_name}` : "")],
      [gettext("What help is needed"), report.description],
    ];
    for (const [term, value] of rows) facts.append(text("dt", "", term), text("dd", "", value));
    facts.append(text("dt", "", gettext("Caller")), callerFacts(report));
    const chips = document.getElementById("detail-agencies");
    chips.replaceChildren();
    for (const a of report.assignments) chips.append(text("span", `chip ${a.status}`, `${agencyName[a.agency] || a.agency} · ${config.labels.assignment[a.status]}`), " ");
  }

  // Callers' numbers arrive masked; "Show number" reads the report in full, which the server
  // records (UU PDP). A number once shown stays shown while the page is open.
  const revealed = new Map();
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
      const result = await UI.api("GET", `/api/v1/reports/${report.id}/`);
      if (!result.ok) { button.disabled = false; return; }
      revealed.set(report.id, result.data.caller_phone);
      dd.replaceWith(callerFacts(result.data));
    });
    dd.append(button);
    return dd;
  }

  async function openDetail(report) {
    markSeen(report.id);
    detailReport = report.id;
    messageIds.clear();
    document.getElementById("messages").replaceChildren();
    renderDetail(report);
    const panel = document.getElementById("detail");
    panel.hidden = false;
    panel.scrollIntoView({ block: "start" });
    const result = await UI.api("GET", `/api/v1/reports/${report.id}/messages/`);
    if (result.ok && detailReport === report.id) result.data.forEach(addMessage);
    document.getElementById("message-body").focus();
  }

  document.getElementById("detail-close").addEventListener("click", () => {
    detailReport = null;
    document.getElementById("detail").hidden = true;
  });
  document.getElementById("message-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = document.getElementById("message-body");
    if (!input.value.trim() || detailReport === null) return;
    const result = await UI.api("POST", `/api/v1/reports/${detailReport}/messages/`, { body: input.value });
    if (result.ok) { addMessage(result.data); input.value = ""; }
  });

  renderSoundToggle();
  // --- Managing the fleet (the agency's own units) ---------------------------------------------------
  const manage = document.getElementById("fleet-manage");
  function option(value, label, selected) {
    const element = document.createElement("option");
    element.value = value;
    element.textContent = label;
    element.selected = value === selected;
    return element;
  }
  function kindSelect(selected) {
    const select = document.createElement("select");
    for (const [value, label] of Object.entries(config.labels.kind)) select.append(option(value, label, selected));
    return select;
  }
  function homeSelect(selected) {
    const select = document.createElement("select");
    select.append(option("", "—", selected || ""));
    for (const k of config.kecamatan) select.append(option(k.code, k.name, selected));
    return select;
  }
  async function changeUnit(unit, body, row) {
    const result = await UI.api("PATCH", `/api/v1/units/${unit.id}/`, body).catch(() => null);
    const error = row.querySelector(".error");
    if (!result || !result.ok) {
      error.textContent = (result && result.data && (result.data.detail || Object.values(result.data).flat().join(" "))) || gettext("The server cannot be reached: try again.");
      return;
    }
    error.textContent = "";
    fleet.set(unit.id, result.data);
    renderManage();
    renderFleet();
  }
  async function setUnitStatus(unit, status, row) {
    const result = await UI.api("POST", `/api/v1/units/${unit.id}/status/`, { status }).catch(() => null);
    if (!result || !result.ok) {
      row.querySelector(".error").textContent = (result && result.data && result.data.detail) || gettext("The request was refused.");
      return;
    }
    fleet.set(unit.id, result.data);
    renderManage();
    renderFleet();
  }
  async function loadManage() {
    const result = await UI.api("GET", "/api/v1/units/?active=all").catch(() => null);
    if (result && result.ok) for (const unit of result.data) fleet.set(unit.id, unit);
    renderManage();
  }
  function renderManage() {
    if (!manage || !manage.open) return;
    const body = document.querySelector("#fleet-table tbody");
    body.replaceChildren();
    for (const unit of [...fleet.values()].sort((a, b) => a.call_sign.localeCompare(b.call_sign))) {
      const row = document.createElement("tr");
      row.dataset.unit = unit.call_sign;
      if (!unit.active) row.className = "retired";
      const kind = kindSelect(unit.kind);
      kind.addEventListener("change", () => changeUnit(unit, { kind: kind.value }, row));
      const home = homeSelect(unit.home_kecamatan);
      home.addEventListener("change", () => changeUnit(unit, { home_kecamatan: home.value }, row));
      const cells = [text("strong", "", unit.call_sign), kind, home,
        text("span", `chip unit-${unit.status}`, config.labels.unit[unit.status] || unit.status)];
      for (const content of cells) { const cell = document.createElement("td"); cell.append(content); row.append(cell); }
      const actions = document.createElement("td");
      const toggle = text("button", "", unit.status === "out_of_service" ? gettext("Back in service") : gettext("Out of service"));
      toggle.type = "button";
      toggle.hidden = !unit.active || ["dispatched", "en_route", "on_scene"].includes(unit.status);
      toggle.addEventListener("click", () => setUnitStatus(unit, unit.status === "out_of_service" ? "available" : "out_of_service", row));
      const retire = text("button", "", unit.active ? gettext("Retire") : gettext("Reactivate"));
      retire.type = "button";
      retire.addEventListener("click", () => changeUnit(unit, { active: !unit.active }, row));
      actions.append(toggle, " ", retire, text("span", "error", ""));
      row.append(actions);
      body.append(row);
    }
  }
  if (manage) {
    const form = document.getElementById("unit-add");
    for (const [value, label] of Object.entries(config.labels.kind)) form.kind.append(option(value, label));
    form.home_kecamatan.append(option("", "—"));
    for (const k of config.kecamatan) form.home_kecamatan.append(option(k.code, k.name));
    manage.addEventListener("toggle", () => { if (manage.open) loadManage(); });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const error = document.getElementById("unit-add-error");
      const result = await UI.api("POST", "/api/v1/units/", Object.fromEntries(new FormData(form))).catch(() => null);
      if (!result || !result.ok) {
        error.textContent = (result && result.data && (result.data.detail || Object.values(result.data).flat().join(" "))) || gettext("The server cannot be reached: try again.");
        return;
      }
      error.textContent = "";
      form.reset();
      fleet.set(result.data.id, result.data);
      renderManage();
      renderFleet();
    });
  }

  live = window.DispatchLive({ onSnapshot, onEvent, onStatus: UI.banner });
  setInterval(tick, 1000);
})();
