"""Corrective actions from published visits (services/follow_up/actions.py): which answers open,
reopen and verify them, their due dates and owners, the steps people take, who sees
them, and the "did the fix stick?" report.

The world (client ACT, action threshold 50%, critical actions due in 7 days, others in
30; waves W1 <- W2 <- W3, January to March 2026):

    North ── A1 (Shanghai; store managers Sam, then Sid; Sue inactive before them)
          └─ B1 (Honolulu; store manager Bob)
    South ── S1

The checklist: greeting/greeted (yes/no, N/A allowed), shop/clean (yes/no, critical),
shop/staff (warm 2, neutral 1 = exactly 50%, rude 0), extras/rating (scale 1..4:
2 is 33.3%, 3 is 66.7%), extras/notes (text, not scored).
"""

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from auditapp import media
from auditapp.extensions import db
from auditapp.models import ActionEvent, ActionFinding, CorrectiveAction
from auditapp.models.answers import VisitAnswer
from auditapp.models.follow_up import (
    ACTION_IN_PROGRESS,
    ACTION_OPEN,
    ACTION_REOPENED,
    ACTION_RESOLVED,
    ACTION_VERIFIED,
    ACTION_WITHDRAWN,
)
from auditapp.models.waves import Visit
from auditapp.services.follow_up import actions
from auditapp.services.follow_up import files as follow_up_files
from auditapp.services.follow_up.actions import ActionInvalid, ActionRefused
from auditapp.services.visits.evidence import EvidenceRejected
from auditapp.services.visits.results import record_results
from tests.web import evidence_images
from tests.web.worlds.actions import SHOPPER_NAME, at, only, publish, store_actions, visit
from tests.web.worlds.actions import w as w  # noqa: F401 (a fixture)


def counts() -> tuple[int, int, int]:
    return tuple(  # type: ignore[return-value]
        db.session.scalar(select(func.count()).select_from(model))
        for model in (CorrectiveAction, ActionFinding, ActionEvent)
    )


def resolved(w: Any, action: CorrectiveAction) -> CorrectiveAction:
    with w.app.test_request_context():
        actions.resolve(action, w.sam, "Mopped and a cleaning rota put up.")
    return action


# --- opening --------------------------------------------------------------------------------


def test_a_critical_failure_and_a_below_threshold_question_open_actions(w):
    visit(w, w.waves[0], w.a, clean="no", rating=2)
    publish(w.waves[0], at(2))  # 17:00 UTC is 01:00 the next day in Shanghai
    clean, rating = only(w.a, "clean"), only(w.a, "rating")
    assert (clean.severity, clean.due_on) == ("critical", date(2026, 2, 11) + timedelta(days=7))
    assert (rating.severity, rating.due_on) == ("below_threshold", date(2026, 3, 13))
    assert clean.owner_id == rating.owner_id == w.sam.id  # the first active store manager
    assert clean.status == rating.status == ACTION_OPEN
    assert clean.question_text == "Was the floor clean?"
    assert (clean.wave_id, clean.checklist_id) == (w.waves[0].id, w.checklist_id)
    assert [(f.passed, f.critical_failed) for f in clean.findings] == [(False, True)]
    assert rating.findings[0].percent == Decimal("33.3333")
    assert [(e.actor_id, e.from_status, e.to_status, e.note) for e in clean.events] == [
        (None, None, ACTION_OPEN, "Failed in W1")
    ]
    assert {a.question_key for a in store_actions(w.a)} == {"clean", "rating"}


def test_the_due_day_is_the_publication_day_in_the_stores_zone(w):
    visit(w, w.waves[0], w.b, staff="rude")  # Honolulu: 17:00 UTC is 07:00 the same day
    publish(w.waves[0], at(2))
    assert only(w.b, "staff").due_on == date(2026, 2, 10) + timedelta(days=30)
    assert only(w.b, "staff").owner_id == w.bob.id


def test_an_action_without_a_store_manager_has_no_owner(w):
    visit(w, w.waves[0], w.s, clean="no")
    publish(w.waves[0], at(2))
    assert only(w.s, "clean").owner_id is None


