"""Alerts from services/follow_up/alerts.py: each kind reaches exactly the active users whose
scope holds the store (and nobody else), once, by the delivery each user chose; the
daily digest is one mail per user, once; overdue actions and appeals are alerted once
per due date; `flask follow-up tick` publishes scheduled waves and sweeps.

The world (client ALR, alert threshold 70, action threshold 50; a pooled checklist of
three yes/no questions, "greeted" critical):

    North ── North-east ── A1, B1        South ── S1

    coordinator (ALR)  rm.north (North)  rm.direct (store A1 only)  rm.south (South)
    sm.a (A1)  sm.b (B1)  sm.gone (A1, inactive)  other.coord (another client)
    admin, reviewer (ALR): never alerted
"""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from auditapp.extensions import db
from auditapp.models import AlertPreference, Appeal, CorrectiveAction, Notification, OutboxMail
from auditapp.models.answers import VisitAnswer
from auditapp.models.follow_up import APPEAL_PENDING, APPEAL_UPHELD
from auditapp.models.waves import APPROVED, Visit, Wave
from auditapp.services.follow_up import alerts
from auditapp.services.visits.results import record_results
from tests.web.statuses import new_visit, walk_to
from tests.web.worlds.alerts import build_world, make_published_wave


@pytest.fixture
def world(app: Flask, make_client, make_region, make_store, make_user, make_shopper) -> Any:
    return build_world(app, make_client, make_region, make_store, make_user, make_shopper)


A_SCOPE = {"coord.alert", "north.alert", "direct.alert", "sma.alert"}


def approved_visit(w: Any, wave: Wave, store: Any, greeted: str, helped: str, clean: str) -> Visit:
    """An approved visit with these answers and its stored results."""
    w.hour += 2
    start = datetime(2026, wave.starts_on.month, 3, 1, tzinfo=UTC) + timedelta(hours=w.hour)
    visit = new_visit(
        "assigned", shopper=w.shopper,
        wave=wave, store=store, checklist_version_id=wave.checklist_version_id, slot="midday",
        window_start=start, window_end=start + timedelta(hours=1),
        assigned_at=start - timedelta(days=3),
    )  # fmt: skip
    for key, value in {"greeted": greeted, "helped": helped, "clean": clean}.items():
        db.session.add(VisitAnswer(visit_id=visit.id, question_id=w.questions[key], value=value))
    db.session.flush()
    walk_to(visit, APPROVED)
    record_results(visit)
    db.session.flush()
    return visit


def notified(kind: str | None = None) -> dict[str, list[Notification]]:
    """{user name (e-mail before @): their notifications}, of one kind when given."""
    query = select(Notification).order_by(Notification.id)
    if kind:
        query = query.where(Notification.kind == kind)
    found: dict[str, list[Notification]] = {}
    for row in db.session.scalars(query):
        found.setdefault(row.user.email.split("@")[0], []).append(row)
    return found


def mails(to: str | None = None) -> list[OutboxMail]:
    query = select(OutboxMail).order_by(OutboxMail.id)
    if to:
        query = query.where(OutboxMail.to == to)
    return list(db.session.scalars(query))


# --- published visits --------------------------------------------------------------


def test_a_critical_failure_reaches_exactly_the_people_whose_scope_holds_the_store(app, world):
    visit = approved_visit(world, world.wave, world.a, "no", "yes", "yes")
    with app.test_request_context():
        alerts.visit_published(visit)
    critical = notified("critical_failure")
    # Not sm.b (another store), rm.south (another region), the inactive manager, the
    # other client's coordinator, the admin or the reviewer.
    assert set(critical) == A_SCOPE
    assert all(len(rows) == 1 for rows in critical.values())
    # The critical failure zeroes the visit (0 < 70): below the threshold as well.
    assert set(notified("below_threshold")) == A_SCOPE


def test_a_south_store_alerts_the_south_manager_and_not_the_north(app, world):
    visit = approved_visit(world, world.wave, world.s, "no", "no", "no")
    with app.test_request_context():
        alerts.visit_published(visit)
    assert set(notified("critical_failure")) == {"coord.alert", "south.alert"}


def test_below_threshold_names_store_wave_score_and_questions_never_the_shopper(app, world):
    visit = approved_visit(world, world.wave, world.a, "yes", "no", "yes")  # 200/3 < 70
    with app.test_request_context():
        alerts.visit_published(visit)
    assert "critical_failure" not in {n.kind for rows in notified().values() for n in rows}
    (note,) = notified("below_threshold")["sma.alert"]
    assert note.title == "Alpha scored 66.7, below 70"
    assert "Alpha (A1)" in note.body and "wave March" in note.body
    assert "66.7" in note.body and "Helped to choose?" in note.body
    assert "Greeted" not in note.body and "Counter" not in note.body  # full marks
    assert "Samantha" not in note.title + note.body
    assert note.link == f"/reports/stores/{world.a.id}?wave={world.wave.id}"
    assert note.store_id == world.a.id


