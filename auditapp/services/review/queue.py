"""Who reviews what, and what waits: the review scope, the reviewer's queue with its
filters and the choices those filters offer, and the integrity flag codes of a
visit's latest submission.

Rules decided here:

- Admins, coordinators and reviewers review; coordinators and reviewers only the
  visits of their assigned clients. Anyone else, and any visit outside that scope,
  is simply not found.
- A visit's review screen exists once it was submitted; approved and returned visits
  stay readable (``VIEWABLE``).
- The queue holds submitted and in-review visits, oldest latest submission first. Age
  runs from the latest submission; a visit is overdue once it has waited more than
  ``REVIEW_DEADLINE_HOURS``. A visit is *flagged* when its latest submission has any
  integrity flag (earlier submissions' flags are history).
- Bulk approval stops at a flag that costs points (``blocks_bulk_approval``): such a
  visit must be reviewed on its own. A flag without a penalty (the store has no
  coordinates on file: its data is missing, not the shopper's) is shown beside the
  visit but does not stop it being approved with others.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from math import ceil
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Row, Select, exists, false, func, select
from sqlalchemy.orm import aliased

import scoring

from ...extensions import db
from ...models import (
    ADMIN,
    COORDINATOR,
    REVIEWER,
    ChecklistVersion,
    Client,
    Region,
    ShopperProfile,
    Store,
    User,
    utcnow,
)
from ...models.answers import VisitSubmission
from ...models.review import VisitFlag
from ...models.waves import (
    APPROVED,
    IN_REVIEW,
    RETURNED,
    REVIEWABLE_STATUSES,
    SUBMITTED,
    Visit,
    Wave,
)
from ...permissions import client_scope, region_scope

REVIEW_ROLES = (ADMIN, COORDINATOR, REVIEWER)
# A visit's review screen exists once it was submitted; approved and returned visits
# stay readable.
VIEWABLE = (SUBMITTED, IN_REVIEW, RETURNED, APPROVED)
FLAG_FILTERS = ("flagged", "clean")


# --- scope --------------------------------------------------------------------------


def review_scope(user: User) -> ColumnElement[bool]:
    if user.role not in REVIEW_ROLES:
        return false()
    clients = select(Client.id).where(client_scope(user))
    return Visit.store_id.in_(select(Store.id).where(Store.client_id.in_(clients)))


def get_visit(user: User, visit_id: int) -> Visit | None:
    """The visit if the user may review it (or read its finished review)."""
    return db.session.scalars(
        select(Visit).where(Visit.id == visit_id, review_scope(user), Visit.status.in_(VIEWABLE))
    ).first()


# --- the queue ----------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    client_id: int | None = None
    wave_id: int | None = None
    region_path: str | None = None  # the region and everything below it
    shopper_id: int | None = None
    flags: str | None = None  # "flagged", "clean" or one of FLAG_CODES
    min_age_hours: int | None = None


@dataclass(frozen=True)
class QueueRow:
    visit: Visit
    store: Store
    wave: Wave
    shopper_name: str
    reviewer_name: str | None
    submitted_at: datetime
    age: timedelta
    overdue: bool
    submissions: int
    flags: tuple[str, ...]
    blocking: tuple[str, ...] = ()  # the flags that keep it out of bulk approval
    decimals: int = 1  # the checklist's display precision

    @property
    def score(self) -> Decimal | None:
        """The visit's score as shown (half-up to the checklist's decimals)."""
        score = self.visit.score
        return None if score is None else scoring.round_half_up(Fraction(score), self.decimals)

    @property
    def age_hours(self) -> int:
        return max(int(self.age.total_seconds() // 3600), 0)

    @property
    def resubmitted(self) -> bool:
        return self.submissions > 1

    @property
    def flagged(self) -> bool:
        return bool(self.flags)

    @property
    def bulk_approvable(self) -> bool:
        return not self.blocking


@dataclass(frozen=True)
class QueuePage:
    """One page of the queue, shaped like Flask-SQLAlchemy's pagination for the pager."""

    items: list[QueueRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(ceil(self.total / self.per_page), 1)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def _latest() -> Any:
    """Per visit: its latest submission's id and how many submissions it has."""
    return (
        select(
            VisitSubmission.visit_id.label("visit_id"),
            func.max(VisitSubmission.id).label("last_id"),
            func.count(VisitSubmission.id).label("submission_count"),
        )
        .group_by(VisitSubmission.visit_id)
        .subquery("latest")
    )


def queue(
    user: User,
    filters: QueueFilters | None = None,
    page: int = 1,
    per_page: int = 25,
    now: datetime | None = None,
) -> QueuePage:
    """Visits waiting for review, oldest first (three queries, whatever the page size)."""
    filters, now = filters or QueueFilters(), now or utcnow()
    latest = _latest()
    last = aliased(VisitSubmission, name="last_submission")
    shopper_user = aliased(User, name="shopper_user")
    reviewer = aliased(User, name="reviewer_user")
    # A visit put into review by other means than submit (demo data) has no submission.
    submitted_at = func.coalesce(last.submitted_at, Visit.finished_at, Visit.window_end)
    query: Select[*tuple[Any, ...]] = (
        select(
            Visit,
            Store,
            Wave,
            shopper_user.name,
            reviewer.name,
            submitted_at.label("submitted_at"),
            latest.c.submission_count,
            latest.c.last_id,
            ChecklistVersion.decimals,
        )
        .select_from(Visit)
        .join(Store, Visit.store_id == Store.id)
        .join(ChecklistVersion, Visit.checklist_version_id == ChecklistVersion.id)
        .join(Wave, Visit.wave_id == Wave.id)
        .outerjoin(ShopperProfile, Visit.shopper_id == ShopperProfile.id)
        .outerjoin(shopper_user, ShopperProfile.user_id == shopper_user.id)
        .outerjoin(reviewer, Visit.reviewer_id == reviewer.id)
        .outerjoin(latest, latest.c.visit_id == Visit.id)
        .outerjoin(last, last.id == latest.c.last_id)
        .where(Visit.status.in_(REVIEWABLE_STATUSES), review_scope(user))
    )
    query = _filtered(query, filters, latest.c.last_id, submitted_at, now)
    counted = query.with_only_columns(Visit.id).subquery()
    total = db.session.scalar(select(func.count()).select_from(counted)) or 0
    page = max(page, 1)
    rows = db.session.execute(
        query.order_by(submitted_at, Visit.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    items = _rows(rows, now)
    return QueuePage(items, total, page, per_page)


def _filtered(
    query: Select[*tuple[Any, ...]],
    filters: QueueFilters,
    last_id: Any,
    submitted_at: Any,
    now: datetime,
) -> Select[*tuple[Any, ...]]:
    """The queue narrowed to the reviewer's filters."""
    if filters.client_id is not None:
        query = query.where(Store.client_id == filters.client_id)
    if filters.wave_id is not None:
        query = query.where(Visit.wave_id == filters.wave_id)
    if filters.region_path is not None:
        subtree = select(Region.id).where(
            Region.path.startswith(filters.region_path, autoescape=True)
        )
        query = query.where(Store.region_id.in_(subtree))
    if filters.shopper_id is not None:
        query = query.where(Visit.shopper_id == filters.shopper_id)
    if filters.flags:
        flagged = exists().where(VisitFlag.submission_id == last_id)
        if filters.flags == "flagged":
            query = query.where(flagged)
        elif filters.flags == "clean":
            query = query.where(~flagged)
        else:
            query = query.where(flagged.where(VisitFlag.code == filters.flags))
    if filters.min_age_hours:
        query = query.where(submitted_at <= now - timedelta(hours=filters.min_age_hours))
    return query


def _rows(rows: Sequence[Row[*tuple[Any, ...]]], now: datetime) -> list[QueueRow]:
    """The page's rows with their flags (one query for the page) and their age."""
    codes = _flag_codes([row.last_id for row in rows if row.last_id is not None])
    deadline = timedelta(hours=current_app.config["REVIEW_DEADLINE_HOURS"])
    return [
        QueueRow(
            visit=row[0],
            store=row[1],
            wave=row[2],
            shopper_name=row[3] or "",
            reviewer_name=row[4] if row[0].status == IN_REVIEW else None,
            submitted_at=row.submitted_at,
            age=now - row.submitted_at,
            overdue=now - row.submitted_at > deadline,
            submissions=row.submission_count or 0,
            flags=tuple(code for code, _penalty in codes.get(row.last_id, ())),
            blocking=tuple(
                code
                for code, penalty in codes.get(row.last_id, ())
                if blocks_bulk_approval(penalty)
            ),
            decimals=row.decimals,
        )
        for row in rows
    ]


def blocks_bulk_approval(penalty: int) -> bool:
    """Whether a flag with this (stored) penalty keeps its visit out of bulk approval:
    any flag that costs points does; a flag that costs nothing does not."""
    return penalty > 0


def _flag_codes(submission_ids: Iterable[int]) -> dict[int, list[tuple[str, int]]]:
    """{submission id: its flags as (code, penalty)}, in one query."""
    ids = list(submission_ids)
    if not ids:
        return {}
    found: dict[int, list[tuple[str, int]]] = {}
    rows = db.session.execute(
        select(VisitFlag.submission_id, VisitFlag.code, VisitFlag.penalty)
        .where(VisitFlag.submission_id.in_(ids))
        .order_by(VisitFlag.code)
    )
    for submission_id, code, penalty in rows:
        found.setdefault(submission_id, []).append((code, penalty))
    return found


def blocking_flag_codes(visit_ids: Iterable[int]) -> dict[int, list[str]]:
    """{visit id: the codes of its latest submission's flags that block bulk approval}
    (visits without such flags left out)."""
    ids = list(visit_ids)
    if not ids:
        return {}
    latest = (
        select(func.max(VisitSubmission.id))
        .where(VisitSubmission.visit_id.in_(ids))
        .group_by(VisitSubmission.visit_id)
    )
    found: dict[int, list[str]] = {}
    rows = db.session.execute(
        select(VisitFlag.visit_id, VisitFlag.code, VisitFlag.penalty)
        .where(VisitFlag.submission_id.in_(latest))
        .order_by(VisitFlag.code)
    )
    for visit_id, code, penalty in rows:
        if blocks_bulk_approval(penalty):
            found.setdefault(visit_id, []).append(code)
    return found


@dataclass(frozen=True)
class QueueChoices:
    clients: list[Client]
    waves: list[Wave]
    regions: list[Region]
    shoppers: list[tuple[int, str]]


def queue_choices(user: User) -> QueueChoices:
    """What the queue's filters offer: the user's clients and regions, and the waves
    and shoppers that have visits waiting."""
    waiting = select(Visit).where(Visit.status.in_(REVIEWABLE_STATUSES), review_scope(user))
    waiting_sq = waiting.subquery()
    clients = db.session.scalars(select(Client).where(client_scope(user)).order_by(Client.name))
    waves = db.session.scalars(
        select(Wave).where(Wave.id.in_(select(waiting_sq.c.wave_id))).order_by(Wave.name)
    )
    regions = db.session.scalars(
        select(Region).where(region_scope(user)).order_by(Region.client_id, Region.path)
    )
    shoppers = db.session.execute(
        select(ShopperProfile.id, User.name)
        .join(User, ShopperProfile.user_id == User.id)
        .where(ShopperProfile.id.in_(select(waiting_sq.c.shopper_id)))
        .order_by(User.name)
    )
    return QueueChoices(list(clients), list(waves), list(regions), [(i, n) for i, n in shoppers])
