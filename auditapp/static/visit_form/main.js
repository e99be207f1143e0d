/* The shopper's visit form on a phone: offline-safe, with evidence. The entry module
   of templates/visit_form/form.html, which preloads every module it imports.

   Progressive enhancement: without these scripts the form still posts (Save /
   Submit) like any other. With them:

   - every change is kept on the phone (storage.js) and, when online, saved as a
     server draft (drafts.js); the banner says what is not yet on the server
     (banner.js);
   - a submission carries one client id per visit, so a retry, a reload or a double
     tap can never make a second one; offline it is queued (sync.js);
   - photos are kept on the phone and uploaded one by one, each retried on its own
     (photos.js);
   - show_if as the server decides it (conditions.js), section navigation with
     progress (sections.js), stopwatches for timing questions (stopwatch.js) and the
     check-in's location (checkin.js);
   - a service worker (/my/sw.js) keeps the page and its modules, so a reload offline
     works (offline.js). */
import "./checkin.js";
import { createBanner } from "./banner.js";
import { describe, visibleKeys } from "./conditions.js";
import { createDrafts } from "./drafts.js";
import { formState, list } from "./fields.js";
import { keepOffline } from "./offline.js";
import { createPhotos } from "./photos.js";
import { createSections } from "./sections.js";
import { openStorage } from "./storage.js";
import { startStopwatches } from "./stopwatch.js";
import { createSync } from "./sync.js";
import { readWords, say } from "./words.js";

const RETRY_MS = 15000;

function enhance(form) {
  readWords(form);
  const visit = form.dataset.visitId;
  const db = openStorage(visit);
  const fields = formState(form);
  // Shared by drafts.js, sync.js and banner.js: the "drafts" and "outbox" rows of the
  // visit, the debounce timer, what the banner must say instead of the sync state,
  // whether the last request failed although the browser says online, the sync run.
  const state = { draft: null, box: null, timer: null, problem: "", unreachable: false, syncing: null };
  const photos = createPhotos({ form, visit, db, changed: () => drafts.changed(), sync: () => syncer.sync() });
  const questions = describe(form);
  const wrappers = [...form.querySelectorAll("[data-question-key]")];
  // Progress counts a question answered with a value, N/A or a photo.
  const answered = (key, data) => Boolean(data["na_" + key]) || list(data["q_" + key]).some((v) => v !== "")
    || photos.count("q_" + key) > 0;
  const sections = createSections(form, visit, answered);

  function refresh() {
    const data = fields.collect();
    const shown = visibleKeys(questions, data);
    for (const wrap of wrappers) wrap.hidden = !shown.has(wrap.dataset.questionKey);
    sections.progress(data, shown);
  }

  const show = createBanner(document.getElementById("sync-banner"), state, fields.collect, photos);
  const drafts = createDrafts({ form, visit, db, state, fields, photos, refresh, show, sync: () => syncer.sync() });
  const syncer = createSync({ form, visit, db, state, fields, photos, drafts, sections, show });
  form.addEventListener("submit", syncer.submit);

  async function start() {
    await drafts.load();
    await syncer.loadOutbox();
    sections.build();
    startStopwatches(form, visit);
    refresh();
    form.addEventListener("input", drafts.changed);
    form.addEventListener("change", drafts.changed);
    window.addEventListener("online", () => {
      state.unreachable = false;
      if (state.problem === say("finish_offline")) state.problem = "";
      photos.retryNow();
      show();
      syncer.sync();
    });
    window.addEventListener("offline", () => show());
    document.addEventListener("visibilitychange", () => { if (document.hidden) drafts.keep(); });
    drafts.keepOnLeaving();
    window.setInterval(() => {
      if (!state.draft) return;
      if (state.draft.dirty || photos.waiting() || (state.box && state.box.queued)) syncer.sync();
    }, RETRY_MS);
    if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
    form.dataset.ready = "true";
    show();
    syncer.sync();
    keepOffline(form);
  }

  start();
}

const form = document.getElementById("visit-form");
if (form) enhance(form);
