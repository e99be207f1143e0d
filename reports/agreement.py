"""Agreement between observers: Krippendorff's alpha.

Computed by the coincidence-matrix method of Krippendorff (2011), "Computing
Krippendorff's Alpha-Reliability":

- A unit is one thing judged by several observers (here: one question in a pair of
  visits of the same store, wave and slot). Missing values (None) are dropped; a unit
  with fewer than two remaining values is not pairable and is left out.
- Each ordered pair of values (c, k) from two different observers of a unit with m
  pairable values adds 1 / (m - 1) to the coincidence o[c, k]; n_c is the row sum of
  value c and n the number of pairable values.
- alpha = 1 - D_o / D_e = 1 - (n - 1) * sum o[c,k] d2(c,k) / sum n_c n_k d2(c,k).
- d2 is the squared difference of the level: nominal 0 or 1; interval (c - k)^2;
  ordinal (sum of n_g for g from c to k, minus (n_c + n_k) / 2)^2, so the distance
  of two ranks grows with how many values lie between them.

alpha is 1 for perfect agreement, 0 for agreement at chance level, below 0 for
systematic disagreement. It is None when no unit is pairable or when no variation is
expected (every pairable value the same), where it is undefined.
"""

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from itertools import permutations
from typing import Literal

Value = float | str
Level = Literal["nominal", "ordinal", "interval"]


def krippendorff_alpha(units: Sequence[Sequence[Value | None]], level: Level) -> float | None:
    """Krippendorff's alpha of `units`, each the values its observers gave (None for
    missing), at the given level of measurement."""
    coincidences = _coincidences(units)
    totals: dict[Value, float] = defaultdict(float)
    for (c, _k), weight in coincidences.items():
        totals[c] += weight
    n = sum(totals.values())
    if n == 0:
        return None
    if level == "interval" and any(isinstance(v, str) for v in totals):
        raise ValueError("interval alpha needs numbers")
    d2 = _metric(level, totals)
    observed = sum(weight * d2(c, k) for (c, k), weight in coincidences.items())
    expected = sum(totals[c] * totals[k] * d2(c, k) for c in totals for k in totals)
    if expected == 0:
        return None
    return 1 - (n - 1) * observed / expected


def _coincidences(units: Sequence[Sequence[Value | None]]) -> dict[tuple[Value, Value], float]:
    """o[c, k] over every pairable unit."""
    table: dict[tuple[Value, Value], float] = defaultdict(float)
    for unit in units:
        values = [v for v in unit if v is not None]
        m = len(values)
        if m < 2:
            continue
        for c, k in permutations(values, 2):
            table[(c, k)] += 1 / (m - 1)
    return table


def _metric(level: Level, totals: Mapping[Value, float]) -> Callable[[Value, Value], float]:
    if level == "nominal":
        return lambda c, k: 0.0 if c == k else 1.0
    if level == "interval":
        return lambda c, k: (float(c) - float(k)) ** 2
    ranked = sorted(totals)  # one level: all strings or all numbers
    position = {value: i for i, value in enumerate(ranked)}
    # cumulative[i] = n of the values ranked below position i
    cumulative = [0.0]
    for value in ranked:
        cumulative.append(cumulative[-1] + totals[value])

    def ordinal(c: Value, k: Value) -> float:
        lo, hi = sorted((position[c], position[k]))
        between = cumulative[hi + 1] - cumulative[lo]
        return (between - (totals[c] + totals[k]) / 2) ** 2

    return ordinal
