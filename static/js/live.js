/* Dispatch 112 — the client every screen shares: `api()` for /api/v1/ and `connectLive()` for
 * /ws/events/ (SPEC §5 and §12a), with the small helpers the live screens have in common
 * (alarms, clocks, the beep). An ES module; the field app's offline shell caches this file,
 * so it imports nothing.
 *
 * The live connection reconnects by itself (a jittered back-off of at most 2 s, or sooner
 * when the server says when), passing the last event it applied: `?last_event_id=N`. The
 * server then sends the snapshot, every event after N in id order, then live ones; this side
 * also drops any event at or below the last one applied (a repeat, or older than the
 * snapshot), so no screen ever applies an older event over newer state. Keeps the server's
 * clock (countdowns ignore a wrong PC clock). */

// A server that never answers must not leave anyone waiting: after this the caller's catch
// says so (the console keeps its draft, the field app its queued taps).
const REQUEST_TIMEOUT_MS = 10000;

export function csrf() {
  const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

/** Calls the API: resolves {ok, status, data, retryAfter}; throws on a network failure or
 * the timeout. In the page's language: the API's errors read as the page does, whatever the
 * browser's own language (issue 37 §1). `headers` adds to the defaults (Idempotency-Key). */
export async function api(method, url, body, headers = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  try {
    const response = await fetch(url, {
      method, credentials: "same-origin", signal: controller.signal,
      headers: { "Content-Type": "application/json", Accept: "application/json",
                 "Accept-Language": document.documentElement.lang || "id",
                 "X-CSRFToken": csrf(), ...headers },
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

// Official warnings (CAP, alerts.js) are every screen's that shows the banner: the page that
// has the banner registers here, and the connection hands it the `cap.*` frames.
let warnings = null;
export function onWarnings(listener) { warnings = listener; }

/** Opens the live connection: `handlers` are onSnapshot, onEvent (events with an id, each
 * applied once, in order), onLive (frames without one: positions, calls) and onStatus. */
export function connectLive(handlers) {
  const SEEN_LIMIT = 5000;
  const MAX_DELAY = 2000; // ms: dashboards are live again within ~2 s of the server's return
  const seen = new Set();
  let lastEventId = null; // the highest event id applied (or covered by a snapshot)
  let offset = 0;
  let attempts = 0;
  let hint = null; // ms the server asked to wait (its `unavailable` frame before a 4500)
  let socket = null;
  let timer = null;

  function remember(id) {
    seen.add(id);
    if (seen.size > SEEN_LIMIT) seen.delete(seen.values().next().value);
    if (lastEventId === null || id > lastEventId) lastEventId = id;
  }

  const clock = () => new Date(Date.now() + offset);

  /** The wait before the next attempt: doubling from the server's hint (or 250 ms), capped
   *  at MAX_DELAY, jittered (half to all of it) so that dashboards do not come back at once. */
  function backoff() {
    const base = Math.min(MAX_DELAY, Math.max(hint === null ? 250 : hint, 100) * 2 ** attempts);
    attempts += 1;
    return Math.round(base / 2 + Math.random() * (base / 2));
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const query = lastEventId === null ? "" : `?last_event_id=${lastEventId}`;
    socket = new WebSocket(`${scheme}://${window.location.host}/ws/events/${query}`);
    socket.addEventListener("message", (message) => {
      const data = JSON.parse(message.data);
      if (data.server_time) offset = Date.parse(data.server_time) - Date.now();
      if (data.type === "unavailable") {
        hint = typeof data.retry_after_ms === "number" ? data.retry_after_ms : null;
        return;
      }
      if (data.type === "snapshot") {
        attempts = 0;
        hint = null;
        // A first connect: the snapshot holds everything up to its mark. A reconnect: the
        // events after our mark follow, read after the snapshot (never older than it). A
        // mark above the server's (a database restored from a backup) starts again.
        if (lastEventId === null || data.last_event_id < lastEventId) {
          lastEventId = data.last_event_id;
          seen.clear();
        }
        handlers.onSnapshot && handlers.onSnapshot(data);
        if (handlers.receipts) acknowledgeSnapshot(data);
        if (warnings) warnings.snapshot(data.cap_alerts, clock);
        handlers.onStatus && handlers.onStatus("connected");
        return;
      }
      if (data.event_id === undefined) {
        // Official warnings are every screen's that shows the banner, not one screen's.
        if (typeof data.type === "string" && data.type.startsWith("cap.")) {
          if (warnings) warnings.live(data, clock);
          return;
        }
        handlers.onLive && handlers.onLive(data);
        return;
      }
      // A repeat, or older than what this screen already shows: never applied.
      if (seen.has(data.event_id) || (lastEventId !== null && data.event_id <= lastEventId)) return;
      remember(data.event_id);
      handlers.onEvent && handlers.onEvent(data);
      // Shown: the new work reached this agency's screen (SPEC §12). Only the frames that
      // bring new work are acknowledged: the others would tell the server nothing.
      if (handlers.receipts && data.type === "assignment.created") send({ type: "ack", event_id: data.event_id });
    });
    socket.addEventListener("close", (event) => {
      if (event.code === 4401) { handlers.onStatus && handlers.onStatus("unauthorized"); return; }
      handlers.onStatus && handlers.onStatus("disconnected");
      clearTimeout(timer);
      timer = setTimeout(connect, backoff());
    });
  }

  function send(frame) {
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  /** The cards a snapshot drew that no screen of the agency had shown yet: delivered now. */
  function acknowledgeSnapshot(data) {
    const ids = (data.assignments || []).filter((a) => !a.delivered_at).map((a) => a.id);
    if (ids.length) send({ type: "ack", assignments: ids.slice(0, 500) });
  }

  connect();
  return {
    now: () => new Date(Date.now() + offset),
    close: () => { clearTimeout(timer); if (socket) socket.close(); },
    /** Sends a frame if the socket is open (the field app's positions); false otherwise. */
    send,
    /** The last event id applied (tests, diagnostics). */
    lastEventId: () => lastEventId,
  };
}

// --- What the live screens show alike ------------------------------------------------------------
let audioContext = null;
// Browsers start audio only after a user gesture: unlock it on the first tap anywhere.
document.addEventListener("pointerdown", () => {
  try { audioContext = audioContext || new (window.AudioContext || window.webkitAudioContext)(); audioContext.resume(); } catch (error) { /* no audio */ }
}, { once: true });

export const SOUND_KEY = "dispatch112.sound";
export function soundOn() { return localStorage.getItem(SOUND_KEY) !== "off"; }

/** Three short beeps for new work; five urgent ones for an escalation. */
export function beep(urgent) {
  if (!soundOn()) return;
  try {
    audioContext = audioContext || new (window.AudioContext || window.webkitAudioContext)();
    const count = urgent ? 5 : 3;
    for (let i = 0; i < count; i += 1) {
      const at = audioContext.currentTime + i * (urgent ? 0.18 : 0.25);
      const tone = audioContext.createOscillator();
      const gain = audioContext.createGain();
      tone.frequency.value = urgent ? 1320 : 880;
      gain.gain.value = 0.2;
      tone.connect(gain).connect(audioContext.destination);
      tone.start(at);
      tone.stop(at + 0.12);
    }
  } catch (error) { /* no audio device: the colours still show */ }
}

/** The alarm in words and an icon, not only in red (colour-blind users, the wall screen
 *  across the room): "Past the target" once the response target passed without a unit on
 *  scene, else "Late to acknowledge" while an escalated assignment waits; null otherwise. */
export function alarm(assignment) {
  if (assignment.overdue_at && ["notified", "acknowledged", "dispatched"].includes(assignment.status)) {
    return { kind: "overdue", words: gettext("Past the target") };
  }
  if (assignment.escalated_at && assignment.status === "notified") {
    return { kind: "escalated", words: gettext("Late to acknowledge") };
  }
  return null;
}

/** Needs attention now: escalated and still unacknowledged, or overdue and not on scene. */
export function alarming(assignment) {
  return alarm(assignment) !== null;
}

/** The alarm as an element to put in a chip or a card (null when there is none); its
 *  icon (a warning sign, a clock) is drawn by live.css, from a file: no emoji font needed. */
export function alarmBadge(assignment) {
  const found = alarm(assignment);
  if (!found) return null;
  const badge = document.createElement("span");
  badge.className = `alarm-word ${found.kind}`;
  badge.textContent = found.words;
  return badge;
}

export function duration(ms) {
  const negative = ms < 0;
  const seconds = Math.floor(Math.abs(ms) / 1000);
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
  const text = (h ? `${h}:${String(m).padStart(2, "0")}` : String(m)) + `:${String(s).padStart(2, "0")}`;
  return negative ? `-${text}` : text;
}

/** A time of day in Jakarta's zone, in the page's language ("14.05 WIB"); with the day too
 *  when `withDate`. */
export function time(iso, withDate) {
  const options = { timeZone: "Asia/Jakarta", hour: "2-digit", minute: "2-digit" };
  if (withDate) Object.assign(options, { day: "numeric", month: "short" });
  return `${new Intl.DateTimeFormat(document.documentElement.lang || "id", options).format(new Date(iso))} WIB`;
}

/** green / amber / red against the agency's response target */
export function level(elapsedMs, targetSeconds) {
  const ratio = elapsedMs / 1000 / targetSeconds;
  return ratio >= 1 ? "red" : ratio >= 0.7 ? "amber" : "green";
}

/** Seen (SPEC §12): tells the server, once per assignment, that a card of it (an element
 *  with `data-assignment` under `root`) is at least half on screen while the page is
 *  visible, i.e. a person of the agency has it in front of them. `live` is connectLive's
 *  connection; a receipt that could not be sent (no socket) is tried again. */
export function watchSeen(live, root) {
  const sent = new Set();
  const visible = new Set();
  function report() {
    if (document.visibilityState !== "visible") return;
    for (const element of visible) {
      const id = Number(element.dataset.assignment);
      if (!id || sent.has(id) || !element.isConnected) continue;
      if (live.send({ type: "seen", assignment: id })) sent.add(id);
    }
  }
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (entry.isIntersecting) visible.add(entry.target); else visible.delete(entry.target);
    }
    report();
  }, { threshold: 0.5 });
  const observeAll = () => {
    if (root.dataset.assignment !== undefined) observer.observe(root);
    root.querySelectorAll("[data-assignment]").forEach((element) => observer.observe(element));
    report();
  };
  new MutationObserver(observeAll).observe(root, {
    childList: true, subtree: true, attributes: true, attributeFilter: ["data-assignment"],
  });
  document.addEventListener("visibilitychange", report);
  setInterval(report, 5000);
  observeAll();
}

/** A time of day with seconds, in Jakarta's zone ("14.02.03"): receipts are seconds apart. */
export function clockTime(iso) {
  return new Intl.DateTimeFormat(document.documentElement.lang || "id",
    { timeZone: "Asia/Jakarta", hour: "2-digit", minute: "2-digit", second: "2-digit" }).format(new Date(iso));
}

/** The "connection lost" banner follows the live status; a session that ended logs in again. */
export function banner(status) {
  const element = document.getElementById("live-banner");
  if (!element) return;
  if (status === "unauthorized") { window.location.href = "/accounts/login/?next=" + encodeURIComponent(window.location.pathname); return; }
  element.hidden = status === "connected";
}

// The page's client, for the browser's console and the tests (they call the API from it).
window.DispatchUI = { api, csrf, SOUND_KEY, soundOn, beep, alarm, alarming, alarmBadge, duration, time, level, banner };
