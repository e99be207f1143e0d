"""The per-(wave, store, question) sums region reports read (StoreQuestionSummary) must
always equal the sums over the approved visits' stored question results: after
approvals, after a rescoring, after the migration's backfill; and the region report's
question figures read from them must be those summed over the answers.

The world is the report data tests' (tests/web/worlds/report_data.py): visits recorded
as approved, one approved through review.approve, a submitted and a cancelled visit
with results that must not count.
"""

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import and_, delete, select, text
from sqlalchemy.exc import IntegrityError

from auditapp.extensions import db
from auditapp.models.answers import VisitAnswer
from auditapp.models.results import StoreQuestionSummary
from auditapp.models.waves import SUBMITTED, Visit
from auditapp.services.reporting.rows import question_rows, scoped_stores, wave_question_rows
from auditapp.services.review import decisions as review
from auditapp.services.visits.results import (
    SUMMARY_FIGURES,
    rebuild_question_summary,
    record_results,
)
from tests.web.worlds.question_summary import UNIT, expected, stored
from tests.web.worlds.report_data import report
from tests.web.worlds.report_data import w as w  # noqa: F401 (the report tests' world)

MIGRATION = next(
    (Path(__file__).parents[3] / "auditapp/migrations/versions").glob("923cb7881ea7_*.py")
)


def summary_of(w: Any, visit: Visit, key: str) -> dict[str, int]:
    row = db.session.get(StoreQuestionSummary, (visit.wave_id, w.questions[key], visit.store_id))
    assert row is not None
    return {name: int(getattr(row, name)) for name in SUMMARY_FIGURES}


def _answer(w: Any, visit: Visit, key: str, value: Any) -> None:
    answer = db.session.scalars(
        select(VisitAnswer).where(
            VisitAnswer.visit_id == visit.id, VisitAnswer.question_id == w.questions[key]
        )
    ).one()
    answer.value = value
    db.session.flush()


def test_the_summary_holds_the_approved_visits_only(w):
    sums = stored()
    assert sums == expected()
    # A1 in W4: three approved visits, greeted yes thrice, clean failed once (critical).
    a1 = w.a1
    assert summary_of(w, a1, "greeted") == {
        "earned": 3 * UNIT, "possible": 3 * UNIT, "answers": 3, "full_credit": 3,
        "critical_failed": 0, "promoters": 0, "passives": 0, "detractors": 0,
    }  # fmt: skip
    clean = summary_of(w, a1, "clean")
    assert (clean["answers"], clean["full_credit"], clean["critical_failed"]) == (3, 2, 1)
    nps = summary_of(w, a1, "recommend")
    assert (nps["promoters"], nps["passives"], nps["detractors"]) == (2, 1, 0)
    # C1 in W4: one approved visit (nps 6); the submitted one (nps 0) does not count.
    c_visit = db.session.scalars(
        select(Visit).where(Visit.store_id == w.c.id, Visit.wave_id == w.waves[-1].id)
    ).first()
    assert c_visit is not None
    c_nps = summary_of(w, c_visit, "recommend")
    assert (c_nps["promoters"], c_nps["passives"], c_nps["detractors"]) == (0, 0, 1)


def test_rescoring_an_approved_visit_replaces_its_figures(w):
    before = summary_of(w, w.a1, "greeted")
    _answer(w, w.a1, "greeted", "no")
    record_results(w.a1)
    db.session.flush()
    after = summary_of(w, w.a1, "greeted")
    assert after["answers"] == before["answers"]  # the visit still counts once
    assert after["full_credit"] == before["full_credit"] - 1
    assert after["earned"] == before["earned"] - UNIT
    assert stored() == expected()
    record_results(w.a1)  # rescoring with nothing changed changes nothing
    db.session.flush()
    assert summary_of(w, w.a1, "greeted") == after
    assert stored() == expected()


