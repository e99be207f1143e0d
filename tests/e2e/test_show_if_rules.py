"""show_if in the browser agrees with scoring, case by case.

Each case is a checklist and the form fields a phone could send for it (``q_<key>``,
and ``na_<key>`` for an N/A box). The server's answer is the visit form's: the fields
read by the checklist's form (forms/builder.py), then ``scoring.visible_keys``. The
browser's is static/visit_form/conditions.js, loaded in Chromium from the live
server: ``describe`` reads the questions from the markup the same form renders (the
wrapper attributes of templates/visit_form/_question.html around each field), and
``visibleKeys`` decides on the same fields. The two sets of visible questions must be
equal.

The cases are the Python tests' (equals, in, gte and lte on every kind of answer,
N/A, unanswered, hidden chains) and the decimals binary floats get wrong: a phone's
``0.3000000000000000001`` is more than 0.3 for scoring's exact Fractions, but equal
to it as a JavaScript number.
"""

import json
from fractions import Fraction
from typing import Any

import pytest
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

import scoring
from forms.builder import build_form_class
from scoring.exact import exact_decimal

pytestmark = pytest.mark.e2e

Fields = dict[str, str | list[str]]


def q(key: str, kind: str, **more: Any) -> dict[str, Any]:
    return {"key": key, "text": key, "type": kind, **more}


def when(target: str, op: str, value: Any) -> dict[str, Any]:
    return {"show_if": {"question": target, op: value}}


def options(*values: str) -> list[dict[str, Any]]:
    return [{"value": v, "label": v.title(), "points": 1} for v in values]


