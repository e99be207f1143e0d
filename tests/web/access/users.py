"""User accounts and the mail outbox: admins only."""

from flask import url_for

from . import ADMIN, COORDINATOR_Y, Route

ADMINS = frozenset({ADMIN})


def _target(cast):  # type: ignore[no-untyped-def]
    return cast.users[COORDINATOR_Y].id


ACCESS = {
    "users.index": Route(lambda c: url_for("users.index"), ADMINS),
    "users.create": Route(lambda c: url_for("users.create"), ADMINS, ("GET", "POST")),
    "users.show": Route(lambda c: url_for("users.show", user_id=_target(c)), ADMINS),
    "users.edit": Route(
        lambda c: url_for("users.edit", user_id=_target(c)), ADMINS, ("GET", "POST")
    ),
    "users.invite": Route(lambda c: url_for("users.invite", user_id=_target(c)), ADMINS, ("POST",)),
    "users.outbox": Route(lambda c: url_for("users.outbox"), ADMINS),
}
