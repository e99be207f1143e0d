"""Alerts: every signed-in user has their own list and settings (empty for roles that
receive none). One notification belongs to the North store manager: opening it (GET
follows its link, POST marks it read too) is theirs alone; anyone else gets 404, as if
it did not exist."""

from typing import Any

from flask import url_for

from auditapp.extensions import db
from auditapp.models import Notification

from . import SIGNED_IN, STORE_MANAGER, Route


def _notification(cast: Any) -> Notification:
    found = getattr(cast, "_notification", None)
    if found is None:
        found = Notification(
            user_id=cast.users[STORE_MANAGER].id,
            kind="critical_failure",
            store_id=cast.store_north_area.id,
            dedupe_key="access:matrix",
            title="Critical failure at North area one",
            link=f"/reports/stores/{cast.store_north_area.id}",
            delivery="in_app",
        )
        db.session.add(found)
        db.session.commit()  # survives a view's rollback
        cast._notification = found
    return found


ACCESS = {
    "alerts.index": Route(lambda c: url_for("alerts.index"), SIGNED_IN),
    "alerts.show": Route(
        lambda c: url_for("alerts.show", notification_id=_notification(c).id),
        frozenset({STORE_MANAGER}),
        ("GET", "POST"),
    ),
    "alerts.read_all": Route(lambda c: url_for("alerts.read_all"), SIGNED_IN, ("POST",)),
    "alerts.preferences": Route(
        lambda c: url_for("alerts.preferences"), SIGNED_IN, ("GET", "POST")
    ),
}
