"""Builders for scheduling tests, and a rule checker written apart from the engine."""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta

from auditapp.scheduling import Candidate, Result, Rules, VisitSlot

MONDAY = date(2026, 3, 2)
HOME = (31.2304, 121.4737)  # Shanghai, People's Square


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(MONDAY + timedelta(days=day), datetime.min.time()) + timedelta(
        hours=hour, minutes=minute
    )


def visit(id: int = 1, **changes: object) -> VisitSlot:
    base = VisitSlot(
        id=id,
        store_id=100,
        client_id=7,
        start=at(0, 10),
        end=at(0, 11),
        required_level=1,
        lat=HOME[0],
        lng=HOME[1],
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def shopper(id: int = 1, **changes: object) -> Candidate:
    base = Candidate(
        id=id,
        active=True,
        gender="female",
        birth_year=1995,
        level=1,
        lat=HOME[0],
        lng=HOME[1],
        max_km=20.0,
        per_day=2,
        per_week=5,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def km_between(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Spherical law of cosines: a different formula from the engine's haversine."""
    a, b = math.radians(lat1), math.radians(lat2)
    c = math.sin(a) * math.sin(b) + math.cos(a) * math.cos(b) * math.cos(math.radians(lng2 - lng1))
    return 6371.0088 * math.acos(max(-1.0, min(1.0, c)))


def violations(
    result: Result, visits: list[VisitSlot], shoppers: list[Candidate], rules: Rules
) -> list[str]:
    """Every hard rule the schedule breaks, checked from scratch."""
    by_visit = {v.id: v for v in visits}
    by_shopper = {s.id: s for s in shoppers}
    found: list[str] = []
    seen = Counter(a.visit_id for a in result.assignments)
    found += [f"visit {v} staffed twice" for v, n in seen.items() if n > 1]
    mine: dict[int, list[tuple[datetime, datetime, int]]] = {s.id: [] for s in shoppers}
    for a in result.assignments:
        v, s = by_visit[a.visit_id], by_shopper[a.shopper_id]
        tag = f"visit {v.id} / shopper {s.id}"
        if not s.active:
            found.append(f"{tag}: inactive")
        if v.client_id in s.conflict_clients or v.store_id in s.conflict_stores:
            found.append(f"{tag}: conflict")
        if s.level < v.required_level:
            found.append(f"{tag}: level")
        if km_between(s.lat, s.lng, v.lat, v.lng) > s.max_km + 1e-9:
            found.append(f"{tag}: distance")
        if v.start.date() in s.unavailable_dates:
            found.append(f"{tag}: unavailable")
        need = rules.rotation_days_by_client.get(v.client_id, rules.default_rotation_days)
        before = [d for st, d in s.last_visit_by_store.items() if st == v.store_id]
        before += [b[0].date() for b in s.existing if b[2] == v.store_id]
        if any(abs((v.start.date() - d).days) < need for d in before):
            found.append(f"{tag}: rotation")
        mine[s.id].append((v.start, v.end, v.store_id))
    for s in shoppers:
        new = mine[s.id]
        everything = sorted(new + list(s.existing))
        for (s1, e1, _), (s2, e2, _) in zip(everything, everything[1:], strict=False):
            if s2 < e1:
                found.append(f"shopper {s.id}: overlap {s1}-{e1} and {s2}-{e2}")
        days = Counter(b[0].date() for b in everything)
        weeks = Counter(tuple(b[0].isocalendar())[:2] for b in everything)
        found += [f"shopper {s.id}: {n} visits on {d}" for d, n in days.items() if n > s.per_day]
        found += [f"shopper {s.id}: {n} in week {w}" for w, n in weeks.items() if n > s.per_week]
        in_wave = [
            b[2]
            for b in s.existing
            if rules.wave_start
            and rules.wave_end
            and rules.wave_start <= b[0].date() <= rules.wave_end
        ]
        stores = Counter([b[2] for b in new] + in_wave)
        found += [f"shopper {s.id}: store {st} twice" for st, n in stores.items() if n > 1]
    return found


def random_instance(
    rng: random.Random, n_visits: int, n_shoppers: int, n_stores: int = 4, days: int = 10
) -> tuple[list[VisitSlot], list[Candidate], Rules]:
    """A crowded little wave: few stores, shared time slots, tight limits."""
    stores = [
        (
            100 + i,
            rng.randint(1, 2),
            HOME[0] + rng.uniform(-0.1, 0.1),
            HOME[1] + rng.uniform(-0.1, 0.1),
        )
        for i in range(n_stores)
    ]
    visits = []
    for vid in range(1, n_visits + 1):
        store, client, lat, lng = rng.choice(stores)
        day, hour = rng.randrange(days), rng.choice((10, 10, 11, 12))
        start = at(day, hour, rng.choice((0, 30)))
        visits.append(
            VisitSlot(
                id=vid,
                store_id=store,
                client_id=client,
                start=start,
                end=start + timedelta(minutes=rng.choice((45, 60, 90))),
                required_level=rng.choice((1, 1, 2)),
                lat=lat,
                lng=lng,
                target_female_pct=rng.choice((None, 30.0, 70.0)),
                target_age_bands=rng.choice(((), ("25-34",), ("45+",))),
            )
        )
    shoppers = []
    for sid in range(1, n_shoppers + 1):
        existing = []
        if rng.random() < 0.3:
            st = rng.choice(stores)[0]
            start = at(rng.randrange(days), rng.choice((10, 12)))
            existing.append((start, start + timedelta(hours=1), st))
        shoppers.append(
            Candidate(
                id=sid,
                active=rng.random() < 0.9,
                gender=rng.choice(("female", "male", None)),
                birth_year=rng.choice((None, 1970, 1990, 2000)),
                level=rng.choice((1, 2)),
                lat=HOME[0] + rng.uniform(-0.1, 0.1),
                lng=HOME[1] + rng.uniform(-0.1, 0.1),
                max_km=rng.choice((8.0, 15.0, 30.0)),
                per_day=rng.randint(1, 2),
                per_week=rng.randint(1, 4),
                conflict_clients=frozenset({2} if rng.random() < 0.1 else ()),
                conflict_stores=frozenset({stores[0][0]} if rng.random() < 0.1 else ()),
                last_visit_by_store={
                    st: MONDAY - timedelta(days=rng.randint(1, 60))
                    for st, *_ in stores
                    if rng.random() < 0.2
                },
                unavailable_dates=frozenset(
                    MONDAY + timedelta(days=rng.randrange(days)) for _ in range(rng.randint(0, 2))
                ),
                existing=tuple(existing),
            )
        )
    rules = Rules(
        rotation_days_by_client={1: 30},
        default_rotation_days=45,
        wave_start=MONDAY,
        wave_end=MONDAY + timedelta(days=days - 1),
    )
    return visits, shoppers, rules