def test_a_visit_approved_after_publication_is_due_from_its_approval(w):
    publish(w.waves[0], at(2))
    late = visit(w, w.waves[0], w.a, clean="no")
    late.approved_at = at(2, 20, 3)  # 11:00 in Shanghai
    actions.record_findings(late)
    assert only(w.a, "clean").due_on == date(2026, 2, 27)


def test_the_threshold_is_compared_exactly(w):
    visit(w, w.waves[0], w.a, staff="neutral", rating=3)  # exactly 50%, and 66.67%
    publish(w.waves[0], at(2))
    assert store_actions(w.a) == []
    w.client.action_threshold = 67  # 2/3 of the points is 66.666…%: below 67
    second = visit(w, w.waves[1], w.a, rating=3)
    actions.record_findings(second)
    assert [a.question_key for a in store_actions(w.a)] == ["rating"]


def test_unscored_and_unapproved_answers_open_nothing(w):
    visit(w, w.waves[0], w.a, notes="Nothing to add")
    pending = Visit(
        wave=w.waves[0], store=w.a, checklist_version_id=w.version.id, slot="midday",
        window_start=at(1, 5), window_end=at(1, 5, 18), status="planned",
    )  # fmt: skip
    db.session.add(pending)
    db.session.flush()
    assert actions.record_findings(pending) == []
    publish(w.waves[0], at(2))
    assert store_actions(w.a) == []


def test_the_description_quotes_the_section_comment_without_naming_the_shopper(w):
    comments = {"shop": "Sticky floor by the till.", "": "Nice music."}
    visit(w, w.waves[0], w.a, comments=comments, clean="no", staff="rude")
    publish(w.waves[0], at(2))
    clean, staff = only(w.a, "clean"), only(w.a, "staff")
    assert clean.description.startswith("A critical item failed: Was the floor clean?")
    assert "Sticky floor by the till." in clean.description
    assert "Shop floor" in clean.description and "Nice music." not in clean.description
    assert staff.description.startswith("Staff manner — 0.0% of the points")
    assert "standard of 50%" in staff.description
    assert clean.findings[0].comment == "Sticky floor by the till."
    for action in (clean, staff):
        assert SHOPPER_NAME not in action.description
        assert "Zed" not in action.description


# --- the next wave --------------------------------------------------------------------------


def test_a_passing_answer_in_the_next_wave_verifies_the_action(w):
    visit(w, w.waves[0], w.a, clean="no")
    publish(w.waves[0], at(2))
    action = resolved(w, only(w.a, "clean"))
    visit(w, w.waves[1], w.a)
    publish(w.waves[1], at(3))
    assert action.status == ACTION_VERIFIED and action.closed_at is not None
    assert [(f.wave_id, f.passed) for f in action.findings] == [
        (w.waves[0].id, False),
        (w.waves[1].id, True),
    ]
    last = action.events[-1]
    assert (last.actor_id, last.from_status, last.to_status, last.note) == (
        None, ACTION_RESOLVED, ACTION_VERIFIED, "Passed in W2",
    )  # fmt: skip
    # Verified: a later failure opens a new action.
    visit(w, w.waves[2], w.a, clean="no")
    publish(w.waves[2], at(4))
    assert [a.status for a in store_actions(w.a)] == [ACTION_VERIFIED, ACTION_OPEN]


def test_a_failing_answer_in_the_next_wave_reopens_the_action(w):
    visit(w, w.waves[0], w.a, rating=2)
    publish(w.waves[0], at(2))
    action = resolved(w, only(w.a, "rating"))
    visit(w, w.waves[1], w.a, clean="yes", rating=1)
    publish(w.waves[1], at(3, 20, 2))  # 10:00 in Shanghai
    assert store_actions(w.a) == [action]
    assert action.status == ACTION_REOPENED and action.times_reopened == 1
    assert action.wave_id == w.waves[1].id
    assert action.due_on == date(2026, 3, 20) + timedelta(days=30)
    assert [f.passed for f in action.findings] == [False, False]
    last = action.events[-1]
    assert (last.actor_id, last.from_status, last.to_status, last.note) == (
        None, ACTION_RESOLVED, ACTION_REOPENED, "Failed again in W2",
    )  # fmt: skip


