"""Putting a test's visit into a given status the way the database allows: inserted
as planned (a trigger refuses any other status on INSERT), then one edge of the
lifecycle at a time (a trigger refuses jumps), without the services' checks or
logging, for setting up a scene."""

from collections import deque
from typing import Any

from auditapp.extensions import db
from auditapp.models import utcnow
from auditapp.models.waves import APPROVED, PLANNED, TRANSITIONS, UNSTAFFED_STATUSES, Visit


def path(start: str, target: str) -> list[str]:
    """The shortest walk of statuses after `start` that ends at `target`."""
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        status = queue.popleft()
        if status == target:
            steps = []
            while status != start:
                steps.append(status)
                status = came_from[status]
            return steps[::-1]
        for after in TRANSITIONS[status]:
            if after not in came_from and after != start:
                came_from[after] = status
                queue.append(after)
    raise AssertionError(f"no way from {start} to {target}")


def walk_to(visit: Visit, target: str, shopper_id: int | None = None) -> Visit:
    """`shopper_id`: who holds the visit once it leaves planned (default: its shopper)."""
    shopper_id = shopper_id or visit.shopper_id
    for status in path(visit.status, target):
        if status == PLANNED:
            visit.shopper_id = None
        elif status not in UNSTAFFED_STATUSES:
            assert shopper_id is not None, "this status needs a shopper"
            visit.shopper_id = shopper_id
        if status == APPROVED:
            visit.approved_at = utcnow()
        visit.status = status
        db.session.flush()
    return visit


def new_visit(status: str = PLANNED, shopper_id: int | None = None, **fields: Any) -> Visit:
    """A visit inserted as the app inserts one (planned, nobody holding it), then
    walked to ``status``, held by ``shopper_id`` (or the ``shopper`` given) once it
    leaves planned. An ``approved_at`` given is kept (the walk stamps its own)."""
    shopper = fields.pop("shopper", None)
    if shopper_id is None and shopper is not None:
        shopper_id = shopper.id if shopper.id is not None else _flushed_id(shopper)
    approved_at = fields.get("approved_at")
    visit = Visit(**{**fields, "status": PLANNED, "shopper_id": None, "approved_at": None})
    db.session.add(visit)
    db.session.flush()
    walk_to(visit, status, shopper_id)
    if status == APPROVED and approved_at is not None:
        visit.approved_at = approved_at
        db.session.flush()
    return visit


def _flushed_id(obj: Any) -> int:
    db.session.add(obj)
    db.session.flush()
    return int(obj.id)
