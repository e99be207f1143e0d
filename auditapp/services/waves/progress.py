"""Where a wave stands: the funnel of its visits' statuses, and the waves a user runs.

Each stage of the funnel counts the visits that reached it or went beyond, so the
stages read as a funnel (planned ≥ assigned ≥ accepted ≥ completed ≥ approved);
missed and cancelled visits are counted apart.
"""

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, case, func, select
from sqlalchemy.orm import contains_eager

from ...extensions import db
from ...models import Client, Region, ShopperProfile, Store, User
from ...models.waves import (
    ACCEPTED,
    APPROVED,
    ASSIGNED,
    CANCELLED,
    IN_PROGRESS,
    IN_REVIEW,
    MISSED,
    PLANNED,
    RETURNED,
    SUBMITTED,
    VISIT_STATUSES,
    Visit,
    Wave,
)
from ...permissions import client_scope

COMPLETED = (SUBMITTED, IN_REVIEW, RETURNED, APPROVED)
ACCEPTED_OR_LATER = (ACCEPTED, IN_PROGRESS, *COMPLETED)
ASSIGNED_OR_LATER = (ASSIGNED, *ACCEPTED_OR_LATER)
FUNNEL: dict[str, ColumnElement[bool]] = {
    "planned": Visit.status != CANCELLED,
    "unfilled": Visit.status == PLANNED,
    "assigned": Visit.status.in_(ASSIGNED_OR_LATER),
    "accepted": Visit.status.in_(ACCEPTED_OR_LATER),
    "completed": Visit.status.in_(COMPLETED),
    "approved": Visit.status == APPROVED,
    "missed": Visit.status == MISSED,
    "cancelled": Visit.status == CANCELLED,
}


def funnel_columns() -> list[Any]:
    """One SUM(CASE ...) per funnel stage, for a GROUP BY query."""
    return [func.sum(case((test, 1), else_=0)).label(name) for name, test in FUNNEL.items()]


def waves_run_by(user: User) -> ColumnElement[bool]:
    """The waves of the clients ``user`` coordinates (every wave for an admin)."""
    return Wave.client_id.in_(select(Client.id).where(client_scope(user)))


def funnel_counts(wave_ids: Sequence[int]) -> dict[int, Row[Any]]:
    """Each wave's funnel (a row with one count per stage), for a list of waves."""
    rows = db.session.execute(
        select(Visit.wave_id, *funnel_columns())
        .where(Visit.wave_id.in_(wave_ids))
        .group_by(Visit.wave_id)
    )
    return {row.wave_id: row for row in rows}


def wave_funnel(wave: Wave) -> Row[Any]:
    return db.session.execute(select(*funnel_columns()).where(Visit.wave_id == wave.id)).one()


def approved_count(wave: Wave) -> int:
    query = select(func.count(Visit.id)).where(Visit.wave_id == wave.id, Visit.status == APPROVED)
    return int(db.session.scalar(query) or 0)


def region_rollup(wave_id: int, client_id: int) -> tuple[list[tuple[Region, Any]], Any]:
    """Funnel counts per region, each including everything below it (GROUP BY the
    store's region in SQL; the sums up the tree are a handful of additions), and the
    wave's total."""
    rows = db.session.execute(
        select(Store.region_id, *funnel_columns())
        .join(Store, Visit.store_id == Store.id)
        .where(Visit.wave_id == wave_id)
        .group_by(Store.region_id)
    ).all()
    regions = db.session.scalars(select(Region).where(Region.client_id == client_id)).all()
    by_id = {r.id: r for r in regions}
    totals: dict[int, Counter[str]] = defaultdict(Counter)
    overall: Counter[str] = Counter()
    for row in rows:
        values = {name: int(getattr(row, name) or 0) for name in FUNNEL}
        overall.update(values)
        path = by_id[row.region_id].path
        for part in path.strip("/").split("/"):
            totals[int(part)].update(values)
    ordered = sorted(
        (r for r in regions if r.id in totals),
        key=lambda r: [int(p) for p in r.path.strip("/").split("/")],
    )
    return [(r, totals[r.id]) for r in ordered], overall


def board_visits(wave: Wave, region: Region | None, status: str, by: str) -> Select[Visit]:
    """The wave's visits as the board lists them: in a region (with everything below
    it), "unfilled", "filled" or of one status, ordered by day, store or shopper."""
    # Eager loads named here: every row shows its store, the store's region and the
    # shopper's name; the joins also serve the filters and the ordering.
    query = (
        select(Visit)
        .join(Visit.store)
        .join(Store.region)
        .outerjoin(Visit.shopper)
        .outerjoin(ShopperProfile.user)
        .options(
            contains_eager(Visit.store).contains_eager(Store.region),
            contains_eager(Visit.shopper).contains_eager(ShopperProfile.user),
        )
        .where(Visit.wave_id == wave.id)
    )
    if region is not None:
        query = query.where(Region.path.startswith(region.path, autoescape=True))
    if status == "unfilled":
        query = query.where(Visit.status == PLANNED)
    elif status == "filled":
        query = query.where(Visit.status.in_(ASSIGNED_OR_LATER))
    elif status in VISIT_STATUSES:
        query = query.where(Visit.status == status)
    order = {
        "day": (Visit.window_start, Store.code),
        "store": (Store.code, Visit.window_start),
        "shopper": (User.id.is_not(None), User.name, User.id, Visit.window_start),
    }[by]
    return query.order_by(*order, Visit.id)
