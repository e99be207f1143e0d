"""A visit's results are stored when it is approved, exactly as the scoring engine
computes them from the answers the reviewer approved, so reports never rescore."""

from fractions import Fraction

import pytest
from sqlalchemy import select

import scoring
from auditapp.extensions import db
from auditapp.models import ChecklistQuestion, VisitQuestionResult, VisitSectionResult
from auditapp.services.checklists.versions import scoring_checklist
from auditapp.services.review import decisions as review
from auditapp.services.visits import results
from tests.web.worlds.review import GOOD, submitted
from tests.web.worlds.review import w as review_world

w = review_world  # the review tests' world (a client, stores, a wave, shoppers, a reviewer)


def _rows(model, visit):
    return db.session.scalars(select(model).where(model.visit_id == visit.id)).all()


def _by_key(visit):
    keys = dict(db.session.execute(select(ChecklistQuestion.id, ChecklistQuestion.key)).all())
    return {keys[r.question_id]: r for r in _rows(VisitQuestionResult, visit)}


def test_approval_stores_the_engines_result_exactly(w):
    visit = submitted(w, w.store_north)
    review.approve(visit, w.reviewer)
    db.session.flush()
    checklist = scoring_checklist(visit.checklist_version)
    answers = {
        "greeted": "yes", "wait_s": 45, "staff": "neutral", "extras": ["bag", "upsell"],
        "rating": 3, "thanked": "yes",
    }  # fmt: skip
    outcome = scoring.score_visit(checklist, scoring.validate_answers(checklist, answers).answers)
    assert Fraction(visit.score_exact) == outcome.score == 45  # 4.5 of 10 points, pooled
    assert visit.score == scoring.round_half_up(outcome.score, 4)

    sections = {r.section_key: r for r in _rows(VisitSectionResult, visit)}
    for expected in outcome.sections:
        row = sections[expected.key]
        assert (scoring.to_fraction(row.earned), scoring.to_fraction(row.possible)) == (
            expected.earned,
            expected.possible,
        )
        assert results.parse_exact(row.score_exact) == expected.score
        assert (row.applicable, row.passed) == (expected.applicable, expected.passed)
    questions = _by_key(visit)
    for expected in outcome.questions:
        row = questions[expected.key]
        assert scoring.to_fraction(row.earned) == expected.earned
        assert scoring.to_fraction(row.possible) == expected.possible
        assert (row.applicable, row.full_credit) == (expected.applicable, expected.full_credit)
    assert questions["wait_s"].full_credit is False and questions["greeted"].full_credit is True


def test_a_failed_critical_item_is_marked(w):
    visit = submitted(w, w.store_north, fields=GOOD | {"q_thanked": "no"})
    review.approve(visit, w.reviewer)
    db.session.flush()
    questions = _by_key(visit)
    assert questions["thanked"].critical_failed is True
    assert not any(r.critical_failed for k, r in questions.items() if k != "thanked")


def test_a_reviewers_correction_is_what_gets_stored(w):
    visit = submitted(w, w.store_north)
    review.edit_answer(visit, w.reviewer, "staff", {"q_staff": "warm"}, "Seen on the video")
    review.approve(visit, w.reviewer)
    db.session.flush()
    assert scoring.to_fraction(_by_key(visit)["staff"].earned) == 2
    assert Fraction(visit.score_exact) == Fraction(55)


@pytest.mark.parametrize("value", [0, 6, 10])
def test_nps_answers_are_kept_for_sql(value):
    assert results._nps(value) == value
    assert results._nps(Fraction(value)) == value
    assert results._nps(True) is None and results._nps("9") is None


def test_results_are_written_again_not_added(w):
    visit = submitted(w, w.store_north)
    review.approve(visit, w.reviewer)
    db.session.flush()
    before = len(_rows(VisitQuestionResult, visit))
    results.record_results(visit)
    db.session.flush()
    assert len(_rows(VisitQuestionResult, visit)) == before
