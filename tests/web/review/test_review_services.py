"""Review services: the queue (scope, filters, order, overdue, no N+1), reviewer edits
(parsed like the shopper's form, rescored to the digit of `python -m scoring`,
audited), returning with notes and a mail, approving with a pay line, and bulk
approval that refuses flagged visits.

Visits are submitted through the real visit form service; whatever integrity flags
that writes are removed again, and each test sets the flags it is about."""

import json
import subprocess
import sys
import uuid
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

import scoring
from auditapp.errors import NotFound
from auditapp.extensions import db
from auditapp.models import OutboxMail, utcnow
from auditapp.models.answers import VisitSubmission
from auditapp.models.pay import PayLine
from auditapp.models.review import ReviewEdit, ReviewNote, VisitFlag
from auditapp.models.waves import APPROVED, IN_REVIEW, RETURNED, SUBMITTED, Visit, VisitEvent
from auditapp.services.checklists import versions as checklists
from auditapp.services.review import decisions as review
from auditapp.services.review import queue as review_queue
from auditapp.services.review import screen as review_screen
from auditapp.services.visits import form as visit_form
from auditapp.services.visits import integrity
from tests.conftest import count_queries
from tests.web.worlds.review import GOOD, _context, current_answers, reload, submitted
from tests.web.worlds.review import w as w  # noqa: F401 (a fixture)


def to_fraction(value: Decimal) -> Any:
    found = scoring.to_fraction(value)
    assert found is not None
    return found


def resubmit(w: SimpleNamespace, visit: Visit, fields: dict[str, Any] | None = None) -> Visit:
    """The shopper sends a returned visit again."""
    with _context(w):
        visit_form.submit(visit, visit.shopper.user, f"rv-{uuid.uuid4().hex}", fields or GOOD)
    db.session.execute(delete(VisitFlag).where(VisitFlag.visit_id == visit.id))
    db.session.commit()
    return reload(visit)


