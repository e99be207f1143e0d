"""Review is agency work: admins, and the coordinators and reviewers of the visit's
client, open a submitted visit and act on it; everyone else who is signed in gets
404, including the coordinator and reviewer of another client. The queue and bulk
approval belong to every coordinator and reviewer (each sees and approves only
within their own clients; a foreign visit in a bulk approval is refused as not
found, see tests/web/review/test_review_views.py).

The object is made on first use and kept on the cast: shopper A's visit of client X,
submitted through the real visit form service and committed, so a view's rollback
keeps it."""

from datetime import timedelta
from typing import Any

from flask import url_for

from auditapp.clock import utcnow
from auditapp.extensions import db
from auditapp.models.waves import IN_PROGRESS, Visit, Wave
from auditapp.services.checklists import versions as checklists
from auditapp.services.visits import form as visit_form
from tests.web.statuses import new_visit

from . import ADMIN, COORDINATOR_X, COORDINATOR_Y, REVIEWER_X, REVIEWER_Y, Route

OF_CLIENT_X = frozenset({ADMIN, COORDINATOR_X, REVIEWER_X})
REVIEWERS = frozenset({ADMIN, COORDINATOR_X, COORDINATOR_Y, REVIEWER_X, REVIEWER_Y})
DOCUMENT = {
    "title": "Review access audit",
    "sections": [{"key": "s", "title": "S", "questions": [
        {"key": "a", "text": "A?", "type": "yes_no"},
    ]}],
}  # fmt: skip


def _visit(cast: Any) -> Visit:
    found = getattr(cast, "_review_visit", None)
    if found is None:
        coordinator = cast.users[COORDINATOR_X]
        checklist = checklists.create_checklist(cast.client_x, "", coordinator, DOCUMENT)
        db.session.flush()
        version = checklists.publish(checklists.draft_of(checklist), coordinator)
        start = utcnow().replace(microsecond=0) - timedelta(hours=3)
        wave = Wave(
            client=cast.client_x, checklist_version=version, name="Review access wave",
            starts_on=start.date() - timedelta(days=5), ends_on=start.date() + timedelta(days=5),
            status="open", stores=[cast.store_north],
        )  # fmt: skip
        found = new_visit(
            IN_PROGRESS, shopper=cast.shopper_a,
            wave=wave, store=cast.store_north, checklist_version=version, slot="midday",
            window_start=start, window_end=start + timedelta(hours=1),
            started_at=start + timedelta(minutes=5),
        )  # fmt: skip
        visit_form.submit(found, cast.shopper_a.user, "review-matrix-0001", {"q_a": "yes"})
        db.session.commit()  # survives a view's rollback
        cast._review_visit = found
    return found  # type: ignore[no-any-return]


def _route(endpoint: str, method: str = "POST", **form: str) -> Route:
    return Route(
        lambda c: url_for(endpoint, visit_id=_visit(c).id),
        OF_CLIENT_X,
        (method,),
        form=lambda c: form,
    )


ACCESS = {
    "review.queue": Route(lambda c: url_for("review.queue"), REVIEWERS),
    "review.bulk_approve": Route(
        lambda c: url_for("review.bulk_approve"),
        REVIEWERS,
        ("POST",),
        form=lambda c: {"visit_id": str(_visit(c).id)},
    ),
    "review.visit": _route("review.visit", "GET"),
    "review.start": _route("review.start"),
    "review.release": _route("review.release"),
    "review.edit": _route("review.edit", question="a", q_a="no", reason="The receipt says no"),
    "review.return_visit": _route("review.return_visit", note="Please add the receipt"),
    "review.approve": _route("review.approve"),
}