# name: (questions of one section, the fields of each try)
CASES: dict[str, tuple[list[dict[str, Any]], list[Fields]]] = {
    "equals on yes/no": (
        [
            q("greeted", "yes_no", required=True),
            q("why", "text", **when("greeted", "equals", "no")),
        ],
        [
            {}, {"q_greeted": "no"}, {"q_greeted": "yes"}, {"q_greeted": ""},
            {"q_greeted": ["no", "yes"]}, {"q_greeted": "maybe"}, {"q_greeted": "NO"},
        ],
    ),
    "equals and in on a choice with N/A": (
        [
            q("staff", "choice", options=options("warm", "neutral", "rude"), na_allowed=True),
            q("follow", "text", **when("staff", "in", ["rude", "neutral"])),
            q("warmth", "yes_no", **when("staff", "equals", "warm")),
        ],
        [
            {}, {"q_staff": "rude"}, {"q_staff": "neutral"}, {"q_staff": "warm"},
            {"q_staff": "na"}, {"q_staff": "cold"},
        ],
    ),
    "in and equals on a multi: any chosen value, None of these, N/A": (
        [
            q("offers", "multi", options=options("card", "loan", "fund"), na_allowed=True),
            q("which", "text", **when("offers", "in", ["loan", "fund"])),
            q("card", "text", **when("offers", "equals", "card")),
        ],
        [
            {}, {"q_offers": ["card"]}, {"q_offers": ["card", "fund"]}, {"q_offers": [""]},
            {"q_offers": ["na"]}, {"q_offers": ["na", "loan"]}, {"q_offers": ["loan", ""]},
            {"q_offers": ["loan", "gold"]},
        ],
    ),
    "lte, in and equals with numbers on a scale of radios": (
        [
            q("clean", "scale", min=1, max=5, na_allowed=True),
            q("why_low", "text", **when("clean", "lte", 2)),
            q("top", "text", **when("clean", "in", [4, 5])),
            q("three", "text", **when("clean", "equals", 3)),
            q("three_text", "text", **when("clean", "equals", "3")),
        ],
        [
            {}, *({"q_clean": str(n)} for n in range(1, 6)), {"q_clean": "na"},
            {"q_clean": "6"}, {"q_clean": "0"}, {"q_clean": "3.0"}, {"q_clean": "03"},
            {"q_clean": "-1"},
        ],
    ),
    "gte and lte on NPS": (
        [
            q("nps", "nps", na_allowed=True),
            q("promoter", "text", **when("nps", "gte", 9)),
            q("detractor", "text", **when("nps", "lte", 6)),
        ],
        [
            {}, *({"q_nps": n} for n in ("0", "6", "7", "9", "10", "na", "11", "-1", "9.5")),
        ],
    ),
    "gte on a number within min..max, with an N/A box": (
        [
            q("wait", "number", min=0, max=600, na_allowed=True),
            q("why", "text", **when("wait", "gte", 300)),
        ],
        [
            *({"q_wait": text} for text in (
                "299", "300", "300.0", "600", "601", "-1", " 450 ", "1e3", "4.5e2", "４５０",
                "450,5", "450.5.1", "abc", "", "+300", "0300",
            )),
            {"q_wait": "450", "na_wait": "y"}, {"q_wait": "450", "na_wait": "false"},
            {"na_wait": "y"},
        ],
    ),
    "decimals compare exactly, never as binary floats": (
        [
            q("amount", "number"),
            q("half", "text", **when("amount", "equals", 2.5)),
            q("gte_03", "text", **when("amount", "gte", 0.3)),
            q("lte_03", "text", **when("amount", "lte", 0.3)),
            q("tenths", "text", **when("amount", "in", [0.1, 0.2, 0.3])),
        ],
        [
            {"q_amount": text} for text in (
                "2.5", "2.50", "02.5", "2,5", "+2.5", "２．５",
                "2.50000000000000000001",  # 20 places: not 2.5, though a float says so
                "2.500000000000000000000",  # 21 places: refused, so unanswered
                ".3", "0.30", "0.1", "0.2",
                "0.3000000000000000001",  # more than 0.3; a float rounds it to 0.3
                "0.29999999999999999",  # less than 0.3; a float rounds it to 0.3
                "0.30000000000000004",  # what 0.1 + 0.2 is as a float
                "-0", "-0.0001",
            )
        ],
    ),
    "the largest numbers: 15 digits before the point": (
        [
            q("count", "number"),
            q("big", "text", **when("count", "gte", 99999999.9999)),
            q("small", "text", **when("count", "lte", 99999999.9999)),
        ],
        [
            {"q_count": text} for text in (
                "99999999.9999", "99999999.99990000000000000001", "99999999.99989999999999999999",
                "999999999999999", "1000000000000000", "-999999999999999",
                "000000000000000099999999.9999",
            )
        ],
    ),
    "a scale too wide for radios is typed, and whole": (
        [
            q("minutes", "scale", min=0, max=20),
            q("long", "text", **when("minutes", "gte", 10)),
        ],
        [{"q_minutes": text} for text in ("12", "12.0", "12.5", "21", "-0", "10", "9.99")],
    ),
    "text, and na as text or as N/A": (
        [
            q("note", "text"),
            q("note_na", "text", na_allowed=True),
            q("said_na", "yes_no", **when("note", "equals", "na")),
            q("said_na_too", "yes_no", **when("note_na", "equals", "na")),
            q("said_x", "yes_no", **when("note", "equals", " x")),
            q("ok", "yes_no", **when("note_na", "in", ["ok"])),
        ],
        [
            {"q_note": "na", "q_note_na": "na"}, {"q_note": "   "}, {"q_note": " x"},
            {"q_note": "x"}, {"q_note_na": "ok", "na_note_na": "y"}, {"q_note_na": "ok"},
            {"q_note": ["x", " x"]},
        ],
    ),
    "dates and times as the server reads them": (
        [
            q("day", "date"),
            q("at", "time"),
            q("on_day", "text", **when("day", "equals", "2026-03-01")),
            q("leap", "text", **when("day", "in", ["2024-02-29"])),
            q("at_opening", "text", **when("at", "in", ["09:30", "21:00"])),
        ],
        [
            {"q_day": "2026-03-01", "q_at": "09:30"}, {"q_day": "2026-3-1", "q_at": "9:30"},
            {"q_day": "2026-02-30", "q_at": "24:00"}, {"q_at": "09:30:00"},
            {"q_day": "2024-02-29", "q_at": "21:00"}, {"q_day": " 2026-03-01"},
            {"q_day": "2026-03- 1"}, {"q_day": "0000-03-01"},
        ],
    ),
    "hidden chains: a question hidden because the one it looks at is hidden": (
        [
            q("greeted", "yes_no"),
            q("smiled", "yes_no", **when("greeted", "equals", "yes")),
            q("how", "choice", options=options("warm", "cold"), **when("smiled", "equals", "yes")),
            q("why_cold", "text", **when("how", "equals", "cold")),
            q("early", "yes_no", **when("later", "equals", "yes")),  # a later question: never
            q("later", "yes_no"),
            q("orphan", "text", **when("ghost", "equals", "yes")),  # an unknown question
        ],
        [
            {},
            {"q_greeted": "yes", "q_smiled": "yes", "q_how": "cold", "q_later": "yes"},
            {"q_greeted": "no", "q_smiled": "yes", "q_how": "cold", "q_why_cold": "x"},
            {"q_greeted": "yes", "q_smiled": "no", "q_how": "cold"},
            {"q_greeted": "yes", "q_smiled": "yes", "q_how": "warm"},
            {"q_greeted": "yes", "q_smiled": "yes"},
            {"q_smiled": "yes", "q_how": "cold", "q_ghost": "yes"},
        ],
    ),
    "a number never equals a string, nor a string a number": (
        [
            q("code", "choice", options=options("3", "4")),
            q("wait", "number"),
            q("code_number", "text", **when("code", "equals", 3)),
            q("code_text", "text", **when("code", "equals", "3")),
            q("code_gte", "text", **when("code", "gte", 3)),
            q("wait_text", "text", **when("wait", "in", ["5", "6"])),
            q("wait_number", "text", **when("wait", "in", [5, 6])),
        ],
        [
            {"q_code": "3", "q_wait": "5"}, {"q_code": "4", "q_wait": "5.0"}, {"q_wait": "6,0"},
            {"q_wait": "7"},
        ],
    ),
}  # fmt: skip


