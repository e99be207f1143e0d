/* show_if in the browser, decided exactly as the server decides it.

   The server reads the form's fields into answers (forms/builder.py) and
   scoring/answers.py evaluates each condition, in checklist order, on the answers of
   the questions visible so far. This module does the same with the same fields:

   - a question is visible when it has no condition or its condition holds; a
     condition on a hidden, later or unknown question is false (a hidden chain);
   - only an answer the server keeps counts: blank, N/A, a number it cannot read (1e3,
     2.5.1, more than 15 digits before the point or 20 after it), a number outside the
     question's min..max, a fraction for a scale, an option the question does not
     have or a date that does not exist make every condition on it false;
   - numbers compare exactly, as decimals, never as binary floats: "2.50" equals 2.5
     and 0.30000000000000001 is more than 0.3; a decimal comma and full-width digits
     are read as the server reads them;
   - equals and in compare the answer of a scale, number or NPS question with the
     condition's numbers, any other answer with its strings ("3" never equals 3).

   A question is {key, type, showIf, min, max, naAllowed, options}: showIf the
   condition as the page writes it ({question, equals | in | gte | lte}) or null; min
   and max decimal text or null; options the values its radios or boxes offer, or
   null to take any. The fields are the form's state, {name: string | [strings]}:
   q_<key>, and na_<key> for an N/A box. tests/e2e/test_show_if_rules.py runs the
   cases through this module and through scoring and compares. */

export const NA = "na";

const MAX_WHOLE_DIGITS = 15; // scoring/numbers.py
const MAX_PLACES = 20;
const MAX_TEXT = 4 * (MAX_WHOLE_DIGITS + MAX_PLACES);
const PLAIN = /^[+-]?([0-9]*)(?:\.([0-9]*))?$/;
const WHOLE_CHOICE = /^-?[0-9]{1,15}$/; // a scale or NPS radio's value (forms/builder.py)
// A number the server wrote (a bound, or a condition's JSON number as JavaScript prints it).
const WRITTEN = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]{1,3}))?$/;
const FULL_WIDTH = "０１２３４５６７８９．，＋－";
// Python's str.strip(): JavaScript's white space less U+FEFF, plus U+001C–U+001F and U+0085.
const SPACE = "[\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
const STRIP = new RegExp(`^${SPACE}+|${SPACE}+$`, "g");
// datetime.strptime with "%Y-%m-%d" and "%H:%M" (WTForms' DateField and TimeField).
const DATE = /^([0-9]{4})-(1[0-2]|0[1-9]|[1-9])-(3[01]|[12][0-9]|0[1-9]|[1-9]| [1-9])$/;
const TIME = /^(2[0-3]|[01][0-9]|[0-9]):([0-5][0-9]|[0-9])$/;

const list = (v) => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
const strip = (text) => String(text).replace(STRIP, "");
const pad = (n, width) => String(Number(n)).padStart(width, "0");

/* ---- exact decimals: {units, places} is units / 10^places, units a BigInt ---------- */
function decimal(sign, whole, fraction) {
  return { units: BigInt(`${sign === "-" ? "-" : ""}${whole || "0"}${fraction}`), places: fraction.length };
}
const scaled = (d, places) => d.units * 10n ** BigInt(places - d.places);
const isWhole = (d) => d.units % 10n ** BigInt(d.places) === 0n;
const wholePart = (d) => d.units / 10n ** BigInt(d.places);

export function compare(a, b) {
  const places = Math.max(a.places, b.places);
  const x = scaled(a, places);
  const y = scaled(b, places);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A number as a person types it, read like the server's number field (scoring's
    parse_number with a decimal comma), or null where the server refuses it. */
export function parseNumber(text) {
  const stripped = strip(text);
  if (stripped.length > MAX_TEXT) return null;
  const clean = stripped.replace(/[０-９．，＋－]/g, (c) => "0123456789.,+-"[FULL_WIDTH.indexOf(c)]).replace(/,/g, ".");
  const match = PLAIN.exec(clean);
  if (!match || !(match[1] || match[2])) return null;
  const fraction = match[2] || "";
  if (match[1].replace(/^0+/, "").length > MAX_WHOLE_DIGITS || fraction.length > MAX_PLACES) return null;
  return decimal(clean[0], match[1], fraction);
}

/** A number the server wrote: a JSON number of a condition, or a min/max attribute. */
function written(value) {
  if (typeof value === "number" && !Number.isFinite(value)) return null;
  if (typeof value !== "number" && typeof value !== "string") return null;
  const match = WRITTEN.exec(String(value).trim());
  if (!match || !(match[2] || match[3])) return null;
  const d = decimal(match[1], match[2], match[3] || "");
  const places = d.places - Number(match[4] || 0);
  return places >= 0 ? { units: d.units, places } : { units: d.units * 10n ** BigInt(-places), places: 0 };
}
const bound = (text) => (text === null || text === undefined || text === "" ? null : written(text));

/* ---- answers: what the server keeps of a question's fields ------------------------ */

function radioScale(question) {
  // forms/builder.py _whole_range: a whole min..max of 2 to 11 steps is a row of radios
  const low = bound(question.min);
  const high = bound(question.max);
  if (!low || !high || !isWhole(low) || !isWhole(high)) return false;
  const span = wholePart(high) - wholePart(low);
  return span > 0n && span < 11n;
}

const FIELDS = {
  yes_no: "radio", choice: "radio", nps: "radio_number", multi: "boxes",
  number: "typed", text: "text", photo: "text", date: "date", time: "time",
};

