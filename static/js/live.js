/* Dispatch 112 — the live connection every screen shares (/ws/events/, SPEC §5).
 * Reconnects by itself with backoff, resumes from the last event it saw, ignores events it
 * already has, and keeps the server's clock (so countdowns ignore a wrong PC clock). */
"use strict";
window.DispatchLive = function DispatchLive(handlers) {
  const SEEN_LIMIT = 5000;
  const seen = new Set();
  let lastEventId = null;
  let offset = 0;
  let delay = 1000;
  let socket = null;
  let timer = null;

  function remember(id) {
    seen.add(id);
    if (seen.size > SEEN_LIMIT) seen.delete(seen.values().next().value);
    if (lastEventId === null || id > lastEventId) lastEventId = id;
  }

  const clock = () => new Date(Date.now() + offset);

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${window.location.host}/ws/events/`);
    socket.addEventListener("open", () => { delay = 1000; });
    socket.addEventListener("message", (message) => {
      const data = JSON.parse(message.data);
      if (data.server_time) offset = Date.parse(data.server_time) - Date.now();
      if (data.type === "snapshot") {
        const resumeFrom = lastEventId;
        if (lastEventId === null || data.last_event_id > lastEventId) lastEventId = data.last_event_id;
        handlers.onSnapshot && handlers.onSnapshot(data);
        if (window.DispatchAlerts) window.DispatchAlerts.snapshot(data.cap_alerts, clock);
        handlers.onStatus && handlers.onStatus("connected");
        // Back after a drop: ask for everything since the last event this screen saw.
        if (resumeFrom !== null) socket.send(JSON.stringify({ type: "resume", last_event_id: resumeFrom }));
        return;
      }
      if (data.event_id === undefined) {
        // Official warnings are every screen's that shows the banner, not one screen's.
        if (typeof data.type === "string" && data.type.startsWith("cap.")) {
          if (window.DispatchAlerts) window.DispatchAlerts.live(data, clock);
          return;
        }
        handlers.onLive && handlers.onLive(data);
        return;
      }
      if (seen.has(data.event_id)) return;
      remember(data.event_id);
      handlers.onEvent && handlers.onEvent(data);
    });
    socket.addEventListener("close", (event) => {
      if (event.code === 4401) { handlers.onStatus && handlers.onStatus("unauthorized"); return; }
      handlers.onStatus && handlers.onStatus("disconnected");
      clearTimeout(timer);
      timer = setTimeout(connect, delay + Math.random() * 500);
      delay = Math.min(delay * 2, 15000);
    });
  }

  connect();
  return {
    now: () => new Date(Date.now() + offset),
    close: () => { clearTimeout(timer); if (socket) socket.close(); },
    /** Sends a frame if the socket is open (the field app's positions); false otherwise. */
    send: (frame) => {
      if (!socket || socket.readyState !== WebSocket.OPEN) return false;
      socket.send(JSON.stringify(frame));
      return true;
    },
  };
};

/* Shared helpers for the live screens. */
let audioContext = null;
// Browsers start audio only after a user gesture: unlock it on the first tap anywhere.
document.addEventListener("pointerdown", () => {
  try { audioContext = audioContext || new (window.AudioContext || window.webkitAudioContext)(); audioContext.resume(); } catch (error) { /* no audio */ }
}, { once: true });
window.DispatchUI = {
  SOUND_KEY: "dispatch112.sound",
  soundOn() { return localStorage.getItem(window.DispatchUI.SOUND_KEY) !== "off"; },
  /** Three short beeps for new work; five urgent ones for an escalation. */
  beep(urgent) {
    if (!window.DispatchUI.soundOn()) return;
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
  },
  /** Needs attention now: escalated and still unacknowledged, or overdue and not on scene. */
  alarming(assignment) {
    return window.DispatchUI.alarm(assignment) !== null;  // passed around unbound (.some)
  },
  /** The alarm in words and an icon, not only in red (colour-blind users, the wall screen
   *  across the room): "Past the target" once the response target passed without a unit on
   *  scene, else "Late to acknowledge" while an escalated assignment waits; "" otherwise. */
  alarm(assignment) {
    if (assignment.overdue_at && ["notified", "acknowledged", "dispatched"].includes(assignment.status)) {
      return { kind: "overdue", words: gettext("Past the target") };
    }
    if (assignment.escalated_at && assignment.status === "notified") {
      return { kind: "escalated", words: gettext("Late to acknowledge") };
    }
    return null;
  },
  /** The alarm as an element to put in a chip or a card (null when there is none); its
   *  icon (a warning sign, a clock) is drawn by live.css, from a file: no emoji font needed. */
  alarmBadge(assignment) {
    const alarm = window.DispatchUI.alarm(assignment);
    if (!alarm) return null;
    const badge = document.createElement("span");
    badge.className = `alarm-word ${alarm.kind}`;
    badge.textContent = alarm.words;
    return badge;
  },
  csrf() {
    const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  },
  async api(method, url, body) {
    const response = await fetch(url, {
      method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json",
                 "X-CSRFToken": window.DispatchUI.csrf() },
      body: body === undefined ? undefined : JSON.stringify(body),
      // A server that never answers must not leave the operator waiting: after this the
      // caller's catch says so (and the console keeps its draft).
      signal: AbortSignal.timeout(15000),
    });
    let data = null;
    try { data = await response.json(); } catch (error) { data = null; }
    return { ok: response.ok, status: response.status, data };
  },
  duration(ms) {
    const negative = ms < 0;
    const seconds = Math.floor(Math.abs(ms) / 1000);
    const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    const text = (h ? `${h}:${String(m).padStart(2, "0")}` : String(m)) + `:${String(s).padStart(2, "0")}`;
    return negative ? `-${text}` : text;
  },
  time(iso) {
    return `${new Intl.DateTimeFormat(document.documentElement.lang || "id",
      { timeZone: "Asia/Jakarta", hour: "2-digit", minute: "2-digit" }).format(new Date(iso))} WIB`;
  },
  /** green / amber / red against the agency's response target */
  level(elapsedMs, targetSeconds) {
    const ratio = elapsedMs / 1000 / targetSeconds;
    return ratio >= 1 ? "red" : ratio >= 0.7 ? "amber" : "green";
  },
  banner(status) {
    const banner = document.getElementById("live-banner");
    if (!banner) return;
    if (status === "unauthorized") { window.location.href = "/accounts/login/?next=" + encodeURIComponent(window.location.pathname); return; }
    banner.hidden = status === "connected";
  },
};
