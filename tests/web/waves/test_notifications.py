"""Visit e-mails and the two housekeeping commands: `flask visits remind` sends one
reminder per visit starting within a day, once; `flask visits mark-missed` marks
visits not started by the end of their window, lowers the reliability of shoppers
who had accepted them, and tells them. Mail lands in the outbox (development)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from auditapp.extensions import db
from auditapp.models import OutboxMail, utcnow
from auditapp.models.waves import ACCEPTED, ASSIGNED, MISSED, Visit
from auditapp.services.waves import assignments, notifications
from tests.web.access.my_visits import make_visit, make_wave


@pytest.fixture
def setting(make_client, make_region, make_store, make_shopper, make_user):
    client = make_client("MAIL", name="Mail brand")
    region = make_region(client, "R1")
    store = make_store(client, region, "M1", name="Mail store", address="Road 9")
    other_store = make_store(client, region, "M2", name="Second store")
    ann = make_shopper("ann@example.com", name="Ann", home_latitude=Decimal("31.23"))
    bob = make_shopper("bob@example.com", name="Bob")
    cleo = make_shopper("cleo@example.com", name="Cleo")
    coordinator = make_user("coord@example.com", "coordinator", clients=[client])
    wave = make_wave(client, [store, other_store])
    return store, other_store, ann, bob, cleo, coordinator, wave


def _outbox(to: str | None = None) -> list[OutboxMail]:
    query = select(OutboxMail).order_by(OutboxMail.id)
    if to:
        query = query.where(OutboxMail.to == to)
    return list(db.session.scalars(query))


def test_remind_sends_one_reminder_per_visit_once(runner, setting):
    store, other_store, ann, bob, cleo, _coordinator, wave = setting
    now = utcnow()
    due = make_visit(wave, store, now + timedelta(hours=20), shopper=ann, status=ACCEPTED)
    make_visit(wave, other_store, now + timedelta(hours=10), shopper=bob)  # assigned: due too
    make_visit(wave, store, now + timedelta(hours=30), shopper=cleo, status=ACCEPTED)  # later
    make_visit(wave, other_store, now + timedelta(hours=5))  # open: nobody to remind
    db.session.commit()

    result = runner.invoke(args=["visits", "remind"])
    assert result.exit_code == 0, result.output
    assert "Reminders sent: 2." in result.output
    mails = _outbox()
    assert sorted(m.to for m in mails) == ["ann@example.com", "bob@example.com"]
    ann_mail = _outbox("ann@example.com")[0]
    assert "Mail store" in ann_mail.subject
    assert f"http://auditapp.test/my/visits/{due.id}" in ann_mail.body
    assert ann_mail.sent_at is not None  # delivered by the (inline, in tests) job

    again = runner.invoke(args=["visits", "remind"])
    assert "Reminders sent: 0." in again.output
    assert len(_outbox()) == 2
    db.session.expire_all()
    assert db.session.get(Visit, due.id).reminder_sent_at is not None


def test_mark_missed_marks_late_visits_and_lowers_reliability_only_if_accepted(runner, setting):
    store, other_store, ann, bob, cleo, coordinator, wave = setting
    now = utcnow()
    accepted = make_visit(wave, store, now - timedelta(hours=3), shopper=ann, status=ACCEPTED)
    assigned = make_visit(wave, other_store, now - timedelta(hours=3), shopper=bob)
    running = make_visit(wave, store, now - timedelta(minutes=30), shopper=cleo, status=ACCEPTED)
    db.session.commit()
    before = {p.id: p.reliability for p in (ann, bob, cleo)}

    result = runner.invoke(args=["visits", "mark-missed"])
    assert result.exit_code == 0, result.output
    assert "Visits marked missed: 2." in result.output

    db.session.expire_all()
    assert db.session.get(Visit, accepted.id).status == MISSED
    assert db.session.get(Visit, assigned.id).status == MISSED
    assert db.session.get(Visit, running.id).status == ACCEPTED  # its window is still open
    last = db.session.get(Visit, accepted.id).events[-1]
    assert (last.from_status, last.to_status, last.actor_id) == (ACCEPTED, MISSED, None)
    assert ann.reliability < before[ann.id]  # accepted, then missed
    assert bob.reliability == before[bob.id]  # never accepted it
    assert cleo.reliability == before[cleo.id]

    mails = _outbox()
    assert sorted(m.to for m in mails) == ["ann@example.com", "bob@example.com"]
    assert all(m.subject.startswith("Missed visit") for m in mails)
    assert runner.invoke(args=["visits", "mark-missed"]).output.strip().endswith("0.")


def test_each_accepted_then_missed_visit_costs_reliability_points(setting):
    store, _other, ann, _bob, _cleo, _coordinator, wave = setting
    ann.reliability = 65  # set by a coordinator; misses move it down from there
    now = utcnow()
    first = make_visit(wave, store, now - timedelta(days=6), shopper=ann, status=ACCEPTED)
    second = make_visit(wave, store, now - timedelta(days=5), shopper=ann, status=ACCEPTED)
    db.session.flush()
    assignments.mark_missed()
    assert {db.session.get(Visit, v.id).status for v in (first, second)} == {MISSED}
    assert ann.reliability == 65 - 2 * assignments.MISS_PENALTY
    ann.reliability = 5
    make_visit(wave, store, now - timedelta(days=4), shopper=ann, status=ACCEPTED)
    db.session.flush()
    assignments.mark_missed()
    assert ann.reliability == 0  # never below zero


def test_assignment_mail_goes_to_the_outbox_in_the_shoppers_language(app, setting):
    store, _other, ann, _bob, _cleo, coordinator, wave = setting
    ann.user.locale = "zh_Hans"
    visit = make_visit(wave, store, utcnow() + timedelta(days=3))
    with app.test_request_context():
        assignments.assign(visit, ann, coordinator)
        notifications.notify_assigned(visit)
    (mail,) = _outbox("ann@example.com")
    assert "Mail store" in mail.subject
    assert f"/my/visits/{visit.id}" in mail.body
    assert visit.status == ASSIGNED


def test_mail_waits_for_the_commit_outside_tests(app, setting):
    """With background jobs (not inline) nothing is delivered inside the request: the
    job is handed over only after the commit."""
    from auditapp.services.core.mail import send_mail

    app.config["JOBS_MODE"] = "thread"
    try:
        with app.test_request_context():
            mail = send_mail("ann@example.com", "Hello", "Body")
            assert mail.sent_at is None
            db.session.rollback()  # a rolled-back request hands over no job
    finally:
        app.config["JOBS_MODE"] = "inline"


def test_mail_shows_the_window_in_store_time_whatever_the_language(app, setting):
    """The end of the window was cut from the formatted date by position, which left
    "– 30 PM" in English mails; and naive local times were re-read as UTC, so a
    BABEL_DEFAULT_TIMEZONE other than UTC moved them a second time."""
    store, _other, ann, bob, _cleo, coordinator, wave = setting
    assert store.timezone == "Asia/Shanghai"
    start = (utcnow() + timedelta(days=3)).replace(hour=5, minute=30, second=0, microsecond=0)
    english = make_visit(wave, store, start, shopper=ann)  # 13:30-14:30 in Shanghai
    chinese = make_visit(wave, store, start + timedelta(days=1), shopper=bob)
    bob.user.locale = "zh_Hans"
    app.config["BABEL_DEFAULT_TIMEZONE"] = "America/New_York"
    try:
        with app.test_request_context():
            notifications.notify_assigned(english)
            notifications.notify_assigned(chinese)
    finally:
        app.config["BABEL_DEFAULT_TIMEZONE"] = "UTC"
    ann_body, bob_body = _outbox("ann@example.com")[0].body, _outbox("bob@example.com")[0].body
    assert "1:30:00\u202fPM – 2:30\u202fPM" in ann_body
    assert "13:30:00 – 14:30" in bob_body


def test_a_refused_step_after_a_mail_does_not_lose_the_mail(app, setting, monkeypatch):
    """A savepoint rolled back (here an overlap refused by the database) fired the
    rollback listener, which dropped every job queued so far: the outbox row
    committed, but its delivery was never handed over."""
    from auditapp import jobs

    store, other_store, ann, _bob, _cleo, coordinator, wave = setting
    start = utcnow() + timedelta(days=3)
    first = make_visit(wave, store, start)
    overlapping = make_visit(wave, other_store, start + timedelta(minutes=30))
    handed: list = []
    monkeypatch.setattr(jobs, "_dispatch", lambda _app, queued: handed.extend(queued))
    app.config["JOBS_MODE"] = "thread"
    try:
        with app.test_request_context():
            assignments.assign(first, ann, coordinator)
            notifications.notify_assigned(first)
            with pytest.raises(assignments.VisitOverlap):
                assignments.assign(overlapping, ann, coordinator)
            db.session.commit()
    finally:
        app.config["JOBS_MODE"] = "inline"
    (mail,) = _outbox("ann@example.com")
    assert [(job.path, job.args) for job in handed] == [
        ("auditapp.services.core.mail:deliver", (mail.id,))
    ]
