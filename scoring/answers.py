"""Checking a visit's answers against the checklist and deciding which questions are visible.

Rules decided here where SCORING.md is silent:

- ``show_if`` is evaluated in checklist order against the answers already cleaned, so a
  condition on a later (or unknown) question is simply false.
- An answer to an unknown question key is an error ("unknown question"), reported in
  ``Validated.errors`` with the value errors, so a typo never quietly scores as N/A.
- An invalid value for a hidden question is discarded silently like any hidden value.
- ``null``, a missing key, a blank text and an empty photo list all mean unanswered.
  An empty list for ``multi`` IS an answer: none of the options was observed.
- Repeated values in a ``multi`` answer are kept once, in first-seen order.
- For a ``text`` question without ``na_allowed`` the text "na" is just text.
- ``scale`` and ``nps`` answers are whole numbers; ``number`` answers any number within
  the question's optional ``min``/``max``. Whole numbers are cleaned to ``int``, others
  to ``Fraction``; strings are never numbers (the form layer converts them).
- ``photo`` answers are a non-empty string or a list of them (references to uploads).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import TypeAlias

from scoring.exact import show_number, to_fraction
from scoring.model import NA, NUMERIC_TYPES, Checklist, Condition, Question

Answer: TypeAlias = str | int | Fraction | tuple[str, ...]

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


@dataclass(frozen=True)
class Validated:
    """Cleaned answers of the visible questions, per-key errors and the visible keys."""

    answers: dict[str, Answer]
    errors: dict[str, str]
    visible: frozenset[str] = field(default_factory=frozenset)


def validate_answers(checklist: Checklist, answers: Mapping[str, object]) -> Validated:
    """Clean ``answers`` for ``checklist``: drop hidden and unanswered ones, report bad ones."""
    questions = {q.key: q for q in checklist.questions()}
    errors = {str(key): "unknown question" for key in answers if key not in questions}
    cleaned: dict[str, Answer] = {}
    visible: set[str] = set()
    for question in checklist.questions():
        if question.show_if is not None and not condition_holds(
            question.show_if, cleaned, questions
        ):
            continue  # hidden: whatever was submitted is not an answer
        visible.add(question.key)
        value, error = clean_answer(question, answers.get(question.key))
        if error is not None:
            errors[question.key] = error
        elif value is not None:
            cleaned[question.key] = value
    return Validated(cleaned, errors, frozenset(visible))


def visible_keys(checklist: Checklist, answers: Mapping[str, object]) -> set[str]:
    """Keys of the questions whose ``show_if`` holds (or that have none)."""
    return set(validate_answers(checklist, answers).visible)


def missing_required(checklist: Checklist, answers: Mapping[str, object]) -> list[str]:
    """Keys of required visible questions left unanswered: what blocks submission."""
    validated = validate_answers(checklist, answers)
    return [
        q.key
        for q in checklist.questions()
        if q.required
        and q.key in validated.visible
        and q.key not in validated.answers
        and q.key not in validated.errors
    ]


def is_na(question: Question, value: object) -> bool:
    """Whether a cleaned ``value`` is the N/A answer for ``question``."""
    return value == NA and question.na_allowed


def condition_holds(
    condition: Condition, answers: Mapping[str, Answer], questions: Mapping[str, Question]
) -> bool:
    """Whether ``condition`` holds on cleaned answers; false when its target has no value."""
    target = questions.get(condition.question)
    value = answers.get(condition.question)
    if target is None or value is None or is_na(target, value):
        return False
    # A multi answer holds when any chosen value matches.
    values = value if isinstance(value, tuple) else (value,)
    expected = condition.value
    if condition.op == "equals":
        return any(v == expected for v in values)
    if condition.op == "in":
        choices = expected if isinstance(expected, tuple) else (expected,)
        return any(v in choices for v in values)
    if not isinstance(value, int | Fraction) or not isinstance(expected, Fraction):
        return False
    return value >= expected if condition.op == "gte" else value <= expected


def clean_answer(question: Question, raw: object) -> tuple[Answer | None, str | None]:
    """(cleaned value, None), (None, None) when unanswered, or (None, error message)."""
    if raw is None:
        return None, None
    if raw == NA and (question.na_allowed or question.type != "text"):
        if question.na_allowed:
            return NA, None
        return None, "N/A is not allowed for this question"
    kind = question.type
    if kind in NUMERIC_TYPES:
        return _clean_number(question, raw)
    if kind in ("yes_no", "choice"):
        allowed = ("yes", "no") if kind == "yes_no" else tuple(o.value for o in question.options)
        if not isinstance(raw, str):
            return None, "must be one of: " + ", ".join(allowed)
        if raw not in allowed:
            return None, f"unknown option {raw!r}; expected one of: " + ", ".join(allowed)
        return raw, None
    if kind == "multi":
        return _clean_multi(question, raw)
    if kind == "photo":
        return _clean_photo(raw)
    if not isinstance(raw, str):
        return None, "must be a string"
    if kind == "date":
        return (raw, None) if _is_date(raw) else (None, f"{raw!r} is not a date (YYYY-MM-DD)")
    if kind == "time":
        if _TIME.fullmatch(raw):
            return raw, None
        return None, f"{raw!r} is not a time (HH:MM, 00:00 to 23:59)"
    return (raw, None) if raw.strip() else (None, None)


def _clean_number(question: Question, raw: object) -> tuple[Answer | None, str | None]:
    number = to_fraction(raw)
    if number is None:
        return None, "must be a number"
    low, high = question.min, question.max
    if question.type == "nps":
        low, high = Fraction(0), Fraction(10)
    if question.type in ("scale", "nps") and number.denominator != 1:
        return None, f"{show_number(number)} is not a whole number"
    if (low is not None and number < low) or (high is not None and number > high):
        bounds = "..".join("" if b is None else show_number(b) for b in (low, high))
        return None, f"{show_number(number)} is outside the range {bounds}"
    return (number.numerator if number.denominator == 1 else number), None


def _clean_multi(question: Question, raw: object) -> tuple[Answer | None, str | None]:
    if not isinstance(raw, list | tuple) or not all(isinstance(v, str) for v in raw):
        return None, "must be a list of option values"
    allowed = [o.value for o in question.options]
    unknown = [v for v in raw if v not in allowed]
    if unknown:
        return None, "unknown option(s) " + ", ".join(map(repr, unknown))
    return tuple(dict.fromkeys(raw)), None


def _clean_photo(raw: object) -> tuple[Answer | None, str | None]:
    if isinstance(raw, str):
        return (raw, None) if raw.strip() else (None, None)
    if isinstance(raw, list | tuple) and all(isinstance(v, str) and v.strip() for v in raw):
        return (tuple(raw), None) if raw else (None, None)
    return None, "must be a photo reference or a list of them"


def _is_date(text: str) -> bool:
    if not _DATE.fullmatch(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True
