"""Who may do a visit, why not, and how well they fit.

Every hard rule is a small function returning a ``Reason`` or None, so each exclusion
can be shown to a coordinator in words. ``explain`` runs them all; ``rank`` orders the
eligible shoppers for a direct-assignment screen. ``eligible_pairs`` (pairs.py) is the
same rules run in bulk for the solver.

Preference (soft, 0..100 points): 70 for resembling the store's target customer
(gender share and age bands, averaged over whichever the store specifies) and 30 for
living close (linear in distance, 0 at the shopper's limit). Spreading work fairly is a
property of the whole schedule, so the solver handles it (``Rules.fairness_weight``);
``rank`` breaks ties by how many visits a shopper already has.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta

from auditapp.scheduling.model import (
    Candidate,
    Excluded,
    Ranked,
    Ranking,
    Reason,
    Rules,
    VisitSlot,
    parse_age_band,
)

EARTH_RADIUS_KM = 6371.0088
DEMOGRAPHIC_POINTS = 70
DISTANCE_POINTS = 30
AGE_FADE_YEARS = 10  # outside every band, the age match fades to 0 over this many years


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def distance_km(visit: VisitSlot, candidate: Candidate) -> float:
    return haversine_km(candidate.lat, candidate.lng, visit.lat, visit.lng)


def visit_days(start: datetime, end: datetime) -> list[date]:
    """Every calendar day the window touches (an end at midnight touches no new day)."""
    first, last = start.date(), (end - timedelta(microseconds=1)).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _week(day: date) -> tuple[int, int]:
    iso = day.isocalendar()
    return iso.year, iso.week


# --- who the shopper is -------------------------------------------------------------


def check_active(v: VisitSlot, c: Candidate, r: Rules) -> Reason | None:
    return None if c.active else Reason("inactive")


def check_conflict_client(v: VisitSlot, c: Candidate, r: Rules) -> Reason | None:
    if v.client_id in c.conflict_clients:
        return Reason("conflict_client", (("client_id", v.client_id),))
    return None


def check_conflict_store(v: VisitSlot, c: Candidate, r: Rules) -> Reason | None:
    if v.store_id in c.conflict_stores:
        return Reason("conflict_store", (("store_id", v.store_id),))
    return None


def check_rotation(v: VisitSlot, c: Candidate, r: Rules) -> Reason | None:
    """Not the same store within N days of a past visit or another booking, either way."""
    need = r.rotation_days(v.client_id)
    days = [day for s, _e, store in c.existing if store == v.store_id for day in [s.date()]]
    last = c.last_visit_by_store.get(v.store_id)
    if last is not None:
        days.append(last)
    if not days:
        return None
    closest = min(days, key=lambda d: (abs((v.day - d).days), d))
    apart = abs((v.day - closest).days)
    if apart >= need:
        return None
    params = (
        ("last_visit", closest.isoformat()),
        ("days_apart", apart),
        ("rotation_days", need),
    )
    return Reason("rotation", params)


def check_same_store_in_wave(v: VisitSlot, c: Candidate, r: Rules) -> Reason | None:
    for s, _e, store in c.existing:
        if store == v.store_id and r.in_wave(s.date()):
            return Reason("same_store_in_wave", (("day", s.date().isoformat()),))
    return None


def check_level(v: VisitSlot, c: Candidate, r: Rules) -> Reason | None:
    if c.level >= v.required_level:
        return None
    return Reason("level", (("required_level", v.required_level), ("level", c.level)))


def check_distance(v: VisitSlot, c: Candidate, r: Rules) -> Reason | None:
    km = distance_km(v, c)
    if km <= c.max_km:
        return None
    return Reason("distance", (("distance_km", round(km, 1)), ("max_km", c.max_km)))


def check_unavailable(v: VisitSlot, c: Candidate, r: Rules) -> Reason | None:
    for day in visit_days(v.start, v.end):
        if day in c.unavailable_dates:
            return Reason("unavailable", (("day", day.isoformat()),))
    return None


# --- what the shopper is already doing ----------------------------------------------


def check_capacity_day(v: VisitSlot, c: Candidate, r: Rules) -> Reason | None:
    booked = sum(1 for s, _e, _st in c.existing if s.date() == v.day)
    if booked < c.per_day:
        return None
    return Reason(
        "capacity_day", (("booked", booked), ("day", v.day.isoformat()), ("limit", c.per_day))
    )


def check_capacity_week(v: VisitSlot, c: Candidate, r: Rules) -> Reason | None:
    week = _week(v.day)
    booked = sum(1 for s, _e, _st in c.existing if _week(s.date()) == week)
    if booked < c.per_week:
        return None
    label = f"{week[0]}-W{week[1]:02d}"
    return Reason("capacity_week", (("booked", booked), ("week", label), ("limit", c.per_week)))


def check_overlap(v: VisitSlot, c: Candidate, r: Rules) -> Reason | None:
    for s, e, _store in sorted(c.existing):
        if s < v.end and v.start < e:
            return Reason("overlap", (("other_start", _stamp(s)), ("other_end", _stamp(e))))
    return None


Check = Callable[[VisitSlot, Candidate, Rules], Reason | None]

# In reasons.CODES order.
CHECKS: tuple[Check, ...] = (
    check_active,
    check_conflict_client,
    check_conflict_store,
    check_rotation,
    check_same_store_in_wave,
    check_level,
    check_distance,
    check_unavailable,
    check_capacity_day,
    check_capacity_week,
    check_overlap,
)
# The checks the bulk path (pairs.py) cannot do with arrays: all but active/level/distance.
PERSONAL_CHECKS: tuple[Check, ...] = tuple(
    check for check in CHECKS if check not in (check_active, check_level, check_distance)
)


def explain(visit: VisitSlot, candidate: Candidate, rules: Rules) -> list[Reason]:
    """Every hard rule that keeps this shopper off this visit; empty means eligible."""
    return [reason for check in CHECKS if (reason := check(visit, candidate, rules))]


# --- preference -----------------------------------------------------------------------


def _gender_fit(target_female_pct: float, gender: str | None) -> float:
    if gender == "female":
        return target_female_pct / 100
    if gender == "male":
        return 1 - target_female_pct / 100
    return 0.5


def _age_fit(bands: Iterable[str], birth_year: int | None, year: int) -> float:
    if birth_year is None:
        return 0.5
    age = year - birth_year
    gap = min(max(low - age, age - high, 0) for low, high in map(parse_age_band, bands))
    return max(0.0, 1 - gap / AGE_FADE_YEARS)


def preference(visit: VisitSlot, candidate: Candidate, km: float | None = None) -> int:
    """How well this shopper fits this visit, 0..100 (higher is better)."""
    fits: list[float] = []
    if visit.target_female_pct is not None:
        fits.append(_gender_fit(visit.target_female_pct, candidate.gender))
    if visit.target_age_bands:
        fits.append(_age_fit(visit.target_age_bands, candidate.birth_year, visit.start.year))
    demographic = sum(fits) / len(fits) if fits else 1.0
    if km is None:
        km = distance_km(visit, candidate)
    closeness = 1.0 if candidate.max_km <= 0 else max(0.0, 1 - km / candidate.max_km)
    return round(DEMOGRAPHIC_POINTS * demographic + DISTANCE_POINTS * closeness)


def _booked_in_wave(cand: Candidate, rules: Rules) -> int:
    if rules.wave_start is None or rules.wave_end is None:
        return len(cand.existing)
    return sum(1 for s, _e, _st in cand.existing if rules.in_wave(s.date()))


def rank(visit: VisitSlot, candidates: Iterable[Candidate], rules: Rules) -> Ranking:
    """Eligible shoppers best first (preference, then fewest bookings in the wave, then
    nearest), and the excluded ones with every reason, by shopper id."""
    eligible: list[Ranked] = []
    excluded: list[Excluded] = []
    for cand in sorted(candidates, key=lambda c: c.id):
        reasons = explain(visit, cand, rules)
        if reasons:
            excluded.append(Excluded(cand.id, tuple(reasons)))
            continue
        km = distance_km(visit, cand)
        booked = _booked_in_wave(cand, rules)
        eligible.append(Ranked(cand.id, preference(visit, cand, km), round(km, 2), booked))
    eligible.sort(key=lambda x: (-x.preference, x.booked, x.distance_km, x.shopper_id))
    return Ranking(tuple(eligible), tuple(excluded))