def test_a_critical_failure_again_reopens_an_action_still_open(w):
    visit(w, w.waves[0], w.a, staff="rude")
    publish(w.waves[0], at(2))
    visit(w, w.waves[1], w.a, staff="rude")
    publish(w.waves[1], at(3))
    action = only(w.a, "staff")
    assert (action.status, action.times_reopened) == (ACTION_REOPENED, 1)
    assert action.events[-1].from_status == ACTION_OPEN


def test_visits_of_the_same_wave_add_findings_without_reopening(w):
    visit(w, w.waves[0], w.a, rating=2)
    visit(w, w.waves[0], w.a, rating=4)  # passes, same wave: recorded, decides nothing
    visit(w, w.waves[0], w.a, rating=1)
    publish(w.waves[0], at(2))
    action = only(w.a, "rating")
    assert action.status == ACTION_OPEN and action.times_reopened == 0
    assert [f.passed for f in action.findings] == [False, True, False]
    assert len(action.events) == 1


def test_na_decides_nothing(w):
    visit(w, w.waves[0], w.a, greeted="no")
    publish(w.waves[0], at(2))
    action = only(w.a, "greeted")
    visit(w, w.waves[1], w.a, greeted="na")
    publish(w.waves[1], at(3))
    assert action.status == ACTION_OPEN and len(action.findings) == 1
    visit(w, w.waves[2], w.a, greeted="yes")
    publish(w.waves[2], at(4))
    assert action.status == ACTION_VERIFIED
    assert action.events[-1].note == "Passed in W3"


def test_an_older_wave_published_late_only_adds_history(w):
    visit(w, w.waves[1], w.a, rating=2)
    publish(w.waves[1], at(3))
    action = only(w.a, "rating")
    visit(w, w.waves[0], w.a, rating=1)
    visit(w, w.waves[0], w.a, rating=4)
    publish(w.waves[0], at(3, 15))
    assert action.status == ACTION_OPEN and action.wave_id == w.waves[1].id
    assert [f.passed for f in action.findings] == [False, False, True]


def test_recording_a_visit_twice_changes_nothing(w):
    visit(w, w.waves[0], w.a, clean="no", rating=2)
    publish(w.waves[0], at(2))
    resolved(w, only(w.a, "clean"))
    second = visit(w, w.waves[1], w.a, rating=1)
    publish(w.waves[1], at(3))
    before = counts()
    states = [(a.status, a.times_reopened, a.due_on) for a in store_actions(w.a)]
    publish(w.waves[0], at(2))
    publish(w.waves[1], at(3))
    assert actions.record_findings(second) == []
    assert counts() == before
    assert [(a.status, a.times_reopened, a.due_on) for a in store_actions(w.a)] == states


# --- an upheld appeal ------------------------------------------------------------------------


def change_answer(w: Any, row: Visit, key: str, value: Any) -> None:
    """What an upheld appeal does to the answer before calling finding_changed."""
    answer = db.session.scalars(
        select(VisitAnswer).where(
            VisitAnswer.visit_id == row.id, VisitAnswer.question_id == w.questions[key]
        )
    ).one()
    answer.value = value
    record_results(row)
    db.session.flush()


def test_an_upheld_appeal_withdraws_an_action_left_without_a_failure(w):
    row = visit(w, w.waves[0], w.a, clean="no")
    publish(w.waves[0], at(2))
    action = only(w.a, "clean")
    change_answer(w, row, "clean", "yes")
    with w.app.test_request_context():
        actions.finding_changed(row, "clean", w.coordinator)
    assert action.status == ACTION_WITHDRAWN and action.findings == []
    last = action.events[-1]
    assert (last.actor_id, last.to_status) == (w.coordinator.id, ACTION_WITHDRAWN)
    assert "W1" in last.note
    # Withdrawn is closed: the next failure opens a new action.
    visit(w, w.waves[1], w.a, clean="no")
    publish(w.waves[1], at(3))
    assert [a.status for a in store_actions(w.a)] == [ACTION_WITHDRAWN, ACTION_OPEN]


def test_an_answer_that_still_fails_changes_nothing(w):
    row = visit(w, w.waves[0], w.a, staff="rude")
    publish(w.waves[0], at(2))
    action = only(w.a, "staff")
    change_answer(w, row, "staff", "rude")
    with w.app.test_request_context():
        actions.finding_changed(row, "staff", w.coordinator)
    assert action.status == ACTION_OPEN and len(action.findings) == 1