def test_a_passing_visit_raises_nothing(app, world):
    visit = approved_visit(world, world.wave, world.a, "yes", "yes", "yes")
    with app.test_request_context():
        assert alerts.visit_published(visit) == 0
    assert notified() == {}


def test_raising_again_is_a_no_op(app, world):
    visit = approved_visit(world, world.wave, world.a, "no", "yes", "yes")
    with app.test_request_context():
        first = alerts.visit_published(visit)
        sent = len(mails())
        assert alerts.visit_published(visit) == 0
    assert first == 2 * len(A_SCOPE)
    assert sum(len(rows) for rows in notified().values()) == first
    assert len(mails()) == sent  # no second e-mail either


def test_each_user_gets_the_delivery_they_chose(app, world):
    db.session.add_all(
        [
            AlertPreference(user_id=world.sm_a.id, kind="below_threshold", delivery="immediate"),
            AlertPreference(user_id=world.rm_north.id, kind="critical_failure", delivery="in_app"),
            AlertPreference(user_id=world.rm_direct.id, kind="critical_failure", delivery="digest"),
        ]
    )
    db.session.flush()
    visit = approved_visit(world, world.wave, world.a, "no", "yes", "yes")
    with app.test_request_context():
        alerts.visit_published(visit)
    critical = {name: rows[0] for name, rows in notified("critical_failure").items()}
    below = {name: rows[0] for name, rows in notified("below_threshold").items()}
    # Defaults: critical failures at once, scores below the threshold in the digest.
    assert critical["coord.alert"].delivery == "immediate"
    assert critical["coord.alert"].mailed_at is not None
    assert critical["north.alert"].delivery == "in_app"
    assert critical["direct.alert"].delivery == "digest"
    assert below["coord.alert"].delivery == "digest" and below["coord.alert"].mailed_at is None
    assert below["sma.alert"].delivery == "immediate"
    assert {m.to for m in mails()} == {"coord.alert@example.com", "sma.alert@example.com"}
    (coordinator_mail,) = mails("coord.alert@example.com")
    assert coordinator_mail.subject == "Critical failure at Alpha"
    assert critical["coord.alert"].mail_id == coordinator_mail.id
    assert f"http://auditapp.test/reports/stores/{world.a.id}?wave=" in coordinator_mail.body
    assert "http://auditapp.test/account/alerts" in coordinator_mail.body
    assert coordinator_mail.sent_at is not None  # delivered by the (inline) job
    assert len(mails("sma.alert@example.com")) == 2  # both kinds at once


def test_texts_are_written_in_the_recipients_language(app, world):
    world.sm_a.locale = "zh_Hans"
    db.session.flush()
    visit = approved_visit(world, world.wave, world.a, "no", "yes", "yes")
    with app.test_request_context():
        alerts.visit_published(visit)
    (chinese,) = notified("critical_failure")["sma.alert"]
    (english,) = notified("critical_failure")["coord.alert"]
    assert "门口有人招呼吗？" in chinese.body and "2026年3月3日" in chinese.body
    assert "Greeted at the door?" in english.body and "Mar 3, 2026" in english.body


# --- declining stores ---------------------------------------------------------------


def _four_waves(w: Any, unpublished: int | None = None) -> list[Wave]:
    """W1..W4 after each other (the fixture's March wave is not in this programme);
    A1 falls 100, 66.7, 33.3, 0 (critical); B1 rises; S1 falls but misses W2."""
    chain, before = [], None
    for month in (4, 5, 6, 7):
        wave = make_published_wave(w, f"W{month - 3}", month, before)
        chain.append(wave)
        before = wave
    if unpublished is not None:
        chain[unpublished].published_at = None
    for wave, answers in zip(
        chain,
        [("yes",) * 3, ("yes", "no", "yes"), ("yes", "no", "no"), ("no", "no", "no")],
        strict=True,
    ):
        approved_visit(w, wave, w.a, *answers)
        approved_visit(w, wave, w.b, *reversed(answers))
    for wave, answers in zip([chain[0], chain[2], chain[3]],
                             [("yes",) * 3, ("yes", "no", "yes"), ("yes", "no", "no")],
                             strict=True):  # fmt: skip
        approved_visit(w, wave, w.s, *answers)
    db.session.flush()
    return chain


