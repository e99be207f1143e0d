"""Corrective actions: the list and the repeats report are open to admins,
coordinators, regional and store managers (each sees their own scope); reviewers and
shoppers get 404. One action (of North area one, the store manager's store, in a
published wave of client X) is seen and worked by admins, coordinator X, the North
regional manager and the store's manager; verifying, reopening and handing it over
belong to admins, coordinator X and the North manager. Everyone else gets 404.

The objects are made on first use and kept on the cast: a published wave of client X
whose approved visit failed two questions, so one action is open and the other
resolved with a photo."""

from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from flask import url_for
from sqlalchemy import select

from auditapp.extensions import db
from auditapp.models import ChecklistQuestion
from auditapp.models.answers import VisitAnswer
from auditapp.models.waves import APPROVED, Wave
from auditapp.services.checklists import versions as checklists
from auditapp.services.follow_up import actions
from auditapp.services.visits.results import record_results
from tests.web import evidence_images
from tests.web.statuses import new_visit, walk_to

from . import (
    ADMIN,
    COORDINATOR_X,
    COORDINATOR_Y,
    REGIONAL_NORTH,
    REGIONAL_SOUTH,
    STORE_MANAGER,
    Route,
)

READERS = frozenset(
    {ADMIN, COORDINATOR_X, COORDINATOR_Y, REGIONAL_NORTH, REGIONAL_SOUTH, STORE_MANAGER}
)
OF_THE_STORE = frozenset({ADMIN, COORDINATOR_X, REGIONAL_NORTH, STORE_MANAGER})
CHECKERS = frozenset({ADMIN, COORDINATOR_X, REGIONAL_NORTH})
DOCUMENT = {
    "title": "Action access audit",
    "sections": [{"key": "s", "title": "S", "questions": [
        {"key": "a", "text": "Door open?", "type": "yes_no"},
        {"key": "b", "text": "Lights on?", "type": "yes_no"},
    ]}],
}  # fmt: skip


def _objects(cast: Any) -> SimpleNamespace:
    found = getattr(cast, "_actions", None)
    if found is None:
        store = cast.store_north_area
        checklist = checklists.create_checklist(cast.client_x, "", None, DOCUMENT)
        db.session.flush()
        version = checklists.publish(checklists.draft_of(checklist), None)
        wave = Wave(
            client=cast.client_x, checklist_version=version, name="Action wave", status="open",
            starts_on=date(2030, 5, 1), ends_on=date(2030, 5, 31), stores=[store],
            published_at=datetime(2030, 6, 2, tzinfo=UTC),
        )  # fmt: skip
        start = datetime(2030, 5, 3, 2, tzinfo=UTC)
        visit = new_visit(
            "assigned", shopper=cast.shopper_a,
            wave=wave, store=store, checklist_version=version, slot="midday",
            window_start=start, window_end=start.replace(hour=3),
            assigned_at=start.replace(day=1), started_at=start,
        )  # fmt: skip
        keys = dict(
            db.session.execute(
                select(ChecklistQuestion.key, ChecklistQuestion.id).where(
                    ChecklistQuestion.version_id == version.id
                )
            ).all()
        )
        db.session.add_all(
            VisitAnswer(visit_id=visit.id, question_id=keys[k], value="no") for k in "ab"
        )
        walk_to(visit, APPROVED)
        record_results(visit)
        opened, other = actions.record_findings(visit)
        photo = actions.resolve(
            other, cast.users[STORE_MANAGER], "Lights fixed.", [(evidence_images.png(), "l.png")]
        )[0]
        db.session.commit()  # survives a view's rollback between GET and POST
        found = SimpleNamespace(open=opened, resolved=other, photo=photo)
        cast._actions = found
    return found


def _open(endpoint: str) -> Any:
    return lambda c: url_for(endpoint, action_id=_objects(c).open.id)


def _resolved(endpoint: str) -> Any:
    return lambda c: url_for(endpoint, action_id=_objects(c).resolved.id)


ACCESS = {
    "actions.index": Route(lambda c: url_for("actions.index"), READERS),
    "actions.repeats": Route(lambda c: url_for("actions.repeats"), READERS),
    "actions.show": Route(_open("actions.show"), OF_THE_STORE),
    "actions.photo": Route(
        lambda c: url_for(
            "actions.photo", action_id=_objects(c).resolved.id, file_id=_objects(c).photo.id
        ),
        OF_THE_STORE,
    ),
    "actions.start": Route(_open("actions.start"), OF_THE_STORE, ("POST",)),
    "actions.resolve": Route(
        _open("actions.resolve"), OF_THE_STORE, ("POST",), lambda c: {"note": "Door fixed."}
    ),
    "actions.verify": Route(_resolved("actions.verify"), CHECKERS, ("POST",)),
    "actions.reopen": Route(
        _resolved("actions.reopen"), CHECKERS, ("POST",), lambda c: {"note": "Still dark."}
    ),
    "actions.reassign": Route(
        _open("actions.reassign"),
        CHECKERS,
        ("POST",),
        lambda c: {"owner": str(c.users[STORE_MANAGER].id)},
    ),
}
