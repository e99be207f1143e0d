"""Scoring one visit: questions -> sections -> visit, critical items, pass and grade.

SCORING.md §2-4. Rules decided here where SCORING.md is silent:

- A question is *applicable* when it counts in the score: scored type, visible, not N/A
  and answered (or unanswered under ``unanswered: "zero"``). Unscored types (nps, text,
  ...) are never applicable; their cleaned answer is still reported.
- A critical question fails when applicable and its *unweighted* points fall short of
  its best answer's, so a critical item with weight 0 (informational) or a bonus item
  can still knock a visit out. ``full_credit`` uses the same comparison.
- Under ``pooled``, a section that is not applicable adds nothing at all, not even the
  bonus points it earned.
- Under ``weighted_sections``, if every applicable section has weight 0 the visit has no
  score (there is nothing to average), exactly as when nothing is applicable.
- A visit with nothing applicable keeps no score even under ``zero_visit``; a failed
  critical question still makes it FAIL (SCORING.md §4).
- A section ``pass_mark`` only judges applicable sections; ``passed`` is None otherwise.
- The grade band whose ``min`` is highest but not above the rounded score wins; a score
  below every band has no grade.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal, TypeAlias

from scoring.answers import Answer, Validated, is_na, validate_answers
from scoring.exact import round_half_up
from scoring.model import Checklist, Question, ScoringRules, Section
from scoring.points import raw_earned, raw_max

Outcome: TypeAlias = Literal["PASS", "FAIL"]
POINTS_PLACES = 4  # earned/possible points are shown to 4 places
HUNDRED = Fraction(100)


class AnswerError(ValueError):
    """Answers with values outside their questions' domain; ``errors`` maps key -> message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{key}: {msg}" for key, msg in self.errors.items()))


@dataclass(frozen=True)
class QuestionResult:
    key: str
    section_key: str
    earned: Fraction
    possible: Fraction
    applicable: bool
    full_credit: bool | None
    answer: Answer | None


@dataclass(frozen=True)
class SectionResult:
    key: str
    earned: Fraction
    possible: Fraction
    score: Fraction | None
    applicable: bool
    passed: bool | None


@dataclass(frozen=True)
class VisitResult:
    score: Fraction | None
    result: Outcome | None
    grade: str | None
    critical_failures: tuple[str, ...]
    sections: tuple[SectionResult, ...]
    questions: tuple[QuestionResult, ...]
    decimals: int = 1  # the checklist's display precision, for display_score and to_json

    def display_score(self) -> Decimal | None:
        """The visit score as shown: rounded half-up to the checklist's decimals."""
        return None if self.score is None else round_half_up(self.score, self.decimals)

    def to_json(self) -> dict[str, Any]:
        """The command-line shape, with exact Decimals (write it with ``dumps_exact``)."""
        return {
            "score": self.display_score(),
            "result": self.result,
            "grade": self.grade,
            "critical_failures": list(self.critical_failures),
            "sections": {
                s.key: {
                    "earned": round_half_up(s.earned, POINTS_PLACES),
                    "possible": round_half_up(s.possible, POINTS_PLACES),
                    "score": None if s.score is None else round_half_up(s.score, self.decimals),
                }
                for s in self.sections
            },
        }


def score_visit(checklist: Checklist, answers: Mapping[str, object]) -> VisitResult:
    """Score a visit; raise AnswerError when any answer is invalid (never a silent zero)."""
    validated = validate_answers(checklist, answers)
    if validated.errors:
        raise AnswerError(validated.errors)
    rules = checklist.scoring
    # Grouped by position, not key, so even a checklist with duplicate keys scores sanely.
    per_section = [
        [_score_question(q, section.key, validated, rules) for q in section.questions]
        for section in checklist.sections
    ]
    failed_in = [
        [r for q, r in zip(s.questions, rs, strict=True) if _failed_critical(q, r)]
        for s, rs in zip(checklist.sections, per_section, strict=True)
    ]
    zero_sections = rules.critical_failure == "zero_section"
    sections = tuple(
        _score_section(s, rs, zero_sections and bool(failed), rules)
        for s, rs, failed in zip(checklist.sections, per_section, failed_in, strict=True)
    )
    failed = tuple(r for rs in failed_in for r in rs)
    questions = tuple(r for rs in per_section for r in rs)
    score = _visit_score(checklist, sections)
    if failed and rules.critical_failure == "zero_visit" and score is not None:
        score = Fraction(0)
    return VisitResult(
        score=score,
        result=_outcome(rules, score, sections, bool(failed)),
        grade=_grade(rules, score),
        critical_failures=tuple(r.key for r in failed),
        sections=sections,
        questions=questions,
        decimals=rules.decimals,
    )


