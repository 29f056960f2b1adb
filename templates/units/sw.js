{% load static %}/* Dispatch 112 field app — service worker (scope /field/). The app shell is cached at
 * install, so the app opens with no network after one visit; every GET of the shell and of
 * the API is network-first (fresh data when there is signal) with the cached copy as the
 * fallback. Taps are never sent from here: the page queues them (field.js). */
"use strict";
// Web Push (SPEC §12): a new dispatch to the unit shows with the app closed; a tap opens it.
importScripts("{% static 'js/push_sw.js' %}");
const CACHE = "dispatch112-{{ version }}";
const SHELL = {{ shell|safe }};

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(
    keys.filter((key) => key.startsWith("dispatch112-") && key !== CACHE).map((key) => caches.delete(key)),
  )).then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  // The API is never cached: callers' data stays off the phone's disk (the page keeps the
  // current assignment, masked, for when it opens offline).
  if (url.pathname.startsWith("/ws/") || url.pathname.startsWith("/api/")) return;
  event.respondWith(fetch(request).then((response) => {
    if (response.ok && response.type === "basic") {
      const copy = response.clone();
      caches.open(CACHE).then((cache) => cache.put(request, copy));
    }
    return response;
  }).catch(() => caches.match(request, { ignoreVary: true }).then((cached) => cached
    || (request.mode === "navigate" ? caches.match("{{ start }}") : Response.error()))));
});
