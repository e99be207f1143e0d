/* Checklist builder and preview: small progressive enhancement, no framework.
   Everything here is optional: without it the pages work through plain forms
   (the preview's "Calculate score" button, every field shown in the editor). */
(function () {
  "use strict";

  /* Delete buttons ask first. */
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  /* Question editor: show only the parts that matter for the chosen answer type,
     and the possible values of the question a condition looks at. */
  var editor = document.getElementById("question-form");
  if (editor) {
    var type = editor.querySelector("select[name='type']");
    var parts = editor.querySelectorAll("fieldset[data-types]");
    var showTypeParts = function () {
      parts.forEach(function (part) {
        part.hidden = part.dataset.types.split(" ").indexOf(type.value) < 0;
      });
    };
    if (type) {
      type.addEventListener("change", showTypeParts);
      showTypeParts();
    }
    var target = editor.querySelector("select[name='show_if_question']");
    var hints = editor.querySelectorAll(".cl-hints li[data-key]");
    var showHints = function () {
      hints.forEach(function (hint) { hint.hidden = hint.dataset.key !== target.value; });
    };
    if (target && hints.length) {
      target.addEventListener("change", showHints);
      showHints();
    }
  }

  /* Preview: score the answers on the server as they change, and show or hide the
     questions whose condition holds. */
  var preview = document.getElementById("preview-form");
  if (!preview) return;
  var panel = document.getElementById("score-panel");
  var naWord = document.getElementById("score-words").dataset.na;
  var pending = null;
  var latest = 0;

  function text(id, value) {
    document.getElementById(id).textContent =
      value === null || value === undefined || value === "" ? "—" : value;
  }

  function show(result) {
    text("score-value", result.score);
    text("score-result", result.result);
    text("score-grade", result.grade);
    text("score-critical", (result.critical_failures || []).join(", "));
    var list = document.getElementById("score-sections");
    list.textContent = "";
    result.sections.forEach(function (section) {
      var item = document.createElement("li");
      item.dataset.section = section.key;
      item.textContent = section.title + ": " + (section.score === null ? naWord : section.score);
      list.appendChild(item);
    });
    var missing = document.getElementById("score-missing");
    missing.hidden = !result.missing.length;
    missing.querySelector("span").textContent = result.missing.join(", ");
    var visible = {};
    result.visible.forEach(function (key) { visible[key] = true; });
    preview.querySelectorAll(".vq[data-key]").forEach(function (question) {
      question.hidden = !visible[question.dataset.key];
    });
    var errors = document.getElementById("score-errors");
    errors.textContent = "";
    preview.querySelectorAll("[data-error-for]").forEach(function (slot) {
      var message = result.errors[slot.dataset.errorFor];
      slot.textContent = message || "";
      slot.hidden = !message;
    });
    Object.keys(result.errors).forEach(function (key) {
      var line = document.createElement("p");
      line.textContent = key + ": " + result.errors[key];
      errors.appendChild(line);
    });
    errors.hidden = !Object.keys(result.errors).length;
    panel.dataset.updated = String(latest);
  }

  function score() {
    var ticket = ++latest;
    panel.setAttribute("aria-busy", "true");
    fetch(preview.dataset.scoreUrl, {
      method: "POST",
      body: new FormData(preview),
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (result) { if (ticket === latest) show(result); })
      .catch(function () { /* the Calculate button still works */ })
      .then(function () { if (ticket === latest) panel.removeAttribute("aria-busy"); });
  }

  function soon() {
    window.clearTimeout(pending);
    pending = window.setTimeout(score, 250);
  }

  preview.addEventListener("change", soon);
  preview.addEventListener("input", function (event) {
    if (event.target.type === "number" || event.target.tagName === "TEXTAREA") soon();
  });
  preview.classList.add("live");
  score();
})();