def _failed_critical(question: Question, result: QuestionResult) -> bool:
    return question.critical and result.applicable and result.full_credit is False


def _score_question(
    question: Question, section_key: str, validated: Validated, rules: ScoringRules
) -> QuestionResult:
    answer = validated.answers.get(question.key)

    def result(earned: Fraction, possible: Fraction, full: bool | None) -> QuestionResult:
        applicable = full is not None
        return QuestionResult(question.key, section_key, earned, possible, applicable, full, answer)

    visible = question.key in validated.visible
    if not question.scored or not visible or is_na(question, answer):
        return result(Fraction(0), Fraction(0), None)
    best = raw_max(question)
    possible = Fraction(0) if question.bonus else question.weight * best
    if answer is None:
        if rules.unanswered == "exclude":
            return result(Fraction(0), Fraction(0), None)
        return result(Fraction(0), possible, best <= 0)
    earned = raw_earned(question, answer)
    return result(question.weight * earned, possible, earned >= best)


def _score_section(
    section: Section, results: list[QuestionResult], zeroed: bool, rules: ScoringRules
) -> SectionResult:
    earned = sum((r.earned for r in results if r.applicable), Fraction(0))
    possible = sum((r.possible for r in results if r.applicable), Fraction(0))
    if zeroed:
        earned = Fraction(0)  # zero_section: the points go, the denominator stays
    if possible == 0:
        return SectionResult(section.key, earned, possible, None, False, None)
    score = _cap(HUNDRED * earned / possible, rules)
    passed = None
    if section.pass_mark is not None:
        passed = Fraction(round_half_up(score, rules.decimals)) >= section.pass_mark
    return SectionResult(section.key, earned, possible, score, True, passed)


def _visit_score(checklist: Checklist, sections: tuple[SectionResult, ...]) -> Fraction | None:
    rules = checklist.scoring
    applicable = [
        (definition, result)
        for definition, result in zip(checklist.sections, sections, strict=True)
        if result.applicable
    ]
    if rules.method == "pooled":
        earned = sum((r.earned for _, r in applicable), Fraction(0))
        possible = sum((r.possible for _, r in applicable), Fraction(0))
        return _cap(HUNDRED * earned / possible, rules) if possible else None
    total_weight = sum((d.effective_weight for d, _ in applicable), Fraction(0))
    if total_weight == 0:
        return None
    weighted = sum((d.effective_weight * (r.score or 0) for d, r in applicable), Fraction(0))
    return _cap(weighted / total_weight, rules)


def _cap(score: Fraction, rules: ScoringRules) -> Fraction:
    return min(score, HUNDRED) if rules.cap_at_100 else score


def _outcome(
    rules: ScoringRules,
    score: Fraction | None,
    sections: tuple[SectionResult, ...],
    critical_failed: bool,
) -> Outcome | None:
    if critical_failed:
        return "FAIL"
    if score is None:
        return None
    shown = Fraction(round_half_up(score, rules.decimals))  # pass marks judge what is shown
    if rules.pass_mark is not None and shown < rules.pass_mark:
        return "FAIL"
    if any(s.passed is False for s in sections):
        return "FAIL"
    return "PASS"


def _grade(rules: ScoringRules, score: Fraction | None) -> str | None:
    if score is None:
        return None
    shown = Fraction(round_half_up(score, rules.decimals))
    reached = [band for band in rules.bands if band.min <= shown]
    if not reached:
        return None
    return max(reached, key=lambda band: band.min).label
