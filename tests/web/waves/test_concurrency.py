"""Acceptance: no double-booking, enforced by the database, proved with real commits.

Two threads, each with its own session and connection and its own app context, meet
at a barrier and claim at the same moment, many times over:

(a) two shoppers claim the same visit: exactly one wins, the other gets VisitTaken;
(b) one shopper claims two overlapping visits: exactly one wins, the other gets
    VisitOverlap.

The per-test rolled-back session cannot show this (one connection, nothing
committed), so this test swaps in thread-local sessions on the app's own engine
(same URL, same SQLite settings), commits its rows under unique codes and deletes
them at the end. It runs on SQLite by default and on PostgreSQL with
AUDITAPP_TEST_DATABASE_URL.
"""

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import Flask
from sqlalchemy.engine import Engine

from auditapp.extensions import db
from auditapp.models import (
    ShopperProfile,
)
from auditapp.models.waves import PLANNED, Visit, Wave
from auditapp.services.checklists import versions as checklists
from auditapp.services.org import records as org
from auditapp.services.waves import assignments
from tests.web.committed import committed as committed  # noqa: F401 (a fixture)
from tests.web.committed import remove_committed

ROUNDS = 10
START = datetime(2031, 3, 3, 1, 0, tzinfo=UTC)  # far from any other test's visits


class World:
    """What one test run created, by id, so it can be deleted again."""

    def __init__(self) -> None:
        self.tag = uuid.uuid4().hex[:8]
        self.client_id = self.region_id = self.store_id = self.checklist_id = 0
        self.wave_id = 0
        self.shoppers: list[int] = []
        self.users: list[int] = []


def _build(app: Flask, shoppers: int) -> World:
    world = World()
    with app.app_context():
        client = org.save_client(None, {"code": f"RACE{world.tag}", "name": f"Race {world.tag}"})
        region = org.save_region(None, client, {"code": "R", "name": "Race region"})
        hours = {d: ["00:00", "23:59"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
        store = org.save_store(
            None,
            client,
            region,
            {
                "code": "S1",
                "name": "Race store",
                "latitude": Decimal("31.23"),
                "longitude": Decimal("121.47"),
                "opening_hours": hours,
            },
        )
        checklist = checklists.create_checklist(client, "Race checklist", None)
        profiles = [
            org.save_shopper(
                None, {"email": f"race-{world.tag}-{i}@example.com", "name": f"Racer {i}"}
            )
            for i in range(shoppers)
        ]
        db.session.flush()
        wave = Wave(
            client=client,
            checklist_version=checklist.versions[0],
            name=f"Race wave {world.tag}",
            starts_on=START.date(),
            ends_on=(START + timedelta(days=ROUNDS * 2 + 2)).date(),
            status="open",
            claim_limit=100,
            stores=[store],
        )
        db.session.add(wave)
        db.session.commit()
        world.client_id, world.region_id, world.store_id = client.id, region.id, store.id
        world.checklist_id, world.wave_id = checklist.id, wave.id
        world.shoppers = [p.id for p in profiles]
        world.users = [p.user_id for p in profiles]
    return world


def _visit(app: Flask, world: World, start: datetime, minutes: int = 60) -> int:
    with app.app_context():
        wave = db.session.get(Wave, world.wave_id)
        assert wave is not None
        visit = Visit(
            wave=wave,
            store_id=world.store_id,
            checklist_version_id=wave.checklist_version_id,
            slot="midday",
            window_start=start,
            window_end=start + timedelta(minutes=minutes),
            status=PLANNED,
        )
        db.session.add(visit)
        db.session.commit()
        return visit.id


def _remove(engine: Engine, world: World) -> None:
    remove_committed(
        engine, client_id=world.client_id, region_id=world.region_id,
        store_id=world.store_id, checklist_id=world.checklist_id, wave_id=world.wave_id,
        shopper_ids=world.shoppers, user_ids=world.users,
    )  # fmt: skip


def _claim(app: Flask, barrier: threading.Barrier, visit_id: int, shopper_id: int) -> str:
    """One shopper's claim in its own thread, session, connection and app context. The
    two start together; on SQLite the first to read takes the write lock (as a POST
    does, db_setup.takes_write_lock), so there the race is between whole claims."""
    with app.app_context():
        try:
            barrier.wait(timeout=30)
            shopper = db.session.get(ShopperProfile, shopper_id)
            visit = db.session.get(Visit, visit_id)
            assert shopper is not None and visit is not None
            _loaded = (shopper.user, visit.wave.claim_limit)  # as a request would have
            assignments.claim(visit, shopper, [])
            db.session.commit()
            return "won"
        except assignments.VisitTaken:
            db.session.rollback()
            return "taken"
        except assignments.VisitOverlap:
            db.session.rollback()
            return "overlap"
        except Exception as error:  # anything else fails the test with its name
            db.session.rollback()
            return f"error: {error!r}"


def _race(app: Flask, claims: list[tuple[int, int]]) -> list[str]:
    barrier = threading.Barrier(len(claims))
    with ThreadPoolExecutor(max_workers=len(claims)) as pool:
        futures = [pool.submit(_claim, app, barrier, v, s) for v, s in claims]
        return sorted(f.result(timeout=60) for f in futures)


def _holder(app: Flask, visit_id: int) -> tuple[int | None, str]:
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert visit is not None
        return visit.shopper_id, visit.status


def _rounds(app: Flask, engine: Engine, shoppers: int, run: Callable[[World, int], Any]) -> None:
    world = _build(app, shoppers)
    try:
        for n in range(ROUNDS):
            run(world, n)
    finally:
        _remove(engine, world)


def test_two_shoppers_claiming_one_visit_exactly_one_wins(app, committed):
    def one_round(world: World, n: int) -> None:
        visit_id = _visit(app, world, START + timedelta(days=2 * n))
        first, second = world.shoppers
        results = _race(app, [(visit_id, first), (visit_id, second)])
        assert results == ["taken", "won"], f"round {n}: {results}"
        holder, status = _holder(app, visit_id)
        assert holder in (first, second) and status == "accepted"

    _rounds(app, committed, 2, one_round)


def test_one_shopper_claiming_two_overlapping_visits_gets_one(app, committed):
    def one_round(world: World, n: int) -> None:
        start = START + timedelta(days=2 * n)
        early = _visit(app, world, start)
        late = _visit(app, world, start + timedelta(minutes=30))
        (shopper,) = world.shoppers
        results = _race(app, [(early, shopper), (late, shopper)])
        assert results == ["overlap", "won"], f"round {n}: {results}"
        holders = [_holder(app, early)[0], _holder(app, late)[0]]
        assert sorted(holders, key=lambda h: h is None) == [shopper, None]

    _rounds(app, committed, 1, one_round)


def test_back_to_back_visits_are_not_an_overlap(app, committed):
    """Windows are half-open: a visit may start the minute the previous one ends."""

    def one_round(world: World, n: int) -> None:
        start = START + timedelta(days=2 * n)
        first = _visit(app, world, start)
        second = _visit(app, world, start + timedelta(minutes=60))
        (shopper,) = world.shoppers
        assert _race(app, [(first, shopper), (second, shopper)]) == ["won", "won"]

    _rounds(app, committed, 1, one_round)