def _checklist(questions: list[dict[str, Any]]) -> scoring.Checklist:
    doc = {"title": "show_if", "sections": [{"key": "s", "title": "S", "questions": questions}]}
    return scoring.load_checklist(doc)


def _page_condition(question: scoring.Question) -> str:
    """data-show-if as the visit form writes it (views/visit_form.py ``_condition``):
    numbers as JSON numbers, exact up to the 4 decimals a checklist may use."""
    condition = question.show_if
    assert condition is not None

    def value(v: str | Fraction) -> Any:
        if isinstance(v, str):
            return v
        exact = exact_decimal(v)
        return exact if isinstance(exact, int) else float(exact)

    values = condition.value
    written = [value(v) for v in values] if isinstance(values, tuple) else value(values)
    return json.dumps({"question": condition.question, condition.op: written})


def _markup(checklist: scoring.Checklist) -> str:
    """Each question's fields as the form renders them, in a wrapper like the page's."""
    form = build_form_class(checklist)()
    parts = []
    for slot in form.slots():
        question = slot.question
        attributes = Markup(' data-question-key="{}" data-type="{}"').format(
            question.key, question.type
        )
        if question.show_if is not None:
            attributes += Markup(" data-show-if='{}'").format(_page_condition(question))
        box = slot.na_field() if slot.na_field is not None else ""
        parts.append(Markup("<div{}>{}{}</div>").format(attributes, slot.field(), box))
    return str(Markup("").join(parts))


def _scoring_visible(checklist: scoring.Checklist, fields: Fields) -> list[str]:
    formdata: MultiDict[str, str] = MultiDict()
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            formdata.add(name, item)
    form = build_form_class(checklist)(formdata=formdata)
    return sorted(scoring.visible_keys(checklist, form.submitted()))


BROWSER_SIDE = """async (cases) => {
  const rules = await import("/static/visit_form/conditions.js");
  const form = document.createElement("form");
  return cases.map(([markup, tries]) => {
    form.innerHTML = markup;
    const questions = rules.describe(form);
    return tries.map((fields) => [...rules.visibleKeys(questions, fields)].sort());
  });
}"""


def test_the_browser_shows_the_questions_scoring_shows(desk_page: Any) -> None:
    page = desk_page
    page.goto("/login")  # any page of the app: the module is imported from its origin
    checklists = {name: _checklist(questions) for name, (questions, _tries) in CASES.items()}
    browser = page.evaluate(
        BROWSER_SIDE,
        [[_markup(checklists[name]), tries] for name, (_questions, tries) in CASES.items()],
    )
    disagreements = []
    for (name, (_questions, tries)), answers in zip(CASES.items(), browser, strict=True):
        for fields, in_browser in zip(tries, answers, strict=True):
            expected = _scoring_visible(checklists[name], fields)
            if in_browser != expected:
                disagreements.append(
                    f"{name}: {fields}\n  scoring {expected}\n  browser {in_browser}"
                )
    assert not disagreements, "\n".join(disagreements)
    assert page.js_problems == []


def test_the_cases_show_and_hide_every_question_that_can_show() -> None:
    """The table is not idle: every conditional question is hidden in some try of its
    case (and the browser test shows it in another, unless it never can show)."""
    idle = []
    for name, (questions, tries) in CASES.items():
        checklist = _checklist(questions)
        seen = [set(_scoring_visible(checklist, fields)) for fields in tries]
        for question in checklist.questions():
            shown = sum(question.key in visible for visible in seen)
            if question.show_if is not None and shown == len(tries):
                idle.append(f"{name}: {question.key} is never hidden")
    assert not idle, "\n".join(idle)
