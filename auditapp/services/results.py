"""A visit's result as reports read it, written when the visit is approved.

record_results scores the visit's current answers against its pinned checklist
version once more (the same engine, the same answers the reviewer approved) and
stores the visit score exactly, each section's result and each question's points,
so that roll-ups add up stored figures (SCORING.md §5) and never rescore.
"""

from fractions import Fraction

from sqlalchemy import delete, select

import scoring

from ..extensions import db
from ..models import ChecklistQuestion
from ..models.results import VisitQuestionResult, VisitSectionResult
from ..models.waves import Visit
from .checklists import scoring_checklist
from .visit_answers import stored_answers

POINTS_PLACES = 8  # Numeric(20, 8): checklist decimals (4 places) times weights (4)


def exact_text(value: Fraction | None) -> str | None:
    """A score as exact fraction text ("173/2"), or None."""
    return None if value is None else f"{value.numerator}/{value.denominator}"


def parse_exact(text: str | None) -> Fraction | None:
    return None if text is None else Fraction(text)


def set_score(visit: Visit, outcome: scoring.VisitResult) -> None:
    """The visit's current score, exact and rounded, with its result and grade."""
    visit.score_exact = exact_text(outcome.score)
    visit.score = None if outcome.score is None else scoring.round_half_up(outcome.score, 4)
    visit.result, visit.grade = outcome.result, outcome.grade


def record_results(visit: Visit) -> scoring.VisitResult:
    checklist = scoring_checklist(visit.checklist_version)
    stored = {key: row.value for key, row in stored_answers(visit).items()}
    answers = scoring.validate_answers(checklist, stored).answers
    outcome = scoring.score_visit(checklist, answers)
    set_score(visit, outcome)
    question_ids = dict(
        db.session.execute(
            select(ChecklistQuestion.key, ChecklistQuestion.id).where(
                ChecklistQuestion.version_id == visit.checklist_version_id
            )
        ).all()
    )
    types = {q.key: q.type for q in checklist.questions()}
    db.session.execute(delete(VisitSectionResult).where(VisitSectionResult.visit_id == visit.id))
    db.session.execute(delete(VisitQuestionResult).where(VisitQuestionResult.visit_id == visit.id))
    for section in outcome.sections:
        db.session.add(
            VisitSectionResult(
                visit_id=visit.id,
                section_key=section.key,
                earned=_points(section.earned),
                possible=_points(section.possible),
                score_exact=exact_text(section.score),
                score=None if section.score is None else scoring.round_half_up(section.score, 4),
                applicable=section.applicable,
                passed=section.passed,
            )
        )
    failed = set(outcome.critical_failures)
    for question in outcome.questions:
        answer = question.answer
        nps = _nps(answer) if types.get(question.key) == "nps" else None
        db.session.add(
            VisitQuestionResult(
                visit_id=visit.id,
                question_id=question_ids[question.key],
                earned=_points(question.earned),
                possible=_points(question.possible),
                applicable=question.applicable,
                full_credit=question.full_credit,
                critical_failed=question.key in failed,
                nps=nps,
            )
        )
    return outcome


def _nps(answer: object) -> int | None:
    if (
        isinstance(answer, int | Fraction)
        and not isinstance(answer, bool)
        and answer == int(answer)
    ):
        return int(answer)
    return None


def _points(value: Fraction) -> object:
    return scoring.round_half_up(value, POINTS_PLACES)
