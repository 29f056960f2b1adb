/* Dispatch 112 — Web Push in a service worker (SPEC §12, issue 40 §4): a classic script that
 * the field app's worker (/field/sw.js) and the agency desk's (/api/v1/push/worker.js) load
 * with importScripts(). A push shows the new assignment or dispatch even with every tab
 * closed; tapping it opens the card: an open tab of the app is brought forward and told which
 * card (push.js), else the app opens at it. Messages come from reports/push.py. */
"use strict";

self.addEventListener("push", (event) => {
  let message = {};
  try { message = event.data ? event.data.json() : {}; } catch (error) { message = {}; }
  const options = {
    body: message.body || "",
    data: { url: message.url || "" },
    icon: message.icon || undefined,
    vibrate: [300, 100, 300, 100, 300],
    // A priority 1 incident stays on screen until someone acts on it.
    requireInteraction: message.priority === 1,
    timestamp: Date.now(),
  };
  if (message.tag) {
    // One notification per card: a later message about it replaces it, and still rings.
    options.tag = message.tag;
    options.renotify = true;
  }
  event.waitUntil(self.registration.showNotification(message.title || "Dispatch 112", options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(openCard(cardUrl(event.notification.data)));
});

/** Where a tap goes: the message's path on this site, else the app's start (the scope). */
function cardUrl(data) {
  const path = data && typeof data.url === "string" ? data.url : "";
  // Only a path of this site: never another origin ("//host" is one).
  if (path.startsWith("/") && !path.startsWith("//")) return self.location.origin + path;
  return self.registration.scope;
}

async function openCard(url) {
  const page = url.split("#")[0];
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const open = windows.find((client) => client.url.split("#")[0] === page);
  if (open) {
    open.postMessage({ type: "push.open", url });
    // Focusing needs the tap that started this: without one it is refused, and the tab
    // has been told which card anyway.
    try { await open.focus(); } catch (error) { /* not allowed: no tap */ }
    return;
  }
  await self.clients.openWindow(url);
}
