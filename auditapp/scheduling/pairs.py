"""The hard rules in bulk: which (visit, shopper) pairs may become solver variables.

A wave of 5,000 visits and 600 shoppers is 3 million pairs; running ``explain`` on each
would take minutes. ``Screen`` runs the rules that cut most pairs (active, level,
distance) as numpy arrays per store, with a small margin on distance, and only the
survivors go through an exact scalar distance and the per-shopper rules. Shoppers with
bookings (or a zero limit) go through eligibility.py's own checks; the rest take a
fast path for conflicts, rotation and availability. The result is exactly "explain()
is empty"; tests hold the two paths equal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from auditapp.scheduling.eligibility import (
    EARTH_RADIUS_KM,
    PERSONAL_CHECKS,
    distance_km,
    preference,
    visit_days,
)
from auditapp.scheduling.model import Candidate, Rules, VisitSlot

_MARGIN_KM = 1e-6  # numpy and math may disagree in the last bits; the scalar decides

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.intp]


@dataclass(frozen=True)
class Pair:
    visit: int  # index into the sorted visits
    shopper: int  # index into the sorted candidates
    preference: int


class Screen:
    """The candidates as arrays, ready to screen visits against."""

    def __init__(self, candidates: Sequence[Candidate], rules: Rules) -> None:
        self.cands = candidates
        self.rules = rules
        self.lats = np.radians(np.array([c.lat for c in candidates], dtype=np.float64))
        self.lngs = np.radians(np.array([c.lng for c in candidates], dtype=np.float64))
        self.reach = np.array([c.max_km for c in candidates], dtype=np.float64) + _MARGIN_KM
        self.levels = np.array([c.level for c in candidates], dtype=np.int64)
        self.active = np.array([c.active for c in candidates], dtype=bool)
        self.complex = [bool(c.existing) or c.per_day <= 0 or c.per_week <= 0 for c in candidates]
        self._near: dict[tuple[float, float], tuple[IndexArray, list[float]]] = {}
        self._fit: dict[tuple[object, ...], int] = {}  # visits of one store fit alike

    def _distances(self, visit: VisitSlot) -> FloatArray:
        p1, l1 = np.radians(visit.lat), np.radians(visit.lng)
        a = (
            np.sin((self.lats - p1) / 2) ** 2
            + np.cos(p1) * np.cos(self.lats) * np.sin((self.lngs - l1) / 2) ** 2
        )
        result: FloatArray = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))
        return result

    def near(self, visit: VisitSlot) -> tuple[IndexArray, list[float]]:
        """Active shoppers within reach of the store, with exact distances (cached)."""
        place = (visit.lat, visit.lng)
        found = self._near.get(place)
        if found is None:
            rough = np.flatnonzero(self.active & (self._distances(visit) <= self.reach))
            kms = [distance_km(visit, self.cands[ci]) for ci in rough.tolist()]
            keep = [i for i, ci in enumerate(rough.tolist()) if kms[i] <= self.cands[ci].max_km]
            found = (rough[keep], [kms[i] for i in keep])
            self._near[place] = found
        return found

    def personal(self, visit: VisitSlot, days: list[object], ci: int) -> list[str]:
        """Codes of the rules that depend on the shopper's own record, in CODES order."""
        cand, rules = self.cands[ci], self.rules
        if self.complex[ci]:
            return [r.code for check in PERSONAL_CHECKS if (r := check(visit, cand, rules))]
        codes: list[str] = []
        if visit.client_id in cand.conflict_clients:
            codes.append("conflict_client")
        if visit.store_id in cand.conflict_stores:
            codes.append("conflict_store")
        last = cand.last_visit_by_store.get(visit.store_id)
        if last is not None and abs((visit.day - last).days) < rules.rotation_days(visit.client_id):
            codes.append("rotation")
        if cand.unavailable_dates and not cand.unavailable_dates.isdisjoint(days):
            codes.append("unavailable")
        return codes

    def pairs(self, vi: int, visit: VisitSlot) -> list[Pair]:
        """The eligible shoppers of one visit (``vi`` is its index in the sorted visits)."""
        near, kms = self.near(visit)
        days: list[object] = list(visit_days(visit.start, visit.end))
        levels = self.levels[near].tolist()
        found: list[Pair] = []
        for ci, km, level in zip(near.tolist(), kms, levels, strict=True):
            if level < visit.required_level or self.personal(visit, days, ci):
                continue
            key: tuple[object, ...] = (visit.lat, visit.lng, visit.target_female_pct)
            key += (visit.target_age_bands, visit.start.year, ci)
            fit = self._fit.get(key)
            if fit is None:
                fit = self._fit[key] = preference(visit, self.cands[ci], km)
            found.append(Pair(vi, ci, fit))
        return found

    def reason_counts(self, visit: VisitSlot) -> Counter[str]:
        """How many shoppers each hard rule excludes from this visit (one shopper may
        count under several rules): explain() over every candidate, in bulk."""
        counts: Counter[str] = Counter()
        counts["inactive"] = int((~self.active).sum())
        counts["level"] = int((self.levels < visit.required_level).sum())
        rough = self._distances(visit)
        sure_far = rough > self.reach + 2 * _MARGIN_KM
        unsure = np.flatnonzero(~sure_far & (rough > self.reach - 2 * _MARGIN_KM)).tolist()
        far = int(sure_far.sum())
        far += sum(distance_km(visit, self.cands[ci]) > self.cands[ci].max_km for ci in unsure)
        counts["distance"] = far
        days: list[object] = list(visit_days(visit.start, visit.end))
        for ci in range(len(self.cands)):
            counts.update(self.personal(visit, days, ci))
        return +counts


def eligible_pairs(
    visits: Sequence[VisitSlot], candidates: Sequence[Candidate], rules: Rules
) -> list[list[Pair]]:
    """For each visit (same order), its eligible shoppers by candidate index."""
    if not candidates:
        return [[] for _ in visits]
    screen = Screen(candidates, rules)
    return [screen.pairs(vi, visit) for vi, visit in enumerate(visits)]
