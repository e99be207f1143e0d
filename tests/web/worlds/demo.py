"""What every build of the demo must show, on any day it is built: a queue with flagged
and clean visits, approved visits whose scores and pay came from the real services,
corrections with their reasons, a visit returned to the demo shopper, payment runs paid
and not, visits for the demo shopper to claim, and the follow-up loop (actions in every
state, appeals upheld, rejected and pending). Checked by the builds on awkward days
(demo/test_demo_review.py) and by today's shared build (demo/test_demo_today.py)."""

from sqlalchemy import func, select

import scoring
from auditapp import clock
from auditapp.demo.waves import DEMO_SHOPPER
from auditapp.extensions import db
from auditapp.models import (
    Appeal,
    CorrectiveAction,
    PayLine,
    PaymentRun,
    ReviewEdit,
    ReviewNote,
    ShopperProfile,
    User,
    VisitFlag,
)
from auditapp.models.answers import VisitSubmission
from auditapp.models.waves import Visit
from auditapp.services.checklists.versions import scoring_checklist
from auditapp.services.waves.scheduling import shopboard


def _count(query):
    return db.session.scalar(select(func.count()).select_from(query.subquery()))


def assert_review_queue_results_and_pay():
    waiting = db.session.scalars(
        select(Visit).where(Visit.status.in_(("submitted", "in_review")))
    ).all()
    assert len(waiting) >= 10
    flagged = {f.visit_id for f in db.session.scalars(select(VisitFlag))}
    assert flagged & {v.id for v in waiting}, "some queued visits carry flags"
    assert {v.id for v in waiting} - flagged, "and some are clean"
    codes = set(db.session.scalars(select(VisitFlag.code)))
    assert {"far_check_in", "short_duration", "copied_comment", "duplicate_photo"} <= codes

    approved = db.session.scalars(select(Visit).where(Visit.status == "approved")).all()
    assert len(approved) >= 50
    assert _count(select(PayLine)) == len(approved)
    for visit in approved[:10]:  # the stored score is the engine's for its answers
        answers = {a.question.key: a.value for a in _answers(visit)}
        outcome = scoring.score_visit(scoring_checklist(visit.checklist_version), answers)
        assert visit.score == scoring.round_half_up(outcome.score, 4)
    now = clock.utcnow()
    assert all(v.approved_at is not None and v.approved_at <= now for v in approved)
    sent = db.session.scalars(select(VisitSubmission)).all()
    assert sent and all(s.submitted_at <= now for s in sent), "nothing sent in the future"
    done = db.session.scalars(select(Visit).where(Visit.finished_at.is_not(None))).all()
    assert all(v.started_at <= v.finished_at <= now for v in done)
    assert _count(select(ReviewEdit)) > 0
    assert all(e.reason.strip() for e in db.session.scalars(select(ReviewEdit)))
    assert _count(select(ReviewNote)) > 0
    resent = select(VisitSubmission.visit_id).group_by(VisitSubmission.visit_id)
    assert _count(resent.having(func.count() > 1)) > 0
    runs = db.session.scalars(select(PaymentRun)).all()
    assert {run.paid_at is not None for run in runs} == {True, False}


def assert_shopper_has_visits_to_claim():
    shopper = db.session.scalars(
        select(ShopperProfile).join(ShopperProfile.user).where(User.email == DEMO_SHOPPER)
    ).one()
    assert shopboard(shopper), "the demo shopper's Find visits has visits to claim"


def assert_follow_up_in_every_state():
    states = set(db.session.scalars(select(CorrectiveAction.status)))
    assert {"open", "in_progress", "resolved", "verified", "reopened"} <= states
    appeals = set(db.session.scalars(select(Appeal.status)))
    assert appeals == {"pending", "upheld", "rejected"}


def _answers(visit):
    from auditapp.models.answers import VisitAnswer

    return db.session.scalars(select(VisitAnswer).where(VisitAnswer.visit_id == visit.id)).all()
