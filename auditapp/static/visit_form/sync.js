/* Sync: the draft, then the photos, then the queued submission, whenever there is a
   network. A submission carries one client id per visit, kept in the "outbox" row,
   so a retry, a reload or a double tap can never make a second one; offline it waits
   there (queued) and the form is locked. */
import { list } from "./fields.js";
import { csrf, post, signedOut } from "./net.js";
import { uuid } from "./storage.js";
import { forgetStopwatches } from "./stopwatch.js";
import { say } from "./words.js";

/** ``state`` is shared with drafts.js and banner.js (box, problem, unreachable,
    syncing); ``show`` paints the banner. */
export function createSync({ form, visit, db, state, fields, photos, drafts, sections, show }) {
  const idInput = form.elements.namedItem("submission_id");
  const wrappers = [...form.querySelectorAll("[data-question-key]")];
  let submitting = false;
  let again = false;

  function lock(on) {
    form.classList.toggle("vf-locked", on);
    for (const part of sections.all.length ? sections.all : [form]) part.inert = on && part !== form;
    for (const b of form.querySelectorAll("button[name=action]")) b.disabled = on;
  }

  /** The outbox row of the visit, once the form is filled in. */
  async function loadOutbox() {
    state.box = (await db.get("outbox", visit)) || null;
    if (state.box && idInput && state.box.submissionId) idInput.value = state.box.submissionId;
    if (state.box && state.box.queued) lock(true);
  }

  /** The form's submit listener: Save, check-out, Submit. */
  async function submit(event) {
    const action = event.submitter ? event.submitter.value : "save";
    // Check-out goes as a plain post of the form (the server keeps it as the draft too).
    if (action === "finish" && navigator.onLine) return;
    event.preventDefault();
    if (action !== "submit") { // Save draft (or check-out with no network): keep it, sync it
      if (action === "finish") state.problem = say("finish_offline");
      await drafts.keep();
      sync();
      show();
      return;
    }
    if (submitting || (state.box && state.box.queued)) return; // a double tap
    submitting = true;
    try {
      await drafts.keep();
      const stored = await db.get("outbox", visit);
      const id = (stored && stored.submissionId) || (idInput && idInput.value) || uuid();
      state.box = { visit, submissionId: id, data: fields.collect(), queued: true, at: Date.now() };
      await db.put("outbox", state.box);
      if (idInput) idInput.value = id;
      state.problem = "";
      lock(true);
      show();
      await sync();
    } finally {
      submitting = false;
    }
  }

  async function sendSubmission() {
    if (!state.box || !state.box.queued) return;
    await photos.flush(true);
    if (photos.waiting()) return; // photos first; the answers wait for them, not for failures
    const box = state.box;
    const body = new FormData();
    for (const [name, value] of Object.entries(box.data)) list(value).forEach((v) => body.append(name, v));
    for (const field of photos.fields()) {
      // Photos uploaded after the tap join the references that were already there.
      const refs = new Set(list(box.data[field]).concat(photos.done(field)));
      body.delete(field);
      refs.forEach((ref) => body.append(field, ref));
    }
    body.set("csrf_token", csrf(form));
    body.set("submission_id", box.submissionId);
    body.set("action", "submit");
    show("sending");
    // Not form.action: the buttons named "action" shadow that property.
    const response = await post(form, form.dataset.submitUrl || form.getAttribute("action"), body);
    if (signedOut(response)) throw new Error("signin");
    const answer = await response.json().catch(() => ({}));
    if (response.ok && answer.ok) {
      await clearVisit();
      state.draft = null; // nothing is kept for this visit any more, whatever happens next
      state.box = null;
      window.location.assign(answer.redirect || form.dataset.doneUrl || "/my/");
      return;
    }
    if (response.status >= 500) throw new Error("server");
    // Refused (errors to fix, or the visit cannot take a submission now): keep the
    // id, since nothing was stored under it, and let the shopper act.
    state.box = Object.assign({}, state.box, { queued: false });
    await db.put("outbox", state.box);
    lock(false);
    showErrors(answer.errors || {});
    state.problem = answer.message || answer.error || (answer.errors ? say("check") : response.statusText);
  }

  function showErrors(errors) {
    for (const slot of form.querySelectorAll("[data-error-for]")) {
      const message = errors[slot.dataset.errorFor];
      slot.textContent = message || "";
      slot.hidden = !message;
    }
    const first = wrappers.find((w) => errors[w.dataset.questionKey]);
    if (first) {
      const section = sections.all.indexOf(first.closest(".vf-section"));
      if (section >= 0) sections.go(section, false);
      first.scrollIntoView({ block: "center" });
    }
  }

  async function clearVisit() {
    await db.del("drafts", visit);
    await db.del("outbox", visit);
    await photos.clear();
    try {
      localStorage.removeItem(sections.key);
      forgetStopwatches(visit);
    } catch (e) { /* private mode */ }
    if (navigator.serviceWorker && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage({ type: "forget", url: location.pathname });
    }
  }

  function sync() {
    if (state.syncing) { again = true; return state.syncing; }
    // Reset in a callback, never inside the run: a run that ends at once (offline)
    // would otherwise clear `syncing` before it is even assigned.
    state.syncing = syncRun().finally(() => { state.syncing = null; show(); });
    return state.syncing;
  }

  async function syncRun() {
    do {
      again = false;
      if (!navigator.onLine) break;
      try {
        await drafts.push();
        await photos.flush(false);
        await sendSubmission();
        state.unreachable = false;
        if (state.problem === say("signin")) state.problem = "";
      } catch (e) {
        // No network (TypeError), a server error or a lost session: try again later.
        state.unreachable = e.message !== "refused";
        if (e.message === "signin") state.problem = say("signin");
        break;
      }
    } while (again);
  }

  return { sync, submit, loadOutbox };
}
