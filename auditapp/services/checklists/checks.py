"""Checking a checklist document before anything is stored.

``validate_document`` runs the scoring engine's structural checks and then enforces
what the columns can hold: numbers with at most four decimals and below 10^8,
``decimals`` from 0 to 4, keys of letters, digits, ``_`` and ``-`` (at most 64), and
text lengths. Blank translation texts are dropped first: an empty translation means
"not translated". ``structure_problems`` adds what the rows can never hold and the
builder must never produce (duplicate keys or option values, conditions on unknown or
later questions).
"""

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from fractions import Fraction
from typing import Any

from flask_babel import gettext as _

import scoring

from ...errors import DomainError

KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MAX_NUMBER = Fraction(10**8)
_SCALE = 10**4
_TEXT_LIMITS = {"title": 200, "section title": 300, "label": 300, "value": 64, "language": 16}


class ChecklistInvalid(DomainError):
    """The document (or the edit) does not make a readable checklist; ``problems`` lists
    every problem as "path: message"."""

    def __init__(self, problems: Sequence[str], message: str | None = None) -> None:
        self.problems = list(problems)
        super().__init__(
            message
            or _(
                "The checklist has %(n)d problem(s): %(problems)s",
                n=len(self.problems),
                problems="; ".join(self.problems),
            )
        )


def clean_translations(value: Any) -> Any:
    """Drops blank texts and languages left empty; anything malformed is kept for the
    loader to report."""
    if not isinstance(value, Mapping):
        return value
    cleaned: dict[str, Any] = {}
    for language, texts in value.items():
        if isinstance(texts, Mapping):
            texts = {k: v for k, v in texts.items() if not (isinstance(v, str) and not v.strip())}
            if not texts:
                continue
        cleaned[language] = texts
    return cleaned


def validate_document(doc: Any) -> scoring.Checklist:
    """The checklist a document describes, or ChecklistInvalid listing every problem."""
    try:
        checklist = scoring.load_checklist(_cleaned(doc))
    except scoring.ChecklistError as error:
        raise ChecklistInvalid([str(p) for p in error.problems]) from error
    problems = list(storage_problems(checklist))
    if problems:
        raise ChecklistInvalid(problems)
    return checklist


def _cleaned(doc: Any) -> Any:
    """The document with blank translation texts dropped at every level."""
    if isinstance(doc, Mapping):
        return {
            k: clean_translations(v) if k == "translations" else _cleaned(v) for k, v in doc.items()
        }
    if isinstance(doc, list | tuple):
        return [_cleaned(v) for v in doc]
    return doc


def _number_problem(value: Fraction | None) -> str | None:
    if value is None:
        return None
    if abs(value) >= _MAX_NUMBER:
        return _("must be below 100,000,000")
    if (value * _SCALE).denominator != 1:
        return _("may have at most 4 decimal places")
    return None


def _text_problem(value: str | None, limit: int) -> str | None:
    if value is not None and len(value) > limit:
        return _("must be at most %(n)d characters", n=limit)
    return None


def _key_problem(key: str) -> str | None:
    if key and not KEY_PATTERN.fullmatch(key):
        return _("a key may only use letters, digits, _ and - (at most 64)")
    return None


def storage_problems(checklist: scoring.Checklist) -> Iterator[str]:
    def check(path: str, test: Callable[..., str | None], *args: Any) -> Iterator[str]:
        message = test(*args)
        if message:
            yield f"{path}: {message}"

    rules = checklist.scoring
    if rules.decimals > 4:
        yield "scoring.decimals: " + _("must be a whole number from 0 to 4")
    yield from check("title", _text_problem, checklist.title, _TEXT_LIMITS["title"])
    yield from check("language", _text_problem, checklist.language, _TEXT_LIMITS["language"])
    yield from check("scoring.pass_mark", _number_problem, rules.pass_mark)
    for i, band in enumerate(rules.bands):
        yield from check(f"scoring.bands[{i}].min", _number_problem, band.min)
    for i, section in enumerate(checklist.sections):
        path = f"sections[{i}]"
        yield from check(f"{path}.key", _key_problem, section.key)
        yield from check(f"{path}.title", _text_problem, section.title, 300)
        yield from check(f"{path}.weight", _number_problem, section.weight)
        yield from check(f"{path}.pass_mark", _number_problem, section.pass_mark)
        for j, question in enumerate(section.questions):
            yield from _question_problems(f"{path}.questions[{j}]", question, check)


def _question_problems(path: str, question: scoring.Question, check: Any) -> Iterator[str]:
    yield from check(f"{path}.key", _key_problem, question.key)
    for field in ("weight", "min", "max"):
        yield from check(f"{path}.{field}", _number_problem, getattr(question, field))
    for k, band in enumerate(question.bands):
        yield from check(f"{path}.bands[{k}].max", _number_problem, band.max)
        yield from check(f"{path}.bands[{k}].points", _number_problem, band.points)
    condition = question.show_if
    if condition is not None:
        values = condition.value if isinstance(condition.value, tuple) else (condition.value,)
        for value in values:
            if isinstance(value, Fraction):
                yield from check(f"{path}.show_if", _number_problem, value)
    for k, option in enumerate(question.options):
        here = f"{path}.options[{k}]"
        yield from check(f"{here}.value", _text_problem, option.value, _TEXT_LIMITS["value"])
        yield from check(f"{here}.label", _text_problem, option.label, _TEXT_LIMITS["label"])
        yield from check(f"{here}.points", _number_problem, option.points)


def structure_problems(checklist: scoring.Checklist) -> list[str]:
    """What the rows cannot hold or the builder must never produce: duplicate section
    keys, question keys or option values, and conditions on unknown or later questions."""
    problems: list[str] = []
    sections: set[str] = set()
    positions: dict[str, int] = {}
    for i, section in enumerate(checklist.sections):
        if section.key in sections:
            problems.append(
                f"sections[{i}].key: "
                + _(
                    "Another section of this version already uses the key %(key)s.", key=section.key
                )
            )
        sections.add(section.key)
        for j, question in enumerate(section.questions):
            path = f"sections[{i}].questions[{j}]"
            if question.key in positions:
                problems.append(
                    f"{path}.key: "
                    + _(
                        "Another question of this version already uses the key %(key)s.",
                        key=question.key,
                    )
                )
            positions.setdefault(question.key, len(positions))
            values = [o.value for o in question.options]
            for value in sorted({v for v in values if values.count(v) > 1}):
                problems.append(
                    f"{path}.options: "
                    + _("The option value %(value)s is used more than once.", value=value)
                )
            problem = _condition_problem(question, positions)
            if problem:
                problems.append(f"{path}.show_if: {problem}")
    return problems


def _condition_problem(question: scoring.Question, earlier: Mapping[str, int]) -> str | None:
    if question.show_if is None:
        return None
    target = question.show_if.question
    if target == question.key:
        return _("A question's condition cannot refer to the question itself.")
    if target not in earlier:
        return _(
            "The condition of question %(key)s refers to %(target)s, which is not an earlier"
            " question of this version; a condition can only look at an earlier question.",
            key=question.key,
            target=target,
        )
    return None
