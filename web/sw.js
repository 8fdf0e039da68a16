// The service worker: keeps every file of this build so the app opens offline. The API is never cached; it
// belongs to the engine's sync, which keeps its own state in the store. BUILD and FILES are filled in by
// scripts/build-web.sh.
const BUILD = "__BUILD__";
const FILES = __FILES__;
const CACHE = "jx-app-" + BUILD;

self.addEventListener("install", (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (e) => {
  e.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("jx-app-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== "GET" || url.origin !== location.origin || url.pathname.startsWith("/api/")) return;
  // The app routes on the client: any page is index.html.
  const key = e.request.mode === "navigate" ? "/index.html" : url.pathname;
  e.respondWith(
    caches.open(CACHE).then((c) => c.match(key)).then((hit) =>
      hit || fetch(e.request).catch(() => new Response("offline: not part of the app", { status: 504 }))),
  );
});