def test_an_other_failure_of_the_wave_keeps_the_action(w):
    row = visit(w, w.waves[0], w.a, staff="rude")
    other = visit(w, w.waves[0], w.a, staff="rude")
    publish(w.waves[0], at(2))
    action = only(w.a, "staff")
    change_answer(w, row, "staff", "warm")
    with w.app.test_request_context():
        actions.finding_changed(row, "staff", w.coordinator)
    assert action.status == ACTION_OPEN and action.visit_id == other.id
    assert [(f.visit_id, f.passed) for f in action.findings] == [(other.id, False), (row.id, True)]


def test_an_upheld_appeal_undoes_the_reopening_it_caused(w):
    visit(w, w.waves[0], w.a, rating=2)
    publish(w.waves[0], at(2))
    action = resolved(w, only(w.a, "rating"))
    row = visit(w, w.waves[1], w.a, rating=1)
    publish(w.waves[1], at(3))
    assert (action.status, action.times_reopened) == (ACTION_REOPENED, 1)
    change_answer(w, row, "rating", 4)
    with w.app.test_request_context():
        actions.finding_changed(row, "rating", w.coordinator)
    # Back to resolved, then the W2 answer, now a pass, verifies the W1 fix.
    assert action.times_reopened == 0 and action.wave_id == w.waves[0].id
    assert action.status == ACTION_VERIFIED
    assert [e.to_status for e in action.events][-2:] == [ACTION_RESOLVED, ACTION_VERIFIED]
    assert [(f.wave_id, f.passed) for f in action.findings] == [
        (w.waves[0].id, False),
        (w.waves[1].id, True),
    ]


# --- steps by people --------------------------------------------------------------------------


@pytest.fixture
def opened(w):
    visit(w, w.waves[0], w.a, clean="no")
    publish(w.waves[0], at(2))
    return only(w.a, "clean")


def test_the_store_manager_starts_and_resolves_and_the_regional_manager_verifies(w, opened):
    with w.app.test_request_context():
        assert actions.allowed_steps(w.sid, opened) == {"start", "resolve"}
        actions.start(opened, w.sid)
        assert opened.status == ACTION_IN_PROGRESS
        actions.resolve(opened, w.sid, "  New mop, floor checked hourly.  ")
        assert opened.status == ACTION_RESOLVED and opened.resolved_at is not None
        assert opened.resolution_note == "New mop, floor checked hourly."
        with pytest.raises(ActionRefused):
            actions.verify(opened, w.sid)
        assert actions.allowed_steps(w.rm, opened) == {"verify", "reopen", "reassign"}
        actions.verify(opened, w.rm, "Seen on my visit.")
    assert opened.status == ACTION_VERIFIED and opened.closed_at is not None
    assert [(e.actor_id, e.to_status) for e in opened.events] == [
        (None, ACTION_OPEN),
        (w.sid.id, ACTION_IN_PROGRESS),
        (w.sid.id, ACTION_RESOLVED),
        (w.rm.id, ACTION_VERIFIED),
    ]
    assert opened.events[2].note == "New mop, floor checked hourly."


@pytest.mark.parametrize("who", ["bob", "rm_south", "reviewer", "shopper", "other_coordinator"])
def test_people_outside_the_store_may_not_take_a_step(w, opened, who):
    user = w.shopper.user if who == "shopper" else getattr(w, who)
    with w.app.test_request_context():
        assert actions.allowed_steps(user, opened) == frozenset()
        with pytest.raises(ActionRefused):
            actions.start(opened, user)
        with pytest.raises(ActionRefused):
            actions.resolve(opened, user, "Done")
    assert opened.status == ACTION_OPEN


def test_a_resolution_needs_a_note(w, opened):
    with w.app.test_request_context(), pytest.raises(ActionInvalid) as refused:
        actions.resolve(opened, w.sam, "   ")
    assert refused.value.field == "note"
    assert opened.status == ACTION_OPEN


def test_steps_out_of_order_are_refused(w, opened):
    with w.app.test_request_context():
        for step in (actions.verify, lambda a, u: actions.reopen(a, u, "No")):
            with pytest.raises(ActionRefused, match="resolved"):
                step(opened, w.coordinator)
        actions.start(opened, w.sam)
        with pytest.raises(ActionRefused, match="open"):
            actions.start(opened, w.sam)


