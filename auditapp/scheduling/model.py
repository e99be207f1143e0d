"""The scheduling engine's inputs and outputs: frozen dataclasses, no database, no Flask.

Identifiers (visits, stores, clients, shoppers) are the database's integer keys, so
the engine can sort them for deterministic output. Datetimes may be naive or aware,
but all of one call must agree; a visit's *day* is the date of its start.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from types import MappingProxyType
from typing import TypeAlias

from auditapp.scheduling.reasons import describe

Booking: TypeAlias = tuple[datetime, datetime, int]  # (start, end, store_id)
ParamValue: TypeAlias = str | int | float
Params: TypeAlias = tuple[tuple[str, ParamValue], ...]

_BAND = re.compile(r"^\s*(\d{1,3})\s*(?:-\s*(\d{1,3})|(\+))\s*$")


@lru_cache(maxsize=256)
def parse_age_band(band: str) -> tuple[int, int]:
    """Turn "25-34" into (25, 34) and "55+" into (55, 200); raise ValueError otherwise."""
    match = _BAND.match(band)
    if match is None:
        raise ValueError(f"age band {band!r} is not like '25-34' or '55+'")
    low = int(match.group(1))
    high = 200 if match.group(3) else int(match.group(2))
    if high < low:
        raise ValueError(f"age band {band!r} ends before it starts")
    return low, high


@dataclass(frozen=True)
class VisitSlot:
    """One visit to be staffed: a store, a time window and what the wave asks of it."""

    id: int
    store_id: int
    client_id: int
    start: datetime
    end: datetime
    required_level: int
    lat: float
    lng: float
    target_female_pct: float | None = None
    target_age_bands: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"visit {self.id}: the window must end after it starts")
        pct = self.target_female_pct
        if pct is not None and not 0 <= pct <= 100:
            raise ValueError(f"visit {self.id}: target_female_pct must be within 0..100")
        for band in self.target_age_bands:
            parse_age_band(band)

    @property
    def day(self) -> date:
        return self.start.date()


@dataclass(frozen=True)
class Candidate:
    """A shopper as the scheduler sees them.

    ``gender`` is "female", "male" or None (not given / other). ``existing`` holds
    visits already booked for this shopper (in this wave or any other); they count
    towards capacity, overlap, rotation and, when inside the wave's period, towards
    "once per store per wave".
    """

    id: int
    active: bool
    gender: str | None
    birth_year: int | None
    level: int
    lat: float
    lng: float
    max_km: float
    per_day: int
    per_week: int
    conflict_clients: frozenset[int] = frozenset()
    conflict_stores: frozenset[int] = frozenset()
    last_visit_by_store: Mapping[int, date] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    unavailable_dates: frozenset[date] = frozenset()
    existing: tuple[Booking, ...] = ()


@dataclass(frozen=True)
class Rules:
    """Programme-wide settings.

    Rotation is measured from each visit's own day: a shopper may not shop a store
    if they shopped (or are booked to shop) it fewer than N days before or after.
    ``wave_start``/``wave_end`` bound the wave; already-booked visits inside it count
    for "not the same store twice in one wave". ``fairness_weight`` is the preference
    points one visit above a shopper's fair share costs (0 turns spreading off).
    """

    rotation_days_by_client: Mapping[int, int] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    default_rotation_days: int = 90
    wave_start: date | None = None
    wave_end: date | None = None
    fairness_weight: int = 30

    def rotation_days(self, client_id: int) -> int:
        return self.rotation_days_by_client.get(client_id, self.default_rotation_days)

    def in_wave(self, day: date) -> bool:
        if self.wave_start is None or self.wave_end is None:
            return False
        return self.wave_start <= day <= self.wave_end


@dataclass(frozen=True)
class Reason:
    """Why a rule excludes a shopper: a stable code plus the values for its sentence."""

    code: str
    params: Params = ()

    @property
    def text(self) -> str:
        return describe(self.code, dict(self.params))


@dataclass(frozen=True)
class Assignment:
    visit_id: int
    shopper_id: int
    preference: int  # 0..100, see eligibility.preference


@dataclass(frozen=True)
class Unfilled:
    visit_id: int
    reason_code: str
    reason_text: str
    params: Params = ()


@dataclass(frozen=True)
class Stats:
    visits: int
    candidates: int
    eligible_pairs: int
    filled: int
    components: int
    # Components whose fill is proven best and whose preference is proven within
    # solver.PREFERENCE_TOLERANCE of the best (exactly best when the LP was integral).
    optimal_components: int
    fill_upper_bound: int  # no schedule can fill more (LP relaxation bound)
    preference_total: int
    seconds: float

    @property
    def fill_rate(self) -> float:
        return self.filled / self.visits if self.visits else 1.0


@dataclass(frozen=True)
class Result:
    assignments: tuple[Assignment, ...]
    unfilled: tuple[Unfilled, ...]
    stats: Stats


@dataclass(frozen=True)
class Ranked:
    """An eligible shopper on a direct-assignment screen, best first."""

    shopper_id: int
    preference: int
    distance_km: float
    booked: int  # visits already booked in the wave (fewer = fairer to pick)


@dataclass(frozen=True)
class Excluded:
    shopper_id: int
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Ranking:
    eligible: tuple[Ranked, ...]
    excluded: tuple[Excluded, ...]
