"""Shopper calibration: each shopper's leniency index against their peers, over the
approved visits of the clients a user may see (the arithmetic is in
reports/calibration.py).

Rules decided here:
- Only approved visits with a score count, and only those of waves of the given
  clients (None = every client, for admins); a shopper's standing therefore depends
  on who is looking: a coordinator of client Y never sees client X's visits at work.
- ``warn`` = at least CALIBRATION_MIN_COMPARISONS comparisons and an index beyond
  ± CALIBRATION_WARN_POINTS. The index is compared as shown (rounded half-up to one
  place), so an index shown as 8.0 never warns at 8 points.
"""

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import pandas as pd
from flask import current_app
from sqlalchemy import Select, and_, select

from reports.calibration import COLUMNS, ShopperCalibration, calibrate, display

from ...extensions import db
from ...models import ADMIN, AGENCY_ROLES, User
from ...models.users import user_clients
from ...models.waves import APPROVED, Visit, Wave


@dataclass(frozen=True)
class Leniency:
    """One shopper's calibration as a user in a given client scope sees it.

    index: mean of (visit score − the other shoppers' mean score of that store in
        that wave), rounded half-up to one place; positive = more lenient than peers,
        negative = harsher; None without any comparison. index_exact: the same, exact.
    mean_abs: the mean absolute difference (how far off, either way), one place.
    n: comparisons behind the index; stores: distinct stores compared;
    visits: the shopper's approved, scored visits in scope.
    enough: n ≥ CALIBRATION_MIN_COMPARISONS; warn: enough and |index| > CALIBRATION_WARN_POINTS.
    """

    shopper_id: int
    index: Decimal | None
    index_exact: Fraction | None
    mean_abs: Decimal | None
    n: int
    stores: int
    visits: int
    enough: bool
    warn: bool

    @property
    def direction(self) -> str | None:
        """ "lenient", "harsh" or "even" (as shown, to one place); None without an index."""
        if self.index is None:
            return None
        return "lenient" if self.index > 0 else "harsh" if self.index < 0 else "even"


def client_ids_for(user: User) -> list[int] | None:
    """The clients whose visits a user's calibration figures are computed over: every
    client for admins (None), the assigned ones for coordinators and reviewers, none
    for anyone else."""
    if user.role == ADMIN:
        return None
    if user.role not in AGENCY_ROLES:
        return []
    return list(
        db.session.scalars(
            select(user_clients.c.client_id).where(user_clients.c.user_id == user.id)
        )
    )


# shopper_id, store_id, wave_id, score
_VisitRows = Select[int | None, int, int, Decimal | None]


def _visits(client_ids: list[int] | None) -> _VisitRows:
    """Approved, scored, staffed visits of the clients, four columns each."""
    query = (
        select(Visit.shopper_id, Visit.store_id, Visit.wave_id, Visit.score)
        .join(Wave, Wave.id == Visit.wave_id)
        .where(
            Visit.status == APPROVED,
            Visit.score.is_not(None),
            Visit.shopper_id.is_not(None),
        )
    )
    if client_ids is not None:
        query = query.where(Wave.client_id.in_(client_ids))
    return query


def _load(query: _VisitRows) -> pd.DataFrame:
    return pd.DataFrame([tuple(row) for row in db.session.execute(query)], columns=list(COLUMNS))


def _leniency(found: ShopperCalibration) -> Leniency:
    config = current_app.config
    enough = found.n >= int(config["CALIBRATION_MIN_COMPARISONS"])
    index = display(found.index)
    limit = Decimal(str(config["CALIBRATION_WARN_POINTS"]))
    return Leniency(
        shopper_id=found.shopper_id,
        index=index,
        index_exact=found.index,
        mean_abs=display(found.mean_abs),
        n=found.n,
        stores=found.stores,
        visits=found.visits,
        enough=enough,
        warn=enough and index is not None and abs(index) > limit,
    )


def leniency_by_shopper(client_ids: list[int] | None) -> dict[int, Leniency]:
    """Every shopper with an approved, scored visit for these clients (None = all),
    keyed by shopper profile id. One query."""
    if client_ids is not None and not client_ids:
        return {}
    found = calibrate(_load(_visits(client_ids)))
    return {shopper_id: _leniency(c) for shopper_id, c in found.items()}


def leniency_of(shopper_id: int, client_ids: list[int] | None) -> Leniency | None:
    """One shopper's figures (the same as leniency_by_shopper gives for them), or None
    when they have no approved, scored visit for these clients. One query, reading only
    the stores and waves the shopper visited."""
    if client_ids is not None and not client_ids:
        return None
    places = (
        _visits(client_ids)
        .where(Visit.shopper_id == shopper_id)
        .with_only_columns(Visit.store_id, Visit.wave_id)
        .distinct()
        .subquery()
    )
    query = _visits(client_ids).join(
        places, and_(places.c.store_id == Visit.store_id, places.c.wave_id == Visit.wave_id)
    )
    found = calibrate(_load(query)).get(shopper_id)
    return None if found is None else _leniency(found)