def test_reopening_needs_a_reason_and_gives_a_new_due_date(w, opened, monkeypatch):
    resolved(w, opened)
    monkeypatch.setattr(actions, "utcnow", lambda: at(4, 1, 2))
    with w.app.test_request_context():
        with pytest.raises(ActionInvalid):
            actions.reopen(opened, w.coordinator, "")
        actions.reopen(opened, w.coordinator, "The floor is sticky again.")
    assert (opened.status, opened.times_reopened) == (ACTION_REOPENED, 1)
    assert opened.due_on == date(2026, 4, 1) + timedelta(days=7)
    assert opened.events[-1].note == "The floor is sticky again."
    with w.app.test_request_context():
        assert actions.allowed_steps(w.sam, opened) == {"start", "resolve"}


def test_photos_of_the_fix_are_stored_and_a_bad_one_keeps_none(w, opened):
    folder = Path(w.app.config["UPLOAD_FOLDER"]) / "follow-up"
    before = set(folder.glob("*")) if folder.exists() else set()
    good, bad = (evidence_images.png(), "a.png"), (b"not a photo", "b.jpg")
    with w.app.test_request_context():
        with pytest.raises(EvidenceRejected), db.session.begin_nested():
            actions.resolve(opened, w.sam, "Fixed", [good, bad])
        assert set(folder.glob("*")) == before  # the good photo's files went too
        assert opened.status == ACTION_OPEN
        stored = actions.resolve(opened, w.sam, "Fixed", [good])
        assert len(stored) == 1 and follow_up_files.photo_path(stored[0]).is_file()  # type: ignore[union-attr]
    assert [p.id for p in follow_up_files.photos(action_id=opened.id)] == [stored[0].id]


def test_each_photo_of_the_fix_has_its_header_checked_once(w, opened, monkeypatch):
    checked: list[int] = []
    real = media.check_header

    def counting(data: bytes, **kw: Any) -> tuple[int, int]:
        checked.append(len(data))
        return real(data, **kw)

    monkeypatch.setattr(media, "check_header", counting)
    photos = [(evidence_images.png(), "a.png"), (evidence_images.webp(), "b.webp")]
    with w.app.test_request_context():
        stored = actions.resolve(opened, w.sam, "Fixed", photos)
    assert len(stored) == 2
    assert checked == [len(photos[0][0]), len(photos[1][0])]


def test_the_owner_can_be_given_to_another_store_manager_of_the_store(w, opened):
    with w.app.test_request_context():
        actions.reassign(opened, w.coordinator, w.sid.id)
        assert opened.owner_id == w.sid.id
        with pytest.raises(ActionInvalid):
            actions.reassign(opened, w.coordinator, w.bob.id)
        with pytest.raises(ActionRefused):
            actions.reassign(opened, w.sam, w.sam.id)
    assert [u.id for u in actions.store_managers(w.a)] == [w.sam.id, w.sid.id]


# --- scope and lines for others -----------------------------------------------------------------


def visible(user: Any) -> set[int]:
    query = select(CorrectiveAction.id).where(actions.action_scope(user))
    return set(db.session.scalars(query))


def test_each_user_sees_the_actions_of_their_stores(w):
    visit(w, w.waves[0], w.a, clean="no")
    visit(w, w.waves[0], w.b, clean="no")
    visit(w, w.waves[0], w.s, clean="no")
    publish(w.waves[0], at(2))
    a, b, s = (only(store, "clean").id for store in (w.a, w.b, w.s))
    assert visible(w.sam) == {a} and visible(w.bob) == {b}
    assert visible(w.rm) == {a, b} and visible(w.rm_south) == {s}
    assert visible(w.coordinator) == visible(w.admin) == {a, b, s}
    assert visible(w.reviewer) == visible(w.shopper.user) == visible(w.other_coordinator) == set()
    w.waves[0].published_at = None  # say it was recorded before publication
    db.session.flush()
    assert visible(w.sam) == visible(w.rm) == set()
    assert visible(w.coordinator) == {a, b, s}


