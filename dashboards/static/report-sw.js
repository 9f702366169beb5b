/* The service worker of /report: keeps the page itself on the phone, so it opens (and
 * its queued reports stay visible and keep being retried) with no network at all.
 * Network first, the cache when the network fails; the APIs and sockets are never cached.
 */
"use strict";

const CACHE = "votewire-report-v5";
const FONTS = "/static/vendor/fonts/";
const SHELL = [
  "/report",
  "/static/report.js",
  "/static/report-page.js",
  "/static/report-session.js",
  "/static/report-form.js",
  "/static/report-checks.js",
  "/static/report-result.js",
  "/static/report-outbox.js",
  "/static/report-delivery.js",
  "/static/report-lists.js",
  "/static/report-province.js",
  "/static/feed.js",
  "/static/format.js",
  "/static/labels.js",
  "/static/clock.js",
  "/static/report.css",
  `${FONTS}noto-sans-vietnamese-400-normal.woff2`,
  `${FONTS}noto-sans-vietnamese-700-normal.woff2`,
  `${FONTS}noto-sans-latin-400-normal.woff2`,
  `${FONTS}noto-sans-latin-700-normal.woff2`,
  `${FONTS}noto-sans-latin-ext-400-normal.woff2`,
  `${FONTS}noto-sans-latin-ext-700-normal.woff2`,
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => Promise.all(SHELL.map((url) => cache.add(url).catch(() => null))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname !== "/report" && !url.pathname.startsWith("/static/")) return;
  event.respondWith(networkFirst(request, url));
});

async function networkFirst(request, url) {
  const cache = await caches.open(CACHE);
  const key = url.pathname; // /report?lang=en and /report#token=… are the same page
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(key, response.clone());
    return response;
  } catch (err) {
    const hit = await cache.match(key);
    if (hit) return hit;
    throw err;
  }
}
