// Service worker of the shelter app, served at /sw.js (scope /) by shelter_app/pwa.
// The shell (offline page, styles, scripts, icons) is cached on install under a name that
// changes with every release; pages are fetched from the network only, because they can
// show resident data, and a navigation that fails gets the cached offline page.
"use strict";

const CACHE_PREFIX = "shelter-shell-";
const CACHE = CACHE_PREFIX + {{ version|tojson }};
const OFFLINE_URL = {{ offline_url|tojson }};
const PRECACHE = {{ precache|tojson }};
const STATIC_PATH = "/static/";

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // A static URL names its content (?v=hash): the copy the page just loaded into the HTTP cache is
    // the same file, so it is taken from there instead of being downloaded twice. The offline page has
    // no such name: "reload" fetches it from the server, never an older copy.
    await cache.addAll(PRECACHE.map((url) => new Request(url, {
      cache: new URL(url, self.location.origin).searchParams.has("v") ? "default" : "reload",
    })));
  })());
  // A first install takes over at once; an update waits until the page asks (its "reload" prompt).
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names
      .filter((name) => name.startsWith(CACHE_PREFIX) && name !== CACHE)
      .map((name) => caches.delete(name)));
    if (self.registration.navigationPreload) {
      await self.registration.navigationPreload.enable();
    }
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "skip-waiting") {
    self.skipWaiting();
  }
});

async function networkOrOfflinePage(event) {
  try {
    const preloaded = await event.preloadResponse;
    if (preloaded) return preloaded;
    return await fetch(event.request);
  } catch (error) {
    const cache = await caches.open(CACHE);
    const offline = await cache.match(OFFLINE_URL, { ignoreVary: true });
    return offline || Response.error();
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request, { ignoreVary: true });
  if (cached) return cached;
  const response = await fetch(request);
  // Static URLs carry a content hash: a copy never goes stale within this release.
  if (response.ok && new URL(request.url).searchParams.has("v")) {
    await cache.put(request, response.clone());
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    // Network only: pages are never cached, whatever they show.
    event.respondWith(networkOrOfflinePage(event));
    return;
  }
  if (url.pathname.startsWith(STATIC_PATH)) {
    event.respondWith(cacheFirst(request));
  }
  // Everything else (htmx fragments, the API) goes to the network untouched: when it
  // fails the page shows its own offline notice.
});