def test_overdue_and_the_scorecard_lines(w, opened):
    assert not actions.is_overdue(opened, opened.due_on)
    assert actions.is_overdue(opened, opened.due_on + timedelta(days=1))
    with w.app.test_request_context():
        lines = actions.open_action_lines(w.a, "en")
        assert lines == ("Was the floor clean? · Open · due Feb 18, 2026",)
        resolved(w, opened)
        assert not actions.is_overdue(opened, opened.due_on + timedelta(days=1))
        actions.verify(opened, w.rm)
        assert actions.open_action_lines(w.a, "en") == ()


def test_the_scorecard_lines_are_limited(w):
    visit(w, w.waves[0], w.a, greeted="no", clean="no", staff="rude", rating=1)
    publish(w.waves[0], at(2))
    with w.app.test_request_context():
        lines = actions.open_action_lines(w.a, "en", limit=2)
    assert len(lines) == 3 and lines[-1] == "and 2 more"
    assert lines[0].startswith("Was the floor clean?")  # critical: due first


# --- did the fix stick? -------------------------------------------------------------------------


@pytest.fixture
def history(w):
    """A1 rating fails in W1 and W2, passes in W3; A1 clean fails in W2 only; B1 staff
    fails in W1 and W3; S1 clean fails in W3."""
    visit(w, w.waves[0], w.a, rating=2)
    visit(w, w.waves[0], w.b, staff="rude")
    publish(w.waves[0], at(2))
    visit(w, w.waves[1], w.a, rating=1, clean="no")
    visit(w, w.waves[1], w.a, rating=2)
    visit(w, w.waves[1], w.b)
    publish(w.waves[1], at(3))
    visit(w, w.waves[2], w.a)
    visit(w, w.waves[2], w.b, staff="rude")
    visit(w, w.waves[2], w.s, clean="no")
    publish(w.waves[2], at(4))
    return w


def rows_of(report: actions.RepeatReport) -> list[tuple[Any, ...]]:
    return [
        (r.store_code, r.question_key, r.failed_waves, r.failures, r.passed_since, r.status)
        for r in report.rows
    ]


def test_the_repeats_report_lists_the_waves_each_question_failed_in(history):
    w = history
    report = actions.repeat_findings(w.coordinator, w.client.id)
    assert rows_of(report) == [
        ("A1", "rating", ("W1", "W2"), 3, True, ACTION_VERIFIED),
        ("B1", "staff", ("W1", "W3"), 2, False, ACTION_OPEN),
        ("A1", "clean", ("W2",), 1, True, ACTION_VERIFIED),
        ("S1", "clean", ("W3",), 1, False, ACTION_OPEN),
    ]
    assert [r.repeated for r in report.rows] == [True, True, False, False]
    figures = [(c.name, c.opened, c.reopened, c.verified) for c in report.waves]
    # B1 staff: verified by its W2 pass, so W3 opened a new action.
    assert figures == [("W1", 2, 0, 0), ("W2", 1, 1, 1), ("W3", 2, 0, 2)]


def test_the_repeats_report_keeps_to_the_readers_scope(history):
    w = history
    assert {r.store_code for r in actions.repeat_findings(w.sam, w.client.id).rows} == {"A1"}
    assert {r.store_code for r in actions.repeat_findings(w.rm, w.client.id).rows} == {"A1", "B1"}
    south = actions.repeat_findings(w.coordinator, w.client.id, w.south.id)
    assert {r.store_code for r in south.rows} == {"S1"}
    assert actions.repeat_findings(w.other_coordinator, w.client.id).rows == ()
    assert actions.repeat_findings(w.reviewer, w.client.id).rows == ()
    w.waves[2].published_at = None
    db.session.flush()
    manager = actions.repeat_findings(w.rm, w.client.id)
    assert ("B1", "staff", ("W1",), 1, True, ACTION_VERIFIED) in rows_of(manager)
    assert "W3" not in [c.name for c in manager.waves]


def test_publishing_a_wave_records_its_findings(w):
    pytest.importorskip("auditapp.services.follow_up.alerts")
    from auditapp.services.follow_up import publishing

    visit(w, w.waves[0], w.a, clean="no")
    with w.app.test_request_context():
        publishing.publish_wave(w.waves[0], w.coordinator)
    assert only(w.a, "clean").status == ACTION_OPEN
