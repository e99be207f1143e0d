"""Benchmark: auto-schedule a synthetic month-long wave and compare the fill with a bound.

    .venv/bin/python bench/schedule_wave.py [--runs 3] [--seed 7] [--time-limit 6]
    .venv/bin/python bench/schedule_wave.py --smoke     # a fifth of the size, 1 run, seconds

Builds (seeded) 1,500 stores in 8 Chinese cities, 600 shoppers living there with
rotation history, conflicts, availability and a few bookings from other programmes,
and 5,000 visits over March 2026 in opening / midday / peak / closing windows. Runs
``auto_schedule`` several times and prints the median, min and max wall time.

The reference is an upper bound on the number of visits that can be filled, computed
independently of the engine: this file applies the hard rules with its own numpy code,
then solves a max-flow relaxation (source -> visit -> shopper-day -> shopper-week ->
sink, dropping the overlap and once-per-store limits) with OR-Tools' SimpleMaxFlow, a
combinatorial push-relabel algorithm, not the engine's CP-SAT. No schedule can fill
more than that; the ratio fill / bound is the engine's share of the best possible.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
from ortools.graph.python import max_flow
from ortools.linear_solver import linear_solver_pb2, pywraplp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from auditapp.scheduling import Candidate, Result, Rules, VisitSlot, auto_schedule  # noqa: E402

CITIES = (  # name, lat, lng, share of stores and shoppers
    ("Shanghai", 31.2304, 121.4737, 0.20),
    ("Beijing", 39.9042, 116.4074, 0.18),
    ("Guangzhou", 23.1291, 113.2644, 0.13),
    ("Shenzhen", 22.5431, 114.0579, 0.13),
    ("Chengdu", 30.5728, 104.0668, 0.10),
    ("Hangzhou", 30.2741, 120.1551, 0.09),
    ("Wuhan", 30.5928, 114.3055, 0.09),
    ("Nanjing", 32.0603, 118.7969, 0.08),
)
WAVE_START, WAVE_END = date(2026, 3, 1), date(2026, 3, 31)
ROTATION = {1: 30, 2: 60, 3: 90, 4: 45}  # client 5 uses the default, 90
N_STORES, N_SHOPPERS, N_VISITS = 1500, 600, 5000
SMOKE_SIZE = (300, 120, 1000)  # a fifth of each: the same mix, seconds to schedule
AGE_BANDS = (("18-24", "25-34"), ("25-34",), ("25-34", "35-44"), ("35-44", "45-54"), ("55+",))


def _place(rng: random.Random, city: int, spread: float) -> tuple[float, float]:
    _name, lat, lng, _share = CITIES[city]
    return rng.gauss(lat, spread), rng.gauss(lng, spread * 1.15)


def _city(rng: random.Random) -> int:
    return rng.choices(range(len(CITIES)), weights=[c[3] for c in CITIES])[0]


def _slot(rng: random.Random, day: date, kind: int, opens: int, closes: int) -> tuple[int, int]:
    """Start and end (minutes after midnight) of an opening/midday/peak/closing window."""
    weekend = day.weekday() >= 5
    if kind == 0:
        start = opens * 60 + rng.choice((0, 15, 30))
    elif kind == 1:
        start = 12 * 60 + rng.choice((0, 30))
    elif kind == 2:
        start = (15 if weekend else 18) * 60 + rng.choice((0, 30))
    else:
        start = closes * 60 - 75 + rng.choice((0, 15))
    return start, start + 60


def build(
    seed: int, n_stores: int = N_STORES, n_shoppers: int = N_SHOPPERS, n_visits: int = N_VISITS
) -> tuple[list[VisitSlot], list[Candidate], Rules]:
    rng = random.Random(seed)
    days = [WAVE_START + timedelta(n) for n in range((WAVE_END - WAVE_START).days + 1)]

    stores = []  # (id, client, city, lat, lng, tier, opens, closes, female_pct, bands)
    for sid in range(1, n_stores + 1):
        city = _city(rng)
        lat, lng = _place(rng, city, 0.30 if rng.random() < 0.06 else 0.08)
        tier = rng.choices("ABC", weights=(0.2, 0.4, 0.4))[0]
        profile = rng.choice((None, 30.0, 50.0, 65.0, 80.0))
        stores.append(
            (
                sid,
                rng.randint(1, 5),
                city,
                lat,
                lng,
                tier,
                rng.choice((9, 10)),
                rng.choice((21, 22)),
                profile,
                rng.choice(AGE_BANDS),
            )  # fmt: skip
        )
    by_city: dict[int, list[int]] = defaultdict(list)
    for s in stores:
        by_city[s[2]].append(s[0])

    visits: list[VisitSlot] = []
    per_tier = {"A": 6, "B": 3, "C": 2}
    plan = [s for s in stores for _ in range(per_tier[s[5]])]
    rng.shuffle(plan)
    plan = (plan * 2)[:n_visits]
    for vid, (sid, client, _c, lat, lng, tier, opens, closes, female, bands) in enumerate(
        sorted(plan, key=lambda s: s[0]), start=1
    ):
        day = rng.choice(days)
        start, end = _slot(rng, day, vid % 4, opens, closes)
        midnight = datetime.combine(day, datetime.min.time())
        level = 3 if rng.random() < 0.08 else (2 if tier == "A" else 1)
        visits.append(
            VisitSlot(vid, sid, client, midnight + timedelta(minutes=start),
                      midnight + timedelta(minutes=end), level, lat, lng, female, bands)
        )  # fmt: skip

    shoppers: list[Candidate] = []
    for cid in range(1, n_shoppers + 1):
        city = _city(rng)
        lat, lng = _place(rng, city, 0.10)
        local = by_city[city]
        history = {
            store: WAVE_START - timedelta(rng.randint(1, 120))
            for store in rng.sample(local, min(len(local), rng.randint(5, 20)))
        }
        existing = []
        if rng.random() < 0.10:
            for store in rng.sample(local, rng.randint(1, 3)):
                day = rng.choice(days)
                start = datetime.combine(day, datetime.min.time()) + timedelta(hours=14)
                existing.append((start, start + timedelta(hours=1), store))
        shoppers.append(
            Candidate(
                id=cid,
                active=rng.random() < 0.97,
                gender="female" if rng.random() < 0.6 else "male",
                birth_year=rng.randint(1965, 2005),
                level=rng.choices((1, 2, 3), weights=(0.55, 0.30, 0.15))[0],
                lat=lat,
                lng=lng,
                max_km=rng.choice((8.0, 12.0, 15.0, 20.0, 30.0)),
                per_day=rng.randint(2, 3),
                per_week=rng.randint(5, 8),
                conflict_clients=frozenset({rng.randint(1, 5)} if rng.random() < 0.03 else ()),
                conflict_stores=frozenset(
                    rng.sample(local, rng.randint(1, 3)) if rng.random() < 0.05 else ()
                ),
                last_visit_by_store=history,
                unavailable_dates=frozenset(rng.sample(days, rng.randint(3, 8))),
                existing=tuple(sorted(existing)),
            )
        )
    rules = Rules(rotation_days_by_client=ROTATION, wave_start=WAVE_START, wave_end=WAVE_END)
    return visits, shoppers, rules


# --- the independent bound -----------------------------------------------------------


def _eligible(visits: list[VisitSlot], shoppers: list[Candidate], rules: Rules) -> list[list[int]]:
    """The hard rules again, written separately from the engine (numpy + plain loops)."""
    lat = np.radians([s.lat for s in shoppers])
    lng = np.radians([s.lng for s in shoppers])
    max_km = np.array([s.max_km for s in shoppers])
    level = np.array([s.level for s in shoppers])
    active = np.array([s.active for s in shoppers])
    out = []
    for v in visits:
        vlat, vlng = np.radians(v.lat), np.radians(v.lng)
        h = (
            np.sin((lat - vlat) / 2) ** 2
            + np.cos(lat) * np.cos(vlat) * np.sin((lng - vlng) / 2) ** 2
        )
        km = 2 * 6371.0088 * np.arcsin(np.sqrt(h))
        ok = []
        for i in np.flatnonzero(active & (level >= v.required_level) & (km <= max_km)):
            s = shoppers[i]
            if v.client_id in s.conflict_clients or v.store_id in s.conflict_stores:
                continue
            if v.start.date() in s.unavailable_dates:
                continue
            need = ROTATION.get(v.client_id, 90)
            seen = [d for d in [s.last_visit_by_store.get(v.store_id)] if d] + [
                b[0].date() for b in s.existing if b[2] == v.store_id
            ]
            if any(abs((v.start.date() - d).days) < need for d in seen):
                continue
            if any(b[0] < v.end and v.start < b[1] for b in s.existing):
                continue
            same_day = sum(b[0].date() == v.start.date() for b in s.existing)
            same_week = sum(b[0].isocalendar()[:2] == v.start.isocalendar()[:2] for b in s.existing)
            if same_day >= s.per_day or same_week >= s.per_week:
                continue
            ok.append(int(i))
        out.append(ok)
    return out


def flow_bound(
    visits: list[VisitSlot], shoppers: list[Candidate], eligible: list[list[int]]
) -> int:
    flow = max_flow.SimpleMaxFlow()
    nodes: dict[tuple[object, ...], int] = {}

    def node(key: tuple[object, ...]) -> int:
        return nodes.setdefault(key, len(nodes))

    src, sink = node(("source",)), node(("sink",))
    for v, ok in zip(visits, eligible, strict=True):
        if not ok:
            continue
        flow.add_arc_with_capacity(src, node(("visit", v.id)), 1)
        week = v.start.isocalendar()[:2]
        for i in ok:
            s = shoppers[i]
            day_node, week_node = node(("day", s.id, v.start.date())), node(("week", s.id, week))
            flow.add_arc_with_capacity(node(("visit", v.id)), day_node, 1)
            if ("dw", day_node) not in nodes:
                used = sum(b[0].date() == v.start.date() for b in s.existing)
                flow.add_arc_with_capacity(day_node, week_node, s.per_day - used)
                node(("dw", day_node))
            if ("ws", week_node) not in nodes:
                used = sum(b[0].isocalendar()[:2] == week for b in s.existing)
                flow.add_arc_with_capacity(week_node, sink, s.per_week - used)
                node(("ws", week_node))
    if flow.solve(src, sink) != flow.OPTIMAL:
        raise RuntimeError("max flow failed")
    return int(flow.optimal_flow())


def exact_fill(
    visits: list[VisitSlot], shoppers: list[Candidate], eligible: list[list[int]]
) -> tuple[int, float]:
    """The most visits any schedule can fill, every hard rule kept, solved as a MIP by
    HiGHS (branch and cut), not by the engine's LP + CP-SAT. Overlap is written as
    "for each eligible visit, at most one of the shopper's visits running at its start",
    unlike the engine's interval cliques. Returns (best fill, proven bound)."""
    request = linear_solver_pb2.MPModelRequest()
    request.solver_type = linear_solver_pb2.MPModelRequest.HIGHS_MIXED_INTEGER_PROGRAMMING
    request.solver_time_limit_seconds = 120
    model = request.model
    model.maximize = True
    rows: dict[tuple[object, ...], list[int]] = defaultdict(list)
    limits: dict[tuple[object, ...], int] = {}
    mine: dict[int, list[tuple[VisitSlot, int]]] = defaultdict(list)
    for v, ok in zip(visits, eligible, strict=True):
        for i in ok:
            s = shoppers[i]
            k = len(model.variable)
            model.variable.add(
                lower_bound=0, upper_bound=1, objective_coefficient=1, is_integer=True
            )
            day, week = v.start.date(), v.start.isocalendar()[:2]
            for key, limit in (
                (("visit", v.id), 1),
                (("day", s.id, day), s.per_day - sum(b[0].date() == day for b in s.existing)),
                (("week", s.id, week),
                 s.per_week - sum(b[0].isocalendar()[:2] == week for b in s.existing)),
                (("store", s.id, v.store_id), 1),
            ):  # fmt: skip
                rows[key].append(k)
                limits[key] = limit
            mine[s.id].append((v, k))
    for sid, booked in mine.items():
        for v, _k in booked:
            running = [k for w, k in booked if w.start <= v.start < w.end]
            rows[("at", sid, v.id)] = running
            limits[("at", sid, v.id)] = 1
    for key, ks in rows.items():
        if len(ks) > limits[key]:
            row = model.constraint.add(lower_bound=-math.inf, upper_bound=limits[key])
            row.var_index.extend(ks)
            row.coefficient.extend([1.0] * len(ks))
    response = linear_solver_pb2.MPSolutionResponse()
    pywraplp.Solver.SolveWithProto(request, response)
    return round(response.objective_value), response.best_objective_bound