def test_a_store_declining_three_published_waves_in_a_row_is_alerted(app, world):
    chain = _four_waves(world)
    with app.test_request_context():
        assert alerts.wave_published(chain[-1]) == len(A_SCOPE)
        assert alerts.wave_published(chain[-1]) == 0
    declining = notified("declining")
    assert set(declining) == A_SCOPE  # B1 rose; S1 has a gap in W2
    (note,) = declining["sma.alert"]
    assert note.title == "Alpha declined three waves in a row"
    assert "W1 100.0 → W2 66.7 → W3 33.3 → W4 0.0" in note.body
    assert note.link == f"/reports/stores/{world.a.id}?wave={chain[-1].id}"
    assert note.delivery == "digest"


def test_only_published_waves_count_for_the_decline(app, world):
    chain = _four_waves(world, unpublished=1)  # W2 not published: W1, W3, W4 only
    with app.test_request_context():
        assert alerts.wave_published(chain[-1]) == 0
    assert notified("declining") == {}


# --- overdue actions and appeals ---------------------------------------------------


def _action(w: Any, visit: Visit, due_on: date, key: str = "helped", **kw: Any) -> CorrectiveAction:
    action = CorrectiveAction(
        store_id=visit.store_id, checklist_id=w.version.checklist_id, question_key=key,
        question_text="Helped to choose?", visit_id=visit.id, wave_id=visit.wave_id,
        severity="below_threshold", due_on=due_on, **kw,
    )  # fmt: skip
    db.session.add(action)
    db.session.flush()
    return action


def test_overdue_actions_are_alerted_once_per_due_date(app, world):
    visit = approved_visit(world, world.wave, world.a, "yes", "no", "yes")
    other = approved_visit(world, world.wave, world.b, "yes", "no", "no")
    # 2026-03-10 20:00 UTC is already 11 March in Shanghai (the stores' zone).
    now = datetime(2026, 3, 10, 20, tzinfo=UTC)
    late = _action(world, visit, date(2026, 3, 10), owner_id=world.reviewer.id)
    _action(world, other, date(2026, 3, 11))  # due today in Shanghai: not yet
    _action(world, other, date(2026, 3, 1), "clean", status="resolved", resolved_at=now)
    with app.test_request_context():
        summary = alerts.sweep(now)
        assert summary.actions_overdue == 1
        assert alerts.sweep(now + timedelta(hours=1)).actions_overdue == 0
    overdue = notified("action_overdue")
    assert set(overdue) == A_SCOPE | {"rev.alert"}  # and the action's owner
    assert "Helped to choose?" in overdue["sma.alert"][0].title
    assert overdue["sma.alert"][0].link == f"/actions/{late.id}"
    assert late.overdue_alerted_on == date(2026, 3, 10)

    late.due_on = date(2026, 3, 12)  # given more time, and missed again
    db.session.flush()
    with app.test_request_context():
        # Late again, and B1's action (due on the 11th) is now overdue too.
        assert alerts.sweep(datetime(2026, 3, 13, 1, tzinfo=UTC)).actions_overdue == 2
    overdue = notified("action_overdue")
    assert len(overdue["sma.alert"]) == 2 and len(overdue["smb.alert"]) == 1


def _appeal(w: Any, visit: Visit, decide_by: datetime, filer: Any = None) -> Appeal:
    appeal = Appeal(
        visit_id=visit.id, store_id=visit.store_id, question_key="helped",
        filed_by_id=(filer or w.sm_a).id, reason="The staff did help.", decide_by=decide_by,
        filed_at=decide_by - timedelta(days=7),
    )  # fmt: skip
    db.session.add(appeal)
    db.session.flush()
    return appeal


def test_overdue_appeals_are_alerted_once_to_the_coordinators(app, world):
    visit = approved_visit(world, world.wave, world.a, "yes", "no", "yes")
    now = datetime(2026, 4, 2, 9, tzinfo=UTC)
    late = _appeal(world, visit, now - timedelta(minutes=1))
    other = approved_visit(world, world.wave, world.a, "yes", "no", "no")
    _appeal(world, other, now + timedelta(hours=1))  # still in time
    with app.test_request_context():
        assert alerts.sweep(now).appeals_overdue == 1
        assert alerts.sweep(now + timedelta(days=1)).appeals_overdue == 1  # the second one
        assert alerts.sweep(now + timedelta(days=2)).appeals_overdue == 0
    overdue = notified("appeal_overdue")
    assert set(overdue) == {"coord.alert"}
    assert [n.link for n in overdue["coord.alert"]][0] == f"/appeals/{late.id}"
    assert late.overdue_alerted_at == now


