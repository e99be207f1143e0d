"""Placing a wave's visits in time: which slot type, which day, which window.

Pure functions over plain values, so the rules are easy to test and to explain.

Slot windows, in the store's local time, on a day it is open from O to C:
- opening: the first hour, O to O+60 min;
- closing: the last hour, C-60 min to C;
- midday: 11:30-13:30, clipped to the opening hours;
- peak: 17:00-19:00 on weekdays and 14:00-17:00 at weekends, clipped to the opening
  hours; where less than 45 minutes of that remains (a bank closing at 17:00), the
  two hours that end one hour before closing, when the after-work queue builds.
A slot needs at least 45 minutes inside the opening hours to exist that day.

Quotas hold for the wave as a whole: the number of visits of each slot type and the
number on weekends are apportioned by largest remainder, then dealt out store by
store so each store also gets a spread of slots and days.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

SLOTS = ("opening", "midday", "peak", "closing")
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MIN_SLOT = timedelta(minutes=45)


@dataclass(frozen=True)
class PlannedVisit:
    store_id: int
    slot: str
    start: datetime  # aware, UTC
    end: datetime


@dataclass(frozen=True)
class StorePlanInput:
    store_id: int
    code: str
    visits: int
    timezone: str
    opening_hours: Mapping[str, Sequence[str] | None]


def _clock(text: str) -> time:
    hours, minutes = (int(p) for p in text.split(":"))
    return time(23, 59) if hours == 24 else time(hours, minutes)


def _clip(start: time, end: time, opens: time, closes: time) -> tuple[time, time] | None:
    lo, hi = max(start, opens), min(end, closes)
    span = datetime.combine(date.min, hi) - datetime.combine(date.min, lo)
    return (lo, hi) if span >= MIN_SLOT else None


def _shift(t: time, minutes: int) -> time:
    moved = datetime.combine(date.min, t) + timedelta(minutes=minutes)
    return moved.time()


def slot_times(hours: Sequence[str] | None, day: date, slot: str) -> tuple[time, time] | None:
    """The local start and end of a slot on a day, or None when there is none."""
    if not hours:
        return None
    opens, closes = _clock(hours[0]), _clock(hours[1])
    weekend = day.weekday() >= 5
    if slot == "opening":
        return _clip(opens, _shift(opens, 60), opens, closes)
    if slot == "closing":
        return _clip(_shift(closes, -60), closes, opens, closes)
    if slot == "midday":
        return _clip(time(11, 30), time(13, 30), opens, closes)
    rush = (time(14), time(17)) if weekend else (time(17), time(19))
    return _clip(*rush, opens, closes) or _clip(
        _shift(closes, -180), _shift(closes, -60), opens, closes
    )


def slot_window(
    hours: Mapping[str, Sequence[str] | None], tz: str, day: date, slot: str
) -> tuple[datetime, datetime] | None:
    """The slot on that day as an aware UTC window."""
    local = slot_times(hours.get(WEEKDAY_KEYS[day.weekday()]), day, slot)
    if local is None:
        return None
    zone = ZoneInfo(tz)
    start = datetime.combine(day, local[0], zone).astimezone(UTC)
    end = datetime.combine(day, local[1], zone).astimezone(UTC)
    return start, end


def apportion(total: int, shares: Mapping[str, int | Fraction]) -> dict[str, int]:
    """Largest-remainder apportionment of `total` over `shares` (ties by name)."""
    weight = sum(Fraction(v) for v in shares.values())
    if total == 0 or weight == 0:
        return dict.fromkeys(shares, 0)
    exact = {k: Fraction(total) * Fraction(v) / weight for k, v in shares.items()}
    counts = {k: int(v) for k, v in exact.items()}
    left = total - sum(counts.values())
    for key in sorted(exact, key=lambda k: (-(exact[k] - counts[k]), k))[:left]:
        counts[key] += 1
    return counts


def _deal(counts: Mapping[str, int]) -> list[str]:
    """Spread labels evenly through a sequence: a,b,a,c,a,b... rather than a,a,a,b,b,c."""
    total = sum(counts.values())
    placed: list[tuple[Fraction, str]] = []
    for label, n in counts.items():
        placed += [(Fraction(2 * i + 1, 2 * n), label) for i in range(n)]
    return [label for _pos, label in sorted(placed)][:total]


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def plan_visits(
    stores: Sequence[StorePlanInput],
    first_day: date,
    last_day: date,
    slot_quotas: Mapping[str, int],
    weekend_share: int,
) -> tuple[list[PlannedVisit], list[tuple[int, str]]]:
    """Visits for every store, and (store id, slot) pairs that could not be placed
    because the store has no such slot open anywhere in the period."""
    ordered = sorted(stores, key=lambda s: s.code)
    total = sum(s.visits for s in ordered)
    slot_sequence = _deal(apportion(total, {k: slot_quotas.get(k, 0) for k in SLOTS}))
    weekend_total = apportion(total, {"weekend": weekend_share, "weekday": 100 - weekend_share})
    weekend_sequence = _deal(weekend_total)
    days = _days(first_day, last_day)
    planned: list[PlannedVisit] = []
    unplaced: list[tuple[int, str]] = []
    cursor = 0
    for store in ordered:
        for j in range(store.visits):
            slot = slot_sequence[cursor] if slot_sequence else "midday"
            wants_weekend = bool(weekend_sequence) and weekend_sequence[cursor] == "weekend"
            cursor += 1
            # Visit j of n is placed in the j-th n-th of the period, so visits spread.
            lo = len(days) * j // store.visits
            hi = max(lo + 1, len(days) * (j + 1) // store.visits)
            window = _pick_day(store, days, lo, hi, slot, wants_weekend)
            if window is None:
                unplaced.append((store.store_id, slot))
                continue
            planned.append(PlannedVisit(store.store_id, slot, *window))
    return planned, unplaced


def _pick_day(
    store: StorePlanInput, days: list[date], lo: int, hi: int, slot: str, weekend: bool
) -> tuple[datetime, datetime] | None:
    """The first day in the segment with the wanted day type on which the store has
    the slot; failing that, the nearest such day in the period, then any day type."""
    middle = (lo + hi) // 2
    in_segment = sorted(range(lo, hi), key=lambda i: abs(i - middle))
    elsewhere = sorted(range(len(days)), key=lambda i: abs(i - middle))
    for want_weekend in (weekend, not weekend):
        for index in in_segment + elsewhere:
            day = days[index]
            if (day.weekday() >= 5) != want_weekend:
                continue
            window = slot_window(store.opening_hours, store.timezone, day, slot)
            if window is not None:
                return window
    return None


def calibration_visits(
    planned: Sequence[PlannedVisit], store_codes: Mapping[int, str], share: int
) -> list[PlannedVisit]:
    """The second visits that make `share` percent of the planned stores calibration
    stores: visited twice in the same slot and window by two different shoppers.

    The number of stores is share x stores, rounded by largest remainder; they are
    spread evenly through the stores in code order (not the first few codes), and
    each copies one of its store's planned visits, taken in turn so the pairs spread
    over slots and days too. Deterministic: the same plan gives the same pairs."""
    by_store: dict[int, list[PlannedVisit]] = {}
    for visit in planned:
        by_store.setdefault(visit.store_id, []).append(visit)
    ordered = sorted(by_store, key=lambda sid: (store_codes.get(sid, ""), sid))
    count = apportion(len(ordered), {"twice": share, "once": 100 - share})["twice"]
    spread = _deal({"twice": count, "once": len(ordered) - count})
    chosen = [sid for sid, label in zip(ordered, spread, strict=True) if label == "twice"]
    return [by_store[sid][i % len(by_store[sid])] for i, sid in enumerate(chosen)]
