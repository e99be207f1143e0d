"""Cleaning answers, required questions and invalid values (never a silent zero)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from scoring import (
    AnswerError,
    Checklist,
    load_checklist,
    missing_required,
    score_visit,
    validate_answers,
)

OPTIONS = [{"value": v, "label": v.title(), "points": 1} for v in ("warm", "neutral")]

SHEET: Checklist = load_checklist(
    {
        "title": "Every type",
        "sections": [
            {
                "key": "s",
                "title": "S",
                "questions": [
                    {"key": "greeted", "text": "?", "type": "yes_no", "required": True},
                    {"key": "staff", "text": "?", "type": "choice", "options": OPTIONS},
                    {"key": "seen", "text": "?", "type": "multi", "options": OPTIONS},
                    {"key": "rating", "text": "?", "type": "scale", "min": 1, "max": 5},
                    {
                        "key": "wait",
                        "text": "?",
                        "type": "number",
                        "min": 0,
                        "max": 600,
                        "bands": [{"points": 1}],
                    },
                    {"key": "nps", "text": "?", "type": "nps", "na_allowed": True},
                    {"key": "note", "text": "?", "type": "text"},
                    {"key": "proof", "text": "?", "type": "photo"},
                    {"key": "day", "text": "?", "type": "date"},
                    {"key": "at", "text": "?", "type": "time"},
                    {
                        "key": "why",
                        "text": "?",
                        "type": "text",
                        "required": True,
                        "show_if": {"question": "greeted", "equals": "no"},
                    },
                ],
            }
        ],
    }
)


@pytest.mark.parametrize(
    ("key", "raw", "cleaned"),
    [
        ("greeted", "yes", "yes"),
        ("seen", ["warm", "neutral", "warm"], ("warm", "neutral")),
        ("seen", [], ()),
        ("rating", Decimal("4.0"), 4),
        ("wait", Decimal("12.50"), Fraction(25, 2)),
        ("wait", 0, 0),
        ("nps", "na", "na"),
        ("note", "na", "na"),
        ("proof", ["a.jpg", "b.jpg"], ("a.jpg", "b.jpg")),
        ("day", "2024-02-29", "2024-02-29"),
        ("at", "00:00", "00:00"),
    ],
)
def test_valid_answers_are_cleaned(key: str, raw: object, cleaned: object) -> None:
    validated = validate_answers(SHEET, {key: raw})

    assert validated.errors == {}
    assert validated.answers[key] == cleaned
    assert type(validated.answers[key]) is type(cleaned)


@pytest.mark.parametrize(("key", "raw"), [("note", "   "), ("proof", []), ("staff", None)])
def test_blank_answers_count_as_unanswered(key: str, raw: object) -> None:
    validated = validate_answers(SHEET, {key: raw})

    assert validated.errors == {}
    assert key not in validated.answers


INVALID = [
    ("greeted", "maybe", "unknown option"),
    ("greeted", True, "one of"),
    ("staff", "rude", "unknown option 'rude'"),
    ("staff", "na", "N/A is not allowed"),
    ("seen", "warm", "list"),
    ("seen", ["warm", "cold"], "'cold'"),
    ("rating", 6, "outside the range 1..5"),
    ("rating", Decimal("2.5"), "not a whole number"),
    ("rating", "4", "must be a number"),
    ("wait", 601, "outside the range 0..600"),
    ("wait", float("nan"), "must be a number"),
    ("wait", False, "must be a number"),
    ("nps", 11, "outside the range 0..10"),
    ("nps", Decimal("7.5"), "not a whole number"),
    ("note", 42, "must be a string"),
    ("proof", [""], "photo reference"),
    ("day", "2024-02-30", "not a date"),
    ("day", "20240201", "not a date"),
    ("at", "24:00", "not a time"),
    ("at", "9:30", "not a time"),
    ("ghost", "yes", "unknown question"),
]


@pytest.mark.parametrize(("key", "raw", "message"), INVALID)
def test_invalid_values_are_reported_by_key(key: str, raw: object, message: str) -> None:
    validated = validate_answers(SHEET, {key: raw})

    assert message in validated.errors[key]
    assert key not in validated.answers


@pytest.mark.parametrize(("key", "raw", "message"), INVALID)
def test_scoring_refuses_invalid_values(key: str, raw: object, message: str) -> None:
    with pytest.raises(AnswerError) as caught:
        score_visit(SHEET, {"greeted": "yes", key: raw})

    assert message in caught.value.errors[key]


def test_hidden_question_values_are_dropped_silently_even_when_invalid() -> None:
    validated = validate_answers(SHEET, {"greeted": "yes", "why": 12345})

    assert validated.errors == {}
    assert "why" not in validated.answers
    assert "why" not in validated.visible


@pytest.mark.parametrize(
    ("answers", "missing"),
    [
        ({}, ["greeted"]),
        ({"greeted": "yes"}, []),
        ({"greeted": "no"}, ["why"]),
        ({"greeted": "no", "why": "  "}, ["why"]),
        ({"greeted": "no", "why": "Busy on the phone"}, []),
        ({"greeted": "maybe"}, []),
    ],
    ids=[
        "required question unanswered",
        "answered",
        "required follow-up shown and unanswered",
        "blank text is unanswered",
        "follow-up answered",
        "an invalid value is an error, not missing",
    ],
)
def test_missing_required_lists_visible_required_unanswered_keys(
    answers: dict[str, Any], missing: list[str]
) -> None:
    assert missing_required(SHEET, answers) == missing
