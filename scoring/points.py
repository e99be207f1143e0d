"""Points for one answered question, before weighting (SCORING.md §2).

"Raw" points here are unweighted; the visit multiplies by the question's weight.

Rules decided here where SCORING.md is silent:

- Every question's earned points are floored at 0 (SCORING.md says so for ``multi``; a
  negative option on another type must not eat into other questions' points either),
  and so are its possible points (a question whose best answer is worth <= 0 is
  informational).
- A ``yes_no`` with an ``options`` override takes each answer's points from the option
  with that value (a missing one earns 0); without it, yes = 1 and no = 0.
- A ``number`` answer that no band covers earns 0 (the lint refuses such bands).
- A ``scale`` whose ``max`` is not above its ``min`` is worth nothing (lint refuses it).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Literal, TypeAlias

from scoring.exact import to_fraction
from scoring.model import Question

_DEFAULT_YES_NO = {"yes": Fraction(1), "no": Fraction(0)}


def raw_max(question: Question) -> Fraction:
    """The most an answer to ``question`` can earn before weighting (0 when unscored)."""
    kind = question.type
    if kind == "yes_no":
        points = [o.points for o in question.options] or list(_DEFAULT_YES_NO.values())
        return max([Fraction(0), *points])
    if kind == "choice":
        return max([Fraction(0), *(o.points for o in question.options)])
    if kind == "multi":
        return sum((o.points for o in question.options if o.points > 0), Fraction(0))
    if kind == "scale":
        return Fraction(1) if _scale_span(question) > 0 else Fraction(0)
    if kind == "number":
        return max([Fraction(0), *(b.points for b in question.bands)])
    return Fraction(0)


def raw_earned(question: Question, answer: object) -> Fraction:
    """What a cleaned, non-N/A ``answer`` earns before weighting, floored at 0."""
    return max(Fraction(0), _raw_points(question, answer))


def _raw_points(question: Question, answer: object) -> Fraction:
    kind = question.type
    if kind == "yes_no":
        if question.options:
            return _option_points(question, answer)
        return _DEFAULT_YES_NO.get(str(answer), Fraction(0))
    if kind == "choice":
        return _option_points(question, answer)
    if kind == "multi" and isinstance(answer, tuple):
        return sum((_option_points(question, v) for v in answer), Fraction(0))
    if kind == "scale" and isinstance(answer, int | Fraction):
        span = _scale_span(question)
        low = question.min if question.min is not None else Fraction(0)
        return (answer - low) / span if span > 0 else Fraction(0)
    if kind == "number" and isinstance(answer, int | Fraction):
        for band in question.bands:
            if band.max is None or band.max >= answer:
                return band.points
    return Fraction(0)


def _option_points(question: Question, value: object) -> Fraction:
    for option in question.options:
        if option.value == value:
            return option.points
    return Fraction(0)


def _scale_span(question: Question) -> Fraction:
    if question.min is None or question.max is None:
        return Fraction(0)
    return question.max - question.min


NpsCategory: TypeAlias = Literal["promoter", "passive", "detractor"]


def nps_category(value: object) -> NpsCategory:
    """'promoter' for 9-10, 'passive' for 7-8, 'detractor' for 0-6 (whole numbers only)."""
    number = to_fraction(value)
    if number is None or number.denominator != 1 or not 0 <= number <= 10:
        raise ValueError(f"an NPS answer is a whole number from 0 to 10, not {value!r}")
    if number >= 9:
        return "promoter"
    return "passive" if number >= 7 else "detractor"
