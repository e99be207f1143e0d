"""The bridge between the database and the pure scheduling engine: build the
engine's view of a wave's visits and the shopper pool, run it, write its answer."""

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...models import Client, ShopperProfile, User, utcnow
from ...models.waves import (
    ASSIGNED,
    CANCELLED,
    MISSED,
    PLANNED,
    ShopperAbsence,
    Visit,
    Wave,
)
from ...scheduling import Candidate, Ranking, Result, Rules, VisitSlot, auto_schedule, explain, rank
from ...scheduling.eligibility import distance_km
from .assignments import VisitOverlap, VisitTaken, take_visit

# Bookings this far either side of the wave still matter for capacity and rotation.
MARGIN = timedelta(days=120)


def _float(value: object, default: float = 0.0) -> float:
    return default if value is None else float(value)  # type: ignore[arg-type]


def local(moment: datetime, timezone: str) -> datetime:
    """An aware time in the store's zone: the engine takes a visit's *day* (capacity,
    rotation, absences, "once per wave") from its start, and that day is the store's
    calendar day, not UTC's (07:00 in Shanghai is 23:00 UTC the day before)."""
    return moment.astimezone(ZoneInfo(timezone))


def visit_slot(visit: Visit) -> VisitSlot:
    store, wave = visit.store, visit.wave
    return VisitSlot(
        id=visit.id,
        store_id=store.id,
        client_id=store.client_id,
        start=local(visit.window_start, store.timezone),
        end=local(visit.window_end, store.timezone),
        required_level=wave.required_level,
        lat=_float(store.latitude),
        lng=_float(store.longitude),
        target_female_pct=store.target_female_pct,
        target_age_bands=tuple(store.target_age_bands or ()),
    )


def candidates(
    max_km: float, around: tuple[date, date], only: int | None = None
) -> list[Candidate]:
    """Every shopper (or only the one with profile id `only`) as the engine sees them,
    with bookings and absences near the period. Bookings are read far enough back for
    the longest rotation of any client."""
    longest = db.session.scalar(select(func.max(Client.rotation_days))) or 0
    margin = max(MARGIN, timedelta(days=longest + 1))
    first, last = around[0] - margin, around[1] + margin
    query = select(ShopperProfile).options(
        selectinload(ShopperProfile.conflicts), selectinload(ShopperProfile.user)
    )
    if only is not None:
        query = query.where(ShopperProfile.id == only)
    profiles = db.session.scalars(query).all()
    booked = _bookings(first, last, only)
    absent = _absent_days(around, only)
    return [_candidate(p, booked.get(p.id, []), absent.get(p.id, set()), max_km) for p in profiles]


def _bookings(first: date, last: date, only: int | None) -> dict[int, list[Visit]]:
    """Each shopper's visits (not cancelled or missed) starting between the two days."""
    booked: dict[int, list[Visit]] = defaultdict(list)
    rows = db.session.scalars(
        select(Visit)
        .options(selectinload(Visit.store))
        .where(
            Visit.shopper_id.is_not(None) if only is None else Visit.shopper_id == only,
            Visit.status.not_in((CANCELLED, MISSED)),
            Visit.window_start >= _midnight(first),
            Visit.window_start <= _midnight(last),
        )
    )
    for visit in rows:
        booked[visit.shopper_id or 0].append(visit)
    return booked


def _absent_days(around: tuple[date, date], only: int | None) -> dict[int, set[date]]:
    absent: dict[int, set[date]] = defaultdict(set)
    absences = select(ShopperAbsence).where(
        ShopperAbsence.last_day >= around[0], ShopperAbsence.first_day <= around[1]
    )
    if only is not None:
        absences = absences.where(ShopperAbsence.shopper_id == only)
    for a in db.session.scalars(absences):
        absent[a.shopper_id] |= {
            a.first_day + timedelta(days=i) for i in range((a.last_day - a.first_day).days + 1)
        }
    return absent


