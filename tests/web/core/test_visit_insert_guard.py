"""The database takes a new visit only as planned, the one status the app creates
visits in (services/waves/setup.py): a row INSERTed in any later status is refused by a
trigger, on SQLite and PostgreSQL alike, whichever way it is written. Every later
status is reached by UPDATEs along the lifecycle, which the other trigger guards.

Each refused row is otherwise valid (a shopper where the status needs one, an approval
time for an approved visit), and the same row walked there from planned is taken, so
the status is the only reason for the refusal."""

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from auditapp.extensions import db
from auditapp.models.waves import (
    APPROVED,
    PLANNED,
    UNSTAFFED_STATUSES,
    VISIT_STATUSES,
    Visit,
    Wave,
)
from auditapp.services.checklists import versions as checklists
from auditapp.services.waves import setup as waves
from tests.web.statuses import new_visit

LATER = [status for status in VISIT_STATUSES if status != PLANNED]
START = datetime(2031, 5, 6, 2, tzinfo=UTC)


@pytest.fixture
def world(make_client, make_region, make_store, make_shopper) -> SimpleNamespace:
    client = make_client("GRD", name="Guard brand")
    store = make_store(client, make_region(client, "R1"), "G1")
    checklist = checklists.create_checklist(client, "Guard checklist", None)
    wave = Wave(
        client=client, checklist_version=checklist.versions[0], name="May",
        starts_on=date(2031, 5, 1), ends_on=date(2031, 5, 31), status="open", stores=[store],
    )  # fmt: skip
    db.session.add(wave)
    db.session.flush()
    return SimpleNamespace(wave=wave, store=store, ann=make_shopper("ann.guard@example.com"))


def row(world: SimpleNamespace, status: str, day: int = 0) -> dict[str, Any]:
    """A visit that would be valid in ``status``: staffed where that needs a shopper,
    with its approval time when approved."""
    start = START + timedelta(days=day)
    return {
        "wave_id": world.wave.id,
        "store_id": world.store.id,
        "checklist_version_id": world.wave.checklist_version_id,
        "slot": "midday",
        "window_start": start,
        "window_end": start + timedelta(hours=1),
        "status": status,
        "shopper_id": None if status in UNSTAFFED_STATUSES else world.ann.id,
        "approved_at": start if status == APPROVED else None,
    }


def refused(insert_row: Any) -> str:
    """The database's refusal (inside a savepoint, so the test's transaction lives on)."""
    with pytest.raises(IntegrityError) as refusal, db.session.begin_nested():
        insert_row()
        db.session.flush()
    return str(refusal.value)


@pytest.mark.parametrize("status", LATER)
def test_a_visit_inserted_in_a_later_status_is_refused(world, status):
    assert "visit_initial_status" in refused(lambda: db.session.add(Visit(**row(world, status))))
    core = insert(Visit).values(**row(world, status, day=1))
    assert "visit_initial_status" in refused(lambda: db.session.execute(core))
    assert db.session.scalars(select(Visit.id)).all() == []
    # The same visit walked there from planned, as the app moves it, is taken.
    fields = row(world, status)
    del fields["status"], fields["shopper_id"]
    assert new_visit(status, world.ann.id, **fields).status == status


def test_a_planned_visit_is_taken_as_the_app_creates_it(world):
    added = waves.add_visit(world.wave, world.store, START.date(), "midday", None)
    db.session.flush()
    assert added.status == PLANNED
    db.session.execute(insert(Visit).values(**row(world, PLANNED, day=3)))
    assert db.session.scalars(select(Visit.status)).all() == [PLANNED, PLANNED]