def test_an_answer_made_not_applicable_leaves_the_count(w):
    before = summary_of(w, w.a1, "helped")
    _answer(w, w.a1, "helped", "na")
    record_results(w.a1)
    db.session.flush()
    after = summary_of(w, w.a1, "helped")
    assert after["answers"] == before["answers"] - 1
    assert after["possible"] == before["possible"] - UNIT
    assert stored() == expected()


def test_approving_a_visit_with_results_recorded_before_adds_it_once(app, w):
    """A submitted visit whose results were written before approval: its old rows
    were never counted, so approving it must add it, not swap it."""
    pending = db.session.scalars(
        select(Visit).where(Visit.store_id == w.c.id, Visit.status == SUBMITTED)
    ).one()
    before = summary_of(w, pending, "recommend")
    with app.test_request_context():
        review.approve(pending, w.reviewer)
    db.session.flush()
    assert summary_of(w, pending, "recommend")["detractors"] == before["detractors"] + 1
    assert stored() == expected()


def test_results_of_a_visit_not_approved_are_not_counted(w):
    pending = db.session.scalars(
        select(Visit).where(Visit.store_id == w.c.id, Visit.status == SUBMITTED)
    ).one()
    sums = stored()
    _answer(w, pending, "greeted", "no")
    record_results(pending)
    db.session.flush()
    assert stored() == sums == expected()


def _migration_backfill() -> str:
    spec = importlib.util.spec_from_file_location("summary_migration", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.BACKFILL)


def test_the_migrations_backfill_and_the_rebuild_give_the_same_sums(w):
    sums = stored()
    assert sums  # the world's approvals filled it
    db.session.execute(delete(StoreQuestionSummary))
    db.session.execute(text(_migration_backfill()))
    assert stored() == sums == expected()
    db.session.execute(delete(StoreQuestionSummary))
    for wave in w.waves:
        rebuild_question_summary(wave.id)
    by_wave = {key: value for key, value in sums.items() if key[0] in {v.id for v in w.waves}}
    assert stored() == by_wave
    rebuild_question_summary(w.waves[-1].id)  # again: replaces, does not add
    assert stored() == by_wave


def test_the_counts_cannot_go_negative(w):
    row = db.session.get(StoreQuestionSummary, (w.a1.wave_id, w.questions["greeted"], w.a.id))
    assert row is not None
    with pytest.raises(IntegrityError), db.session.begin_nested():
        row.full_credit = row.answers + 1
        db.session.flush()


def _records(frame: Any) -> list[tuple[Any, ...]]:
    return sorted(frame.itertuples(index=False, name=None))


@pytest.mark.parametrize("who", ["admin", "manager", "reviewer"])
@pytest.mark.parametrize("where", ["north", "ne", "south", None])
def test_the_question_figures_are_those_summed_over_the_answers(w, who, where):
    _answer(w, w.a1, "greeted", "no")  # after a rescoring, too
    record_results(w.a1)
    db.session.flush()
    user, region = getattr(w, who), (getattr(w, where) if where else None)
    for wave in w.waves:
        stores = scoped_stores(user, w.client.id, region)
        by_answer = question_rows(and_(Visit.wave_id == wave.id, Visit.store_id.in_(stores)), {})
        from_summary = wave_question_rows(wave.id, stores, {})
        assert _records(from_summary) == _records(by_answer)


def test_the_region_reports_questions_come_from_the_summary(app, w):
    """The report reads the summary: figures taken out of it leave the report."""
    r = report(app, w, w.north, w.admin)
    n = {q.key: q.n for q in r.worst_questions}
    assert n["greeted"] == 7  # A ×3, B ×2, C, D (D's other visit answered N/A)
    db.session.execute(delete(StoreQuestionSummary).where(StoreQuestionSummary.store_id == w.a.id))
    r = report(app, w, w.north, w.admin)
    assert {q.key: q.n for q in r.worst_questions}["greeted"] == 4
