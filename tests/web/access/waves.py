"""Waves are agency work: admins and the coordinators of the wave's client plan,
schedule, assign and publish the results; every other signed-in user gets 404,
including a coordinator of another client. The list and "new wave" belong to every
coordinator (each sees and creates only within their own clients).

The objects are made on first use and kept on the cast: a wave of client X over its
three stores, with generated (planned) visits, not yet published. The report and
export matrices publish it (:func:`published_wave`), so that the client's managers
reach its pages; unpublished, it is a 404 for them (tests/web/follow_up/test_publication.py)."""

from datetime import date
from types import SimpleNamespace
from typing import Any

from flask import url_for

from auditapp.extensions import db
from auditapp.models import utcnow
from auditapp.services.checklists import versions as checklists
from auditapp.services.waves import setup as waves

from . import ADMIN, COORDINATOR_X, COORDINATOR_Y, Route

OF_CLIENT_X = frozenset({ADMIN, COORDINATOR_X})
COORDINATORS = frozenset({ADMIN, COORDINATOR_X, COORDINATOR_Y})
DOCUMENT = {
    "title": "Wave access audit",
    "sections": [{"key": "s", "title": "S", "questions": [
        {"key": "a", "text": "A?", "type": "yes_no"},
    ]}],
}  # fmt: skip


def _objects(cast: Any) -> SimpleNamespace:
    found = getattr(cast, "_waves", None)
    if found is None:
        coordinator = cast.users[COORDINATOR_X]
        checklist = checklists.create_checklist(cast.client_x, "", coordinator, DOCUMENT)
        db.session.flush()
        version = checklists.publish(checklists.draft_of(checklist), coordinator)
        data = {
            "name": "Access wave", "cadence": "monthly",
            "starts_on": date(2031, 3, 1), "ends_on": date(2031, 3, 31),
        }  # fmt: skip
        wave = waves.save_wave(None, cast.client_x, version, data)
        db.session.flush()
        visits, _unplaced = waves.generate_visits(wave, coordinator)
        db.session.commit()  # survives a view's rollback between GET and POST
        found = SimpleNamespace(wave=wave, visit=visits[0], store=visits[0].store)
        cast._waves = found
    return found


def published_wave(cast: Any) -> Any:
    """The matrix wave, its results published to the client's managers."""
    wave = _objects(cast).wave
    if wave.published_at is None:
        wave.published_at = utcnow()
        db.session.commit()
    return wave


def _wave(endpoint: str) -> Any:
    return lambda c: url_for(endpoint, wave_id=_objects(c).wave.id)


def _visit(endpoint: str) -> Any:
    return lambda c: url_for(endpoint, visit_id=_objects(c).visit.id)


def _wave_route(endpoint: str, methods: tuple[str, ...] = ("GET",), form: Any = None) -> Route:
    return Route(_wave(endpoint), OF_CLIENT_X, methods, form or (lambda _c: {}))


def _visit_route(endpoint: str, form: Any = None) -> Route:
    return Route(_visit(endpoint), OF_CLIENT_X, ("POST",), form or (lambda _c: {}))


ACCESS = {
    "waves.index": Route(lambda c: url_for("waves.index"), COORDINATORS),
    "waves.create": Route(lambda c: url_for("waves.create"), COORDINATORS, ("GET", "POST")),
    "waves.show": _wave_route("waves.show"),
    "waves.edit": _wave_route("waves.edit", ("GET", "POST")),
    "waves.board": _wave_route("waves.board"),
    "waves.progress": _wave_route("waves.progress"),
    "waves.generate": _wave_route("waves.generate", ("POST",)),
    "waves.auto_schedule": _wave_route("waves.auto_schedule", ("POST",)),
    "waves.next_wave": _wave_route("waves.next_wave", ("POST",)),
    "waves.add_visit": _wave_route(
        "waves.add_visit",
        ("POST",),
        lambda c: {
            "add-store_id": str(_objects(c).store.id),
            "add-day": "2031-03-10",
            "add-slot": "midday",
        },
    ),
    "waves.publish": _wave_route("waves.publish", ("POST",)),
    "waves.schedule_publication": _wave_route(
        "waves.schedule_publication",
        ("POST",),
        lambda _c: {"publish-day": "2031-04-05", "publish-at": "10:00"},
    ),
    "waves.cancel_publication": _wave_route("waves.cancel_publication", ("POST",)),
    "waves.visit": Route(_visit("waves.visit"), OF_CLIENT_X),
    "waves.assign": _visit_route("waves.assign", lambda c: {"shopper_id": str(c.shopper_a.id)}),
    "waves.release": _visit_route("waves.release"),
    "waves.reschedule": _visit_route(
        "waves.reschedule",
        lambda c: {"move-day": "2031-03-12", "move-start": "12:00", "move-end": "13:00"},
    ),
    "waves.cancel": _visit_route("waves.cancel", lambda c: {"cancel-note": "Store closed"}),
}
