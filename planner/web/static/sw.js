/* Keeps the phone view's shell on the phone so it opens without signal. Pages and
 * scripts: network first, the cached copy when offline. The JSON API is never cached
 * here (the page keeps its own copy of the run and its queue in localStorage). */
"use strict";
const CACHE = "planner-driver-v1";
const SHELL = ["/driver/", "/static/driver.js", "/static/style.css", "/driver/manifest.webmanifest"];

self.addEventListener("install", (ev) => {
  ev.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});
self.addEventListener("activate", (ev) => {
  ev.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});
self.addEventListener("fetch", (ev) => {
  const url = new URL(ev.request.url);
  if (ev.request.method !== "GET" || url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  const key = url.pathname;
  ev.respondWith(fetch(ev.request).then((r) => {
    if (r.ok && SHELL.includes(key)) { const copy = r.clone(); caches.open(CACHE).then((c) => c.put(key, copy)); }
    return r;
  }).catch(() => caches.match(key).then((hit) => hit || Response.error())));
});
