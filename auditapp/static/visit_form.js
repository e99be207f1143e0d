/* The shopper's visit form on a phone: offline-safe, with evidence.

   Progressive enhancement of templates/visit_form/form.html: without this script the
   form still posts (Save / Submit) like any other. With it:

   - every change is kept in IndexedDB (db "auditapp") and, when online, saved as a
     server draft; the banner says what is not yet on the server;
   - a submission carries one client id per visit, kept in IndexedDB, so a retry,
     a reload or a double tap can never make a second one; offline it is queued;
   - photos are kept in IndexedDB and uploaded one by one, each retried on its own;
   - show_if, section navigation with progress, and stopwatches for timing questions;
   - a service worker (/my/sw.js) keeps the page itself, so a reload offline works.

   Stores: "drafts" {visit, data, revision, dirty, base} (base: what the server has),
   "outbox" {visit, submissionId, data, queued}, "files" {id (= client_upload_id),
   visit, field, question, name, blob, status, attempts, next, evidenceId}. */
(function () {
  "use strict";

  /* Check-in (templates/visit_form/_start.html): with the consent box ticked, the
     phone's position goes with it; without a position in 10 s it goes without. */
  const checkIn = document.getElementById("start-form");
  if (checkIn && navigator.geolocation) {
    checkIn.addEventListener("submit", (event) => {
      const consent = checkIn.elements.namedItem("consent");
      if (!consent || !consent.checked || checkIn.dataset.located) return;
      event.preventDefault();
      const send = () => { checkIn.dataset.located = "true"; checkIn.submit(); };
      navigator.geolocation.getCurrentPosition((position) => {
        const c = position.coords;
        checkIn.elements.namedItem("latitude").value = c.latitude.toFixed(6);
        checkIn.elements.namedItem("longitude").value = c.longitude.toFixed(6);
        checkIn.elements.namedItem("accuracy").value = String(Math.round(c.accuracy));
        send();
      }, send, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
    });
  }

  const form = document.getElementById("visit-form");
  if (!form) return;

  const NA = "na";
  const DEBOUNCE_MS = 600;
  const RETRY_MS = 15000;
  const NOT_DATA = new Set(["csrf_token", "submission_id", "action"]);
  const visit = form.dataset.visitId;
  const banner = document.getElementById("sync-banner");
  const idInput = form.elements.namedItem("submission_id");

  /* ---- words: English defaults, overridden by the page (its language) ---------- */
  const words = {
    saved: "All changes saved",
    saving: "Saving…",
    offline: "Offline — {n} changes kept on this phone, will sync",
    offline_one: "Offline — 1 change kept on this phone, will sync",
    offline_idle: "Offline — changes will be kept on this phone",
    pending: "{n} changes not yet saved — retrying",
    pending_one: "1 change not yet saved — retrying",
    photos: "{n} photos waiting to upload",
    photos_one: "1 photo waiting to upload",
    queued: "Submission queued — will send when you are online",
    sending: "Sending your submission…",
    signin: "Please sign in again — your answers are kept on this phone",
    finish_offline: "Check-out needs a connection — try again when you are online",
    check: "Please check the answers marked below",
    photo_waiting: "Waiting to upload",
    photo_uploading: "Uploading…",
    photo_done: "Uploaded",
    photo_failed: "Not uploaded: {error}",
    photo_saved: "Photo {id}",
    retry: "Try again",
    remove: "Remove",
    progress: "{a} of {b} answered",
    start: "Start",
    stop: "Stop",
  };
  const messages = document.getElementById("vf-messages");
  if (messages) {
    try { Object.assign(words, JSON.parse(messages.textContent)); } catch (e) { /* keep defaults */ }
  }
  for (const [name, value] of Object.entries(form.dataset)) {
    // data-msg-offline-one="…" arrives as msgOfflineOne → offline_one
    if (name.startsWith("msg") && name.length > 3) {
      words[name.slice(3).replace(/[A-Z]/g, (c) => "_" + c.toLowerCase()).slice(1)] = value;
    }
  }
  function say(key, values) {
    values = values || {};
    const word = (values.n === 1 && words[key + "_one"]) || words[key] || key;
    return word.replace(/\{(\w+)\}/g, (all, name) => (name in values ? values[name] : all));
  }

  /* ---- storage: IndexedDB, or localStorage + memory where it is unavailable ----- */
  const dbReady = new Promise((resolve) => {
    let request;
    try { request = indexedDB.open("auditapp", 1); } catch (e) { resolve(null); return; }
    request.onupgradeneeded = () => {
      const db = request.result;
      db.createObjectStore("drafts", { keyPath: "visit" });
      db.createObjectStore("outbox", { keyPath: "visit" });
      db.createObjectStore("files", { keyPath: "id" }).createIndex("visit", "visit");
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => resolve(null);
  });
  const memory = new Map(); // files when IndexedDB is missing (blobs cannot go in localStorage)

  async function run(store, mode, work) {
    const db = await dbReady;
    if (!db) return fallback(store, mode, work);
    return new Promise((resolve, reject) => {
      const tx = db.transaction(store, mode);
      const request = work(tx.objectStore(store));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = tx.onabort = () => reject(tx.error);
    });
  }
  function fallback(store, mode, work) {
    const key = "auditapp:" + store;
    const rows = store === "files" ? memory : new Map(JSON.parse(localStorage.getItem(key) || "[]"));
    const fake = {
      get: (id) => ({ result: rows.get(id) }),
      put: (row) => { rows.set(row.visit && store !== "files" ? row.visit : row.id, row); return {}; },
      delete: (id) => { rows.delete(id); return {}; },
      index: () => ({ getAll: (v) => ({ result: [...rows.values()].filter((r) => r.visit === v) }) }),
    };
    const result = work(fake).result;
    if (store !== "files" && mode === "readwrite") localStorage.setItem(key, JSON.stringify([...rows]));
    return Promise.resolve(result);
  }
  const db = {
    get: (store, key) => run(store, "readonly", (s) => s.get(key)),
    put: (store, row) => run(store, "readwrite", (s) => s.put(row)),
    del: (store, key) => run(store, "readwrite", (s) => s.delete(key)),
    files: () => run("files", "readonly", (s) => s.index("visit").getAll(visit)),
  };

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  function csrf() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    const field = form.elements.namedItem("csrf_token");
    return (meta && meta.content) || (field && field.value) || "";
  }
  const list = (v) => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
  function post(url, body, headers) {
    return fetch(url, {
      method: "POST", body, credentials: "same-origin",
      headers: Object.assign({ "X-CSRFToken": csrf(), Accept: "application/json" }, headers),
    });
  }
  // A session that ran out answers with the sign-in page instead of JSON.
  const signedOut = (response) => response.redirected && /\/login\b/.test(response.url);

  /* ---- the form's state as {field: string | [strings]} ------------------------ */
  const groups = new Set(); // checkbox names used by more than one box (multi questions)
  const seen = new Set();
  for (const el of form.querySelectorAll("input[type=checkbox][name]")) {
    if (seen.has(el.name)) groups.add(el.name);
    seen.add(el.name);
  }

  function collect() {
    const data = {};
    for (const [name, value] of new FormData(form)) {
      if (NOT_DATA.has(name) || typeof value !== "string" || value === "" && !groups.has(name)) continue;
      if (groups.has(name) || name in data) data[name] = list(data[name]).concat([value]);
      else data[name] = value;
    }
    return data;
  }

  function restore(data) {
    for (const el of form.elements) {
      if (!el.name || NOT_DATA.has(el.name) || el.dataset.photoRef !== undefined) continue;
      if (["file", "submit", "button", "reset"].includes(el.type)) continue;
      const values = list(data[el.name]);
      if (el.type === "checkbox" || el.type === "radio") el.checked = values.includes(el.value);
      else el.value = values.length ? values[0] : "";
    }
    photos.restore(data);
  }

  const same = (a, b) => JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
  const sorted = (o) => Object.keys(o || {}).sort().map((k) => [k, o[k]]);
  function differences(a, b) {
    const keys = new Set(Object.keys(a || {}).concat(Object.keys(b || {})));
    return [...keys].filter((k) => JSON.stringify(list(a[k])) !== JSON.stringify(list(b && b[k]))).length;
  }

  /* ---- show_if: evaluated in page order, like scoring/answers.py --------------- */
  const wrappers = [...form.querySelectorAll("[data-question-key]")];

  function holds(condition, values) {
    // No answer, or N/A, makes every condition false; a multi answer matches on any value.
    if (!values.length || values.includes(NA)) return false;
    const same = (v, e) => (typeof e === "number" ? v.trim() !== "" && Number(v) === e : v === String(e));
    if ("equals" in condition) return values.some((v) => same(v, condition.equals));
    if ("in" in condition) return values.some((v) => list(condition.in).some((e) => same(v, e)));
    const number = Number(values[0]);
    if (values[0].trim() === "" || Number.isNaN(number)) return false;
    if ("gte" in condition) return number >= Number(condition.gte);
    if ("lte" in condition) return number <= Number(condition.lte);
    return false;
  }

  function valuesOf(key, data) {
    if (data["na_" + key]) return [NA];
    return list(data["q_" + key]).filter((v) => v !== "");
  }

  function applyConditions(data) {
    const shown = new Set(); // visible questions so far: a later or hidden target is "no answer"
    for (const wrap of wrappers) {
      const key = wrap.dataset.questionKey;
      let visible = true;
      if (wrap.dataset.showIf) {
        let condition = null;
        try { condition = JSON.parse(wrap.dataset.showIf); } catch (e) { /* shown */ }
        if (condition) visible = shown.has(condition.question) && holds(condition, valuesOf(condition.question, data));
      }
      wrap.hidden = !visible;
      if (visible) shown.add(key);
    }
    return shown;
  }

  /* ---- sections: one at a time, with progress --------------------------------- */
  // The page links sections with anchors (#section-<key>: the list above the form and
  // Previous/Next in each section); here they show one section instead of scrolling.
  const sections = [...form.querySelectorAll(".vf-section")];
  const sectionKey = `auditapp:section:${visit}`;
  const meter = document.createElement("p");
  let current = 0;

  function buildNavigation() {
    if (sections.length < 2) return;
    meter.className = "vf-meter";
    meter.append(document.createElement("progress"), document.createElement("span"));
    sections[0].before(meter);
    document.addEventListener("click", (event) => {
      const link = event.target.closest && event.target.closest("a[href^='#']");
      const target = link && document.getElementById(decodeURIComponent(link.hash.slice(1)));
      const section = target && target.closest(".vf-section");
      if (!section) return;
      go(sections.indexOf(section), target === section);
      if (target === section) event.preventDefault(); // go() scrolled to the section's top
    });
    const asked = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    const saved = Number(localStorage.getItem(sectionKey));
    if (asked && asked.closest(".vf-section")) go(sections.indexOf(asked.closest(".vf-section")), true);
    else go(saved > 0 && saved < sections.length ? saved : 0, true);
  }

  function go(index, scroll) {
    if (index < 0 || index >= sections.length || sections.length < 2) return;
    current = index;
    sections.forEach((section, i) => { section.hidden = i !== index; });
    for (const link of document.querySelectorAll("nav a[href^='#section-']")) {
      if (link.hash === "#" + sections[index].id) link.setAttribute("aria-current", "step");
      else link.removeAttribute("aria-current");
    }
    try { localStorage.setItem(sectionKey, String(index)); } catch (e) { /* private mode */ }
    if (scroll) meter.scrollIntoView({ block: "start" });
  }

  function showProgress(data, shown) {
    if (!meter.firstChild) return;
    const keys = wrappers.map((w) => w.dataset.questionKey).filter((k) => shown.has(k));
    const done = keys.filter((k) => valuesOf(k, data).length || photos.count("q_" + k)).length;
    const bar = meter.firstChild;
    bar.max = Math.max(keys.length, 1);
    bar.value = done;
    meter.lastChild.textContent = say("progress", { a: done, b: keys.length });
  }

  function button(text, className, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = className;
    b.textContent = text;
    b.addEventListener("click", onClick);
    return b;
  }

  /* ---- photos: kept on the phone, uploaded one by one, each retried alone ----- */
  const photos = (function () {
    // A photo question's input is named q_<question key>; the receipt's is "receipt".
    const inputs = [...form.querySelectorAll("input[type=file][name^='q_'], input[type=file][name='receipt']")];
    const boxes = {}; // field → list element
    const server = {}; // field → evidence ids known only from the draft (no local file)
    const previews = new Map(); // file id → object URL
    let records = [];

    for (const input of inputs) {
      // The file itself never goes with the form: the reference (evidence id) does.
      input.dataset.field = input.name;
      input.removeAttribute("name");
      const box = document.createElement("ul");
      box.className = "vf-photos";
      input.after(box);
      boxes[input.dataset.field] = box;
      input.addEventListener("change", () => choose(input));
    }

    async function choose(input) {
      const field = input.dataset.field;
      const chosen = [...input.files];
      if (!chosen.length) return;
      for (const file of chosen) {
        const record = {
          id: uuid(), visit, field, question: field.startsWith("q_") ? field.slice(2) : "",
          name: file.name || "photo.jpg",
          blob: file, status: "pending", attempts: 0, next: 0, created: Date.now(),
        };
        await db.put("files", record);
        records.push(record);
      }
      input.value = "";
      render(field);
      changed();
      sync();
    }

    async function forget(record) {
      records = records.filter((r) => r !== record);
      URL.revokeObjectURL(previews.get(record.id));
      previews.delete(record.id);
      await db.del("files", record.id);
    }

    function render(field) {
      const box = boxes[field];
      box.textContent = "";
      const own = records.filter((r) => r.field === field).sort((a, b) => a.created - b.created);
      // Uploaded photos stay: the server answers a photo question with every file
      // uploaded for it. Only a photo not yet sent can be taken back.
      for (const id of server[field] || []) box.append(item(field, id, null, say("photo_saved", { id }), "done"));
      for (const r of own) {
        if (!previews.has(r.id)) previews.set(r.id, URL.createObjectURL(r.blob));
        const state = r.status === "failed" ? say("photo_failed", { error: r.error || "" })
          : say("photo_" + (r.status === "done" ? "done" : r.busy ? "uploading" : "waiting"));
        const li = item(field, r.status === "done" ? r.evidenceId : null, previews.get(r.id), state, r.status,
          r.status === "done" ? null : async () => { await forget(r); render(field); changed(); });
        li.dataset.uploadId = r.id;
        if (r.status === "failed") {
          li.append(button(say("retry"), "vf-photo-retry", async () => {
            Object.assign(r, { status: "pending", attempts: 0, next: 0, error: "" });
            await db.put("files", r);
            render(field);
            sync();
          }));
        }
        box.append(li);
      }
      // The page's own "N photos uploaded" line says less than the list: hide it then.
      const line = form.querySelector(`[data-uploaded-for="${field.startsWith("q_") ? field.slice(2) : field}"]`);
      if (line) line.hidden = box.children.length > 0;
    }

    function item(field, ref, src, text, status, onRemove) {
      const li = document.createElement("li");
      li.className = "vf-photo";
      li.dataset.status = status;
      if (src) {
        const img = document.createElement("img");
        img.src = src;
        img.alt = "";
        img.width = 96; // an attribute, not a style (CSP); the height follows the photo
        li.append(img);
      }
      const note = document.createElement("span");
      note.className = "vf-photo-status";
      note.textContent = text;
      li.append(note);
      if (onRemove) li.append(button(say("remove"), "vf-photo-remove", onRemove));
      if (ref) {
        // The answer: a hidden field named like the question, holding the evidence id.
        const hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = field;
        hidden.value = ref;
        hidden.dataset.photoRef = "";
        li.append(hidden);
      }
      return li;
    }

    async function upload(record) {
      const body = new FormData();
      body.append("file", record.blob, record.name);
      body.append("client_upload_id", record.id);
      body.append("kind", record.question ? "photo" : "receipt");
      if (record.question) body.append("question_key", record.question);
      record.busy = true;
      render(record.field);
      let response;
      try {
        response = await post(form.dataset.uploadUrl, body);
      } catch (e) {
        response = null; // no network
      }
      record.busy = false;
      if (response && response.ok && !signedOut(response)) {
        const answer = await response.json();
        Object.assign(record, { status: "done", evidenceId: String(answer.id), sha256: answer.sha256 });
      } else if (response && response.status >= 400 && response.status < 500 && ![408, 429].includes(response.status)) {
        const answer = await response.json().catch(() => ({}));
        Object.assign(record, { status: "failed", error: answer.error || response.statusText });
      } else {
        // Offline, a server error or a lost session: wait longer each time, up to a minute.
        record.attempts += 1;
        record.next = Date.now() + Math.min(60000, 1000 * 2 ** record.attempts);
      }
      await db.put("files", Object.assign({}, record, { busy: undefined }));
      render(record.field);
      if (record.status === "done") changed();
      return record.status !== "pending";
    }

    return {
      async load() {
        records = (await db.files()) || [];
      },
      restore(data) {
        for (const field of Object.keys(boxes)) {
          const mine = new Set(records.filter((r) => r.field === field && r.evidenceId).map((r) => r.evidenceId));
          server[field] = list(data[field]).filter((id) => id && !mine.has(id));
          render(field);
        }
      },
      count: (field) => (server[field] || []).length + records.filter((r) => r.field === field && r.status !== "failed").length,
      waiting: () => records.filter((r) => r.status === "pending").length,
      fields: () => Object.keys(boxes),
      done: (field) => records.filter((r) => r.field === field && r.status === "done").map((r) => r.evidenceId),
      async flush(force) {
        for (const record of records.filter((r) => r.status === "pending")) {
          if (!force && record.next > Date.now()) continue;
          if (!(await upload(record)) && !navigator.onLine) break;
        }
      },
      retryNow() { records.forEach((r) => { r.next = 0; }); },
      async clear() {
        for (const record of [...records]) await forget(record);
      },
    };
  })();

  /* ---- drafts: local first, then the server ----------------------------------- */
  let draft = null; // the "drafts" row of this visit
  let box = null; // the "outbox" row: the submission id, and whether it waits to be sent
  let timer = null;
  // Typing not yet kept when the page goes away (a reload within the debounce): written
  // synchronously to localStorage, since an IndexedDB write may not finish by then.
  const shadowKey = `auditapp:unkept:${visit}`;
  let problem = ""; // what the banner must say instead of the sync state
  let unreachable = false; // the last request failed although the browser says online

  function changed() {
    window.clearTimeout(timer);
    timer = window.setTimeout(keep, DEBOUNCE_MS);
    const data = collect();
    showProgress(data, applyConditions(data));
    show();
  }

  async function keep() {
    window.clearTimeout(timer);
    timer = null;
    const data = collect();
    if (!draft || same(data, draft.data)) return;
    draft = Object.assign({}, draft, { data, revision: draft.revision + 1, dirty: true });
    await db.put("drafts", draft);
    try { localStorage.removeItem(shadowKey); } catch (e) { /* private mode */ }
    show();
    sync();
  }

  async function pushDraft() {
    for (let attempt = 0; draft && draft.dirty && attempt < 3; attempt++) {
      const sent = draft;
      const response = await post(form.dataset.draftUrl, JSON.stringify({ revision: sent.revision, data: sent.data }),
        { "Content-Type": "application/json" });
      if (signedOut(response)) throw new Error("signin");
      if (response.status >= 500) throw new Error("server");
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) { // refused (say the visit was submitted elsewhere): kept, not retried
        problem = answer.error || response.statusText;
        throw new Error("refused");
      }
      if (answer.stale) {
        // The server holds a later revision (another tab or phone): what this phone
        // has is what the shopper last typed, so it goes on top.
        draft = Object.assign({}, draft, { revision: Math.max(draft.revision, answer.revision) + 1 });
      } else if (draft.revision === sent.revision) {
        draft = Object.assign({}, draft, { dirty: false, base: sent.data });
      }
      await db.put("drafts", draft);
    }
  }

  /* ---- submit: one id per visit, queued while offline -------------------------- */
  let submitting = false;

  function lock(on) {
    form.classList.toggle("vf-locked", on);
    for (const part of sections.length ? sections : [form]) part.inert = on && part !== form;
    for (const b of form.querySelectorAll("button[name=action]")) b.disabled = on;
  }

  form.addEventListener("submit", async (event) => {
    const action = event.submitter ? event.submitter.value : "save";
    // Check-out goes as a plain post of the form (the server keeps it as the draft too).
    if (action === "finish" && navigator.onLine) return;
    event.preventDefault();
    if (action !== "submit") { // Save draft (or check-out with no network): keep it, sync it
      if (action === "finish") problem = say("finish_offline");
      await keep();
      sync();
      show();
      return;
    }
    if (submitting || (box && box.queued)) return; // a double tap
    submitting = true;
    try {
      await keep();
      const stored = await db.get("outbox", visit);
      const id = (stored && stored.submissionId) || (idInput && idInput.value) || uuid();
      box = { visit, submissionId: id, data: collect(), queued: true, at: Date.now() };
      await db.put("outbox", box);
      if (idInput) idInput.value = id;
      problem = "";
      lock(true);
      show();
      await sync();
    } finally {
      submitting = false;
    }
  });

  async function sendSubmission() {
    if (!box || !box.queued) return;
    await photos.flush(true);
    if (photos.waiting()) return; // photos first; the answers wait for them, not for failures
    const body = new FormData();
    for (const [name, value] of Object.entries(box.data)) list(value).forEach((v) => body.append(name, v));
    for (const field of photos.fields()) {
      // Photos uploaded after the tap join the references that were already there.
      const refs = new Set(list(box.data[field]).concat(photos.done(field)));
      body.delete(field);
      refs.forEach((ref) => body.append(field, ref));
    }
    body.set("csrf_token", csrf());
    body.set("submission_id", box.submissionId);
    body.set("action", "submit");
    show("sending");
    // Not form.action: the buttons named "action" shadow that property.
    const response = await post(form.dataset.submitUrl || form.getAttribute("action"), body);
    if (signedOut(response)) throw new Error("signin");
    const answer = await response.json().catch(() => ({}));
    if (response.ok && answer.ok) {
      await clearVisit();
      draft = null; // nothing is kept for this visit any more, whatever happens next
      box = null;
      window.location.assign(answer.redirect || form.dataset.doneUrl || "/my/");
      return;
    }
    if (response.status >= 500) throw new Error("server");
    // Refused (errors to fix, or the visit cannot take a submission now): keep the
    // id, since nothing was stored under it, and let the shopper act.
    box = Object.assign({}, box, { queued: false });
    await db.put("outbox", box);
    lock(false);
    showErrors(answer.errors || {});
    problem = answer.message || answer.error || (answer.errors ? say("check") : response.statusText);
  }

  function showErrors(errors) {
    for (const slot of form.querySelectorAll("[data-error-for]")) {
      const message = errors[slot.dataset.errorFor];
      slot.textContent = message || "";
      slot.hidden = !message;
    }
    const first = wrappers.find((w) => errors[w.dataset.questionKey]);
    if (first) {
      const section = sections.indexOf(first.closest(".vf-section"));
      if (section >= 0) go(section, false);
      first.scrollIntoView({ block: "center" });
    }
  }

  async function clearVisit() {
    await db.del("drafts", visit);
    await db.del("outbox", visit);
    await photos.clear();
    try {
      localStorage.removeItem(sectionKey);
      Object.keys(localStorage).filter((k) => k.startsWith(`auditapp:stopwatch:${visit}:`)).forEach((k) => localStorage.removeItem(k));
    } catch (e) { /* private mode */ }
    if (navigator.serviceWorker && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage({ type: "forget", url: location.pathname });
    }
  }

  /* ---- sync: drafts, then photos, then the queued submission ------------------ */
  let syncing = null;
  let again = false;

  function sync() {
    if (syncing) { again = true; return syncing; }
    // Reset in a callback, never inside the run: a run that ends at once (offline)
    // would otherwise clear `syncing` before it is even assigned.
    syncing = syncRun().finally(() => { syncing = null; show(); });
    return syncing;
  }

  async function syncRun() {
    do {
      again = false;
      if (!navigator.onLine) break;
      try {
        await pushDraft();
        await photos.flush(false);
        await sendSubmission();
        unreachable = false;
        if (problem === say("signin")) problem = "";
      } catch (e) {
        // No network (TypeError), a server error or a lost session: try again later.
        unreachable = e.message !== "refused";
        if (e.message === "signin") problem = say("signin");
        break;
      }
    } while (again);
  }

  /* ---- the banner: what is not yet on the server ------------------------------ */
  function show(state) {
    if (!banner || !draft) return;
    const online = navigator.onLine && !unreachable;
    // Changes = fields that differ from what the server confirmed, typing included.
    const n = differences(collect(), draft.base || {});
    const waiting = photos.waiting();
    let text;
    if (state === "sending") text = say("sending");
    else if (box && box.queued) { state = "queued"; text = say("queued"); }
    else if (problem) { state = "problem"; text = problem; }
    else if (!online) { state = "offline"; text = n ? say("offline", { n }) : say("offline_idle"); }
    else if (n) { state = "pending"; text = syncing || timer ? say("saving") : say("pending", { n }); }
    else { state = "saved"; text = say("saved"); }
    if (waiting && state !== "sending") text += " · " + say("photos", { n: waiting });
    banner.dataset.state = state;
    banner.dataset.unsynced = String(n);
    banner.dataset.photosWaiting = String(waiting);
    banner.textContent = text;
    banner.hidden = false;
  }

  /* ---- stopwatch: start, stop, and the seconds (or minutes) go in the field ---- */
  function stopwatches() {
    for (const b of form.querySelectorAll("[data-stopwatch-for]")) {
      const field = form.elements.namedItem(b.dataset.stopwatchFor);
      if (!field) continue;
      const key = `auditapp:stopwatch:${visit}:${b.dataset.stopwatchFor}`;
      const minutes = /^min/.test(b.dataset.stopwatchUnit || ""); // "s" (default) or "min"
      const label = b.textContent.trim() || say("start");
      let tick = null;
      b.type = "button";
      b.hidden = false; // rendered hidden: useless without this script
      const paint = () => {
        const started = Number(localStorage.getItem(key));
        if (!started) { b.textContent = label; b.setAttribute("aria-pressed", "false"); return; }
        const s = Math.floor((Date.now() - started) / 1000);
        b.textContent = `${say("stop")} ${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
        b.setAttribute("aria-pressed", "true");
      };
      const run = () => { window.clearInterval(tick); tick = window.setInterval(paint, 1000); paint(); };
      b.addEventListener("click", () => {
        const started = Number(localStorage.getItem(key));
        if (started) {
          const s = Math.round((Date.now() - started) / 1000);
          field.value = minutes ? String(Math.round((s / 60) * 10) / 10) : String(s);
          localStorage.removeItem(key);
          window.clearInterval(tick);
          paint();
          field.dispatchEvent(new Event("input", { bubbles: true }));
          field.dispatchEvent(new Event("change", { bubbles: true }));
        } else {
          localStorage.setItem(key, String(Date.now()));
          run();
        }
      });
      if (Number(localStorage.getItem(key))) run(); // still running after a reload
    }
  }

  /* ---- offline page: the service worker keeps this page and its assets -------- */
  function serviceWorker() {
    if (!("serviceWorker" in navigator) || form.dataset.swUrl === "") return;
    const url = form.dataset.swUrl || "/my/sw.js";
    const firstVisit = !navigator.serviceWorker.controller;
    navigator.serviceWorker.register(url, { scope: "/my/" }).then(() => navigator.serviceWorker.ready).then((reg) => {
      // Pages fetched through the worker are kept as they pass; this first one was not.
      if (!firstVisit || !reg.active) return;
      const assets = [...document.querySelectorAll("script[src], link[rel=stylesheet][href]")]
        .map((el) => new URL(el.src || el.href, location.href))
        .filter((u) => u.origin === location.origin)
        .map((u) => u.pathname + u.search);
      reg.active.postMessage({ type: "keep", urls: [location.pathname + location.search].concat(assets) });
    }).catch(() => { /* no offline reload, everything else still works */ });
  }

  /* ---- start ----------------------------------------------------------------- */
  async function start() {
    let serverData = {};
    try { serverData = JSON.parse(form.dataset.draft || "{}") || {}; } catch (e) { /* none */ }
    const serverRevision = Number(form.dataset.revision) || 0;
    await photos.load();
    const local = await db.get("drafts", visit);
    if (local && local.revision > serverRevision) {
      draft = local; // newer than the page: typed on this phone, maybe offline
      restore(local.data);
    } else {
      if (serverRevision > 0) restore(serverData);
      else photos.restore({});
      const data = collect();
      draft = { visit, data, revision: serverRevision, dirty: false, base: data };
      await db.put("drafts", draft);
    }
    let shadow = null;
    try { shadow = JSON.parse(localStorage.getItem(shadowKey)); } catch (e) { /* none */ }
    if (shadow && !same(shadow, draft.data)) {
      restore(shadow);
      await keep();
    }
    box = (await db.get("outbox", visit)) || null;
    if (box && idInput && box.submissionId) idInput.value = box.submissionId;
    if (box && box.queued) lock(true);

    buildNavigation();
    stopwatches();
    const data = collect();
    showProgress(data, applyConditions(data));
    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
    window.addEventListener("online", () => {
      unreachable = false;
      if (problem === say("finish_offline")) problem = "";
      photos.retryNow();
      show();
      sync();
    });
    window.addEventListener("offline", () => show());
    document.addEventListener("visibilitychange", () => { if (document.hidden) keep(); });
    window.addEventListener("pagehide", () => {
      if (!timer) return;
      try { localStorage.setItem(shadowKey, JSON.stringify(collect())); } catch (e) { /* full */ }
    });
    window.addEventListener("pageshow", (event) => {
      if (event.persisted) try { localStorage.removeItem(shadowKey); } catch (e) { /* private mode */ }
    });
    window.setInterval(() => { if (!draft) return; if (draft.dirty || photos.waiting() || (box && box.queued)) sync(); }, RETRY_MS);
    if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
    form.dataset.ready = "true";
    show();
    sync();
    serviceWorker();
  }

  start();
})();
