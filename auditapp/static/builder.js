/* Checklist builder and preview: small progressive enhancement, no framework.
   Everything here is optional: without it the pages work through plain forms
   (the preview's "Calculate score" button, every field shown in the editor).

   The preview shows the questions the server says are visible (its answer lists
   them, decided by scoring), so it needs no copy of the show_if rules. */

/* Delete buttons ask first. */
document.querySelectorAll("form[data-confirm]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
});

/* Question editor: show only the parts that matter for the chosen answer type,
   and the possible values of the question a condition looks at. */
const editor = document.getElementById("question-form");
if (editor) {
  const type = editor.querySelector("select[name='type']");
  const parts = editor.querySelectorAll("fieldset[data-types]");
  const showTypeParts = () => {
    parts.forEach((part) => {
      part.hidden = part.dataset.types.split(" ").indexOf(type.value) < 0;
    });
  };
  if (type) {
    type.addEventListener("change", showTypeParts);
    showTypeParts();
  }
  const target = editor.querySelector("select[name='show_if_question']");
  const hints = editor.querySelectorAll(".cl-hints li[data-key]");
  const showHints = () => {
    hints.forEach((hint) => { hint.hidden = hint.dataset.key !== target.value; });
  };
  if (target && hints.length) {
    target.addEventListener("change", showHints);
    showHints();
  }
}

/* Preview: score the answers on the server as they change, and show or hide the
   questions whose condition holds. */
const preview = document.getElementById("preview-form");
if (preview) livePreview(preview);

function livePreview(form) {
  const panel = document.getElementById("score-panel");
  const naWord = document.getElementById("score-words").dataset.na;
  let pending = null;
  let latest = 0;

  function text(id, value) {
    document.getElementById(id).textContent =
      value === null || value === undefined || value === "" ? "—" : value;
  }

  function show(result) {
    text("score-value", result.score);
    text("score-result", result.result);
    text("score-grade", result.grade);
    text("score-critical", (result.critical_failures || []).join(", "));
    const list = document.getElementById("score-sections");
    list.textContent = "";
    result.sections.forEach((section) => {
      const item = document.createElement("li");
      item.dataset.section = section.key;
      item.textContent = section.title + ": " + (section.score === null ? naWord : section.score);
      list.appendChild(item);
    });
    const missing = document.getElementById("score-missing");
    missing.hidden = !result.missing.length;
    missing.querySelector("span").textContent = result.missing.join(", ");
    const visible = new Set(result.visible);
    form.querySelectorAll(".vq[data-key]").forEach((question) => {
      question.hidden = !visible.has(question.dataset.key);
    });
    const errors = document.getElementById("score-errors");
    errors.textContent = "";
    form.querySelectorAll("[data-error-for]").forEach((slot) => {
      const message = result.errors[slot.dataset.errorFor];
      slot.textContent = message || "";
      slot.hidden = !message;
    });
    Object.keys(result.errors).forEach((key) => {
      const line = document.createElement("p");
      line.textContent = key + ": " + result.errors[key];
      errors.appendChild(line);
    });
    errors.hidden = !Object.keys(result.errors).length;
    panel.dataset.updated = String(latest);
  }

  function score() {
    const ticket = ++latest;
    panel.setAttribute("aria-busy", "true");
    fetch(form.dataset.scoreUrl, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then((response) => {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then((result) => { if (ticket === latest) show(result); })
      .catch(() => { /* the Calculate button still works */ })
      .then(() => { if (ticket === latest) panel.removeAttribute("aria-busy"); });
  }

  function soon() {
    window.clearTimeout(pending);
    pending = window.setTimeout(score, 250);
  }

  form.addEventListener("change", soon);
  form.addEventListener("input", (event) => {
    if (event.target.type === "number" || event.target.tagName === "TEXTAREA") soon();
  });
  form.classList.add("live");
  score();
}
