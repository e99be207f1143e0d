"""Reading and writing the checklist document (SCORING.md §1)."""

from __future__ import annotations

import copy
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from scoring import (
    ChecklistError,
    Condition,
    GradeBand,
    Option,
    PointBand,
    Problem,
    Question,
    ScoringRules,
    Section,
    dump_checklist,
    dumps_exact,
    load_checklist,
    loads_exact,
    localized,
)

# The example of SCORING.md §1, as JSON text, parsed exactly.
SPEC_EXAMPLE = loads_exact(
    """{
  "title": "Store service audit",
  "language": "en",
  "scoring": {
    "method": "weighted_sections", "pass_mark": 80, "decimals": 1, "unanswered": "exclude",
    "critical_failure": "zero_visit", "cap_at_100": true,
    "bands": [{"min": 90, "label": "Excellent"}, {"min": 75, "label": "Good"},
              {"min": 60, "label": "Fair"}, {"min": 0, "label": "Poor"}]
  },
  "sections": [
    {"key": "greeting", "title": "Greeting", "weight": 40, "pass_mark": null,
     "questions": [
       {"key": "greeted", "text": "Were you greeted within 30 seconds?",
        "type": "yes_no", "weight": 1, "na_allowed": true, "critical": false,
        "required": true, "guidance": "Count from the moment you enter."},
       {"key": "wait_s", "text": "Seconds until first contact", "type": "number",
        "bands": [{"max": 30, "points": 2}, {"max": 120, "points": 1}, {"points": 0}]},
       {"key": "staff", "text": "Staff behaviour", "type": "choice",
        "options": [{"value": "warm", "label": "Warm", "points": 2},
                    {"value": "neutral", "label": "Neutral", "points": 1},
                    {"value": "rude", "label": "Rude", "points": 0}]},
       {"key": "why", "text": "Why?", "type": "text",
        "show_if": {"question": "staff", "in": ["rude"]}}
     ]}
  ]
}"""
)


def test_spec_example_loads_with_its_values() -> None:
    checklist = load_checklist(SPEC_EXAMPLE)

    assert checklist.scoring == ScoringRules(
        method="weighted_sections",
        pass_mark=Fraction(80),
        bands=(
            GradeBand(Fraction(90), "Excellent"),
            GradeBand(Fraction(75), "Good"),
            GradeBand(Fraction(60), "Fair"),
            GradeBand(Fraction(0), "Poor"),
        ),
    )
    greeting = checklist.sections[0]
    assert (greeting.key, greeting.weight, greeting.pass_mark) == ("greeting", Fraction(40), None)
    wait = greeting.questions[1]
    assert wait.bands == (
        PointBand(Fraction(30), Fraction(2)),
        PointBand(Fraction(120), Fraction(1)),
        PointBand(None, Fraction(0)),
    )
    assert greeting.questions[3].show_if == Condition("staff", "in", ("rude",))


def test_absent_fields_take_their_defaults() -> None:
    checklist = load_checklist(
        {
            "title": "Defaults",
            "sections": [
                {
                    "key": "s",
                    "title": "S",
                    "questions": [{"key": "q", "text": "?", "type": "yes_no"}],
                }
            ],
        }
    )

    assert checklist.language == "en"
    assert checklist.scoring == ScoringRules(
        "pooled", None, 1, "exclude", "zero_visit", cap_at_100=True, bands=()
    )
    assert checklist.sections[0] == Section(
        "s", "S", weight=None, pass_mark=None, questions=(Question("q", "?", "yes_no"),)
    )
    assert checklist.sections[0].effective_weight == 1
    question = checklist.sections[0].questions[0]
    assert (question.weight, question.na_allowed, question.critical) == (Fraction(1), False, False)
    assert (question.required, question.bonus, question.show_if, question.tag) == (
        False,
        False,
        None,
        None,
    )


def test_round_trip_of_the_spec_example_is_its_normalised_form() -> None:
    checklist = load_checklist(SPEC_EXAMPLE)
    dumped = dump_checklist(checklist)

    assert load_checklist(dumped) == checklist
    assert dump_checklist(load_checklist(loads_exact(dumps_exact(dumped)))) == dumped
    normalised = copy.deepcopy(SPEC_EXAMPLE)
    del normalised["language"]
    for field in ("decimals", "unanswered", "critical_failure", "cap_at_100"):
        del normalised["scoring"][field]
    del normalised["sections"][0]["pass_mark"]
    greeted = normalised["sections"][0]["questions"][0]
    del greeted["weight"], greeted["critical"]
    del normalised["sections"][0]["questions"][2]["options"][2]["points"]
    assert dumped == normalised


