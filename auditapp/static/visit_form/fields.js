/* The form's state as {field: string | [strings]}: what a draft holds. */

const NOT_DATA = new Set(["csrf_token", "submission_id", "action"]);

export const list = (v) => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);

/** collect() reads the form's fields, restore(data) puts them back (photo
    references excepted: photos.js owns them). */
export function formState(form) {
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
  }

  return { collect, restore };
}

const sorted = (o) => Object.keys(o || {}).sort().map((k) => [k, o[k]]);
export const same = (a, b) => JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));

/** How many fields differ between two states. */
export function differences(a, b) {
  const keys = new Set(Object.keys(a || {}).concat(Object.keys(b || {})));
  return [...keys].filter((k) => JSON.stringify(list(a[k])) !== JSON.stringify(list(b && b[k]))).length;
}
