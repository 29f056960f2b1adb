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
        handlers.onStatus && handlers.onStatus("connected");
        // Back after a drop: ask for everything since the last event this screen saw.
        if (resumeFrom !== null) socket.send(JSON.stringify({ type: "resume", last_event_id: resumeFrom }));
        return;
      }
      if (data.event_id === undefined || seen.has(data.event_id)) return;
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
  };
};

/* Shared helpers for the live screens. */
window.DispatchUI = {
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
