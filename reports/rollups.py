"""Scores rolled up (SCORING.md §5): visits → stores → regions at any level of the tree
→ the client, per wave or per period; ranks; early warning.

Rules decided here:

- Input: one row per **approved** visit (the caller selects them), with ``store_id``,
  ``score`` and a group column (``wave_id`` by default, or a period label from
  reports/periods.py); ``result`` ("PASS"/"FAIL"/None) when pass rates are wanted.
  ``score`` may be fraction text ("173/2", as stored), Fraction, Decimal, int or a
  float (read through its repr). A visit without a score (nothing applicable) counts
  as a visit and in pass rates, never in a mean.
- Store = mean of its scored visits (each visit equal), n = visits. Region, any higher
  level and the client = mean of its stores' means (each store with a score equal),
  n = stores; its interval is taken over the store means.
- Exactness at scale: every score is an exact fraction; the distinct values are put
  over one common denominator L, so each visit becomes an integer k = score × L and
  sums are integer sums (pandas groupby on int64 when the sums cannot overflow, else
  on Python integers, which never do). Means, variances and intervals are built from
  those sums as Fractions, so nothing is ever rounded before display.
- Ranks (best first) compare the mean as displayed (half-up to the checklist's
  decimals), so two stores shown alike rank as a tie, broken by more visits, then by
  store code; every ranked store gets its own rank (1, 2, 3 …). Stores without a score
  are not ranked.
- Early warning: a store whose displayed mean fell in each of the last ``declines``
  steps between consecutive groups (three declines = four groups in a row, each one
  scored); a gap in the chain breaks it.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from reports.cards import Change, Stat
from reports.stats import Moments, describe, interval_units, share
from scoring.exact import to_fraction

_INT64_LIMIT = 2**62


def exact(value: object) -> Fraction | None:
    """A stored score as an exact Fraction: fraction text, Fraction, Decimal, int or a
    float (through its repr); None for a missing score."""
    if value is None:
        return None
    if isinstance(value, str):
        return Fraction(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    found = to_fraction(value)
    if found is None:
        raise ValueError(f"score {value!r} is not a finite number")
    return found


def scaled(values: Iterable[object]) -> tuple[list[int | None], int]:
    """Each score as an integer over one common denominator: ([k or None], L), with
    score = k / L exactly. Conversions are cached per distinct value, which a report's
    scores mostly share."""
    raw = list(values)
    found: dict[object, tuple[int, int] | None] = {}
    for value in raw:
        if value not in found:
            found[value] = _ratio(value)
    common = math.lcm(1, *{pair[1] for pair in found.values() if pair is not None})
    units = {
        key: None if pair is None else pair[0] * (common // pair[1]) for key, pair in found.items()
    }
    return [units[value] for value in raw], common


def _ratio(value: object) -> tuple[int, int] | None:
    """(numerator, denominator) of a score; stored fraction text is read directly."""
    if isinstance(value, str) and "/" in value:
        top, _, below = value.partition("/")
        if int(below) <= 0:
            raise ValueError(f"score {value!r} is not a fraction")
        return int(top), int(below)
    fraction = exact(value)
    return None if fraction is None else (fraction.numerator, fraction.denominator)


def _int(value: Any) -> int:
    return int(value)


def _int_column(values: list[int], bound: int) -> pd.Series:
    """int64 when ``bound`` (the largest sum it can reach) fits, else Python ints."""
    if bound < _INT64_LIMIT:
        return pd.Series(np.asarray(values, dtype=np.int64))
    return pd.Series(values, dtype=object)


@dataclass(frozen=True)
class StoreScores:
    """Per (group, store): ``visits`` approved, ``n`` scored, ``total`` and ``squares``
    (Σk, Σk², integers over ``denominator``), ``passed`` and ``judged`` (visits with a
    result) for the pass rate. Build it with :func:`store_scores`."""

    table: pd.DataFrame
    denominator: int

    def groups(self) -> list[Hashable]:
        return list(self._parts)

    @cached_property
    def _parts(self) -> dict[Hashable, pd.DataFrame]:
        return {group: rows.droplevel(0) for group, rows in self.table.groupby(level=0, sort=False)}

    def _rows(self, group: Hashable) -> pd.DataFrame:
        found = self._parts.get(group)
        return self.table.iloc[0:0].droplevel(0) if found is None else found

    def store_ids(self, group: Hashable) -> list[int]:
        """Stores with at least one scored visit in the group."""
        rows = self._rows(group)
        return [int(s) for s in rows.index[rows["n"] > 0]]

    def moments(self, group: Hashable, store_id: int) -> Moments:
        rows = self._rows(group)
        if store_id not in rows.index:
            return Moments()
        n, total, squares = (_int(rows.at[store_id, c]) for c in ("n", "total", "squares"))
        return Moments(n, total, squares, self.denominator)

    def stat(self, group: Hashable, store_id: int, interval: bool = True) -> Stat:
        return describe(self.moments(group, store_id), interval)

    def stats(self, group: Hashable, interval: bool = True) -> dict[int, Stat]:
        rows = self._rows(group)
        out = {}
        for store_id, n, total, squares in zip(
            rows.index, rows["n"], rows["total"], rows["squares"], strict=True
        ):
            moments = Moments(int(n), int(total), int(squares), self.denominator)
            out[int(store_id)] = describe(moments, interval)
        return out

    def visits(self, group: Hashable, store_ids: Iterable[int] | None = None) -> int:
        """Scored visits of the group (of these stores)."""
        return int(self._select(group, store_ids)["n"].sum())

    def pass_rate(self, group: Hashable, store_ids: Iterable[int] | None = None) -> Fraction | None:
        """Share (0..1) of the visits with a result that passed (each visit equal)."""
        rows = self._select(group, store_ids)
        return share(int(rows["passed"].sum()), int(rows["judged"].sum()))

    def pass_rates(self, group: Hashable) -> dict[int, Fraction | None]:
        """{store: share (0..1) of its visits with a result that passed}."""
        rows = self._rows(group)
        return {
            int(s): share(int(p), int(j))
            for s, p, j in zip(rows.index, rows["passed"], rows["judged"], strict=True)
        }

    def changes(self, group: Hashable, before: Hashable) -> dict[int, Change]:
        """{store: its change since ``before``} for the stores scored in both: the
        delta exact; significant when each mean lies outside the other's 95% interval
        (worked out in integers, like reports.stats.describe)."""
        now, then = self._rows(group), self._rows(before)
        old = {
            int(s): (int(n), int(t), int(q))
            for s, n, t, q in zip(then.index, then["n"], then["total"], then["squares"],
                                  strict=True)
            if n
        }  # fmt: skip
        out = {}
        for s, n, t, q in zip(now.index, now["n"], now["total"], now["squares"], strict=True):
            if not n or int(s) not in old:
                continue
            n0, t0, q0 = old[int(s)]
            n1, t1, q1 = int(n), int(t), int(q)
            delta = Fraction(t1 * n0 - t0 * n1, n1 * n0 * self.denominator)
            centre0, half0 = interval_units(n0, t0, q0, self.denominator)
            centre1, half1 = interval_units(n1, t1, q1, self.denominator)
            apart = abs(centre1 - centre0)
            significant = half0 is not None and half1 is not None and apart > max(half0, half1)
            out[int(s)] = Change(delta=delta, significant=significant)
        return out

    def region(
        self, group: Hashable, store_ids: Iterable[int] | None = None, interval: bool = True
    ) -> Stat:
        """Mean of the store means (each scored store equal), n = stores."""
        rows = self._select(group, store_ids)
        rows = rows[rows["n"] > 0]
        if rows.empty:
            return Stat(mean=None, n=0)
        counts = [int(n) for n in rows["n"]]
        common = math.lcm(*set(counts))
        units = [int(t) * (common // n) for t, n in zip(rows["total"], counts, strict=True)]
        total = sum(units)
        squares = sum(u * u for u in units) if interval and len(units) > 1 else 0
        moments = Moments(len(units), total, squares, self.denominator * common)
        return describe(moments, interval)

    def shown_means(
        self, group: Hashable, decimals: int, store_ids: Iterable[int] | None = None
    ) -> dict[int, int]:
        """{store: its mean as displayed, in units of 10^-decimals} (half-up)."""
        rows = self._select(group, store_ids)
        rows = rows[rows["n"] > 0]
        scale = 10**decimals
        out = {}
        for store_id, n, total in zip(rows.index, rows["n"], rows["total"], strict=True):
            below = int(n) * self.denominator
            units = (2 * abs(int(total)) * scale + below) // (2 * below)
            out[int(store_id)] = units if int(total) >= 0 else -units
        return out

    def _select(self, group: Hashable, store_ids: Iterable[int] | None) -> pd.DataFrame:
        rows = self._rows(group)
        if store_ids is None:
            return rows
        wanted = rows.index.intersection(pd.Index(list(store_ids)))
        return rows.loc[wanted]


def store_scores(visits: pd.DataFrame, by: str = "wave_id") -> StoreScores:
    """Per group and store: visits, scored visits and exact score sums (see StoreScores)."""
    missing = [c for c in (by, "store_id", "score") if c not in visits.columns]
    if missing:
        raise ValueError(f"missing columns: {', '.join(missing)}")
    units, common = scaled(visits["score"].tolist())
    zeros = [0 if u is None else u for u in units]
    biggest = max(map(abs, zeros), default=0)
    results = visits["result"].tolist() if "result" in visits.columns else [None] * len(units)
    frame = pd.DataFrame(
        {
            "group": visits[by].to_numpy(),
            "store_id": np.asarray(visits["store_id"].tolist(), dtype=np.int64),
            "visits": np.ones(len(units), dtype=np.int64),
            "n": np.asarray([u is not None for u in units], dtype=np.int64),
            "total": _int_column(zeros, biggest * len(units)),
            "squares": _int_column([u * u for u in zeros], biggest * biggest * len(units)),
            "passed": np.asarray([r == "PASS" for r in results], dtype=np.int64),
            "judged": np.asarray([r == "PASS" or r == "FAIL" for r in results], dtype=np.int64),
        }
    )
    table = frame.groupby(["group", "store_id"], sort=True).sum()
    return StoreScores(table=table, denominator=common)


# --- regions, ranks, early warning ---------------------------------------------------


def ancestors(path: str) -> list[int]:
    """Region ids on a materialised path, top first: "/1/4/9/" → [1, 4, 9]."""
    return [int(part) for part in path.strip("/").split("/") if part]


def by_region(
    scores: StoreScores, group: Hashable, store_paths: Mapping[int, str], interval: bool = True
) -> dict[int, Stat]:
    """Every region on the stores' paths with the stat of all its stores (its own and
    those of the regions below it): {region id: Stat}, n = stores."""
    members: dict[int, list[int]] = {}
    for store_id, path in store_paths.items():
        for region_id in ancestors(path):
            members.setdefault(region_id, []).append(store_id)
    return {
        region_id: scores.region(group, stores, interval) for region_id, stores in members.items()
    }


def rank_stores(
    scores: StoreScores,
    group: Hashable,
    codes: Mapping[int, str],
    decimals: int,
    store_ids: Iterable[int] | None = None,
) -> list[tuple[int, int]]:
    """[(rank, store id)], best first: by displayed mean, then more visits, then code.
    ``codes`` must name every store that may be ranked."""
    shown = scores.shown_means(group, decimals, store_ids)
    rows = scores._rows(group)
    visits = {int(s): int(n) for s, n in zip(rows.index, rows["n"], strict=True)}
    order = sorted(shown, key=lambda s: (-shown[s], -visits[s], codes[s]))
    return [(rank, store_id) for rank, store_id in enumerate(order, start=1)]


def top(ranked: Sequence[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    """The best n, best first."""
    return list(ranked[:n])


def bottom(ranked: Sequence[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    """The worst n, worst first (the ranking read from the end)."""
    return list(reversed(ranked[-n:])) if n > 0 else []


def early_warning(
    scores: StoreScores,
    groups: Sequence[Hashable],
    decimals: int,
    declines: int = 3,
    store_ids: Iterable[int] | None = None,
) -> list[int]:
    """Stores whose displayed mean fell ``declines`` times in a row over the last
    ``declines + 1`` of ``groups`` (oldest first), in store id order."""
    window = list(groups)[-(declines + 1) :]
    if len(window) < declines + 1:
        return []
    wanted = None if store_ids is None else list(store_ids)
    series = [scores.shown_means(g, decimals, wanted) for g in window]
    flagged = []
    for store_id in sorted(series[-1]):
        chain = [means.get(store_id) for means in series]
        if None in chain:
            continue
        values: list[Any] = chain
        if all(later < earlier for earlier, later in zip(values, values[1:], strict=False)):
            flagged.append(store_id)
    return flagged
