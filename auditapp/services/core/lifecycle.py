"""Moving a visit along its lifecycle (models/waves.py TRANSITIONS).

Every status change goes through move(), which refuses an edge that is not in the
table and logs the one it makes (who, when, from, to, why). The database holds the
same table and refuses any other change itself, so a bug or a hand-written UPDATE
cannot skip review either.
"""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ...errors import DomainError
from ...extensions import db
from ...models import User
from ...models.waves import TRANSITIONS, Visit, VisitEvent

STATUS_LABELS = {
    "planned": _l("Open"),
    "assigned": _l("Assigned"),
    "accepted": _l("Accepted"),
    "in_progress": _l("In progress"),
    "submitted": _l("Submitted"),
    "in_review": _l("In review"),
    "returned": _l("Returned for changes"),
    "approved": _l("Approved"),
    "cancelled": _l("Cancelled"),
    "missed": _l("Missed"),
}


class TransitionRefused(DomainError):
    status_code = 409


def can_move(visit: Visit, to_status: str) -> bool:
    return to_status in TRANSITIONS.get(visit.status, ())


def log(
    visit: Visit, to_status: str, actor: User | None, note: str = "", before: str | None = None
) -> None:
    # Added from the event's side: appending to visit.events would first load every
    # earlier event of the visit (and might flush a half-made change while it did).
    # The back-reference still puts it in visit.events when those are loaded.
    event = VisitEvent(visit=visit, actor=actor, from_status=before, to_status=to_status, note=note)
    db.session.add(event)


def move(visit: Visit, to_status: str, actor: User | None, note: str = "") -> Visit:
    before = visit.status
    if not can_move(visit, to_status):
        raise TransitionRefused(
            _(
                "A visit that is %(before)s cannot become %(after)s.",
                before=STATUS_LABELS.get(before, before),
                after=STATUS_LABELS.get(to_status, to_status),
            )
        )
    visit.status = to_status
    log(visit, to_status, actor, note, before=before)
    return visit
