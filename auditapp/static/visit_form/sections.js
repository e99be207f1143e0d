/* Sections one at a time, with progress. The page links sections with anchors
   (#section-<key>: the list above the form and Previous/Next in each section); here
   they show one section instead of scrolling. */
import { say } from "./words.js";

/** ``answered(key, data)`` tells whether a question counts as answered for progress. */
export function createSections(form, visit, answered) {
  const sections = [...form.querySelectorAll(".vf-section")];
  const wrappers = [...form.querySelectorAll("[data-question-key]")];
  const key = `auditapp:section:${visit}`;
  const meter = document.createElement("p");

  function build() {
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
    const saved = Number(localStorage.getItem(key));
    if (asked && asked.closest(".vf-section")) go(sections.indexOf(asked.closest(".vf-section")), true);
    else go(saved > 0 && saved < sections.length ? saved : 0, true);
  }

  function go(index, scroll) {
    if (index < 0 || index >= sections.length || sections.length < 2) return;
    sections.forEach((section, i) => { section.hidden = i !== index; });
    for (const link of document.querySelectorAll("nav a[href^='#section-']")) {
      if (link.hash === "#" + sections[index].id) link.setAttribute("aria-current", "step");
      else link.removeAttribute("aria-current");
    }
    try { localStorage.setItem(key, String(index)); } catch (e) { /* private mode */ }
    if (scroll) meter.scrollIntoView({ block: "start" });
  }

  /** The meter: answered questions among the visible ones (``shown``). */
  function progress(data, shown) {
    if (!meter.firstChild) return;
    const keys = wrappers.map((w) => w.dataset.questionKey).filter((k) => shown.has(k));
    const done = keys.filter((k) => answered(k, data)).length;
    const bar = meter.firstChild;
    bar.max = Math.max(keys.length, 1);
    bar.value = done;
    meter.lastChild.textContent = say("progress", { a: done, b: keys.length });
  }

  return { all: sections, key, build, go, progress };
}
