"""Approved visits for the benchmarks, loaded in bulk the way the database allows: each
goes in as the app makes one (planned, held by nobody: a trigger refuses any other
status on INSERT), then moves planned → accepted → submitted → approved, the steps
of the lifecycle (another trigger refuses jumps), one bulk UPDATE per step."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, insert, update

from auditapp.extensions import db
from auditapp.models.waves import ACCEPTED, APPROVED, PLANNED, SUBMITTED, Visit

CHUNK = 10_000


def insert_approved(rows: list[dict[str, Any]]) -> None:
    """``rows``: approved visits, each with its ``id``, ``shopper_id`` and ``approved_at``."""
    table = Visit.__table__
    planned = [{**row, "status": PLANNED, "shopper_id": None, "approved_at": None} for row in rows]
    _execute(insert(table), planned)
    one = table.c.id == bindparam("visit_id")
    steps = (
        (update(table).where(one).values(status=ACCEPTED, shopper_id=bindparam("shopper")),
         [{"visit_id": row["id"], "shopper": row["shopper_id"]} for row in rows]),
        (update(table).where(one).values(status=SUBMITTED),
         [{"visit_id": row["id"]} for row in rows]),
        (update(table).where(one).values(status=APPROVED, approved_at=bindparam("approved")),
         [{"visit_id": row["id"], "approved": row["approved_at"]} for row in rows]),
    )  # fmt: skip
    for statement, values in steps:
        _execute(statement, values)


def _execute(statement: Any, values: list[dict[str, Any]]) -> None:
    for start in range(0, len(values), CHUNK):
        db.session.execute(statement, values[start : start + CHUNK])
