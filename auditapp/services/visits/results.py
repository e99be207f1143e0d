"""A visit's result as reports read it, written when the visit is approved.

record_results scores the visit's current answers against its pinned checklist
version once more (the same engine, the same answers the reviewer approved) and
stores the visit score exactly, each section's result and each question's points,
so that roll-ups add up stored figures (SCORING.md §5) and never rescore.

It also keeps the per-(wave, store, question) sums (StoreQuestionSummary) that region
reports read, as the sums over the approved visits only: a visit's figures are added
when it is approved, and a rescoring takes its previous figures out before adding the
new ones. Each change is one INSERT … ON CONFLICT DO UPDATE adding to the stored
counts, so two visits of a store approved at once both count (the database applies
the two additions one after the other). rebuild_question_summary recomputes a wave's
sums from scratch, with the same SQL as the migration that created the table.
"""

from fractions import Fraction
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    Table,
    case,
    cast,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

import scoring

from ...extensions import db
from ...models import ChecklistQuestion
from ...models.results import StoreQuestionSummary, VisitQuestionResult, VisitSectionResult
from ...models.waves import APPROVED, Visit
from ..checklists import scoring_checklist
from .answers import stored_answers

POINTS_PLACES = 8  # Numeric(20, 8): checklist decimals (4 places) times weights (4)
POINT_SCALE = 10**POINTS_PLACES  # the summary's points are whole 10^-8 units
SUMMARY_FIGURES = ("earned", "possible", "answers", "full_credit", "critical_failed",
                   "promoters", "passives", "detractors")  # fmt: skip


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
    """Scores the visit and stores its results, replacing any stored before; for an
    approved visit, the store's question sums are updated to match."""
    counted = _counted(visit)  # before anything flushes the new status
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
    if counted:
        _take_from_summary(visit.id)
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
    if visit.status == APPROVED:
        db.session.flush()
        _add_to_summary(visit.id)
    return outcome


def _counted(visit: Visit) -> bool:
    """Whether the visit's stored question results are in the summary: whether it was
    approved in the database before this change (approval is final, and approve()
    records the results right after setting the status, before it is flushed)."""
    if visit.id is None:
        return False
    with db.session.no_autoflush:
        status = db.session.scalar(select(Visit.status).where(Visit.id == visit.id))
    return status == APPROVED


def _units(column: Any) -> Any:
    """Points as whole 10^-8 units: exact, as the stored values have 8 places (on
    SQLite, stored as binary floats, while below 4.5e7 points)."""
    return cast(func.round(column * POINT_SCALE), BigInteger)


def summary_select(where: ColumnElement[bool]) -> Select[*tuple[Any, ...]]:
    """The question results of the visits matching ``where``, summed per (wave,
    question, store) into the summary's columns (labelled with their names). The
    migration that created store_question_result backfills it with the same SQL."""
    q = VisitQuestionResult
    applicable = q.applicable.is_(True)

    def total(value: Any, condition: ColumnElement[bool]) -> Any:
        return func.sum(case((condition, value), else_=0))

    figures = (
        total(_units(q.earned), applicable),
        total(_units(q.possible), applicable),
        total(1, applicable),
        total(1, applicable & q.full_credit.is_(True)),
        total(1, applicable & q.critical_failed.is_(True)),
        total(1, q.nps >= 9),
        total(1, q.nps.between(7, 8)),
        total(1, q.nps <= 6),
    )
    return (
        select(
            Visit.wave_id,
            q.question_id,
            Visit.store_id,
            *(figure.label(name) for figure, name in zip(figures, SUMMARY_FIGURES, strict=True)),
        )
        .join(Visit, Visit.id == q.visit_id)
        .where(where)
        .group_by(Visit.wave_id, q.question_id, Visit.store_id)
    )


def _summary_insert(query: Select[*tuple[Any, ...]]) -> postgresql.Insert | sqlite.Insert:
    table = StoreQuestionSummary.__table__
    assert isinstance(table, Table)  # a declared table; __table__ is typed as any FromClause
    names = ["wave_id", "question_id", "store_id", *SUMMARY_FIGURES]
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).from_select(names, query)
    return sqlite.insert(table).from_select(names, query)


def _add_to_summary(visit_id: int) -> None:
    """Adds the visit's stored question results to its store's sums, creating the rows
    it is the first to count in."""
    statement = _summary_insert(summary_select(VisitQuestionResult.visit_id == visit_id))
    table = StoreQuestionSummary.__table__
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c.wave_id, table.c.question_id, table.c.store_id],
            set_={name: table.c[name] + statement.excluded[name] for name in SUMMARY_FIGURES},
        )
    )


def _take_from_summary(visit_id: int) -> None:
    """Takes the visit's stored question results out of its store's sums, which hold
    them. An UPDATE, not an upsert of negative figures: the CHECK constraints apply to
    a row proposed for insertion before any conflict is found."""
    old = summary_select(VisitQuestionResult.visit_id == visit_id).subquery()
    s = StoreQuestionSummary
    db.session.execute(
        update(s)
        .where(s.wave_id == old.c.wave_id, s.question_id == old.c.question_id)
        .where(s.store_id == old.c.store_id)
        .values({name: getattr(s, name) - old.c[name] for name in SUMMARY_FIGURES})
    )


def rebuild_question_summary(wave_id: int) -> None:
    """The wave's summary computed again from its approved visits' question results:
    after loading results in bulk, or to repair it."""
    db.session.execute(delete(StoreQuestionSummary).where(StoreQuestionSummary.wave_id == wave_id))
    approved = (Visit.wave_id == wave_id) & (Visit.status == APPROVED)
    db.session.execute(_summary_insert(summary_select(approved)))


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
