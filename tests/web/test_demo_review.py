"""The demo shows review at work: a queue with flagged and clean visits, approved
visits whose scores and pay came from the real services, corrections with their
reasons, a visit returned to the demo shopper, and payment runs paid and not."""

from sqlalchemy import func, select

import scoring
from auditapp.extensions import db
from auditapp.models import PayLine, PaymentRun, ReviewEdit, ReviewNote, VisitFlag
from auditapp.models.answers import VisitSubmission
from auditapp.models.waves import Visit
from auditapp.services.checklists import scoring_checklist


def _count(query):
    return db.session.scalar(select(func.count()).select_from(query.subquery()))


def test_demo_has_a_review_queue_results_and_pay(app, monkeypatch, tmp_path):
    from auditapp import demo

    monkeypatch.setattr(demo, "hash_password", lambda _password: "not-a-real-hash")
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path))
    with app.test_request_context():
        demo.build_demo()
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
        assert _count(select(ReviewEdit)) > 0
        assert all(e.reason.strip() for e in db.session.scalars(select(ReviewEdit)))
        assert _count(select(ReviewNote)) > 0
        resent = select(VisitSubmission.visit_id).group_by(VisitSubmission.visit_id)
        assert _count(resent.having(func.count() > 1)) > 0
        runs = db.session.scalars(select(PaymentRun)).all()
        assert {run.paid_at is not None for run in runs} == {True, False}


def _answers(visit):
    from auditapp.models.answers import VisitAnswer

    return db.session.scalars(select(VisitAnswer).where(VisitAnswer.visit_id == visit.id)).all()
