/* Dispatch 112 — operator console. Keyboard first; every write goes through /api/v1/.
 * Nothing is lost: the call in progress lives in localStorage until the server confirms it. */
"use strict";
(function () {
  const config = JSON.parse(document.getElementById("console-config").textContent);
  const gettext = window.gettext || ((s) => s);
  const interpolate = window.interpolate || ((s) => s);
  // The server's clock, not the workstation's: received_at must be right even if the PC's is not.
  const serverOffset = Date.parse(config.server_time) - Date.now();
  const now = () => new Date(Date.now() + serverOffset);
  const DRAFT_KEY = "dispatch112.draft." + config.username;
  const REQUEST_TIMEOUT_MS = 10000;
  const $ = (selector) => document.querySelector(selector);
  const form = $("#report-form");
  const fields = {
    phone: $("#caller_phone"), name: $("#caller_name"), category: $("#category-input"),
    priority: $("#priority"), kecamatan: $("#kecamatan"), address: $("#address"),
    description: $("#description"),
  };
  const categoryByCode = Object.fromEntries(config.categories.map((c) => [c.code, c]));
  const agencyName = Object.fromEntries(config.agencies.map((a) => [a.code, a.short_name]));
  const state = {
    receivedAt: null, category: null, agencies: new Set(), agenciesTouched: false,
    latitude: null, longitude: null, highlighted: 0, options: [], duplicates: [],
    chipFocus: 0, busy: false, locationSource: "", locationAccuracy: null,
  };
  // The phone system (SPEC §9): calls ringing or in progress by PBX id, handset positions
  // (AML) by the caller's number.
  const phoneCalls = new Map();
  const amlByPhone = new Map();

  // --- Server calls -------------------------------------------------------------------------
  function csrfToken() {
    const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  /** Returns {ok, status, data, retryAfter}; throws on a network failure or timeout. The
   * page's language goes with it: the API's errors are shown in the language the page speaks,
   * whatever the browser's own (issue 37 §1). */
  async function api(method, url, body, headers = {}) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    try {
      const response = await fetch(url, {
        method, credentials: "same-origin", signal: controller.signal,
        headers: { "Content-Type": "application/json", Accept: "application/json",
                   "Accept-Language": document.documentElement.lang || "id",
                   "X-CSRFToken": csrfToken(), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      let data = null;
      try { data = await response.json(); } catch (error) { data = null; }
      const retryAfter = Number(response.headers.get("Retry-After")) || 0;
      return { ok: response.ok, status: response.status, data, retryAfter };
    } finally {
      clearTimeout(timer);
    }
  }

  function failureMessage(result) {
    if (result.status === 401 || result.status === 403) {
      return gettext("Your session has ended: log in again in another tab. The draft is kept.");
    }
    if (result.status >= 500) {
      // e.g. 503: the database is not answering. Nothing was saved; the draft stays.
      const detail = result.data && result.data.detail;
      return detail ? `${detail} ${gettext("The draft is kept: try again with Ctrl+Enter.")}`
        : gettext("The server had an error. The draft is kept: try again with Ctrl+Enter.");
    }
    return (result.data && result.data.detail) || gettext("The request was refused.");
  }
  const RETRYING = () => gettext(
    "The server cannot be reached: trying again by itself. The draft is kept in this browser.");
  const OFFLINE = () => gettext(
    "The server cannot be reached. The draft is kept in this browser: send again with Ctrl+Enter.");

  // --- Status line, errors ---------------------------------------------------------------------
  function say(message, kind) {
    const status = $("#form-status");
    status.textContent = message;
    status.className = kind || "";
  }

  function clearErrors() {
    document.querySelectorAll("[data-error-for]").forEach((p) => { p.textContent = ""; });
    document.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
  }

  function showErrors(errors) {
    clearErrors();
    let first = null;
    for (const [field, messages] of Object.entries(errors || {})) {
      const slot = document.querySelector(`[data-error-for="${field}"]`)
        || document.querySelector('[data-error-for="non_field_errors"]');
      slot.textContent = [].concat(messages).join(" ");
      const input = field === "category" ? fields.category : form.elements[field];
      if (input && input.setAttribute) {
        input.setAttribute("aria-invalid", "true");
        first = first || input;
      }
    }
    if (first) first.focus();
  }

  // --- The call clock ----------------------------------------------------------------------------
  function startCall() {
    if (!state.receivedAt) {
      state.receivedAt = now();
      saveDraft();
      // A call comes first: the report's view steps aside until it is sent or logged.
      document.dispatchEvent(new CustomEvent("console:call", { detail: { active: true } }));
    }
    renderClock();
  }

  function renderClock() {
    const clock = $("#call-clock");
    if (!state.receivedAt) { clock.textContent = "–"; return; }
    const seconds = Math.max(0, Math.floor((now() - state.receivedAt) / 1000));
    clock.textContent = `${String(Math.floor(seconds / 60)).padStart(2, "0")}:${String(seconds % 60).padStart(2, "0")}`;
  }

  function isDirty() {
    return Boolean(state.receivedAt || fields.phone.value || fields.description.value
      || fields.address.value || state.category);
  }

  function resetForm() {
    form.reset();
    clearErrors();
    Object.assign(state, { receivedAt: null, draftKey: null, category: null, agencies: new Set(),
      agenciesTouched: false, latitude: null, longitude: null, duplicates: [],
      locationSource: "", locationAccuracy: null });
    fields.category.value = "";
    closeOptions();
    setPin(null, null);
    renderChips();
    renderDuplicates();
    $("#phone-history").hidden = true;
    $("#draft-note").hidden = true;
    localStorage.removeItem(DRAFT_KEY);
    renderClock();
    renderAml();
    document.dispatchEvent(new CustomEvent("console:call", { detail: { active: false } }));
  }

  /** The product's own yes/no question (#ask-dialog), never the browser's confirm():
   * resolves true when the operator says yes (Enter), false on Esc or the other button. */
  function ask(question, yes) {
    const dialog = $("#ask-dialog");
    $("#ask-question").textContent = question;
    dialog.querySelector('button[value="yes"]').textContent = yes;
    dialog.returnValue = "";
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
      dialog.showModal();
      dialog.querySelector('button[value="yes"]').focus();
    });
  }
  const discardCall = () => ask(gettext("Discard the call in progress?"), gettext("Discard"));

  async function newCall() {
    if (isDirty() && !(await discardCall())) return;
    resetForm();
    say("");
    startCall();
    fields.phone.focus();
  }

  // --- Draft in localStorage -------------------------------------------------------------------
  function saveDraft() {
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

  function restoreDraft() {
    let draft;
    try { draft = JSON.parse(localStorage.getItem(DRAFT_KEY) || "null"); } catch (error) { draft = null; }
    if (!draft) return;
    state.receivedAt = draft.receivedAt ? new Date(draft.receivedAt) : null;
    state.draftKey = draft.key || null; // a send whose answer was lost is the same report
    fields.phone.value = draft.phone || "";
    fields.name.value = draft.name || "";
    fields.category.value = draft.categoryText || "";
    state.category = categoryByCode[draft.category] ? draft.category : null;
    state.agencies = new Set((draft.agencies || []).filter((code) => agencyName[code]));
    state.agenciesTouched = Boolean(draft.agenciesTouched);
    fields.priority.value = draft.priority || "";
    fields.kecamatan.value = draft.kecamatan || "";
    fields.address.value = draft.address || "";
    fields.description.value = draft.description || "";
    setPin(draft.latitude, draft.longitude);
    state.locationSource = draft.locationSource || "";
    state.locationAccuracy = draft.locationAccuracy ?? null;
    renderChips();
    $("#draft-note").hidden = false;
    lookUpPhone();
    refreshDuplicates();
  }

  // --- Phone history ---------------------------------------------------------------------------
  let phoneTimer = null;
  function lookUpPhone() {
    clearTimeout(phoneTimer);
    phoneTimer = setTimeout(async () => {
      const digits = fields.phone.value.replace(/\D/g, "");
      const panel = $("#phone-history");
      if (digits.length < 8) { panel.hidden = true; return; }
      let result;
      try { result = await api("GET", `/api/v1/calls/history/?phone=${encodeURIComponent(fields.phone.value)}`); }
      catch (error) { return; }
      if (!result.ok) { panel.hidden = true; return; }
      renderHistory(result.data);
    }, 250);
  }

  function renderHistory(history) {
    const panel = $("#phone-history");
    panel.replaceChildren();
    panel.classList.toggle("flagged", history.flagged);
    const summary = document.createElement("p");
    summary.textContent = history.calls_total === 0
      ? gettext("First call from this number.")
      : interpolate(gettext("%(calls)s earlier calls, %(pranks)s prank or ghost calls in the last 30 days."),
          { calls: history.calls_total, pranks: history.prank_count }, true);
    panel.append(summary);
    if (history.flagged) {
      const warning = document.createElement("p");
      warning.className = "warning";
      warning.textContent = gettext("Repeat prank number: verify before dispatching.");
      panel.append(warning);
    }
    if (history.calls.length) {
      const list = document.createElement("ul");
      for (const call of history.calls.slice(0, 5)) {
        const item = document.createElement("li");
        item.textContent = `${formatTime(call.received_at, true)} · ${config.labels.outcome[call.outcome] || call.outcome}`
          + (call.report_number ? ` · ${call.report_number}` : "");
        list.append(item);
      }
      panel.append(list);
    }
    panel.hidden = false;
  }

  // --- Calls that need no dispatch ---------------------------------------------------------------
  async function logCall(outcome, reportId) {
    if (state.busy) return;
    if (!fields.phone.value.trim()) {
      showErrors({ caller_phone: [gettext("Enter the caller's number first.")] });
      return;
    }
    startCall();
    say(gettext("Logging…"));
    const body = { caller_phone: fields.phone.value, caller_name: fields.name.value, outcome,
                   received_at: state.receivedAt.toISOString() };
    if (reportId) body.report = reportId;
    const label = config.labels.outcome[outcome] || outcome;
    await send("/api/v1/calls/", body,
      () => interpolate(gettext("Logged: %(outcome)s."), { outcome: label }, true));
  }

  /** Posts the call or report. Success: the form is cleared and `success(data)` is said.
   * Failure: every field stays as it was, with the reason. */
  async function send(url, body, success) {
    state.busy = true;
    $("#submit-report").disabled = true;
    try {
      const result = await sendOnce(url, body, () => say(RETRYING(), "error"));
      if (result.ok) {
        const message = success(result.data);
        resetForm();
        say(message, "ok");
        loadOpenReports();
      } else if (result.status === 400) {
        showErrors(result.data);
        say(gettext("Check the marked fields."), "error");
      } else {
        say(failureMessage(result), "error");
      }
    } catch (error) {
      say(OFFLINE(), "error");
    } finally {
      state.busy = false;
      $("#submit-report").disabled = false;
    }
  }

  /** One draft is one report however often it is sent (issue 35 §2): it carries its own
   * Idempotency-Key, and a send whose answer was lost (the network) or that was asked to wait
   * (429, after an outage) is sent again with the same key — the server answers a repeat with
   * the first answer and makes nothing twice. Bounded: a few tries within ~15 s. */
  const RETRY_DELAYS_MS = [1000, 3000, 6000];
  async function sendOnce(url, body, retrying) {
    const key = { "Idempotency-Key": draftKey() };
    for (let attempt = 0; ; attempt += 1) {
      let result;
      try {
        result = await api("POST", url, body, key);
      } catch (error) {
        if (attempt >= RETRY_DELAYS_MS.length) throw error;
        retrying();
        await sleep(RETRY_DELAYS_MS[attempt]);
        continue;
      }
      if (result.status !== 429 || attempt >= RETRY_DELAYS_MS.length) return result;
      retrying();
      await sleep(Math.min(10, Math.max(1, result.retryAfter)) * 1000);
    }
  }
  function sleep(ms) { return new Promise((resolve) => { setTimeout(resolve, ms); }); }
  function draftKey() {
    if (!state.draftKey) {
      state.draftKey = window.crypto && window.crypto.randomUUID ? window.crypto.randomUUID()
        : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
      saveDraft();
    }
    return state.draftKey;
  }

  // --- Incident type with type-ahead ---------------------------------------------------------------
  function matches(text) {
    const query = text.trim().toLowerCase();
    if (!query) return config.categories.slice(0, 8);
    const starts = [], contains = [];
    for (const category of config.categories) {
      const name = category.name.toLowerCase();
      if (name.startsWith(query) || category.code.startsWith(query)
          || name.split(/\s+/).some((word) => word.startsWith(query))) starts.push(category);
      else if (name.includes(query) || category.code.includes(query)) contains.push(category);
    }
    return starts.concat(contains).slice(0, 8);
  }

  function renderOptions() {
    const list = $("#category-options");
    list.replaceChildren();
    state.options.forEach((category, index) => {
      const option = document.createElement("li");
      option.id = `category-option-${index}`;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", String(index === state.highlighted));
      option.textContent = category.name;
      option.addEventListener("mousedown", (event) => { event.preventDefault(); chooseCategory(category); });
      list.append(option);
    });
    const open = state.options.length > 0;
    list.hidden = !open;
    fields.category.setAttribute("aria-expanded", String(open));
    if (open) fields.category.setAttribute("aria-activedescendant", `category-option-${state.highlighted}`);
  }

  function openOptions() {
    state.options = matches(fields.category.value);
    state.highlighted = 0;
    renderOptions();
  }

  function closeOptions() {
    state.options = [];
    renderOptions();
    fields.category.removeAttribute("aria-activedescendant");
  }

  function chooseCategory(category) {
    state.category = category.code;
    fields.category.value = category.name;
    fields.priority.value = String(category.default_priority);
    state.agencies = new Set(category.agencies.filter((code) => agencyName[code]));
    state.agenciesTouched = false;
    closeOptions();
    renderChips();
    refreshDuplicates();
    saveDraft();
  }

  // --- Agency chips (one tab stop; arrows move, Space toggles) -----------------------------------------
  function renderChips() {
    const group = $("#agency-chips");
    group.replaceChildren();
    config.agencies.forEach((agency, index) => {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.className = "chip-toggle";
      chip.dataset.agency = agency.code;
      chip.textContent = agency.short_name;
      chip.setAttribute("aria-pressed", String(state.agencies.has(agency.code)));
      chip.tabIndex = index === state.chipFocus ? 0 : -1;
      chip.addEventListener("click", () => {
        if (state.agencies.has(agency.code)) state.agencies.delete(agency.code);
        else state.agencies.add(agency.code);
        state.agenciesTouched = true;
        state.chipFocus = index;
        renderChips();
        group.children[index].focus();
        saveDraft();
      });
      group.append(chip);
    });
  }

  $("#agency-chips").addEventListener("keydown", (event) => {
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
    if (!step) return;
    event.preventDefault();
    const count = config.agencies.length;
    state.chipFocus = (state.chipFocus + step + count) % count;
    renderChips();
    $("#agency-chips").children[state.chipFocus].focus();
  });

  // --- Map pin -------------------------------------------------------------------------------------
  let map = null;
  let marker = null;

  function setupMap() {
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

  function setPin(latitude, longitude) {
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

  // --- Possible duplicates ---------------------------------------------------------------------------
  let duplicateTimer = null;
  function refreshDuplicates() {
    clearTimeout(duplicateTimer);
    duplicateTimer = setTimeout(async () => {
      const params = new URLSearchParams();
      if (state.category) params.set("category", state.category);
      if (fields.kecamatan.value) params.set("kecamatan", fields.kecamatan.value);
      if (state.latitude !== null) {
        params.set("latitude", state.latitude);
        params.set("longitude", state.longitude);
      }
      if (fields.phone.value.replace(/\D/g, "").length >= 8) params.set("phone", fields.phone.value);
      if ([...params.keys()].length === 0) { state.duplicates = []; renderDuplicates(); return; }
      try {
        const result = await api("GET", `/api/v1/reports/duplicates/?${params}`);
        state.duplicates = result.ok ? result.data.slice(0, 9) : [];
      } catch (error) {
        state.duplicates = [];
      }
      renderDuplicates();
    }, 250);
  }

  function renderDuplicates() {
    const list = $("#duplicates");
    list.replaceChildren();
    if (!state.duplicates.length) {
      const empty = document.createElement("li");
      empty.className = "hint";
      empty.textContent = gettext("None.");
      list.append(empty);
      return;
    }
    state.duplicates.forEach((report, index) => {
      const item = document.createElement("li");
      const text = document.createElement("span");
      text.textContent = `${report.number} · ${report.category_name} · ${report.address}`
        + (report.kecamatan_name ? `, ${report.kecamatan_name}` : "")
        + ` · ${formatTime(report.received_at)}`;
      const attach = document.createElement("button");
      attach.type = "button";
      attach.tabIndex = -1;
      attach.textContent = interpolate(gettext("Attach (Alt+%(n)s)"), { n: index + 1 }, true);
      attach.addEventListener("click", () => logCall("attached", report.id));
      item.append(text, " ", attach, chipsFor(report));
      list.append(item);
    });
  }

  // --- Sending the report ----------------------------------------------------------------------------
  async function submitReport() {
    if (state.busy) return;
    clearErrors();
    if (!state.category) {
      const typed = matches(fields.category.value);
      if (fields.category.value && typed.length === 1) chooseCategory(typed[0]);
      else {
        showErrors({ category: [gettext("Choose the incident type from the list.")] });
        return;
      }
    }
    startCall();
    const category = categoryByCode[state.category];
    const body = {
      caller_phone: fields.phone.value, caller_name: fields.name.value, category: state.category,
      description: fields.description.value, address: fields.address.value,
      kecamatan: fields.kecamatan.value || null,
      priority: fields.priority.value ? Number(fields.priority.value) : null,
      latitude: state.latitude, longitude: state.longitude,
      received_at: state.receivedAt.toISOString(),
    };
    if (state.latitude !== null) {
      body.location_source = state.locationSource || "operator";
      body.location_accuracy_m = state.locationAccuracy;
    }
    const defaults = new Set(category.agencies);
    const changed = state.agencies.size !== defaults.size || [...state.agencies].some((c) => !defaults.has(c));
    if (changed || defaults.size === 0) body.agencies = [...state.agencies];
    say(gettext("Sending…"));
    await send("/api/v1/reports/", body, (report) => {
      const names = report.assignments.map((a) => agencyName[a.agency] || a.agency).join(", ");
      return interpolate(gettext("Report %(number)s sent to %(agencies)s."),
        { number: report.number, agencies: names }, true);
    });
  }

  // --- The phone system: incoming calls and the caller's handset position (SPEC §9) -------------
  /** The number as the server keeps it (+62…), so the form's number finds its AML position. */
  function e164(raw) {
    let number = (raw || "").replace(/[\s\-./()]/g, "");
    if (number.startsWith("+62")) number = number.slice(3);
    else if (number.startsWith("0062")) number = number.slice(4);
    else if (number.startsWith("62")) number = number.slice(2);
    else if (number.startsWith("0")) number = number.slice(1);
    else return number;
    if (number.startsWith("0")) number = number.slice(1);
    return "+62" + number;
  }

  const CALL_STATE = {
    ringing: () => gettext("Ringing"), answered: () => gettext("On the line"),
    abandoned: () => gettext("Caller hung up before answer"),
  };

  function onPhoneCall(frame, live) {
    if (frame.state === "ended" || frame.dismissed_at) phoneCalls.delete(frame.call_id);
    else phoneCalls.set(frame.call_id, frame);
    if (live && frame.state === "ringing") window.DispatchUI.beep(Boolean(frame.history && frame.history.flagged));
    if (live && frame.state === "answered" && frame.operator === config.username) openPhoneCall(frame, false);
    renderIncoming();
  }

  /** The call answered at this desk becomes the form's call: its number, and the clock from
   * the answer (received_at). A call already being typed is never overwritten unasked. */
  async function openPhoneCall(frame, asked) {
    const same = e164(fields.phone.value) === frame.caller_phone;
    if (!same && isDirty() && !asked) { renderIncoming(); return; }
    if (!same && isDirty() && !(await discardCall())) return;
    if (!same) resetForm();
    fields.phone.value = frame.caller_phone;
    state.receivedAt = new Date(frame.answered_at || frame.ringing_at || now());
    frame.opened = true;
    saveDraft();
    renderClock();
    lookUpPhone();
    refreshDuplicates();
    renderAml();
    renderIncoming();
    say(interpolate(gettext("Call from %(number)s answered."), { number: frame.caller_phone }, true), "ok");
    fields.category.focus();
  }

  function renderIncoming() {
    const list = $("#incoming");
    list.replaceChildren();
    for (const frame of phoneCalls.values()) {
      if (frame.state === "answered" && frame.operator && frame.operator !== config.username) continue;
      const item = document.createElement("li");
      item.className = frame.state + (frame.history && frame.history.flagged ? " flagged" : "");
      item.dataset.callId = frame.call_id;
      const label = document.createElement("span");
      label.className = "call-state";
      label.textContent = (CALL_STATE[frame.state] || (() => frame.state))();
      const number = document.createElement("span");
      number.className = "call-number";
      number.textContent = frame.caller_phone || gettext("Number withheld");
      item.append(label, number);
      if (frame.extension) item.append(interpolate(gettext("ext. %(ext)s"), { ext: frame.extension }, true));
      const at = frame.state === "abandoned" ? frame.ended_at : frame.ringing_at || frame.answered_at;
      if (at) item.append(" · " + formatTime(at));
      if (frame.history) {
        const history = document.createElement("span");
        history.className = "call-history";
        history.textContent = frame.history.flagged
          ? interpolate(gettext("Repeat prank number: %(pranks)s prank or ghost calls."), { pranks: frame.history.prank_count }, true)
          : frame.history.calls_total === 0 ? gettext("First call from this number.")
            : interpolate(gettext("%(calls)s earlier calls."), { calls: frame.history.calls_total }, true);
        item.append(history);
      }
      const button = document.createElement("button");
      button.type = "button";
      button.tabIndex = -1;
      if (frame.state === "abandoned") {
        button.textContent = gettext("Dismiss");
        // Recorded on the server (who, when): gone from every console, and after a reload.
        button.addEventListener("click", async () => {
          button.disabled = true;
          const result = await api("POST", `/api/v1/telephony/calls/${encodeURIComponent(frame.call_id)}/dismiss/`)
            .catch(() => null);
          if (result && (result.ok || result.status === 404)) {
            phoneCalls.delete(frame.call_id);
            renderIncoming();
          } else {
            button.disabled = false;
            say(result ? failureMessage(result) : OFFLINE(), "error");
          }
        });
        item.append(button);
      } else if (frame.state === "answered" && !(frame.opened && e164(fields.phone.value) === frame.caller_phone)) {
        button.textContent = gettext("Open this call");
        button.addEventListener("click", () => openPhoneCall(frame, true));
        item.append(button);
      }
      list.append(item);
    }
    list.hidden = list.children.length === 0;
  }

  let amlCircle = null;
  function onAml(frame) {
    if (frame.latitude === null || frame.latitude === undefined) return;
    const known = amlByPhone.get(frame.caller_phone);
    if (!known || Date.parse(frame.located_at) >= Date.parse(known.located_at)) amlByPhone.set(frame.caller_phone, frame);
    renderAml();
  }

  function currentAml() {
    const phone = e164(fields.phone.value);
    return phone.startsWith("+62") ? amlByPhone.get(phone) || null : null;
  }

  /** The caller's handset position next to the form, with its accuracy circle on the map. */
  function renderAml() {
    const aml = currentAml();
    const banner = $("#aml-banner");
    banner.hidden = !aml;
    if (amlCircle) { amlCircle.remove(); amlCircle = null; }
    if (!aml) return;
    const accuracy = aml.accuracy_m !== null && aml.accuracy_m !== undefined ? Math.round(aml.accuracy_m) : null;
    $("#aml-text").textContent = interpolate(
      gettext("The caller's handset (AML): %(lat)s, %(lng)s · ±%(accuracy)s m · %(time)s"),
      { lat: aml.latitude.toFixed(5), lng: aml.longitude.toFixed(5), accuracy: accuracy ?? "?",
        time: formatTime(aml.located_at) }, true);
    if (map) {
      amlCircle = window.L.circle([aml.latitude, aml.longitude], {
        radius: Math.max(accuracy || 0, 5), color: "#2f6db5", weight: 2, fillOpacity: 0.12,
      }).addTo(map);
    }
  }

  /** Alt+A: the handset's position becomes the report's location (source aml, accuracy). */
  function useAml() {
    const aml = currentAml();
    if (!aml) return false;
    setPin(Number(aml.latitude.toFixed(6)), Number(aml.longitude.toFixed(6)));
    state.locationSource = "aml";
    state.locationAccuracy = aml.accuracy_m ?? null;
    $("#pin-details").open = true;
    if (map) {
      map.invalidateSize();
      map.setView([aml.latitude, aml.longitude], 16);
    }
    $("#pin-text").textContent += " · " + interpolate(gettext("AML ±%(accuracy)s m"),
      { accuracy: aml.accuracy_m !== null && aml.accuracy_m !== undefined ? Math.round(aml.accuracy_m) : "?" }, true);
    refreshDuplicates();
    saveDraft();
    renderAml();
    return true;
  }

  // --- Open reports ----------------------------------------------------------------------------------
  function formatTime(iso, withDate) {
    const options = { timeZone: "Asia/Jakarta", hour: "2-digit", minute: "2-digit" };
    if (withDate) Object.assign(options, { day: "numeric", month: "short" });
    return `${new Intl.DateTimeFormat(document.documentElement.lang || "id", options).format(new Date(iso))} WIB`;
  }

  function chipsFor(report) {
    const span = document.createElement("span");
    span.className = "chips";
    for (const assignment of report.assignments) {
      const chip = document.createElement("span");
      const alarming = window.DispatchUI && window.DispatchUI.alarming(assignment);
      chip.className = `chip ${assignment.status}${alarming ? " escalated" : ""}`;
      chip.dataset.agency = assignment.agency;
      chip.textContent = `${agencyName[assignment.agency] || assignment.agency} · ${config.labels.assignment[assignment.status] || assignment.status}`;
      const alarm = window.DispatchUI && window.DispatchUI.alarmBadge(assignment);
      if (alarm) chip.append(" · ", alarm);
      // The unit sent, and while it is on its way, when it is due (SPEC §8).
      if (assignment.unit) {
        let unit = ` · ${assignment.unit}`;
        if (assignment.status === "dispatched" && assignment.eta_minutes !== null && assignment.dispatched_at) {
          unit += ` · ${interpolate(gettext("due %s"), [formatTime(new Date(Date.parse(assignment.dispatched_at) + assignment.eta_minutes * 60000).toISOString())])}`;
        }
        const detail = document.createElement("span");
        detail.className = "chip-unit";
        detail.textContent = unit;
        chip.append(detail);
      }
      span.append(chip, " ");
    }
    return span;
  }

  async function closeReport(report, reason) {
    // The product's own dialog, never the browser's confirm(): Enter closes, Esc keeps it open.
    const answer = await askClose(report, reason);
    if (answer === null) return;
    const body = { reason };
    if (reason === "duplicate") {
      const found = await api("GET", `/api/v1/reports/?number=${encodeURIComponent(answer.original)}`)
        .catch(() => null);
      if (!found || !found.ok || !found.data.results.length) {
        say(interpolate(gettext("No report %(number)s."), { number: answer.original }, true), "error");
        return;
      }
      body.duplicate_of = found.data.results[0].id;
    }
    if (answer.publicNote) body.public_note = answer.publicNote;
    try {
      const result = await api("POST", `/api/v1/reports/${report.id}/close/`, body);
      if (result.ok) say(interpolate(gettext("%(number)s closed."), { number: report.number }, true), "ok");
      else say((result.data && (result.data.detail || Object.values(result.data).flat().join(" ")))
        || failureMessage(result), "error");
    } catch (error) {
      say(OFFLINE(), "error");
    }
    loadOpenReports();
  }

  /** Asks, in #close-dialog, to close `report` as `reason`: {publicNote, original} — the note a
   * city app's public reads (Open311 reports only: never the internal notes, which may name
   * the caller), the original's number for a duplicate — or null when the operator cancels. */
  function askClose(report, reason) {
    const dialog = $("#close-dialog");
    const note = $("#close-public-note");
    const original = $("#close-original");
    const forPublic = report.source === "open311";
    const duplicate = reason === "duplicate";
    $("#close-number").textContent = report.number;
    $("#close-reason").textContent = config.labels.close[reason];
    $("#close-public").hidden = !forPublic;
    $("#close-duplicate").hidden = !duplicate;
    original.required = duplicate;
    note.value = "";
    original.value = "";
    dialog.returnValue = "";
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue !== "close" ? null
        : { publicNote: forPublic ? note.value.trim() : "", original: original.value.trim() }),
      { once: true });
      dialog.showModal();
      (duplicate ? original : forPublic ? note : dialog.querySelector('button[value="close"]')).focus();
    });
  }

  /** Where a report came from when it was not a call here: a city app or another centre. */
  function sourceNote(report) {
    if (!report.source || report.source === "call") return "";
    const from = report.source === "open311" ? gettext("city app") : gettext("another 112 centre");
    return ` · ${interpolate(gettext("from %(origin)s (%(kind)s)"), { origin: report.origin, kind: from }, true)}`;
  }

  // --- Handover to another 112 centre (EIDO, SPEC §10) ------------------------------------------
  /** Opens the dialog for `report`. The dialog stays open while the peer answers, and on a
   * failure it shows why, so the operator can try again or cancel; only the peer's answer with
   * its own number closes the report here. */
  let handoverReport = null;
  const handoverDialog = $("#handover-dialog");
  if (handoverDialog) {
    handoverDialog.querySelector("form").addEventListener("submit", (event) => {
      if (event.submitter && event.submitter.value === "send") {
        event.preventDefault();
        sendHandover();
      }
    });
  }

  function handOver(report) {
    handoverReport = report;
    const select = $("#handover-centre");
    select.replaceChildren(...config.peer_centres.map((centre) => new Option(centre.name, centre.code)));
    $("#handover-number").textContent = report.number;
    const status = $("#handover-status");
    status.textContent = "";
    status.className = "";
    handoverDialog.showModal();
  }

  async function sendHandover() {
    const report = handoverReport;
    const send = handoverDialog.querySelector('button[value="send"]');
    const status = $("#handover-status");
    const centre = config.peer_centres.find((c) => c.code === $("#handover-centre").value);
    if (!report || !centre || send.disabled) return;
    send.disabled = true;
    status.className = "";
    status.textContent = interpolate(gettext("Sending %(number)s to %(centre)s…"),
      { number: report.number, centre: centre.name }, true);
    let failure = null;
    let result = null;
    try {
      result = await api("POST", `/api/v1/reports/${report.id}/handover/`, { centre: centre.code });
      if (!result.ok) {
        failure = (result.data && (result.data.detail || Object.values(result.data).flat().join(" ")))
          || failureMessage(result);
      }
    } catch (error) {
      failure = OFFLINE();
    }
    send.disabled = false;
    if (failure) {
      status.textContent = failure;
      status.className = "error";
      if (!handoverDialog.open) say(failure, "error");  // closed (Esc) while the peer was asked
    } else {
      handoverDialog.close();
      say(interpolate(gettext("%(number)s handed over to %(centre)s as %(peer)s."),
        { number: report.number, centre: result.data.centre, peer: result.data.peer_number }, true), "ok");
    }
    loadOpenReports();
  }

  let renderedOpen = "";

  async function loadOpenReports() {
    let result;
    try { result = await api("GET", "/api/v1/reports/?status=open&limit=200"); } catch (error) { return; }
    if (!result.ok) return;
    const alarming = (report) => report.assignments.some((a) => window.DispatchUI && window.DispatchUI.alarming(a));
    const reports = result.data.results.sort((a, b) => alarming(b) - alarming(a)
      || a.priority - b.priority || a.received_at.localeCompare(b.received_at));
    $("#open-count").textContent = `(${result.data.count})`;
    // A reload that changes nothing (a live event about another centre's business, a
    // reconnect) leaves the rows alone, and with them the operator's place in the list.
    const signature = JSON.stringify(reports.map((report) => [report, alarming(report)]));
    if (signature === renderedOpen) return;
    renderedOpen = signature;
    const body = $("#open-reports tbody");
    const focused = document.activeElement && document.activeElement.closest("#open-reports tbody tr");
    const focusedId = focused ? focused.dataset.reportId : null;
    body.replaceChildren();
    for (const report of reports) {
      const row = document.createElement("tr");
      row.className = `p${report.priority}${alarming(report) ? " alarm-row" : ""}`;
      row.dataset.report = report.number;
      row.dataset.reportId = report.id;
      // Click, or Enter on the focused row: the report's view (report_view.js).
      row.tabIndex = 0;
      row.setAttribute("aria-label", interpolate(gettext("%(number)s: open its view"), { number: report.number }, true));
      if (window.DispatchReportView && window.DispatchReportView.current() === report.id) row.classList.add("viewing");
      row.addEventListener("click", (event) => {
        if (!event.target.closest("button") && window.DispatchReportView) window.DispatchReportView.open(report.id);
      });
      row.addEventListener("keydown", (event) => {
        if (event.target !== row) return;
        if (event.key === "Enter" && !event.ctrlKey && !event.metaKey && window.DispatchReportView) {
          event.preventDefault();
          window.DispatchReportView.open(report.id);
        } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
          event.preventDefault();
          const next = event.key === "ArrowDown" ? row.nextElementSibling : row.previousElementSibling;
          if (next) next.focus();
        }
      });
      // Two lines per cell keep the list beside the form at 1366 px: the number never wraps.
      const cells = [[report.number, formatTime(report.received_at), "number"], [`P${report.priority}`, "", "priority"],
        [report.category_name, report.address + (report.kecamatan_name ? `, ${report.kecamatan_name}` : "")
          + sourceNote(report), "what"]];
      for (const [first, second, name] of cells) {
        const cell = document.createElement("td");
        cell.className = name;
        const main = document.createElement("span");
        main.className = "main";
        main.textContent = first;
        cell.append(main);
        if (second) {
          const sub = document.createElement("span");
          sub.className = "sub";
          sub.textContent = second;
          cell.append(sub);
        }
        row.append(cell);
      }
      const agencies = document.createElement("td");
      agencies.append(chipsFor(report));
      const actions = document.createElement("div");
      actions.className = "close-as";
      actions.setAttribute("role", "group");
      actions.setAttribute("aria-label", gettext("Close as"));
      for (const reason of ["prank", "non_emergency", "duplicate", "resolved"]) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "small";
        button.textContent = config.labels.close[reason];
        button.addEventListener("click", () => closeReport(report, reason));
        actions.append(button, " ");
      }
      if ((config.peer_centres || []).length) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "small handover";
        button.textContent = gettext("Hand over");
        button.title = gettext("Send to another 112 centre (the caller reached the wrong city)");
        button.addEventListener("click", () => handOver(report));
        actions.append(button);
      }
      agencies.append(actions);
      row.append(agencies);
      body.append(row);
    }
    if (focusedId) {
      const again = body.querySelector(`tr[data-report-id="${focusedId}"]`);
      if (again) again.focus();
    }
  }

  // --- Wiring -------------------------------------------------------------------------------------------
  function fillKecamatan() {
    for (const kecamatan of config.kecamatan) {
      const option = document.createElement("option");
      option.value = kecamatan.code;
      option.textContent = kecamatan.name;
      fields.kecamatan.append(option);
    }
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); submitReport(); });
  form.addEventListener("input", () => { if (isDirty()) startCall(); saveDraft(); });
  fields.phone.addEventListener("input", () => { lookUpPhone(); refreshDuplicates(); renderAml(); });
  fields.kecamatan.addEventListener("change", refreshDuplicates);
  fields.category.addEventListener("input", () => {
    const chosen = categoryByCode[state.category];
    if (!chosen || chosen.name !== fields.category.value) state.category = null;
    openOptions();
  });
  fields.category.addEventListener("focus", () => { if (!state.category) openOptions(); });
  fields.category.addEventListener("blur", () => setTimeout(closeOptions, 100));
  fields.category.addEventListener("keydown", (event) => {
    const open = state.options.length > 0;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!open) { openOptions(); return; }
      const step = event.key === "ArrowDown" ? 1 : -1;
      state.highlighted = (state.highlighted + step + state.options.length) % state.options.length;
      renderOptions();
    } else if (event.key === "Enter" && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      if (open) {
        chooseCategory(state.options[state.highlighted]);
        fields.kecamatan.focus();
      }
    } else if (event.key === "Tab" && open && !event.shiftKey) {
      chooseCategory(state.options[state.highlighted]);
    } else if (event.key === "Escape") {
      closeOptions();
    }
  });
  $("#new-call").addEventListener("click", newCall);
  $("#use-aml").addEventListener("click", useAml);
  $("#clear-pin").addEventListener("click", () => { setPin(null, null); refreshDuplicates(); saveDraft(); });
  document.querySelectorAll("[data-outcome]").forEach((button) => {
    button.addEventListener("click", () => logCall(button.dataset.outcome));
  });

  const OUTCOME_KEYS = { KeyI: "information", KeyP: "prank", KeyG: "ghost", KeyL: "other" };
  document.addEventListener("keydown", (event) => {
    if (event.key === "F2") {
      event.preventDefault();
      newCall();
    } else if (event.altKey && !event.ctrlKey && OUTCOME_KEYS[event.code]) {
      event.preventDefault();
      logCall(OUTCOME_KEYS[event.code]);
    } else if (event.altKey && !event.ctrlKey && event.code === "KeyA") {
      event.preventDefault();
      useAml();
    } else if (event.altKey && !event.ctrlKey && /^Digit[1-9]$/.test(event.code)) {
      const report = state.duplicates[Number(event.code.slice(5)) - 1];
      if (report) { event.preventDefault(); logCall("attached", report.id); }
    } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      submitReport();
    }
  });
  window.addEventListener("storage", (event) => {
    if (event.key === DRAFT_KEY && event.newValue === null && !isDirty()) resetForm();
  });

  // What the report's view (report_view.js) shares with the console.
  window.DispatchConsole = { api, say, formatTime, closeReport, handOver, failureMessage,
    reload: loadOpenReports, hasPeers: () => (config.peer_centres || []).length > 0, isDirty };

  fillKecamatan();
  renderChips();
  renderDuplicates();
  setupMap();
  restoreDraft();
  renderClock();
  setInterval(renderClock, 1000);
  loadOpenReports();
  // Live: any event reloads the open list (debounced); a slow poll is only a safety net.
  let reloadTimer = null;
  const reloadSoon = () => { clearTimeout(reloadTimer); reloadTimer = setTimeout(loadOpenReports, 150); };
  const onEvent = (event) => {
    if (!event.report) return; // a unit's own event: the open reports did not change
    document.dispatchEvent(new CustomEvent("dispatch:event", { detail: event }));
    if (event.kind === "assignment.escalated" || event.kind === "assignment.overdue") window.DispatchUI.beep(true);
    reloadSoon();
  };
  const onSnapshot = (snapshot) => {
    phoneCalls.clear();
    for (const frame of snapshot.phone_calls || []) onPhoneCall(frame, false);
    for (const frame of snapshot.aml || []) onAml(frame);
    renderIncoming();
    reloadSoon();
    document.dispatchEvent(new CustomEvent("dispatch:snapshot"));
  };
  const onLive = (frame) => {
    if (frame.type === "telephony.call") onPhoneCall(frame, true);
    else if (frame.type === "aml.location") onAml(frame);
  };
  if (window.DispatchLive) {
    window.DispatchLive({ onSnapshot, onEvent, onLive, onStatus: window.DispatchUI.banner });
  }
  setInterval(loadOpenReports, 60000);
})();