def _candidate(
    p: ShopperProfile, visits: list[Visit], absent: set[date], max_km: float
) -> Candidate:
    last_by_store: dict[int, date] = {}
    for v in visits:
        day = local(v.window_start, v.store.timezone).date()
        last_by_store[v.store_id] = max(day, last_by_store.get(v.store_id, day))
    return Candidate(
        id=p.id,
        active=p.active and p.user.active,
        gender=p.gender if p.gender in ("female", "male") else None,
        birth_year=p.birth_year,
        level=p.certification_level,
        lat=_float(p.home_latitude),
        lng=_float(p.home_longitude),
        max_km=min(float(p.max_travel_km), max_km),
        per_day=p.max_visits_per_day,
        per_week=p.max_visits_per_week,
        conflict_clients=frozenset(c.client_id for c in p.conflicts if c.client_id),
        conflict_stores=frozenset(c.store_id for c in p.conflicts if c.store_id),
        last_visit_by_store=last_by_store,
        unavailable_dates=frozenset(absent),
        existing=tuple(
            (
                local(v.window_start, v.store.timezone),
                local(v.window_end, v.store.timezone),
                v.store_id,
            )
            for v in visits
        ),
    )


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def rules_for(wave: Wave) -> Rules:
    rotation = {c.id: c.rotation_days for c in db.session.scalars(select(Client))}
    return Rules(rotation_days_by_client=rotation, wave_start=wave.starts_on, wave_end=wave.ends_on)


def open_visits(wave: Wave) -> list[Visit]:
    return list(
        db.session.scalars(
            select(Visit)
            .options(selectinload(Visit.store), selectinload(Visit.wave))
            .where(Visit.wave_id == wave.id, Visit.status == PLANNED)
            .order_by(Visit.id)
        )
    )


@dataclass
class ScheduleOutcome:
    result: Result
    written: int
    lost: int  # assignments that could not be written (taken meanwhile)


def schedule_wave(wave: Wave, actor: User, time_limit: float = 20.0) -> ScheduleOutcome:
    """Fills the wave's open visits as well as the rules allow and writes the result."""
    visits = open_visits(wave)
    slots = [visit_slot(v) for v in visits]
    pool = candidates(wave.max_travel_km, (wave.starts_on, wave.ends_on))
    result = auto_schedule(slots, pool, rules_for(wave), time_limit_s=time_limit)
    shoppers = {p.id: p for p in db.session.scalars(select(ShopperProfile))}
    written = lost = 0
    for a in result.assignments:
        try:
            take_visit(a.visit_id, shoppers[a.shopper_id], actor, ASSIGNED)
            written += 1
        except (VisitTaken, VisitOverlap):
            lost += 1
    return ScheduleOutcome(result, written, lost)


def ranking(visit: Visit) -> Ranking:
    """Eligible shoppers for one visit, best first, and why the others are excluded."""
    wave = visit.wave
    pool = candidates(wave.max_travel_km, (wave.starts_on, wave.ends_on))
    return rank(visit_slot(visit), pool, rules_for(wave))


def shopboard(shopper: ShopperProfile) -> list[tuple[Visit, float]]:
    """Open visits this shopper may claim now, nearest first."""
    now = utcnow()
    visits = db.session.scalars(
        select(Visit)
        .options(selectinload(Visit.store), selectinload(Visit.wave))
        .join(Wave)
        .where(Visit.status == PLANNED, Visit.window_start > now, Wave.status == "open")
    ).all()
    if not visits:
        return []
    # UTC dates, padded by a day: a store's local day may differ from UTC's by one.
    first = min(v.window_start.date() for v in visits) - timedelta(days=1)
    last = max(v.window_start.date() for v in visits) + timedelta(days=1)
    me = candidates(10_000, (first, last), only=shopper.id)[0]
    rotation = {c.id: c.rotation_days for c in db.session.scalars(select(Client))}
    rules: dict[int, Rules] = {}
    board = []
    for visit in visits:
        wave = visit.wave
        if wave.id not in rules:  # one Rules per wave, not a query per visit
            rules[wave.id] = Rules(
                rotation_days_by_client=rotation, wave_start=wave.starts_on, wave_end=wave.ends_on
            )
        slot = visit_slot(visit)
        wave_limit = min(me.max_km, float(wave.max_travel_km))
        mine = replace(me, max_km=wave_limit)
        if not explain(slot, mine, rules[wave.id]):
            board.append((visit, distance_km(slot, mine)))
    board.sort(key=lambda item: (item[1], item[0].window_start))
    return board


def exclusion_reasons(visit: Visit, shopper: ShopperProfile) -> list[str]:
    wave = visit.wave
    me = candidates(wave.max_travel_km, (wave.starts_on, wave.ends_on), only=shopper.id)[0]
    return [r.text for r in explain(visit_slot(visit), me, rules_for(wave))]