def test_translations_tags_and_decimals_survive_a_round_trip() -> None:
    doc: dict[str, Any] = {
        "title": "Audit",
        "language": "zh",
        "translations": {"en": {"title": "Audit (en)"}},
        "sections": [
            {
                "key": "s",
                "title": "S",
                "weight": 1,
                "translations": {"en": {"title": "Section"}},
                "questions": [
                    {
                        "key": "q",
                        "text": "问题",
                        "type": "choice",
                        "weight": Decimal("2.5"),
                        "tag": "compliance",
                        "translations": {"en": {"text": "Question", "guidance": "Look"}},
                        "options": [
                            {
                                "value": "a",
                                "label": "甲",
                                "points": Decimal("0.25"),
                                "translations": {"en": {"label": "A"}},
                            }
                        ],
                    }
                ],
            }
        ],
    }

    checklist = load_checklist(doc)

    assert dump_checklist(checklist) == doc
    question = checklist.sections[0].questions[0]
    assert question.weight == Fraction(5, 2)
    assert question.options[0] == Option("a", "甲", Fraction(1, 4), (("en", (("label", "A"),)),))
    assert localized(question.translations, "en", "text", question.text) == "Question"
    assert localized(question.translations, "fr", "text", question.text) == "问题"


def test_null_means_the_same_as_absent() -> None:
    with_nulls = {
        "title": "T",
        "scoring": {"pass_mark": None, "method": None},
        "sections": [
            {
                "key": "s",
                "title": "S",
                "weight": None,
                "questions": [{"key": "q", "text": "?", "type": "text", "guidance": None}],
            }
        ],
    }
    without = {
        "title": "T",
        "sections": [
            {"key": "s", "title": "S", "questions": [{"key": "q", "text": "?", "type": "text"}]}
        ],
    }

    assert load_checklist(with_nulls) == load_checklist(without)


def problems_of(doc: Any) -> list[Problem]:
    with pytest.raises(ChecklistError) as caught:
        load_checklist(doc)
    return caught.value.problems


def test_every_structural_problem_is_reported_not_just_the_first() -> None:
    doc = {
        "title": "",
        "scoring": {"method": "average", "decimals": 1.5, "bands": [{"label": "x"}]},
        "sections": [
            {
                "key": "s",
                "questions": [
                    {"key": "q1", "text": "?", "type": "scale", "wieght": 2},
                    {"text": "?", "type": "stars"},
                    {"key": "q3", "text": "?", "type": "choice", "options": [{"value": 1}]},
                    {"key": "q4", "text": "?", "type": "number", "weight": -1, "bands": [{}]},
                    {"key": "q5", "text": "?", "type": "text", "show_if": {"question": "q1"}},
                    {"key": "q6", "text": "?", "type": "yes_no", "required": "yes"},
                    {"key": "q7", "text": "?", "type": "text", "translations": {"fr": {"x": "y"}}},
                ],
            },
            "not a section",
        ],
    }

    assert [str(p) for p in problems_of(doc)] == [
        "title: must be a non-empty string",
        "scoring.decimals: must be a whole number from 0 to 10",
        "scoring.method: must be one of pooled, weighted_sections",
        "scoring.bands[0].min: is required",
        "sections[0].title: is required",
        "sections[0].questions[0].wieght: unknown field",
        "sections[0].questions[0].min: is required for a scale question",
        "sections[0].questions[0].max: is required for a scale question",
        "sections[0].questions[1].type: must be one of yes_no, choice, multi, scale, number, nps,"
        " text, photo, date, time",
        "sections[0].questions[1].key: is required",
        "sections[0].questions[2].options[0].value: must be a non-empty string",
        "sections[0].questions[2].options[0].label: is required",
        "sections[0].questions[3].weight: must be at least 0",
        "sections[0].questions[3].bands[0].points: is required",
        "sections[0].questions[4].show_if: needs exactly one of equals, in, gte, lte",
        "sections[0].questions[5].required: must be true or false",
        "sections[0].questions[6].translations.fr.x: a question cannot translate this field",
        "sections[1]: must be an object",
    ]


@pytest.mark.parametrize(
    ("doc", "path"),
    [
        ([], "(document)"),
        ({"title": "T", "sections": {}}, "sections"),
        ({"title": "T", "scoring": [], "sections": []}, "scoring"),
        ({"title": "T", "sections": [], "extra": 1}, "extra"),
    ],
    ids=["not an object", "sections not a list", "scoring not an object", "unknown top field"],
)
def test_wrongly_shaped_documents_name_the_path(doc: Any, path: str) -> None:
    assert path in [p.path for p in problems_of(doc)]


def test_scale_bounds_must_be_whole_numbers() -> None:
    doc = {
        "title": "T",
        "sections": [
            {
                "key": "s",
                "title": "S",
                "questions": [
                    {"key": "q", "text": "?", "type": "scale", "min": 0, "max": Decimal("4.5")}
                ],
            }
        ],
    }

    assert [p.path for p in problems_of(doc)] == ["sections[0].questions[0].max"]


def test_dump_refuses_a_number_without_a_decimal_form() -> None:
    from scoring import Checklist

    checklist = Checklist("T", sections=(Section("s", "S", weight=Fraction(1, 3)),))

    with pytest.raises(ValueError, match="1/3"):
        dump_checklist(checklist)
