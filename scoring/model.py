"""The checklist as frozen data: what a coordinator builds and a visit is scored against.

Every number is a ``Fraction`` so that scoring stays exact. Everything is frozen and
hashable (tuples, never lists or dicts) so a published checklist version cannot be
changed by accident and can be used as a cache key.

``translations`` on any object is a tuple of ``(language, ((field, text), ...))`` pairs,
kept in document order so that a dump and a reload give back an equal object.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, TypeAlias

QuestionType: TypeAlias = Literal[
    "yes_no", "choice", "multi", "scale", "number", "nps", "text", "photo", "date", "time"
]
QUESTION_TYPES: tuple[QuestionType, ...] = (
    "yes_no",
    "choice",
    "multi",
    "scale",
    "number",
    "nps",
    "text",
    "photo",
    "date",
    "time",
)
# Only these types earn points; nps is reported as NPS, the rest are evidence.
SCORED_TYPES: frozenset[str] = frozenset({"yes_no", "choice", "multi", "scale", "number"})
# Types whose answer is a number, so gte/lte conditions make sense on them.
NUMERIC_TYPES: frozenset[str] = frozenset({"scale", "number", "nps"})

Method: TypeAlias = Literal["pooled", "weighted_sections"]
METHODS: tuple[Method, ...] = ("pooled", "weighted_sections")
Unanswered: TypeAlias = Literal["exclude", "zero"]
UNANSWERED_MODES: tuple[Unanswered, ...] = ("exclude", "zero")
CriticalFailure: TypeAlias = Literal["zero_visit", "zero_section", "flag"]
CRITICAL_FAILURE_MODES: tuple[CriticalFailure, ...] = ("zero_visit", "zero_section", "flag")
ConditionOp: TypeAlias = Literal["equals", "in", "gte", "lte"]
CONDITION_OPS: tuple[ConditionOp, ...] = ("equals", "in", "gte", "lte")
Tag: TypeAlias = Literal["compliance", "effectiveness"]
TAGS: tuple[Tag, ...] = ("compliance", "effectiveness")

# The answer that takes a question out of scoring; reserved, so no option may use it.
NA = "na"

Translations: TypeAlias = tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
ConditionScalar: TypeAlias = str | Fraction
ConditionValue: TypeAlias = ConditionScalar | tuple[ConditionScalar, ...]


@dataclass(frozen=True)
class Option:
    """One choosable answer of a yes_no (override), choice or multi question."""

    value: str
    label: str
    points: Fraction = Fraction(0)
    translations: Translations = ()


@dataclass(frozen=True)
class PointBand:
    """Points for a number answer up to and including ``max``; no ``max`` catches the rest."""

    max: Fraction | None
    points: Fraction


@dataclass(frozen=True)
class Condition:
    """``show_if``: the question is visible only when this holds.

    ``value`` is a string or a Fraction for ``equals``, a tuple of them for ``in`` and a
    Fraction for ``gte``/``lte``.
    """

    question: str
    op: ConditionOp
    value: ConditionValue


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    type: QuestionType
    weight: Fraction = Fraction(1)
    na_allowed: bool = False
    critical: bool = False
    required: bool = False
    bonus: bool = False
    guidance: str | None = None
    options: tuple[Option, ...] = ()
    bands: tuple[PointBand, ...] = ()
    min: Fraction | None = None
    max: Fraction | None = None
    show_if: Condition | None = None
    tag: Tag | None = None
    translations: Translations = ()
    # Its photos may be shown to the client's managers; no effect on any score.
    client_visible: bool = False

    @property
    def scored(self) -> bool:
        return self.type in SCORED_TYPES


@dataclass(frozen=True)
class Section:
    """A group of questions. ``weight`` None means absent from the document (counts as 1)."""

    key: str
    title: str
    weight: Fraction | None = None
    pass_mark: Fraction | None = None
    questions: tuple[Question, ...] = ()
    translations: Translations = ()

    @property
    def effective_weight(self) -> Fraction:
        return Fraction(1) if self.weight is None else self.weight


@dataclass(frozen=True)
class GradeBand:
    """A visit whose rounded score is at least ``min`` (and below the next band) gets ``label``."""

    min: Fraction
    label: str
    translations: Translations = ()


@dataclass(frozen=True)
class ScoringRules:
    method: Method = "pooled"
    pass_mark: Fraction | None = None
    decimals: int = 1
    unanswered: Unanswered = "exclude"
    critical_failure: CriticalFailure = "zero_visit"
    cap_at_100: bool = True
    bands: tuple[GradeBand, ...] = ()


@dataclass(frozen=True)
class Checklist:
    title: str
    language: str = "en"
    scoring: ScoringRules = ScoringRules()
    sections: tuple[Section, ...] = ()
    translations: Translations = ()

    def questions(self) -> tuple[Question, ...]:
        """All questions in checklist order (the order conditions are evaluated in)."""
        return tuple(q for s in self.sections for q in s.questions)


def localized(translations: Translations, language: str, field: str, fallback: str) -> str:
    """The text of ``field`` in ``language``, or ``fallback`` (the original) when untranslated."""
    for lang, fields in translations:
        if lang == language:
            for name, text in fields:
                if name == field:
                    return text
    return fallback
