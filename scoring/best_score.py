"""The best score any visit could reach on a checklist, found by a bounded search.

Only the questions that conditions look at ("drivers") change which other questions
count, so the search tries every combination of the drivers' candidate answers and
gives every other question its best answer (full credit, or a bonus's best). Each
combination is scored with the real ``score_visit``, so caps, bonuses, critical
items and weighting are all honoured.

Candidate answers: every option (all subsets of a ``multi`` with up to 6 options,
otherwise none / each one / all positive ones), every step of a ``scale`` of up to 101
steps, 0..10 for ``nps``, and for ``number`` every band edge and condition threshold
with a hair (1/1,000,000) either side; unanswered where not required, and N/A where
allowed. Above ``SEARCH_LIMIT`` combinations the search gives up (SearchTooLarge)
rather than guess.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from fractions import Fraction

from scoring.answers import Answer, clean_answer
from scoring.model import NA, Checklist, Question
from scoring.points import raw_earned
from scoring.visit import score_visit

SEARCH_LIMIT = 2048
_MAX_SUBSET_OPTIONS = 6
_MAX_SCALE_STEPS = 101
_HAIR = Fraction(1, 1_000_000)
_PLACEHOLDERS = {"text": "text", "photo": "photo", "date": "2000-01-01", "time": "12:00"}


class SearchTooLarge(Exception):
    """Too many combinations of condition answers to try them all."""


def best_achievable_score(checklist: Checklist, limit: int = SEARCH_LIMIT) -> Fraction | None:
    """The highest visit score any valid, submittable set of answers gets (None: never scored)."""
    questions = checklist.questions()
    referenced = {q.show_if.question for q in questions if q.show_if is not None}
    drivers = [q for q in questions if q.key in referenced]
    choices = [_candidates(q, checklist) for q in drivers]
    if math.prod(len(c) for c in choices) > limit:
        raise SearchTooLarge(f"more than {limit} combinations")
    base = {q.key: _best_answer(q, checklist) for q in questions if q.key not in referenced}
    best: Fraction | None = None
    for combination in itertools.product(*choices):
        answers = dict(base)
        answers.update(
            {
                q.key: value
                for q, value in zip(drivers, combination, strict=True)
                if value is not None
            }
        )
        score = score_visit(checklist, answers).score
        if score is not None and (best is None or score > best):
            best = score
    return best


def _best_answer(question: Question, checklist: Checklist) -> Answer | None:
    if not question.scored:
        return None
    answered = [v for v in _candidates(question, checklist) if v is not None and v != NA]
    if not answered:
        return None
    return max(answered, key=lambda value: raw_earned(question, value))


def _candidates(question: Question, checklist: Checklist) -> list[Answer | None]:
    """Valid answers worth trying for ``question`` (None = unanswered)."""
    found: list[Answer | None] = []
    for raw in _raw_candidates(question, checklist):
        value, error = clean_answer(question, raw)
        if error is None and value is not None and value not in found:
            found.append(value)
    if question.na_allowed:
        found.append(NA)
    if not question.required:
        found.append(None)
    return found


def _raw_candidates(question: Question, checklist: Checklist) -> Iterator[object]:
    kind = question.type
    values = [o.value for o in question.options]
    if kind == "yes_no":
        yield from ("yes", "no")
    elif kind == "choice":
        yield from values
    elif kind == "multi":
        yield from _subsets(question)
    elif kind in ("scale", "nps"):
        yield from _steps(question, checklist)
    elif kind == "number":
        yield from _number_points(question, checklist)
    else:
        yield _PLACEHOLDERS.get(kind, "text")
        yield from _condition_values(question, checklist)


def _subsets(question: Question) -> Iterator[list[str]]:
    values = [o.value for o in question.options]
    if len(values) <= _MAX_SUBSET_OPTIONS:
        for size in range(len(values) + 1):
            for subset in itertools.combinations(values, size):
                yield list(subset)
        return
    yield []
    yield from ([v] for v in values)
    yield [o.value for o in question.options if o.points > 0]


def _steps(question: Question, checklist: Checklist) -> Iterator[Fraction]:
    low = Fraction(0) if question.type == "nps" else question.min
    high = Fraction(10) if question.type == "nps" else question.max
    if low is None or high is None or high < low:
        return
    if high - low < _MAX_SCALE_STEPS:
        yield from (low + i for i in range(int(high - low) + 1))
        return
    yield from (low, high)
    for value in _condition_values(question, checklist):
        if isinstance(value, Fraction):
            yield from (value - 1, value, value + 1)


def _number_points(question: Question, checklist: Checklist) -> Iterator[Fraction]:
    edges = {b.max for b in question.bands if b.max is not None}
    edges |= {v for v in _condition_values(question, checklist) if isinstance(v, Fraction)}
    edges |= {v for v in (question.min, question.max) if v is not None}
    for edge in sorted(edges) or [Fraction(0)]:
        yield from (edge - _HAIR, edge, edge + _HAIR)


def _condition_values(question: Question, checklist: Checklist) -> Iterator[object]:
    """Values that conditions compare ``question``'s answer with."""
    for other in checklist.questions():
        condition = other.show_if
        if condition is None or condition.question != question.key:
            continue
        value = condition.value
        yield from value if isinstance(value, tuple) else (value,)
