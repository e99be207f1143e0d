"""Acceptance: two coordinators making a payment run of the same lines at the same
moment never put a line in two runs, proved with real commits.

Two threads, each with its own session, connection and app context, meet at a
barrier and post "create payment run" together, round after round: once for all
pending lines of the client, once for the same chosen lines. Exactly one run gets
the lines; the other request is refused and leaves no (empty) run behind. Runs on
SQLite by default and on PostgreSQL with AUDITAPP_TEST_DATABASE_URL.
"""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine

from auditapp.extensions import db
from auditapp.models import User
from auditapp.models.pay import PayLine, PaymentRun
from auditapp.models.waves import ASSIGNED, Wave
from auditapp.services.checklists import versions as checklists
from auditapp.services.org import records as org
from auditapp.services.pay.ledger import record_pay_line
from tests.conftest import csrf_token, login
from tests.web.committed import committed as committed  # noqa: F401 (a fixture)
from tests.web.committed import remove_committed
from tests.web.statuses import new_visit, walk_to

ROUNDS = 4
LINES = 3
START = datetime(2032, 5, 3, 2, 0, tzinfo=UTC)  # far from any other test's visits


def _build(app: Flask) -> SimpleNamespace:
    tag = uuid.uuid4().hex[:8]
    with app.app_context():
        client = org.save_client(None, {"code": f"PAY{tag}", "name": f"Pay race {tag}"})
        region = org.save_region(None, client, {"code": "R", "name": "Region"})
        store = org.save_store(None, client, region, {"code": "S1", "name": "Store"})
        shopper = org.save_shopper(None, {"email": f"pay-{tag}@example.com", "name": "Penny"})
        coordinators = [
            org.save_user(
                None,
                {
                    "email": f"pay-{tag}-{n}@example.com",
                    "name": f"Coordinator {n}",
                    "role": "coordinator",
                    "clients": [client],
                },
            )
            for n in range(2)
        ]
        checklist = checklists.create_checklist(client, "Pay race", None)
        db.session.flush()
        wave = Wave(
            client=client,
            checklist_version=checklist.versions[0],
            name=f"Pay wave {tag}",
            starts_on=START.date(),
            ends_on=(START + timedelta(days=60)).date(),
            status="open",
            fee=Decimal("50"),
            stores=[store],
        )
        db.session.add(wave)
        db.session.commit()
        return SimpleNamespace(
            client_id=client.id, region_id=region.id, store_id=store.id,
            checklist_id=checklist.id, wave_id=wave.id, shopper_id=shopper.id,
            users=[shopper.user_id, *(c.id for c in coordinators)],
            coordinators=[c.id for c in coordinators], days=0,
        )  # fmt: skip


def _pending_lines(app: Flask, w: SimpleNamespace, count: int) -> list[int]:
    """`count` more approved visits of the shopper, each with its pay line."""
    with app.app_context():
        wave = db.session.get(Wave, w.wave_id)
        assert wave is not None
        lines = []
        for _ in range(count):
            w.days += 1
            start = START + timedelta(days=w.days)
            visit = new_visit(
                ASSIGNED, w.shopper_id,
                wave=wave, store_id=w.store_id, checklist_version_id=wave.checklist_version_id,
                slot="midday", window_start=start, window_end=start + timedelta(hours=1),
                assigned_at=start,
            )  # fmt: skip
            walk_to(visit, "approved")
            lines.append(record_pay_line(visit))
        db.session.commit()
        return [line.id for line in lines]


def _remove(engine: Engine, w: SimpleNamespace) -> None:
    with engine.begin() as conn:
        conn.execute(delete(PayLine).where(PayLine.client_id == w.client_id))
        conn.execute(delete(PaymentRun).where(PaymentRun.client_id == w.client_id))
    remove_committed(
        engine, client_id=w.client_id, region_id=w.region_id, store_id=w.store_id,
        checklist_id=w.checklist_id, wave_id=w.wave_id, shopper_ids=[w.shopper_id],
        user_ids=w.users,
    )  # fmt: skip


def _create(app: Flask, barrier: threading.Barrier, user_id: int, data: Any) -> str:
    """One coordinator's "create payment run", in its own thread and session."""
    browser = app.test_client()
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        login(browser, user)
    token = csrf_token(browser)
    barrier.wait(timeout=30)
    response = browser.post("/payments/runs", data={"csrf_token": token, **data})
    assert response.status_code == 302, response.status_code
    return str(response.location)


def _race(app: Flask, w: SimpleNamespace, data: dict[str, Any]) -> list[str]:
    barrier = threading.Barrier(2)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(_create, app, barrier, uid, data) for uid in w.coordinators]
        return [f.result(timeout=60) for f in futures]


def _runs_of(app: Flask, w: SimpleNamespace) -> dict[int, set[int]]:
    with app.app_context():
        runs = db.session.scalars(
            select(PaymentRun).where(PaymentRun.client_id == w.client_id)
        ).all()
        return {run.id: {line.id for line in run.lines} for run in runs}


@pytest.mark.parametrize("scope", ["all", "selected"])
def test_two_coordinators_at_once_never_pay_a_line_twice(app, committed, scope):
    w = _build(app)
    try:
        for n in range(ROUNDS):
            before = _runs_of(app, w)
            lines = _pending_lines(app, w, LINES)
            data: dict[str, Any] = {"client_id": str(w.client_id), "scope": scope}
            if scope == "selected":
                data["line"] = [str(i) for i in lines]
            locations = _race(app, w, data)
            made = {k: v for k, v in _runs_of(app, w).items() if k not in before}
            assert list(made.values()) == [set(lines)], f"round {n}: {made}"
            (run_id,) = made
            winners = [loc for loc in locations if loc.endswith(f"/payments/runs/{run_id}")]
            assert len(winners) == 1, f"round {n}: {locations}"
            losers = [loc for loc in locations if loc not in winners]
            assert all("/payments/?client=" in loc for loc in losers), locations
    finally:
        _remove(committed, w)
