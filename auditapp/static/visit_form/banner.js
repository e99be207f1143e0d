/* The banner: what is not yet on the server (changes, photos, a queued submission). */
import { differences } from "./fields.js";
import { say } from "./words.js";

/** show(kind?) paints the banner from the shared ``state``; "sending" while a
    submission goes. */
export function createBanner(banner, state, collect, photos) {
  return function show(kind) {
    if (!banner || !state.draft) return;
    const online = navigator.onLine && !state.unreachable;
    // Changes = fields that differ from what the server confirmed, typing included.
    const n = differences(collect(), state.draft.base || {});
    const waiting = photos.waiting();
    let text;
    if (kind === "sending") text = say("sending");
    else if (state.box && state.box.queued) { kind = "queued"; text = say("queued"); }
    else if (state.problem) { kind = "problem"; text = state.problem; }
    else if (!online) { kind = "offline"; text = n ? say("offline", { n }) : say("offline_idle"); }
    else if (n) { kind = "pending"; text = state.syncing || state.timer ? say("saving") : say("pending", { n }); }
    else { kind = "saved"; text = say("saved"); }
    if (waiting && kind !== "sending") text += " · " + say("photos", { n: waiting });
    banner.dataset.state = kind;
    banner.dataset.unsynced = String(n);
    banner.dataset.photosWaiting = String(waiting);
    banner.textContent = text;
    banner.hidden = false;
  };
}