function fieldOf(question) {
  if (question.type === "scale") return radioScale(question) ? "radio_number" : "typed";
  return FIELDS[question.type] || null;
}

function numberAnswer(question, d) {
  let low = bound(question.min);
  let high = bound(question.max);
  if (question.type === "nps") [low, high] = [decimal("", "0", ""), decimal("", "10", "")];
  if ((question.type === "scale" || question.type === "nps") && !isWhole(d)) return null;
  if ((low && compare(d, low) < 0) || (high && compare(d, high) > 0)) return null;
  return [d];
}

const offered = (question, value) => !question.options || question.options.includes(value);

/** The answer the server keeps for ``question`` from the form's ``fields``: a list of
    strings (or of decimals, for a number question), or null when there is none (not
    answered, N/A or refused), so that every condition on it is false. */
export function answerOf(question, fields) {
  const field = fieldOf(question);
  if (!field) return null;
  const values = list(fields["q_" + question.key]).map(String);
  const first = values.length ? values[0] : "";
  if (field === "boxes") {
    if (!values.length || values.includes(NA)) return null; // unanswered, N/A, or N/A and more
    const chosen = values.filter((v) => v !== ""); // "" is "None of these": answered, no option
    return chosen.every((v) => offered(question, v)) ? chosen : null;
  }
  if (field === "radio" || field === "radio_number") {
    if (first === "" || first === NA) return null;
    if (field === "radio_number") return WHOLE_CHOICE.test(first) ? numberAnswer(question, decimal(first[0], first.replace("-", ""), "")) : null;
    const allowed = question.type === "yes_no" ? ["yes", "no"].includes(first) : offered(question, first);
    return allowed ? [first] : null;
  }
  // A field that cannot offer N/A as a choice has a box of its own.
  const box = list(fields["na_" + question.key]);
  if (question.naAllowed && box.length && box[0] !== "" && box[0] !== "false") return null;
  if (field === "typed") {
    const number = values.length ? parseNumber(first) : null;
    return number ? numberAnswer(question, number) : null;
  }
  if (field === "date") {
    const match = DATE.exec(values.join(" "));
    if (!match) return null;
    const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
    const at = new Date(Date.UTC(2000, month - 1, day));
    at.setUTCFullYear(year);
    if (year < 1 || at.getUTCMonth() !== month - 1 || at.getUTCDate() !== day) return null;
    return [`${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`];
  }
  if (field === "time") {
    const match = TIME.exec(values.join(" "));
    return match ? [`${pad(match[1], 2)}:${pad(match[2], 2)}`] : null;
  }
  // Text (and a photo's reference): blank is unanswered; "na" is N/A where N/A is allowed.
  if (!strip(first)) return null;
  if (first === NA && (question.naAllowed || question.type !== "text")) return null;
  return [first];
}

/* ---- conditions ------------------------------------------------------------------ */

function matches(value, expected) {
  if (typeof value === "string") return typeof expected === "string" && value === expected;
  if (typeof expected !== "number") return false; // a number answer never equals a string
  const number = written(expected);
  return number !== null && compare(value, number) === 0;
}

/** Whether ``condition`` holds on ``answers`` (key → answerOf of the visible questions). */
export function holds(condition, answers) {
  const values = answers.get(condition.question);
  if (!values) return false;
  if ("equals" in condition) return values.some((v) => matches(v, condition.equals));
  if ("in" in condition) return values.some((v) => list(condition.in).some((e) => matches(v, e)));
  const op = "gte" in condition ? "gte" : "lte" in condition ? "lte" : null;
  const limit = op && written(condition[op]);
  if (!limit || values.length !== 1 || typeof values[0] === "string") return false;
  const order = compare(values[0], limit);
  return op === "gte" ? order >= 0 : order <= 0;
}

/** The keys of the visible questions, in order (scoring.visible_keys). */
export function visibleKeys(questions, fields) {
  const answers = new Map(); // of the questions visible so far, as scoring's ``cleaned``
  const visible = new Set();
  for (const question of questions) {
    if (question.showIf && !holds(question.showIf, answers)) continue;
    visible.add(question.key);
    const answer = answerOf(question, fields);
    if (answer) answers.set(question.key, answer);
  }
  return visible;
}

/** The questions of the visit form, read from its markup (templates/visit_form/
    _question.html): the wrapper's data-question-key, data-type and data-show-if, a
    number field's min and max, the values its radios or boxes offer. */
export function describe(form) {
  return [...form.querySelectorAll("[data-question-key]")].map((wrap) => {
    const key = wrap.dataset.questionKey;
    const fields = [...wrap.querySelectorAll(`[name="q_${CSS.escape(key)}"]`)];
    const choices = fields.filter((el) => el.type === "radio" || el.type === "checkbox").map((el) => el.value);
    const steps = choices.filter((v) => WHOLE_CHOICE.test(v)); // a scale's radios, in order
    const number = fields.find((el) => el.type === "number");
    let showIf = null;
    try { showIf = JSON.parse(wrap.dataset.showIf || "null"); } catch (e) { /* shown */ }
    return {
      key,
      type: wrap.dataset.type,
      showIf: showIf && typeof showIf === "object" && !Array.isArray(showIf) ? showIf : null,
      min: number ? number.getAttribute("min") : steps.length ? steps[0] : null,
      max: number ? number.getAttribute("max") : steps.length ? steps[steps.length - 1] : null,
      naAllowed: choices.includes(NA) || !!wrap.querySelector(`[name="na_${CSS.escape(key)}"]`),
      options: choices.length ? choices : null,
    };
  });
}
