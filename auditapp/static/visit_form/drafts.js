/* Drafts: every change is kept on the phone first, then saved on the server.

   The "drafts" row of the visit holds the form's state, its revision and whether the
   server has it yet (dirty); the newer of the phone's copy and the page's (the
   server's) is shown. Typing not yet kept when the page goes away (a reload within
   the debounce) is written synchronously to localStorage, since an IndexedDB write
   may not finish by then, and taken back on the next load. */
import { same } from "./fields.js";
import { post, signedOut } from "./net.js";

const DEBOUNCE_MS = 600;

/** ``state`` is shared with sync.js and banner.js (draft, timer, problem);
    ``refresh`` shows the questions and progress for the answers, ``show`` paints the
    banner, ``sync`` sends what waits. */
export function createDrafts({ form, visit, db, state, fields, photos, refresh, show, sync }) {
  const shadowKey = `auditapp:unkept:${visit}`;
  const restore = (data) => { fields.restore(data); photos.restore(data); };

  function changed() {
    window.clearTimeout(state.timer);
    state.timer = window.setTimeout(keep, DEBOUNCE_MS);
    refresh();
    show();
  }

  async function keep() {
    window.clearTimeout(state.timer);
    state.timer = null;
    const data = fields.collect();
    if (!state.draft || same(data, state.draft.data)) return;
    state.draft = Object.assign({}, state.draft, { data, revision: state.draft.revision + 1, dirty: true });
    await db.put("drafts", state.draft);
    try { localStorage.removeItem(shadowKey); } catch (e) { /* private mode */ }
    show();
    sync();
  }

  /** Send the draft until the server has its latest revision (three tries a round). */
  async function push() {
    for (let attempt = 0; state.draft && state.draft.dirty && attempt < 3; attempt++) {
      const sent = state.draft;
      const response = await post(form, form.dataset.draftUrl, JSON.stringify({ revision: sent.revision, data: sent.data }),
        { "Content-Type": "application/json" });
      if (signedOut(response)) throw new Error("signin");
      if (response.status >= 500) throw new Error("server");
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) { // refused (say the visit was submitted elsewhere): kept, not retried
        state.problem = answer.error || response.statusText;
        throw new Error("refused");
      }
      if (answer.stale) {
        // The server holds a later revision (another tab or phone): what this phone
        // has is what the shopper last typed, so it goes on top.
        state.draft = Object.assign({}, state.draft, { revision: Math.max(state.draft.revision, answer.revision) + 1 });
      } else if (state.draft.revision === sent.revision) {
        state.draft = Object.assign({}, state.draft, { dirty: false, base: sent.data });
      }
      await db.put("drafts", state.draft);
    }
  }

  /** Fill the form from the newer copy, the phone's or the page's. */
  async function load() {
    let serverData = {};
    try { serverData = JSON.parse(form.dataset.draft || "{}") || {}; } catch (e) { /* none */ }
    const serverRevision = Number(form.dataset.revision) || 0;
    await photos.load();
    const local = await db.get("drafts", visit);
    if (local && local.revision > serverRevision) {
      state.draft = local; // newer than the page: typed on this phone, maybe offline
      restore(local.data);
    } else {
      if (serverRevision > 0) restore(serverData);
      else photos.restore({});
      const data = fields.collect();
      state.draft = { visit, data, revision: serverRevision, dirty: false, base: data };
      await db.put("drafts", state.draft);
    }
    let shadow = null;
    try { shadow = JSON.parse(localStorage.getItem(shadowKey)); } catch (e) { /* none */ }
    if (shadow && !same(shadow, state.draft.data)) {
      restore(shadow);
      await keep();
    }
  }

  function keepOnLeaving() {
    window.addEventListener("pagehide", () => {
      if (!state.timer) return;
      try { localStorage.setItem(shadowKey, JSON.stringify(fields.collect())); } catch (e) { /* full */ }
    });
    window.addEventListener("pageshow", (event) => {
      if (event.persisted) try { localStorage.removeItem(shadowKey); } catch (e) { /* private mode */ }
    });
  }

  return { changed, keep, push, load, keepOnLeaving };
}
