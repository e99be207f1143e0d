"""Mail delivery failures: each failed attempt is recorded on the message (attempts,
the last error, when) and shown to admins on the Outbox page; a retry (an admin's, or
the sweep's after its back-off) delivers it and sets sent_at; the sweep stops at
MAIL_MAX_ATTEMPTS. The mail server is a fake smtplib.SMTP that fails on demand."""

import smtplib
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask

from auditapp.extensions import db
from auditapp.models import OutboxMail, utcnow
from auditapp.services.core import mail
from auditapp.services.follow_up import alerts
from tests.conftest import csrf_token, login, page_text


class FakeSMTP:
    """Stands in for smtplib.SMTP; ``failing`` makes every connection drop."""

    failing = True
    sent: list[EmailMessage] = []

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host = host

    def __enter__(self) -> "FakeSMTP":
        if FakeSMTP.failing:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def starttls(self) -> None:
        return None

    def login(self, user: str, password: str) -> None:
        return None

    def send_message(self, message: EmailMessage) -> None:
        FakeSMTP.sent.append(message)


@pytest.fixture
def smtp(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeSMTP]]:
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.test")
    FakeSMTP.failing, FakeSMTP.sent = True, []
    yield FakeSMTP


def sweep(app: Flask, now: Any) -> alerts.SweepSummary:
    """The sweep as one tick runs it (flushed before the context ends, as committed)."""
    with app.test_request_context():
        summary = alerts.sweep(now)
        db.session.flush()
    return summary


def _send(app: Flask, to: str = "ops@example.com") -> OutboxMail:
    with app.test_request_context():
        sent = mail.send_mail(to, "Critical failure at Alpha", "Please look.")
        db.session.flush()  # a request would commit before its context ends
    return sent


def test_a_failed_delivery_is_recorded_and_shown_to_admins(app, client, smtp, make_user):
    message = _send(app)
    assert message.sent_at is None
    assert message.attempts == 1
    assert message.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert message.last_attempt_at is not None
    delivered = _send(app, "fine@example.com")
    smtp.failing = False
    with app.test_request_context():
        mail.deliver(delivered.id)
        db.session.flush()

    login(client, make_user("root@example.com", "admin"))
    page = page_text(client.get("/users/outbox?state=failed").text)
    assert "ops@example.com" in page and "fine@example.com" not in page
    assert "1 failed attempt" in page
    assert "SMTPServerDisconnected: Connection unexpectedly closed" in page
    sent_page = page_text(client.get("/users/outbox?state=sent").text)
    assert "fine@example.com" in sent_page and "ops@example.com" not in sent_page


def test_an_admin_retry_delivers_the_mail(app, client, smtp, make_user):
    message = _send(app)
    login(client, make_user("root@example.com", "admin"))
    smtp.failing = False
    response = client.post(
        f"/users/outbox/{message.id}/retry", data={"csrf_token": csrf_token(client)}
    )
    assert response.status_code == 302
    db.session.refresh(message)
    assert message.sent_at is not None
    assert message.attempts == 1  # the history of failures stays
    (sent,) = smtp.sent
    assert sent["To"] == "ops@example.com"
    assert sent["Subject"] == "Critical failure at Alpha"


def test_retry_all_failed_tries_each_failed_mail_again(app, client, smtp, make_user):
    first, second = _send(app, "one@example.com"), _send(app, "two@example.com")
    login(client, make_user("root@example.com", "admin"))
    token = csrf_token(client)
    assert client.post("/users/outbox/retry-failed", data={"csrf_token": token}).status_code == 302
    db.session.refresh(first)
    assert first.attempts == 2 and first.sent_at is None  # still failing
    smtp.failing = False
    client.post("/users/outbox/retry-failed", data={"csrf_token": token})
    for message in (first, second):
        db.session.refresh(message)
        assert message.sent_at is not None
    assert sorted(m["To"] for m in smtp.sent) == ["one@example.com", "two@example.com"]


def test_the_retry_buttons_need_the_csrf_token(app, client, smtp, make_user):
    message = _send(app)
    login(client, make_user("root@example.com", "admin"))
    smtp.failing = False
    assert client.post(f"/users/outbox/{message.id}/retry").status_code == 400
    assert client.post("/users/outbox/retry-failed").status_code == 400
    db.session.refresh(message)
    assert message.sent_at is None


def test_the_sweep_retries_after_a_back_off_and_stops_at_the_limit(app, smtp):
    app.config["MAIL_MAX_ATTEMPTS"] = 3
    try:
        message = _send(app)  # attempt 1 fails
        start = message.last_attempt_at
        assert sweep(app, start + timedelta(minutes=4)).mail_retried == 0  # too soon
        assert sweep(app, start + timedelta(minutes=5)).mail_retried == 1
        db.session.refresh(message)
        assert message.attempts == 2
        message.last_attempt_at = start
        # The back-off doubles: 10 minutes after the second failure.
        assert sweep(app, start + timedelta(minutes=9)).mail_retried == 0
        assert sweep(app, start + timedelta(minutes=10)).mail_retried == 1
        db.session.refresh(message)
        assert message.attempts == 3
        assert sweep(app, start + timedelta(days=1)).mail_retried == 0  # the limit
        with app.app_context():
            assert mail.gave_up(message)

        smtp.failing = False
        with app.test_request_context():
            assert mail.retry(message)  # an admin may still try
            db.session.flush()
        db.session.refresh(message)
        assert message.sent_at is not None
        assert sweep(app, start + timedelta(days=2)).mail_retried == 0
    finally:
        app.config["MAIL_MAX_ATTEMPTS"] = 5


def test_a_mail_whose_job_never_ran_is_queued_again_within_minutes(app, smtp):
    smtp.failing = False
    message = OutboxMail(to="lost@example.com", subject="Lost", body="Lost job")
    db.session.add(message)
    db.session.flush()
    assert sweep(app, message.created_at + timedelta(seconds=119)).mail_retried == 0
    assert sweep(app, message.created_at + timedelta(minutes=2)).mail_retried == 1
    db.session.refresh(message)
    assert message.sent_at is not None


def test_a_queued_job_keeps_its_failure_and_fails_so_rq_retries(app, smtp, monkeypatch):
    message = _send(app)  # inline: recorded, the caller carries on
    monkeypatch.setitem(app.config, "JOBS_MODE", "rq")
    with app.test_request_context(), pytest.raises(smtplib.SMTPServerDisconnected):
        mail.deliver(message.id)
    db.session.rollback()  # what the job runner does after a failure
    db.session.refresh(message)
    assert message.attempts == 2  # committed before the job failed
    assert message.last_attempt_at is not None
    assert message.last_attempt_at <= utcnow()
