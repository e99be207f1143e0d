/* Service worker for the shopper's pages (scope /my/, served by views/offline.py).

   Its one job: a visit form the shopper has opened loads again with no signal, so the
   answers kept in IndexedDB by the form's modules (static/visit_form/) can be shown
   and synced later.

   - Visit form pages (/my/visits/<id>/form): network first, and every good answer is
     kept; with no network (or none within a few seconds) the kept copy is served.
   - /static/ files: served from the cache at once, refreshed in the background.
   - Everything else (drafts, uploads, submissions, other pages) goes to the network
     untouched: the page script owns retries, so nothing is replayed behind its back.

   The page asks to keep its own URL and assets (its scripts, stylesheets and every
   module it preloads) on its first visit, which this worker did not yet see ({type:
   "keep", urls}), and to drop a submitted form ({type: "forget"}). The assets are kept
   before the page, so a kept page always finds what it needs. */
"use strict";

const VERSION = "1";
const PAGES = "auditapp-pages-" + VERSION;
const STATIC = "auditapp-static-" + VERSION;
const FORM_PAGE = /^\/my\/visits\/\d+\/form$/;
const NETWORK_WAIT_MS = 5000; // a weak signal: fall back to the kept page after this

self.addEventListener("install", () => self.skipWaiting());

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names
      .filter((name) => name.startsWith("auditapp-") && name !== PAGES && name !== STATIC)
      .map((name) => caches.delete(name)));
    await self.clients.claim();
  })());
});

// Only complete, same-origin pages are kept: never a redirect to the sign-in page.
const keepable = (response) => response && response.ok && response.type === "basic" && !response.redirected;

async function put(cacheName, request, response) {
  if (keepable(response)) await (await caches.open(cacheName)).put(request, response);
}

async function formPage(event) {
  const request = event.request;
  const network = fetch(request).then(async (response) => {
    await put(PAGES, request, response.clone());
    return response;
  });
  event.waitUntil(network.catch(() => null));
  const kept = () => caches.match(request, { cacheName: PAGES, ignoreSearch: true, ignoreVary: true });
  const late = new Promise((resolve) => setTimeout(resolve, NETWORK_WAIT_MS)).then(kept);
  try {
    // Whichever comes first: the network, or (after a wait) a kept copy.
    const first = await Promise.race([network, late.then((r) => r || network)]);
    return first;
  } catch (error) {
    const copy = await kept();
    if (copy) return copy;
    throw error;
  }
}

async function staticFile(event) {
  const request = event.request;
  const cached = await caches.match(request, { cacheName: STATIC });
  const fresh = fetch(request).then(async (response) => {
    await put(STATIC, request, response.clone());
    return response;
  });
  if (cached) {
    event.waitUntil(fresh.catch(() => null)); // next load gets the new file
    return cached;
  }
  return fresh;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && FORM_PAGE.test(url.pathname)) {
    event.respondWith(formPage(event));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(staticFile(event));
  }
});

self.addEventListener("message", (event) => {
  const message = event.data || {};
  const urls = (message.urls || []).concat(message.url ? [message.url] : [])
    .map((u) => new URL(u, self.location.origin))
    .filter((u) => u.origin === self.location.origin);
  if (message.type === "keep") {
    const keep = async (cacheName, u) => {
      try {
        await put(cacheName, u.href, await fetch(u.href, { credentials: "same-origin" }));
      } catch (error) { /* offline: kept on the next visit */ }
    };
    const assets = urls.filter((u) => u.pathname.startsWith("/static/"));
    const pages = urls.filter((u) => FORM_PAGE.test(u.pathname));
    event.waitUntil(Promise.all(assets.map((u) => keep(STATIC, u)))
      .then(() => Promise.all(pages.map((u) => keep(PAGES, u)))));
  } else if (message.type === "forget") {
    event.waitUntil(caches.open(PAGES).then((cache) => Promise.all(urls.map((u) => cache.delete(u.href)))));
  }
});
