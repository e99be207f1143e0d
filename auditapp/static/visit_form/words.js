/* The words the visit form shows: English defaults, replaced by the page's own (its
   language) from the JSON in #vf-messages and data-msg-* attributes of the form. */

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

export function readWords(form) {
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
}

/** The word for ``key`` with {placeholders} filled in; {n} of 1 picks ``key_one``. */
export function say(key, values = {}) {
  const word = (values.n === 1 && words[key + "_one"]) || words[key] || key;
  return word.replace(/\{(\w+)\}/g, (all, name) => (name in values ? values[name] : all));
}