def check(result: Result, visits: list[VisitSlot], shoppers: list[Candidate]) -> None:
    """Spot-check the schedule: no double booking, limits kept."""
    by_visit = {v.id: v for v in visits}
    booked: dict[int, list[VisitSlot]] = defaultdict(list)
    for a in result.assignments:
        booked[a.shopper_id].append(by_visit[a.visit_id])
    for s in shoppers:
        mine = sorted(booked[s.id], key=lambda v: v.start)
        for a, b in zip(mine, mine[1:], strict=False):
            assert a.end <= b.start, f"shopper {s.id} double-booked"
        days = defaultdict(int)
        for v in mine:
            days[v.start.date()] += 1
        assert all(n <= s.per_day for n in days.values()), f"shopper {s.id} over daily limit"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--time-limit", type=float, default=None)
    parser.add_argument("--no-exact", dest="exact", action="store_false",
                        help="skip the exact MIP reference (slowest part)")  # fmt: skip
    parser.add_argument("--smoke", action="store_true",
                        help="300 stores, 120 shoppers, 1,000 visits, 1 run")  # fmt: skip
    args = parser.parse_args()
    size = (N_STORES, N_SHOPPERS, N_VISITS)
    if args.smoke:  # the exact optimum stays: at this size HiGHS needs well under a second
        size, args.runs = SMOKE_SIZE, 1

    visits, shoppers, rules = build(args.seed, *size)
    n_stores = len({v.store_id for v in visits})
    print(f"{len(visits)} visits, {n_stores} stores, {len(shoppers)} shoppers")
    kwargs = {} if args.time_limit is None else {"time_limit_s": args.time_limit}
    seconds, result = [], None
    for run in range(args.runs):
        began = time.perf_counter()
        result = auto_schedule(visits, shoppers, rules, **kwargs)
        seconds.append(time.perf_counter() - began)
        s = result.stats
        print(
            f"run {run + 1}: {seconds[-1]:.2f} s, filled {s.filled}, pairs {s.eligible_pairs}, "
            f"components {s.components} ({s.optimal_components} proven optimal), "
            f"preference {s.preference_total}"
        )
    assert result is not None
    check(result, visits, shoppers)
    began = time.perf_counter()
    eligible = _eligible(visits, shoppers, rules)
    bound = flow_bound(visits, shoppers, eligible)
    bound_s = time.perf_counter() - began
    filled = result.stats.filled
    reasons = defaultdict(int)
    for u in result.unfilled:
        reasons[u.reason_code] += 1
    print(
        f"seconds: median {statistics.median(seconds):.2f}, "
        f"min {min(seconds):.2f}, max {max(seconds):.2f}"
    )
    print(f"fill: {filled}/{len(visits)} = {filled / len(visits):.1%}")
    print(f"upper bound (max-flow relaxation, {bound_s:.1f} s): {bound}")
    print(f"ratio fill / bound: {filled / bound:.4f}")
    print(f"engine's own LP bound: {result.stats.fill_upper_bound}")
    # No schedule fills more than a bound: a fill above one means the engine broke a rule.
    problems = [] if filled <= bound else [f"fill {filled} above the max-flow bound {bound}"]
    if args.exact:
        began = time.perf_counter()
        best, proven = exact_fill(visits, shoppers, eligible)
        print(
            f"exact optimum (HiGHS MIP, {time.perf_counter() - began:.1f} s): {best} "
            f"(bound {proven:.1f}); ratio fill / optimum: {filled / best:.4f}"
        )
        if filled > proven + 1e-6:
            problems.append(f"fill {filled} above the MIP's proven bound {proven:.1f}")
    print("unfilled by reason: " + ", ".join(f"{k} {n}" for k, n in sorted(reasons.items())))
    if problems:
        sys.exit("check FAILED: " + "; ".join(problems))


if __name__ == "__main__":
    main()
