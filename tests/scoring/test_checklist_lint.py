"""lint_checklist: each error and warning, with a case that triggers it and one that
does not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from scoring import LintIssue, lint_checklist, load_checklist

Doc = dict[str, Any]
Change = Callable[[Doc], object]


def clean_checklist() -> Doc:
    """A checklist with no lint issue at all."""
    return {
        "title": "Lint",
        "scoring": {"method": "weighted_sections", "pass_mark": 80},
        "sections": [
            {
                "key": "service",
                "title": "Service",
                "weight": 2,
                "pass_mark": 70,
                "questions": [
                    {"key": "greeted", "text": "?", "type": "yes_no", "required": True},
                    {
                        "key": "staff",
                        "text": "?",
                        "type": "choice",
                        "required": True,
                        "options": [
                            {"value": "warm", "label": "Warm", "points": 2},
                            {"value": "rude", "label": "Rude", "points": 0},
                        ],
                    },
                    {
                        "key": "wait",
                        "text": "?",
                        "type": "number",
                        "required": True,
                        "bands": [{"max": 30, "points": 2}, {"points": 0}],
                    },
                    {
                        "key": "rating",
                        "text": "?",
                        "type": "scale",
                        "min": 1,
                        "max": 5,
                        "required": True,
                    },
                    {
                        "key": "why",
                        "text": "?",
                        "type": "text",
                        "show_if": {"question": "staff", "equals": "rude"},
                    },
                ],
            },
            {
                "key": "store",
                "title": "Store",
                "weight": 1,
                "questions": [{"key": "clean", "text": "?", "type": "yes_no", "required": True}],
            },
        ],
    }


def question(doc: Doc, key: str) -> Doc:
    return next(q for s in doc["sections"] for q in s["questions"] if q["key"] == key)


def add(doc: Doc, section: int, **fields: Any) -> None:
    doc["sections"][section]["questions"].append({"text": "?", **fields})


def condition(key: str, **test: Any) -> Change:
    return lambda doc: add(doc, 1, key="follow", type="text", show_if={"question": key, **test})


def issues_after(change: Change) -> list[LintIssue]:
    doc = clean_checklist()
    change(doc)
    return lint_checklist(load_checklist(doc))


def test_clean_checklist_has_no_issues() -> None:
    assert lint_checklist(load_checklist(clean_checklist())) == []


STAFF_OPTIONS = "sections[0].questions[1].options"
NOTES_ONLY = {
    "key": "notes",
    "title": "Notes",
    "weight": 1,
    "questions": [{"key": "note", "text": "?", "type": "text"}],
}
# id -> (change that triggers it, a similar change that does not, level, path, message part)
CASES: dict[str, tuple[Change, Change, str, str, str]] = {
    "duplicate section key": (
        lambda d: d["sections"][1].update(key="service"),
        lambda d: d["sections"][1].update(key="store2"),
        "error",
        "sections[1].key",
        "duplicate section key 'service'",
    ),
    "duplicate question key across sections": (
        lambda d: question(d, "clean").update(key="greeted"),
        lambda d: question(d, "clean").update(key="tidy"),
        "error",
        "sections[1].questions[0].key",
        "duplicate question key 'greeted'",
    ),
    "duplicate option value": (
        lambda d: question(d, "staff")["options"][1].update(value="warm"),
        lambda d: question(d, "staff")["options"][1].update(label="Warm"),
        "error",
        STAFF_OPTIONS,
        "lists option 'warm' more than once",
    ),
    "show_if on an unknown question": (
        condition("ghost", equals="yes"),
        condition("greeted", equals="yes"),
        "error",
        "sections[1].questions[1].show_if",
        "unknown question 'ghost'",
    ),
    "show_if on a later question": (
        lambda d: question(d, "greeted").update(show_if={"question": "clean", "equals": "yes"}),
        condition("greeted", equals="yes"),
        "error",
        "sections[0].questions[0].show_if",
        "'clean', which comes later",
    ),
    "show_if on itself": (
        lambda d: question(d, "why").update(show_if={"question": "why", "equals": "x"}),
        lambda d: question(d, "why").update(show_if={"question": "staff", "equals": "warm"}),
        "error",
        "sections[0].questions[4].show_if",
        "refers to the question itself",
    ),
    "show_if value not among the options": (
        condition("staff", equals="grumpy"),
        condition("staff", **{"in": ["warm", "rude"]}),
        "error",
        "sections[1].questions[1].show_if",
        "'staff' can never be 'grumpy'",
    ),
    "show_if gte above a scale's max": (
        condition("rating", gte=6),
        condition("rating", gte=5),
        "error",
        "sections[1].questions[1].show_if",
        "never above 5",
    ),
    "show_if gte on a yes/no question": (
        condition("greeted", gte=1),
        condition("greeted", equals="no"),
        "error",
        "sections[1].questions[1].show_if",
        "gte needs a scale, number or nps question",
    ),
    "show_if on N/A": (
        condition("greeted", equals="na"),
        condition("greeted", equals="yes"),
        "error",
        "sections[1].questions[1].show_if",
        "can never be 'na'",
    ),
    "choice without options": (
        lambda d: question(d, "staff").update(options=[], show_if=None),
        lambda d: add(d, 1, key="seen", type="multi", options=[{"value": "a", "label": "A"}]),
        "error",
        STAFF_OPTIONS,
        "has no options",
    ),
    "number without bands": (
        lambda d: question(d, "wait").update(bands=[]),
        lambda d: question(d, "wait").update(bands=[{"points": 1}]),
        "error",
        "sections[0].questions[2].bands",
        "needs bands",
    ),
    "number bands without a catch-all": (
        lambda d: question(d, "wait").update(bands=[{"max": 30, "points": 2}]),
        lambda d: question(d, "wait").update(bands=[{"max": 30, "points": 2}], max=30),
        "error",
        "sections[0].questions[2].bands",
        "values above 30 fall in no band",
    ),
    "number band maxes not rising": (
        lambda d: question(d, "wait")["bands"].insert(1, {"max": 10, "points": 1}),
        lambda d: question(d, "wait")["bands"].insert(1, {"max": 60, "points": 1}),
        "error",
        "sections[0].questions[2].bands",
        "band maxes must rise",
    ),
    "number catch-all band before the last": (
        lambda d: question(d, "wait")["bands"].reverse(),
        lambda d: question(d, "wait")["bands"].sort(key=lambda b: "max" not in b),
        "error",
        "sections[0].questions[2].bands[0]",
        "only the last band may leave out max",
    ),
    "weighted sections with a missing weight": (
        lambda d: d["sections"][1].pop("weight"),
        lambda d: (d["sections"][1].pop("weight"), d["scoring"].update(method="pooled")),
        "error",
        "sections[1].weight",
        "section 'store' needs a weight",
    ),
    "visit pass mark above 100": (
        lambda d: d["scoring"].update(pass_mark=101),
        lambda d: d["scoring"].update(pass_mark=100),
        "error",
        "scoring.pass_mark",
        "between 0 and 100",
    ),
    "section pass mark below 0": (
        lambda d: d["sections"][0].update(pass_mark=-1),
        lambda d: d["sections"][0].update(pass_mark=0),
        "error",
        "sections[0].pass_mark",
        "between 0 and 100",
    ),
    "scale with min not below max": (
        lambda d: question(d, "rating").update(min=5),
        lambda d: question(d, "rating").update(min=4),
        "error",
        "sections[0].questions[3]",
        "min must be below its max",
    ),
    "yes/no options that are not yes and no": (
        lambda d: question(d, "clean").update(options=[{"value": "y", "label": "Y", "points": 1}]),
        lambda d: question(d, "clean").update(
            options=[
                {"value": "yes", "label": "Y", "points": 2},
                {"value": "no", "label": "N", "points": 0},
            ]
        ),
        "error",
        "sections[1].questions[0].options",
        'must be "yes" and "no"',
    ),
    "option value reserved for N/A": (
        lambda d: question(d, "staff")["options"][1].update(value="na"),
        lambda d: question(d, "staff")["options"][1].update(label="na"),
        "error",
        STAFF_OPTIONS,
        '"na" is reserved for N/A answers',
    ),
    "condition on a photo": (
        lambda d: add(d, 1, key="proof", type="photo") or condition("proof", equals="x")(d),
        lambda d: add(d, 1, key="proof", type="photo") or condition("clean", equals="no")(d),
        "error",
        "sections[1].questions[2].show_if",
        "photo answers cannot be compared",
    ),
    "in that lists no values": (
        condition("staff", **{"in": []}),
        condition("staff", **{"in": ["warm"]}),
        "error",
        "sections[1].questions[1].show_if",
        "it lists no values",
    ),
    "number with min above max": (
        lambda d: question(d, "wait").update(min=10, max=5),
        lambda d: question(d, "wait").update(min=5, max=10),
        "error",
        "sections[0].questions[2]",
        "min is above max",
    ),
    "options on a type that ignores them": (
        lambda d: question(d, "why").update(options=[{"value": "a", "label": "A"}]),
        lambda d: question(d, "staff")["options"].append({"value": "meh", "label": "Meh"}),
        "warning",
        "sections[0].questions[4].options",
        "options are ignored on a text question",
    ),
    "checklist that can never be scored": (
        lambda d: d.update(sections=[NOTES_ONLY]),
        lambda d: d.update(sections=[NOTES_ONLY, d["sections"][1]]),
        "warning",
        "sections",
        "no combination of answers gives this checklist a score",
    ),
    "section that can be entirely N/A": (
        lambda d: question(d, "clean").update(na_allowed=True),
        lambda d: add(d, 1, key="tidy", type="yes_no", required=True, na_allowed=True),
        "warning",
        "sections[1]",
        "every scored question in section 'store' can end up N/A",
    ),
    "critical flag on an unscored question": (
        lambda d: question(d, "why").update(critical=True),
        lambda d: question(d, "staff").update(critical=True),
        "warning",
        "sections[0].questions[4].critical",
        "'why' is marked critical but a text question is not scored",
    ),
    "no answer combination reaches 100": (
        lambda d: question(d, "wait").update(min=31),
        lambda d: question(d, "wait").update(min=30),
        "warning",
        "sections",
        "no combination of answers reaches 100; the best possible score is 77.8",
    ),
    "scored section with all weights 0": (
        lambda d: question(d, "clean").update(weight=0),
        lambda d: add(d, 1, key="tidy", type="yes_no", required=True, weight=0),
        "warning",
        "sections[1]",
        "every scored question in section 'store' has weight 0",
    ),
}


@pytest.mark.parametrize(
    ("change", "level", "path", "message"),
    [(case[0], *case[2:]) for case in CASES.values()],
    ids=list(CASES),
)
def test_lint_reports(change: Change, level: str, path: str, message: str) -> None:
    issues = issues_after(change)

    assert any((i.level, i.path) == (level, path) and message in i.message for i in issues), issues


@pytest.mark.parametrize(
    ("near_miss", "message"),
    [(case[1], case[4]) for case in CASES.values()],
    ids=list(CASES),
)
def test_lint_stays_quiet_on_a_near_miss(near_miss: Change, message: str) -> None:
    assert issues_after(near_miss) == []


def gate_and_trap(doc: Doc, trap_when: str, bonus: bool = False) -> None:
    """A required yes/no gate and, behind it, a number whose top band is unreachable."""
    add(doc, 1, key="gate", type="yes_no", required=True)
    add(
        doc,
        1,
        key="trap",
        type="number",
        required=True,
        min=31,
        bands=[{"max": 30, "points": 2}, {"points": 0}],
        show_if={"question": "gate", "equals": trap_when},
    )
    if bonus:
        add(doc, 1, key="extra", type="yes_no", bonus=True, weight=2)


@pytest.mark.parametrize(
    ("change", "best"),
    [
        (lambda d: gate_and_trap(d, trap_when="no"), None),
        (lambda d: gate_and_trap(d, trap_when="yes"), "83.3"),
        (lambda d: gate_and_trap(d, trap_when="yes", bonus=True), None),
    ],
    ids=[
        "the best answer to the gate hides the trap",
        "every answer to the gate costs points",
        "a bonus makes up for the trap",
    ],
)
def test_best_score_search_follows_conditions_and_bonuses(change: Change, best: str | None) -> None:
    warnings = [i.message for i in issues_after(change) if "reaches 100" in i.message]

    assert warnings == ([] if best is None else [f"{REACHES_100} {best}"])


REACHES_100 = "no combination of answers reaches 100; the best possible score is"
