/* The offline page: a service worker (/my/sw.js, static/sw.js) keeps this page and
   its assets, so a reload with no signal works. */

export function keepOffline(form) {
  if (!("serviceWorker" in navigator) || form.dataset.swUrl === "") return;
  const url = form.dataset.swUrl || "/my/sw.js";
  const firstVisit = !navigator.serviceWorker.controller;
  navigator.serviceWorker.register(url, { scope: "/my/" }).then(() => navigator.serviceWorker.ready).then((reg) => {
    // Pages fetched through the worker are kept as they pass; this first one was not,
    // nor its scripts, stylesheets and modules (every module is preloaded by the page).
    if (!firstVisit || !reg.active) return;
    const assets = [...document.querySelectorAll("script[src], link[rel=stylesheet][href], link[rel=modulepreload][href]")]
      .map((el) => new URL(el.src || el.href, location.href))
      .filter((u) => u.origin === location.origin)
      .map((u) => u.pathname + u.search);
    reg.active.postMessage({ type: "keep", urls: [location.pathname + location.search, ...new Set(assets)] });
  }).catch(() => { /* no offline reload, everything else still works */ });
}
