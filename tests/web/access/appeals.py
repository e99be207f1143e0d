"""Appeals: the client's managers file them for the stores in their scope (the store
manager for North area one, the North regional manager over it); admins and the
coordinators of the client read and decide them. The lists and the rates page are
open to every role that deals with appeals (each sees only their own scope);
reviewers and shoppers get 404 everywhere, as does anyone outside the appeal's scope
(coordinator Y, the South manager).

The objects are made on first use and kept on the cast: an approved visit of client
X's published wave at the store manager's store, answering both questions "no", with
an appeal of question "a" carrying one photo; question "b" is left to file."""

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from flask import url_for

from auditapp.clock import utcnow
from auditapp.extensions import db
from auditapp.models import ChecklistQuestion
from auditapp.models.answers import VisitAnswer
from auditapp.models.waves import APPROVED, Wave
from auditapp.services.appeals import cases as appeals
from auditapp.services.checklists import versions as checklists
from auditapp.services.follow_up.files import store_photo
from auditapp.services.visits.evidence import check_photo
from auditapp.services.visits.results import record_results
from tests.web.evidence_images import png
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
OF_THE_APPEAL = frozenset({ADMIN, COORDINATOR_X, REGIONAL_NORTH, STORE_MANAGER})
FILERS = frozenset({REGIONAL_NORTH, STORE_MANAGER})
DECIDERS = frozenset({ADMIN, COORDINATOR_X})
DOCUMENT = {
    "title": "Appeal access audit",
    "sections": [{"key": "s", "title": "S", "questions": [
        {"key": "a", "text": "A?", "type": "yes_no"},
        {"key": "b", "text": "B?", "type": "yes_no"},
    ]}],
}  # fmt: skip


def _objects(cast: Any) -> SimpleNamespace:
    found = getattr(cast, "_appeals", None)
    if found is None:
        coordinator = cast.users[COORDINATOR_X]
        checklist = checklists.create_checklist(cast.client_x, "", coordinator, DOCUMENT)
        db.session.flush()
        version = checklists.publish(checklists.draft_of(checklist), coordinator)
        now = utcnow().replace(microsecond=0)
        store = cast.store_north_area
        wave = Wave(
            client=cast.client_x, checklist_version=version, name="Appeal access wave",
            starts_on=(now - timedelta(days=20)).date(), ends_on=(now - timedelta(days=5)).date(),
            status="open", stores=[store], published_at=now - timedelta(days=1),
        )  # fmt: skip
        start = now - timedelta(days=10)
        visit = new_visit(
            "assigned", shopper=cast.shopper_a,
            wave=wave, store=store, checklist_version=version, slot="midday",
            window_start=start, window_end=start + timedelta(hours=1),
        )  # fmt: skip
        for question in db.session.scalars(
            db.select(ChecklistQuestion).where(ChecklistQuestion.version_id == version.id)
        ):
            db.session.add(VisitAnswer(visit_id=visit.id, question_id=question.id, value="no"))
        walk_to(visit, APPROVED)
        visit.approved_at = start + timedelta(days=1)
        record_results(visit)
        appeal = appeals.file_appeal(visit, cast.users[STORE_MANAGER], "a", "It was yes")
        manager = cast.users[STORE_MANAGER]
        photo = store_photo(check_photo(png(), "p.png"), manager, appeal_id=appeal.id)
        db.session.commit()  # survives a view's rollback
        found = SimpleNamespace(visit=visit, appeal=appeal, photo=photo)
        cast._appeals = found
    return found


def _appeal(endpoint: str, **extra: Any) -> Any:
    return lambda c: url_for(endpoint, appeal_id=_objects(c).appeal.id, **extra)


def _photo(c: Any) -> str:
    objects = _objects(c)
    return url_for("appeals.photo", appeal_id=objects.appeal.id, file_id=objects.photo.id)


ACCESS = {
    "appeals.index": Route(lambda c: url_for("appeals.index"), READERS),
    "appeals.rates": Route(lambda c: url_for("appeals.rates"), READERS),
    "appeals.new": Route(
        lambda c: url_for("appeals.new", visit_id=_objects(c).visit.id, question_key="b"),
        FILERS,
        ("GET", "POST"),
        form=lambda c: {"reason": "B was yes: the receipt shows it"},
    ),
    "appeals.show": Route(_appeal("appeals.show"), OF_THE_APPEAL),
    "appeals.decide": Route(
        _appeal("appeals.decide"),
        DECIDERS,
        ("POST",),
        form=lambda c: {"decision": "reject", "note": "The shopper's notes are clear"},
    ),
    "appeals.photo": Route(_photo, OF_THE_APPEAL),
}
