"""Outgoing mail. Every message is recorded in the outbox and delivered by a
background job, so a slow mail server never holds up a page. With the default
"outbox" backend (development) delivery only writes the message to the log: admins
read it on the Outbox page. With "smtp" it goes to MAIL_SERVER.

Rules decided here:

- A failed delivery is recorded on the message (attempts, the last error, when) and
  the job fails, so RQ tries again (three times, see jobs.py). The failure is
  committed before the job's transaction rolls back, so it is never lost. Inline
  jobs (tests) run inside the caller's transaction: there the failure is recorded
  and the caller carries on, as a queued job would have let it.
- ``retry_due`` (run every minute by the job worker, see worker.py, and by ``flask
  follow-up tick``) queues again each message that is not sent, has failed fewer than
  MAIL_MAX_ATTEMPTS times and has waited its back-off since the last attempt (5
  minutes, doubling with each failure); a message never tried within two minutes
  (its job not queued during a Redis outage, or lost with a restarted worker) counts
  as due too. A message's job is named after it (``mail-<id>``), so queueing it again
  while its job still waits or runs adds nothing. A message that failed
  MAIL_MAX_ATTEMPTS times waits for an admin's "Retry".
- Delivery reads the message under a row lock and skips it once sent, so a retry that
  meets another attempt for the same message never sends it twice.
"""

import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import ColumnElement, and_, select

from ...extensions import db
from ...jobs import enqueue
from ...models import OutboxMail, utcnow

DELIVER = "auditapp.services.core.mail:deliver"
FIRST_RETRY = timedelta(minutes=5)  # doubles with each failed attempt
NEVER_TRIED = timedelta(minutes=2)  # a message still untried after this was not queued
ERROR_CHARS = 500

PENDING = "pending"
SENT = "sent"
FAILED = "failed"
STATES = (PENDING, SENT, FAILED)


def send_mail(to: str, subject: str, body: str) -> OutboxMail:
    mail = OutboxMail(to=to, subject=subject, body=body)
    db.session.add(mail)
    db.session.flush()
    _queue(mail.id)
    return mail


def _queue(mail_id: int) -> None:
    enqueue(DELIVER, mail_id, job_id=f"mail-{mail_id}")


def deliver(mail_id: int) -> None:
    mail = db.session.get(OutboxMail, mail_id, with_for_update=True)
    if mail is None or mail.sent_at is not None:
        return
    try:
        _transmit(mail)
    except Exception as error:
        _record_failure(mail, error)
        if current_app.config.get("JOBS_MODE") == "inline":
            current_app.logger.warning("mail %s to %s failed: %s", mail.id, mail.to, error)
            return
        db.session.commit()  # the failure is kept: the job fails so that RQ retries it
        raise
    mail.sent_at = utcnow()


def _transmit(mail: OutboxMail) -> None:
    cfg = current_app.config
    if cfg["MAIL_BACKEND"] != "smtp":
        current_app.logger.info("mail to %s: %s\n%s", mail.to, mail.subject, mail.body)
        return
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = cfg["MAIL_SENDER"], mail.to, mail.subject
    message.set_content(mail.body)
    with smtplib.SMTP(cfg["MAIL_SERVER"], int(cfg.get("MAIL_PORT", 587)), timeout=30) as smtp:
        if cfg.get("MAIL_USE_TLS", True):
            smtp.starttls()
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
        smtp.send_message(message)


def _record_failure(mail: OutboxMail, error: Exception) -> None:
    mail.attempts = (mail.attempts or 0) + 1
    mail.last_error = (f"{type(error).__name__}: {error}".strip())[:ERROR_CHARS]
    mail.last_attempt_at = utcnow()


# --- the outbox's states and retries ---------------------------------------------------


def state_filter(state: str) -> ColumnElement[bool]:
    """Pending: not tried yet; failed: not sent after at least one failed attempt."""
    if state == SENT:
        return OutboxMail.sent_at.is_not(None)
    if state == FAILED:
        return and_(OutboxMail.sent_at.is_(None), OutboxMail.attempts > 0)
    return and_(OutboxMail.sent_at.is_(None), OutboxMail.attempts == 0)


def state_of(mail: OutboxMail) -> str:
    if mail.sent_at is not None:
        return SENT
    return FAILED if mail.attempts else PENDING


def gave_up(mail: OutboxMail) -> bool:
    """Failed too often for the automatic retries: it waits for an admin."""
    return mail.sent_at is None and mail.attempts >= max_attempts()


def max_attempts() -> int:
    return int(current_app.config["MAIL_MAX_ATTEMPTS"])


def retry(mail: OutboxMail) -> bool:
    """Queues one more delivery of an unsent message (an admin's "Retry", whatever
    its attempts); False when it is sent already."""
    if mail.sent_at is not None:
        return False
    _queue(mail.id)
    return True


def retry_failed() -> int:
    """Queues every failed message again (an admin's "Retry all failed")."""
    ids = list(db.session.scalars(select(OutboxMail.id).where(state_filter(FAILED))))
    for mail_id in ids:
        _queue(mail_id)
    return len(ids)


def retry_due(now: datetime | None = None) -> int:
    """Queues the unsent messages whose back-off has passed (see the module docstring)."""
    now = now or utcnow()
    waiting = select(OutboxMail).where(
        OutboxMail.sent_at.is_(None), OutboxMail.attempts < max_attempts()
    )
    due = [mail for mail in db.session.scalars(waiting.order_by(OutboxMail.id)) if _due(mail, now)]
    for mail in due:
        _queue(mail.id)
    return len(due)


def _due(mail: OutboxMail, now: datetime) -> bool:
    if not mail.attempts or mail.last_attempt_at is None:
        return mail.created_at + NEVER_TRIED <= now
    return mail.last_attempt_at + FIRST_RETRY * (1 << (mail.attempts - 1)) <= now