def cli_score(version, answers: dict[str, Any], tmp_path) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """What `python -m scoring CHECKLIST.json ANSWERS.json` says, as its own process."""
    checklist_path, answers_path = tmp_path / "checklist.json", tmp_path / "answers.json"
    document = scoring.dump_checklist(checklists.scoring_checklist(version))
    checklist_path.write_text(scoring.dumps_exact(document))
    answers_path.write_text(json.dumps(answers))
    done = subprocess.run(
        [sys.executable, "-m", "scoring", str(checklist_path), str(answers_path)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout, parse_float=Decimal)  # type: ignore[no-any-return]


@pytest.fixture(autouse=True)
def _request(app):
    """Services translate, read the configuration and build links: a request context."""
    with app.test_request_context():
        yield


def ids(page: review_queue.QueuePage) -> list[int]:
    return [row.visit.id for row in page.items]


# --- the queue -------------------------------------------------------------------------


def test_queue_holds_submitted_and_in_review_visits_of_the_users_clients_only(w):
    mine = submitted(w, w.store_north, hours_ago=5)
    reviewing = submitted(w, w.store_south, w.bob, hours_ago=4)
    review.start_review(reviewing, w.reviewer)
    returned = submitted(w, w.store_area, hours_ago=3)
    review.return_visit(returned, w.reviewer, "Redo it", {})
    foreign = submitted(w, w.store_other, hours_ago=6)
    db.session.commit()

    for user in (w.reviewer, w.coordinator):
        assert ids(review_queue.queue(user)) == [mine.id, reviewing.id]
    assert ids(review_queue.queue(w.outsider)) == [foreign.id]
    assert ids(review_queue.queue(w.outsider_coordinator)) == [foreign.id]
    assert ids(review_queue.queue(w.admin)) == [foreign.id, mine.id, reviewing.id]
    assert ids(review_queue.queue(w.ann.user)) == []
    row = review_queue.queue(w.reviewer).items[1]
    assert row.reviewer_name == "Rita Reviewer" and row.visit.status == IN_REVIEW
    assert review_queue.queue(w.reviewer).items[0].reviewer_name is None


def test_queue_is_oldest_latest_submission_first_and_marks_overdue_and_resubmitted(w, app):
    fresh = submitted(w, w.store_north, hours_ago=2)
    old = submitted(w, w.store_north, hours_ago=60)
    middle = submitted(w, w.store_south, hours_ago=47)
    again = submitted(w, w.store_area, hours_ago=100)
    review.return_visit(again, w.reviewer, "Add the receipt", {})
    db.session.commit()
    again = resubmit(w, again)  # its latest submission is now the newest

    with app.app_context():
        page = review_queue.queue(w.reviewer)
    assert ids(page) == [old.id, middle.id, fresh.id, again.id]
    by_id = {row.visit.id: row for row in page.items}
    assert by_id[old.id].overdue and by_id[old.id].age_hours == 60
    assert not by_id[middle.id].overdue  # 47 hours: within the 48-hour deadline
    assert not by_id[fresh.id].overdue
    assert by_id[again.id].submissions == 2 and by_id[again.id].resubmitted
    assert by_id[fresh.id].submissions == 1 and not by_id[fresh.id].resubmitted
    assert by_id[fresh.id].score == Decimal("45.0")
    assert by_id[fresh.id].shopper_name == "Ann Shopper"


def test_queue_filters(w):
    north = submitted(w, w.store_north, hours_ago=30, flags=("far_check_in",))
    area = submitted(w, w.store_area, w.bob, hours_ago=20, flags=("short_duration", "photo_time"))
    south = submitted(w, w.store_south, hours_ago=10)
    summer = submitted(w, w.store_north, w.bob, wave=w.wave2, hours_ago=1)
    Q = review_queue.QueueFilters  # noqa: N806

    def found(**kw: Any) -> list[int]:
        return ids(review_queue.queue(w.reviewer, Q(**kw)))

    assert found() == [north.id, area.id, south.id, summer.id]
    assert found(client_id=w.client.id) == [north.id, area.id, south.id, summer.id]
    assert found(client_id=w.other.id) == []
    assert found(wave_id=w.wave2.id) == [summer.id]
    assert found(region_path=w.north.path) == [north.id, area.id, summer.id]  # with the sub-area
    assert found(region_path=w.north_area.path) == [area.id]
    assert found(region_path=w.south.path) == [south.id]
    assert found(shopper_id=w.bob.id) == [area.id, summer.id]
    assert found(flags="flagged") == [north.id, area.id]
    assert found(flags="clean") == [south.id, summer.id]
    assert found(flags="photo_time") == [area.id]
    assert found(flags="outside_hours") == []
    assert found(min_age_hours=15) == [north.id, area.id]
    assert found(min_age_hours=15, shopper_id=w.bob.id, flags="flagged") == [area.id]
    rows = review_queue.queue(w.reviewer).items
    assert rows[1].flags == ("photo_time", "short_duration") and rows[2].flags == ()


def test_queue_flags_come_from_the_latest_submission_only(w):
    visit = submitted(w, w.store_north, flags=("far_check_in",))
    review.return_visit(visit, w.reviewer, "Check in at the store next time", {})
    db.session.commit()
    visit = resubmit(w, visit)
    clean = review_queue.QueueFilters(flags="clean")
    assert ids(review_queue.queue(w.reviewer, clean)) == [visit.id]
    assert review_queue.queue(w.reviewer).items[0].flags == ()


def test_queue_pages_and_counts(w):
    made = [submitted(w, w.store_north, hours_ago=50 - n) for n in range(5)]
    first = review_queue.queue(w.reviewer, per_page=2)
    last = review_queue.queue(w.reviewer, page=3, per_page=2)
    assert first.total == 5 and first.pages == 3 and first.has_next and not first.has_prev
    assert ids(first) == [made[0].id, made[1].id]
    assert ids(last) == [made[4].id] and not last.has_next


def test_queue_makes_the_same_few_queries_however_many_rows(w, app):
    for n in range(2):
        submitted(w, w.store_north, hours_ago=n + 1, flags=("far_check_in",))

    def run() -> int:
        db.session.expire_all()
        with count_queries(app) as statements:
            page = review_queue.queue(w.reviewer)
            seen = [  # what the page reads
                (row.store.name, row.wave.name, row.shopper_name, row.score, row.flags)
                for row in page.items
            ]
            assert seen
        return len(statements)

    few = run()
    for n in range(4):
        submitted(w, w.store_south, w.bob, hours_ago=n + 10, flags=("short_duration",))
    assert run() == few
    assert few <= 5


# --- edits -----------------------------------------------------------------------------


def test_edit_rescores_exactly_as_the_scoring_cli_and_leaves_a_complete_audit_row(w, tmp_path):
    visit = submitted(w, w.store_north)
    assert visit.score == Decimal("45.0000") and visit.status == SUBMITTED
    before = utcnow()

    edit = review.edit_answer(visit, w.reviewer, "wait_s", {"q_wait_s": "20"}, "  CCTV: 20 s  ")
    db.session.commit()

    visit = reload(visit)
    answers = current_answers(visit)
    assert answers["wait_s"] == 20
    expected = cli_score(w.version, answers, tmp_path)
    assert scoring.round_half_up(to_fraction(visit.score), 1) == expected["score"]
    assert expected["score"] == Decimal("55.0")
    assert (visit.result, visit.grade) == (expected["result"], expected["grade"])
    assert visit.score == Decimal("55.0000")
    assert visit.status == IN_REVIEW and visit.reviewer_id == w.reviewer.id  # review started
    row = db.session.get(ReviewEdit, edit.id)
    assert (row.visit_id, row.editor_id, row.question_key) == (visit.id, w.reviewer.id, "wait_s")
    assert (row.before, row.after, row.reason) == (45, 20, "CCTV: 20 s")
    assert (row.score_before, row.score_after) == (Decimal("45.0000"), Decimal("55.0000"))
    assert row.at >= before
    # The shopper's submission keeps what they sent.
    submission = db.session.scalars(select(VisitSubmission)).one()
    assert submission.answers["wait_s"] == 45 and submission.score == Decimal("45.0000")


@pytest.mark.parametrize(
    ("key", "fields", "stored"),
    [
        ("staff", {"q_staff": "warm"}, "warm"),
        ("extras", {"q_extras": ["card"]}, ["card"]),
        ("extras", {"q_extras": [""]}, []),  # "None of these"
        ("rating", {"q_rating": "5"}, 5),
        ("greeted", {"q_greeted": "na"}, "na"),
        ("thanked", {"q_thanked": "no"}, "no"),  # critical: the visit scores 0
        ("wait_s", {"q_wait_s": "12,5"}, 12.5),
        ("rating", {}, None),  # cleared: the optional answer is removed
    ],
)
def test_every_kind_of_edit_scores_as_the_cli_says(w, tmp_path, key, fields, stored):
    visit = submitted(w, w.store_north)
    review.edit_answer(visit, w.coordinator, key, fields, "Checked against the receipt")
    db.session.commit()
    visit = reload(visit)
    answers = current_answers(visit)
    assert answers.get(key) == stored
    expected = cli_score(w.version, answers, tmp_path)
    shown = None if visit.score is None else scoring.round_half_up(to_fraction(visit.score), 1)
    assert shown == expected["score"]
    assert (visit.result, visit.grade) == (expected["result"], expected["grade"])


def test_edit_without_a_reason_is_refused_and_changes_nothing(w):
    visit = submitted(w, w.store_north)
    for reason in ("", "   ", None):
        with pytest.raises(review.ReviewInvalid) as refused:
            review.edit_answer(visit, w.reviewer, "wait_s", {"q_wait_s": "20"}, reason)
        assert refused.value.field == "reason"
    db.session.rollback()
    visit = reload(visit)
    assert current_answers(visit)["wait_s"] == 45 and visit.status == SUBMITTED
    assert db.session.scalar(select(func.count()).select_from(ReviewEdit)) == 0


def test_unchanged_value_records_nothing(w):
    visit = submitted(w, w.store_north)
    assert review.edit_answer(visit, w.reviewer, "staff", {"q_staff": "neutral"}, "Same") is None
    assert (
        review.edit_answer(visit, w.reviewer, "extras", {"q_extras": ["upsell", "bag"]}, "") is None
    )
    assert review.edit_answer(visit, w.reviewer, "greeted", {"q_greeted": "yes"}, None) is None
    db.session.flush()
    assert reload(visit).status == SUBMITTED
    assert db.session.scalar(select(func.count()).select_from(ReviewEdit)) == 0


def test_unchanged_value_with_the_same_number_records_nothing(w):
    visit = submitted(w, w.store_north)
    assert review.edit_answer(visit, w.reviewer, "wait_s", {"q_wait_s": "45.0"}, "x") is None
    assert review.edit_answer(visit, w.reviewer, "wait_s", {"q_wait_s": "45"}, "") is None
    db.session.flush()
    assert reload(visit).status == SUBMITTED
    assert db.session.scalar(select(func.count()).select_from(ReviewEdit)) == 0


@pytest.mark.parametrize(
    ("key", "fields", "message"),
    [
        ("wait_s", {"q_wait_s": "700"}, "outside the allowed range"),
        ("wait_s", {"q_wait_s": "1e3"}, "plain number"),
        ("staff", {"q_staff": "sarcastic"}, "Not a valid choice"),
        ("greeted", {}, "needs an answer"),  # required: cannot be cleared
        ("shelf", {"q_shelf": "x.jpg"}, "Photos cannot be edited"),
        ("why", {"q_why": "Typed while hidden"}, "hidden by an earlier answer"),
    ],
)
def test_edit_is_read_as_the_shoppers_form_reads_it(w, key, fields, message):
    visit = submitted(w, w.store_north)
    with pytest.raises(review.ReviewInvalid) as refused:
        review.edit_answer(visit, w.reviewer, key, fields, "A reason")
    assert refused.value.field == key
    assert message in str(refused.value)


def test_edit_of_an_unknown_question_is_not_found(w):
    visit = submitted(w, w.store_north)
    with pytest.raises(NotFound):
        review.edit_answer(visit, w.reviewer, "nope", {"q_nope": "1"}, "A reason")


def test_edit_that_hides_a_follow_up_removes_its_answer_with_its_own_audit_row(w):
    visit = submitted(w, w.store_north, fields={**GOOD, "q_staff": "rude", "q_why": "Ignored me"})
    assert current_answers(visit)["why"] == "Ignored me"
    review.edit_answer(visit, w.reviewer, "staff", {"q_staff": "warm"}, "Video shows a smile")
    db.session.commit()
    answers = current_answers(reload(visit))
    assert answers["staff"] == "warm" and "why" not in answers
    rows = db.session.scalars(select(ReviewEdit).order_by(ReviewEdit.id)).all()
    assert [(r.question_key, r.before, r.after) for r in rows] == [
        ("staff", "rude", "warm"),
        ("why", "Ignored me", None),
    ]
    assert rows[1].reason == "Video shows a smile"
    assert rows[1].score_before == rows[1].score_after == rows[0].score_after


def test_edit_can_answer_a_follow_up_the_edit_made_visible(w):
    visit = submitted(w, w.store_north)
    review.edit_answer(visit, w.reviewer, "staff", {"q_staff": "rude"}, "Heard on the recording")
    review.edit_answer(visit, w.reviewer, "why", {"q_why": "Talked over me"}, "Recording")
    db.session.commit()
    assert current_answers(reload(visit))["why"] == "Talked over me"


@pytest.mark.parametrize("status", [RETURNED, APPROVED])
def test_a_returned_or_approved_visit_refuses_edits(w, status):
    visit = submitted(w, w.store_north)
    if status == RETURNED:
        review.return_visit(visit, w.reviewer, "Please redo", {})
    else:
        review.approve(visit, w.reviewer)
    db.session.commit()
    with pytest.raises(review.NotReviewable):
        review.edit_answer(reload(visit), w.reviewer, "wait_s", {"q_wait_s": "20"}, "Late fix")
    for act in (review.approve, review.start_review, review.release_review):
        with pytest.raises(review.NotReviewable):
            act(reload(visit), w.reviewer)
    with pytest.raises(review.NotReviewable):
        review.return_visit(reload(visit), w.reviewer, "Again", {})


# --- start, release ------------------------------------------------------------------


def test_start_and_release_a_review(w):
    visit = submitted(w, w.store_north)
    review.start_review(visit, w.reviewer)
    assert (visit.status, visit.reviewer_id) == (IN_REVIEW, w.reviewer.id)
    review.start_review(visit, w.reviewer)  # again: nothing changes
    with pytest.raises(review.NotReviewable, match="Rita Reviewer is already reviewing"):
        review.start_review(visit, w.coordinator)
    review.release_review(visit, w.coordinator)
    assert (visit.status, visit.reviewer_id) == (SUBMITTED, None)
    with pytest.raises(review.NotReviewable):
        review.release_review(visit, w.coordinator)
    db.session.flush()
    moves = db.session.scalars(
        select(VisitEvent.to_status).where(VisitEvent.visit_id == visit.id).order_by(VisitEvent.id)
    ).all()
    assert moves[-2:] == [IN_REVIEW, SUBMITTED]


# --- return --------------------------------------------------------------------------


def test_return_writes_notes_moves_the_visit_and_mails_the_shopper(w):
    visit = submitted(w, w.store_north)
    notes = review.return_visit(
        visit, w.reviewer, "  Please add the receipt.  ",
        {"wait_s": "Count from the door", "staff": "  ", "nope": "ignored", "shelf": "Retake"},
    )  # fmt: skip
    db.session.commit()
    visit = reload(visit)
    assert visit.status == RETURNED and visit.reviewer_id == w.reviewer.id
    rows = db.session.scalars(select(ReviewNote).order_by(ReviewNote.id)).all()
    assert [(n.question_key, n.text, n.author_id) for n in rows] == [
        (None, "Please add the receipt.", w.reviewer.id),
        ("wait_s", "Count from the door", w.reviewer.id),
        ("shelf", "Retake", w.reviewer.id),
    ]
    assert len(notes) == 3
    event = db.session.scalars(select(VisitEvent).order_by(VisitEvent.id.desc())).first()
    assert (event.from_status, event.to_status, event.actor_id) == (
        SUBMITTED, RETURNED, w.reviewer.id,
    )  # fmt: skip
    mail = db.session.scalars(select(OutboxMail).where(OutboxMail.to == w.ann.user.email)).one()
    assert "North store" in mail.subject and "changes" in mail.body
    assert f"/my/visits/{visit.id}" in mail.body
    for secret in ("Neutral", "neutral", "45", "receipt.", "Count from the door", "Quiet"):
        assert secret not in mail.body


def test_return_mail_is_in_the_shoppers_language(w):
    w.ann.user.locale = "zh_Hans"
    visit = submitted(w, w.store_north)
    review.return_visit(visit, w.reviewer, "请补充收据", {})
    mail = db.session.scalars(select(OutboxMail).where(OutboxMail.to == w.ann.user.email)).one()
    assert "North store" in mail.subject


def test_return_needs_a_note(w):
    visit = submitted(w, w.store_north)
    for note in ("", "  ", None):
        with pytest.raises(review.ReviewInvalid) as refused:
            review.return_visit(visit, w.reviewer, note, {"wait_s": "Count from the door"})
        assert refused.value.field == "note"
    with pytest.raises(review.ReviewInvalid) as refused:
        review.return_visit(visit, w.reviewer, "Fine", {"wait_s": "x" * 5001})
    assert refused.value.field == "note_wait_s"
    db.session.rollback()
    assert reload(visit).status == SUBMITTED
    assert db.session.scalar(select(func.count()).select_from(ReviewNote)) == 0


# --- approve -------------------------------------------------------------------------


def test_approve_records_the_pay_line_and_when(w):
    visit = submitted(w, w.store_north)
    visit.expense_claimed = Decimal("30.00")
    review.start_review(visit, w.coordinator)
    before = utcnow()
    line = review.approve(visit, w.reviewer)
    db.session.commit()
    visit = reload(visit)
    assert visit.status == APPROVED and visit.approved_at >= before
    assert visit.reviewer_id == w.reviewer.id
    stored = db.session.scalars(select(PayLine).where(PayLine.visit_id == visit.id)).one()
    assert stored.id == line.id
    assert (stored.fee, stored.shopper_id, stored.client_id) == (
        Decimal("80.00"), w.ann.id, w.client.id,
    )  # fmt: skip
    assert stored.expenses_paid == Decimal("0")  # no receipt, no expenses
    with pytest.raises(review.NotReviewable):
        review.approve(visit, w.reviewer)


# --- bulk approve ----------------------------------------------------------------------


def test_bulk_approve_refuses_flagged_foreign_and_finished_visits_and_approves_the_rest(w):
    clean = submitted(w, w.store_north)
    reviewing = submitted(w, w.store_south, w.bob)
    review.start_review(reviewing, w.coordinator)
    flagged = submitted(w, w.store_area, flags=("duplicate_photo",))
    returned = submitted(w, w.store_north, w.bob)
    review.return_visit(returned, w.reviewer, "Redo", {})
    foreign = submitted(w, w.store_other)
    db.session.commit()

    approved, refused = review.bulk_approve(
        [clean.id, reviewing.id, flagged.id, returned.id, foreign.id, 999999, clean.id],
        w.reviewer,
    )
    db.session.commit()
    assert sorted(v.id for v in approved) == sorted([clean.id, reviewing.id])
    assert set(refused) == {flagged.id, returned.id, foreign.id, 999999}
    assert "Photo used before" in refused[flagged.id]
    assert refused[foreign.id] == refused[999999] == "not found"
    assert "Returned for changes" in refused[returned.id]
    statuses = {v.id: reload(v).status for v in (clean, reviewing, flagged, returned, foreign)}
    assert statuses == {
        clean.id: APPROVED, reviewing.id: APPROVED, flagged.id: SUBMITTED,
        returned.id: RETURNED, foreign.id: SUBMITTED,
    }  # fmt: skip
    paid = db.session.scalars(select(PayLine.visit_id)).all()
    assert sorted(paid) == sorted([clean.id, reviewing.id])


def test_a_flag_on_an_earlier_submission_does_not_block_bulk_approval(w):
    visit = submitted(w, w.store_north, flags=("far_check_in",))
    review.return_visit(visit, w.reviewer, "Check in at the store", {})
    db.session.commit()
    visit = resubmit(w, visit)
    approved, refused = review.bulk_approve([visit.id], w.reviewer)
    assert [v.id for v in approved] == [visit.id] and refused == {}


def test_a_flag_without_a_penalty_does_not_block_bulk_approval(w):
    w.store_north.latitude = w.store_north.longitude = None  # no coordinates on file
    visit = submitted(w, w.store_north)
    latest = db.session.scalars(
        select(VisitSubmission).where(VisitSubmission.visit_id == visit.id)
    ).one()
    flags = integrity.check_submission(visit, latest)  # as the real submission runs it
    assert [(f.code, f.penalty) for f in flags] == [("store_without_location", 0)]
    costly = submitted(w, w.store_north, flags=("store_without_location", "short_duration"))
    db.session.commit()

    approved, refused = review.bulk_approve([visit.id, costly.id], w.reviewer)
    assert [v.id for v in approved] == [visit.id]
    assert set(refused) == {costly.id}
    assert "Visit too short" in refused[costly.id]
    assert "Distance not checked" not in refused[costly.id]
    assert reload(visit).status == APPROVED and reload(costly).status == SUBMITTED


# --- the review screen ----------------------------------------------------------------


def test_review_screen_data(w, app):
    visit = submitted(w, w.store_north, flags=("far_check_in",))
    other = submitted(w, w.store_south)
    submitted(w, w.store_other)  # another client's visit stays out of the history
    review.edit_answer(visit, w.reviewer, "greeted", {"q_greeted": "na"}, "No one at the door")
    db.session.commit()
    with app.test_request_context():
        screen = review_screen.review_screen(reload(visit), w.reviewer)
    questions = {q.question.key: q for s in screen.sections for q in s.questions}
    assert questions["staff"].answer_text == "Neutral"
    assert (questions["staff"].earned, questions["staff"].possible) == ("1", "2")
    assert questions["extras"].answer_text == "A bag, A pushy upsell"
    assert questions["rating"].earned == "0.5"
    assert questions["greeted"].na and questions["greeted"].earned is None
    assert questions["why"].hidden and not questions["why"].editable
    assert not questions["shelf"].editable and not questions["shelf"].answered
    assert questions["thanked"].question.critical and not questions["thanked"].critical_failed
    assert [q.number for q in questions.values()] == list(range(1, 9))
    main = screen.sections[0]
    assert (main.title, main.earned, main.possible) == ("Main", "2.5", "8")
    assert main.comment == "Quiet store."
    assert str(screen.score) == "38.9"  # greeted N/A: 2.5 of 8 in Main, 1 of 1 in Exit
    assert screen.result == "FAIL" and screen.grade == "Poor"
    assert screen.distance_m == 100 and screen.duration_minutes == 32
    assert [(f.code, f.label) for f in screen.flags] == [
        ("far_check_in", "Checked in far from the store")
    ]
    assert ("distance m", "850") in screen.flags[0].details
    assert [h.visit.id for h in screen.history] == [other.id]
    assert [e.question_key for e, _text in screen.edits] == ["greeted"]
    assert len(screen.submissions) == 1 and screen.reviewable


def test_review_screen_speaks_the_checklists_translation(w, app):
    visit = submitted(w, w.store_north, fields={**GOOD, "q_staff": "warm"})
    with app.test_request_context():
        screen = review_screen.review_screen(visit, w.reviewer, language="zh")
    questions = {q.question.key: q for s in screen.sections for q in s.questions}
    assert questions["greeted"].text == "有人招呼您吗？"
    assert questions["staff"].answer_text == "热情"
    assert questions["wait_s"].text == "Seconds until first contact"  # untranslated: original
    assert screen.sections[0].title == "主要"


def test_get_visit_is_scoped_and_only_for_reviewable_or_reviewed_visits(w):
    visit = submitted(w, w.store_north)
    assert review_queue.get_visit(w.reviewer, visit.id) is not None
    assert review_queue.get_visit(w.admin, visit.id) is not None
    for user in (w.outsider, w.outsider_coordinator, w.ann.user):
        assert review_queue.get_visit(user, visit.id) is None
    db.session.execute(update(Visit).where(Visit.id == visit.id).values(status=RETURNED))
    assert review_queue.get_visit(w.reviewer, visit.id) is not None
    db.session.execute(update(Visit).where(Visit.id == visit.id).values(status=SUBMITTED))
    db.session.execute(update(Visit).where(Visit.id == visit.id).values(status=IN_REVIEW))
    assert review_queue.get_visit(w.reviewer, visit.id) is not None
