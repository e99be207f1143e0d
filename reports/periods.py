"""Calendar periods for report comparisons: month, quarter, year or a custom range;
the period before, and the same period a year earlier.

Rules decided here:

- A visit belongs to the period containing its ``day`` (the caller's choice of date:
  the day it took place, in the store's time zone).
- Ranges are inclusive at both ends. A custom range's previous period is the range of
  the same length ending the day before it starts; its year-before is the same dates
  one year earlier (29 February becomes 28 February).
- Labels: "2026-03", "2026-Q1", "2026", and "2026-03-05..2026-04-04" for a custom range;
  they are what :func:`assign` writes in the ``period`` column, to group by.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import pandas as pd

from reports.cards import Change
from reports.rollups import StoreScores
from reports.stats import change

Kind = Literal["month", "quarter", "year", "custom"]
KINDS: tuple[Kind, ...] = ("month", "quarter", "year", "custom")


@dataclass(frozen=True, order=True)
class Period:
    start: date
    end: date  # inclusive
    kind: Kind = "custom"

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.start.year}-{self.start.month:02d}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "year":
            return str(self.start.year)
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


def _month_end(year: int, month: int) -> date:
    following = date(year + month // 12, month % 12 + 1, 1)
    return following - timedelta(days=1)


def _calendar(year: int, first_month: int, months: int, kind: Kind) -> Period:
    last = first_month + months - 1
    return Period(date(year, first_month, 1), _month_end(year, last), kind)


def period_of(day: date, kind: Kind) -> Period:
    """The month, quarter or year containing ``day``."""
    if kind == "month":
        return _calendar(day.year, day.month, 1, kind)
    if kind == "quarter":
        return _calendar(day.year, (day.month - 1) // 3 * 3 + 1, 3, kind)
    if kind == "year":
        return _calendar(day.year, 1, 12, kind)
    raise ValueError("a custom period needs its dates: use custom(start, end)")


def custom(start: date, end: date) -> Period:
    if end < start:
        raise ValueError("a period cannot end before it starts")
    return Period(start, end, "custom")


def previous(period: Period) -> Period:
    """The period just before: last month, last quarter, last year, or the same number
    of days before a custom range."""
    if period.kind == "custom":
        length = period.end - period.start
        end = period.start - timedelta(days=1)
        return Period(end - length, end, "custom")
    return period_of(period.start - timedelta(days=1), period.kind)


def _year_earlier(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def year_before(period: Period) -> Period:
    """The same period one year earlier (year on year)."""
    if period.kind == "custom":
        return Period(_year_earlier(period.start), _year_earlier(period.end), "custom")
    return period_of(_year_earlier(period.start), period.kind)


def assign(visits: pd.DataFrame, kind: Kind, day: str = "day") -> pd.DataFrame:
    """The visits with a ``period`` column: the label of the month, quarter or year of
    their ``day``."""
    cache: dict[date, str] = {}
    labels = []
    for value in visits[day].tolist():
        if value not in cache:
            cache[value] = period_of(value, kind).label
        labels.append(cache[value])
    return visits.assign(period=labels)


def within(visits: pd.DataFrame, periods: Iterable[Period], day: str = "day") -> pd.DataFrame:
    """The visits whose ``day`` falls in one of ``periods``, each labelled with the first
    period containing it (``period`` column); the others are left out."""
    chosen = list(periods)
    labels: list[str | None] = []
    for value in visits[day].tolist():
        labels.append(next((p.label for p in chosen if value in p), None))
    out = visits.assign(period=pd.Series(labels, index=visits.index, dtype=object))
    return out[out["period"].notna()].reset_index(drop=True)


def compare(
    scores: StoreScores,
    new: Hashable,
    old: Hashable,
    store_ids: Iterable[int] | None = None,
) -> Change | None:
    """The change of the region (or client) mean between two groups of ``scores`` —
    this month against last, this quarter against the same quarter last year —, with
    the significance rule of SCORING.md §5; None when either has no score."""
    wanted = None if store_ids is None else list(store_ids)
    return change(scores.region(new, wanted), scores.region(old, wanted))
