/* Stopwatches for timing questions: start, stop, and the seconds (or minutes) go in
   the field. A running stopwatch survives a reload (its start is in localStorage). */
import { say } from "./words.js";

export function startStopwatches(form, visit) {
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

/** Forget the stopwatches of a visit (it was submitted). */
export function forgetStopwatches(visit) {
  Object.keys(localStorage).filter((k) => k.startsWith(`auditapp:stopwatch:${visit}:`))
    .forEach((k) => localStorage.removeItem(k));
}