def test_a_filed_appeal_goes_to_the_coordinators_and_its_decision_to_the_store(app, world):
    visit = approved_visit(world, world.wave, world.a, "yes", "no", "yes")
    appeal = _appeal(world, visit, datetime(2026, 4, 9, tzinfo=UTC), filer=world.rm_north)
    with app.test_request_context():
        alerts.appeal_filed(appeal)
    filed = notified("appeal_filed")
    assert set(filed) == {"coord.alert"}
    assert "The staff did help." in filed["coord.alert"][0].body
    assert filed["coord.alert"][0].mailed_at is not None  # at once by default

    appeal.status, appeal.decided_at = APPEAL_UPHELD, datetime(2026, 4, 5, tzinfo=UTC)
    appeal.decision_note, appeal.score_before, appeal.score_after = "Agreed.", 66.6667, 100
    with app.test_request_context():
        alerts.appeal_decided(appeal)
        alerts.appeal_decided(appeal)
    decided = notified("appeal_decided")
    assert set(decided) == {"sma.alert", "north.alert"}  # the store's manager and the filer
    assert decided["sma.alert"][0].title == "Appeal upheld: Helped to choose?"
    assert "from 66.7 to 100.0" in decided["sma.alert"][0].body
    assert appeal.status != APPEAL_PENDING


# --- the daily digest ----------------------------------------------------------------


def test_the_digest_is_one_mail_per_user_with_all_their_pending_alerts_once(app, world):
    app.config["DIGEST_HOUR_UTC"] = 6
    try:
        first = approved_visit(world, world.wave, world.a, "yes", "no", "yes")
        second = approved_visit(world, world.wave, world.a, "yes", "yes", "no")
        with app.test_request_context():
            alerts.visit_published(first)
            alerts.visit_published(second)
        for row in db.session.scalars(select(Notification)):
            row.created_at = datetime(2026, 3, 20, 5, tzinfo=UTC)  # before 06:00
        late = approved_visit(world, world.wave, world.b, "yes", "no", "no")
        with app.test_request_context():
            alerts.visit_published(late)
        for row in db.session.scalars(
            select(Notification).where(Notification.store_id == world.b.id)
        ):
            row.created_at = datetime(2026, 3, 20, 7, tzinfo=UTC)  # after: tomorrow's
        db.session.flush()
        with app.test_request_context():
            assert alerts.sweep(datetime(2026, 3, 20, 5, 59, tzinfo=UTC)).digests == 0
            assert alerts.sweep(datetime(2026, 3, 20, 6, 15, tzinfo=UTC)).digests == 4
            assert alerts.sweep(datetime(2026, 3, 20, 23, tzinfo=UTC)).digests == 0
        (digest,) = mails("sma.alert@example.com")
        assert digest.subject == "Your alerts: 2 new"
        assert digest.body.count("Alpha scored 66.7, below 70") == 2
        assert "http://auditapp.test/reports/stores/" in digest.body
        assert mails("smb.alert@example.com") == []
        below = notified("below_threshold")
        assert all(n.mail_id == digest.id for n in below["sma.alert"])
        with app.test_request_context():
            # B1's alert, to its manager, the coordinator and the North manager.
            assert alerts.sweep(datetime(2026, 3, 21, 6, tzinfo=UTC)).digests == 3
        assert len(mails("smb.alert@example.com")) == 1
        assert len(mails("sma.alert@example.com")) == 1
    finally:
        app.config["DIGEST_HOUR_UTC"] = 0


# --- the tick command --------------------------------------------------------------


def test_tick_publishes_a_scheduled_wave_and_sweeps(app, runner, world):
    wave = make_published_wave(world, "Scheduled", 4)
    wave.published_at, wave.publish_at = None, datetime(2026, 4, 30, tzinfo=UTC)
    later = make_published_wave(world, "Later", 5)
    later.published_at, later.publish_at = None, datetime(2999, 1, 1, tzinfo=UTC)
    approved_visit(world, wave, world.a, "no", "yes", "yes")
    db.session.commit()
    result = runner.invoke(args=["follow-up", "tick"])
    assert result.exit_code == 0, result.output
    assert "Waves published: 1 (Scheduled)." in result.output
    assert "Digests sent:" in result.output
    db.session.refresh(wave)
    db.session.refresh(later)
    assert wave.published_at is not None and wave.publish_at is None
    assert later.published_at is None
    assert set(notified("critical_failure")) == A_SCOPE
    again = runner.invoke(args=["follow-up", "tick"])
    assert "Waves published: 0." in again.output
