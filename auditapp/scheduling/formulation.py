"""The integer program for one connected component of the eligibility graph.

Variables are the eligible pairs only (x[k] for pairs[k]). Every hard rule that
involves more than one pair becomes a "sum of these x <= limit" group, so the LP and
the CP-SAT model are built from the same list:

* one visit: at most 1 shopper;
* one shopper and day / ISO week: at most the limit minus visits already booked;
* one shopper and store: at most 1 (once per store per wave);
* one shopper and maximal set of mutually overlapping windows: at most 1.

Objective (maximised, integers): ``weight`` per filled visit plus its preference,
minus ``fairness_weight`` per visit a shopper takes above the fair share (visits /
shoppers of the component). ``weight`` exceeds the whole range the rest can take, so
one more filled visit always beats any gain in preference: the order is lexicographic.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from auditapp.scheduling.load import Load, iso_week
from auditapp.scheduling.model import Candidate, Rules, VisitSlot
from auditapp.scheduling.pairs import Pair

MAX_PREFERENCE = 100


@dataclass(frozen=True)
class Component:
    visits: tuple[int, ...]
    pairs: tuple[Pair, ...]
    groups: tuple[tuple[tuple[int, ...], int], ...]  # (pair indices, limit)
    loads: tuple[tuple[int, ...], ...]  # pair indices of each shopper with > fair share
    fair_share: int
    fairness_weight: int
    weight: int

    def gain(self, k: int) -> int:
        return self.weight + self.pairs[k].preference

    def objective(self, chosen: Iterable[int]) -> int:
        picked = set(chosen)
        total = sum(self.gain(k) for k in picked)
        for ks in self.loads:
            total -= self.fairness_weight * max(0, sum(k in picked for k in ks) - self.fair_share)
        return total

    def filled_bound(self, objective_bound: float) -> int:
        """The most visits any schedule with objective <= ``objective_bound`` can fill."""
        slack = self.fairness_weight * len(self.visits)
        return min(len(self.visits), math.floor((objective_bound + slack) / self.weight))


def overlap_cliques(windows: list[tuple[VisitSlot, int]]) -> list[list[int]]:
    """Maximal sets of mutually overlapping windows (the cliques of an interval graph).

    Sweep by start; just before an interval ends, everything still open contains the
    latest start, so it is a clique; it is maximal if something opened since the last
    one was reported. Windows are half-open: one ending at 11:00 and one starting at
    11:00 do not overlap.
    """
    cliques: list[list[int]] = []
    open_: list[tuple[VisitSlot, int]] = []
    grew = False
    for visit, key in sorted(windows, key=lambda w: (w[0].start, w[0].end, w[1])):
        if any(o.end <= visit.start for o, _ in open_):
            if grew and len(open_) > 1:
                cliques.append([k for _, k in open_])
            open_ = [(o, k) for o, k in open_ if o.end > visit.start]
            grew = False
        open_.append((visit, key))
        grew = True
    if grew and len(open_) > 1:
        cliques.append([k for _, k in open_])
    return cliques


def build(
    visit_ids: list[int],
    pairs: list[Pair],
    vs: list[VisitSlot],
    cs: list[Candidate],
    rules: Rules,
) -> Component:
    groups: list[tuple[tuple[int, ...], int]] = []
    by_visit: dict[int, list[int]] = defaultdict(list)
    by_shopper: dict[int, list[int]] = defaultdict(list)
    for k, p in enumerate(pairs):
        by_visit[p.visit].append(k)
        by_shopper[p.shopper].append(k)
    groups.extend((tuple(ks), 1) for ks in by_visit.values() if len(ks) > 1)

    fair_share = math.ceil(len(visit_ids) / len(by_shopper))
    loads: list[tuple[int, ...]] = []
    for s, ks in sorted(by_shopper.items()):
        cand = cs[s]
        before = Load(cand, rules)
        days: dict[date, list[int]] = defaultdict(list)
        weeks: dict[tuple[int, int], list[int]] = defaultdict(list)
        stores: dict[int, list[int]] = defaultdict(list)
        for k in ks:
            visit = vs[pairs[k].visit]
            days[visit.day].append(k)
            weeks[iso_week(visit.day)].append(k)
            stores[visit.store_id].append(k)
        for day, group in days.items():
            room = cand.per_day - before.per_day[day]
            if len(group) > room:
                groups.append((tuple(group), room))
        for week, group in weeks.items():
            room = cand.per_week - before.per_week[week]
            if len(group) > room:
                groups.append((tuple(group), room))
        groups.extend((tuple(group), 1) for group in stores.values() if len(group) > 1)
        cliques = overlap_cliques([(vs[pairs[k].visit], k) for k in ks])
        groups.extend((tuple(clique), 1) for clique in cliques)
        if rules.fairness_weight and len(ks) > fair_share:
            loads.append(tuple(ks))

    # The preference-and-spread part ranges over less than this, hence lexicographic.
    weight = (MAX_PREFERENCE + rules.fairness_weight) * len(visit_ids) + 1
    return Component(
        visits=tuple(visit_ids),
        pairs=tuple(pairs),
        groups=tuple(groups),
        loads=tuple(loads),
        fair_share=fair_share,
        fairness_weight=rules.fairness_weight,
        weight=weight,
    )
