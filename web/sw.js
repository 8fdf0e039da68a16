// The service worker: keeps the staff app's files (FILES, fetched at install) so it opens offline; the coordinator's
// desk (desk.html, desk/) is kept as it is first loaded, so a phone never downloads it. The API and the residents'
// door-card pages (/d/…) are never cached: the API belongs to the engine's sync, which keeps its own state in the
// store. BUILD and FILES are filled in by scripts/build-web.sh.
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
  if (e.request.method !== "GET" || url.origin !== location.origin) return;
  if (url.pathname.startsWith("/api/") || url.pathname.startsWith("/d/")) return;
  // The staff app routes on the client: any page but the desk's is index.html.
  const key = e.request.mode === "navigate" && url.pathname !== "/desk.html" ? "/index.html" : url.pathname;
  e.respondWith(
    caches.open(CACHE).then((c) => c.match(key).then((hit) =>
      hit || fetch(e.request).then((r) => {
        if (r.ok) c.put(key, r.clone());
        return r;
      }).catch(() => new Response("offline: not part of the app", { status: 504 })))),
  );
});
