"""Where a wave stands: the funnel of its visits' statuses, and the waves a user runs.

Each stage of the funnel counts the visits that reached it or went beyond, so the
stages read as a funnel (planned ≥ assigned ≥ accepted ≥ completed ≥ approved);
missed and cancelled visits are counted apart.
"""

from typing import Any

from sqlalchemy import ColumnElement, case, func, select

from ...models import Client, User
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
