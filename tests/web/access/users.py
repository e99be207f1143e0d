"""User accounts and the mail outbox: admins only."""

from flask import url_for

from auditapp.extensions import db
from auditapp.models import OutboxMail, utcnow

from . import ADMIN, COORDINATOR_Y, Route

ADMINS = frozenset({ADMIN})


def _target(cast):  # type: ignore[no-untyped-def]
    return cast.users[COORDINATOR_Y].id


def _mail(cast):  # type: ignore[no-untyped-def]
    """A mail whose delivery failed once, made on first use."""
    found = getattr(cast, "_mail", None)
    if found is None:
        found = OutboxMail(
            to="someone@example.com",
            subject="Hello",
            body="Hi",
            attempts=1,
            last_error="SMTPServerDisconnected: gone",
            last_attempt_at=utcnow(),
        )
        db.session.add(found)
        db.session.commit()  # survives a view's rollback
        cast._mail = found
    return found.id


ACCESS = {
    "users.index": Route(lambda c: url_for("users.index"), ADMINS),
    "users.create": Route(lambda c: url_for("users.create"), ADMINS, ("GET", "POST")),
    "users.show": Route(lambda c: url_for("users.show", user_id=_target(c)), ADMINS),
    "users.edit": Route(
        lambda c: url_for("users.edit", user_id=_target(c)), ADMINS, ("GET", "POST")
    ),
    "users.invite": Route(lambda c: url_for("users.invite", user_id=_target(c)), ADMINS, ("POST",)),
    "users.sign_out_everywhere": Route(
        lambda c: url_for("users.sign_out_everywhere", user_id=_target(c)), ADMINS, ("POST",)
    ),
    "users.outbox": Route(lambda c: url_for("users.outbox"), ADMINS),
    "users.outbox_retry": Route(
        lambda c: url_for("users.outbox_retry", mail_id=_mail(c)), ADMINS, ("POST",)
    ),
    "users.outbox_retry_failed": Route(
        lambda c: url_for("users.outbox_retry_failed"), ADMINS, ("POST",)
    ),
}
