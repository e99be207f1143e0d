"""How many visits are enough: the precision and the power that a number of visits buys.

Rules decided here:

- ``half_width(sd, n)`` is the half-width of the t-based interval of a mean of n visits,
  t(1 − α/2, n − 1) · sd/√n, the interval every report figure carries (reports/stats.py).
- ``visits_needed(sd, half_width)`` is the smallest n ≥ 2 whose half-width is at most the
  one asked for (n = 1 has no interval at all).
- ``power_to_detect(sd, delta, n)`` is the power of a two-sided two-sample t-test with n
  visits in each of two waves to detect a change of ``delta`` points, from the noncentral
  t: df = 2n − 2, ncp = delta / (sd · √(2/n)), power = P(|T| > t(1 − α/2, df)). Both tails
  count, as in statsmodels' ``TTestIndPower``.
- ``visits_to_detect(sd, delta)`` is the smallest n ≥ 2 per wave reaching the power asked
  for.
- sd, half-width and delta are positive finite points; confidence, power and alpha lie
  strictly between 0 and 1; otherwise ValueError. n is bounded by ``MAX_VISITS``: a target
  that needs more raises ValueError rather than searching on.
- Both searches rely on the quantity being monotone in n and find n by doubling then
  bisection: about 2·log2(n) evaluations, never a scan.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from scipy import stats

MAX_VISITS = 100_000


def _positive(name: str, value: float) -> float:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number, not {value!r}")
    return float(value)


def _probability(name: str, value: float) -> float:
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must lie strictly between 0 and 1, not {value!r}")
    return float(value)


def _visits(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= MAX_VISITS:
        raise ValueError(f"n must be a whole number of visits from 2 to {MAX_VISITS}")
    return n


def _smallest(holds: Callable[[int], bool], what: str) -> int:
    """The smallest n in 2..MAX_VISITS for which ``holds`` (monotone: once true, true for
    every larger n)."""
    if holds(2):
        return 2
    low, high = 2, 4  # holds(low) is false
    while not holds(high):
        if high >= MAX_VISITS:
            raise ValueError(f"{what} needs more than {MAX_VISITS} visits")
        low, high = high, min(high * 2, MAX_VISITS)
    while high - low > 1:
        middle = (low + high) // 2
        if holds(middle):
            high = middle
        else:
            low = middle
    return high


def half_width(sd: float, n: int, confidence: float = 0.95) -> float:
    """t(1 − α/2, n − 1) · sd/√n: the ± of a mean of n visits."""
    sd = _positive("sd", sd)
    n = _visits(n)
    confidence = _probability("confidence", confidence)
    return _half_width(sd, n, confidence)


def visits_needed(sd: float, half_width: float, confidence: float = 0.95) -> int:
    """The smallest n ≥ 2 with t(1 − α/2, n − 1) · sd/√n ≤ ``half_width``."""
    sd = _positive("sd", sd)
    target = _positive("half_width", half_width)
    confidence = _probability("confidence", confidence)
    return _smallest(lambda n: _half_width(sd, n, confidence) <= target, f"a ± {target:g} interval")


def power_to_detect(sd: float, delta: float, n: int, alpha: float = 0.05) -> float:
    """The power of a two-sided two-sample t-test, n visits per wave, to detect a change
    of ``delta`` points."""
    sd = _positive("sd", sd)
    delta = _positive("delta", delta)
    n = _visits(n)
    alpha = _probability("alpha", alpha)
    return _power(sd, delta, n, alpha)


def visits_to_detect(sd: float, delta: float, power: float = 0.8, alpha: float = 0.05) -> int:
    """The smallest n ≥ 2 per wave whose two-sided two-sample t-test detects a change of
    ``delta`` points with at least ``power``."""
    sd = _positive("sd", sd)
    delta = _positive("delta", delta)
    power = _probability("power", power)
    alpha = _probability("alpha", alpha)
    return _smallest(
        lambda n: _power(sd, delta, n, alpha) >= power, f"detecting a {delta:g}-point change"
    )


# The checked entry points validate once; the searches call these directly.
def _half_width(sd: float, n: int, confidence: float) -> float:
    t = float(stats.t.ppf(1.0 - (1.0 - confidence) / 2.0, n - 1))
    return t * sd / math.sqrt(n)


def _power(sd: float, delta: float, n: int, alpha: float) -> float:
    df = 2 * n - 2
    ncp = delta / (sd * math.sqrt(2.0 / n))
    critical = float(stats.t.ppf(1.0 - alpha / 2.0, df))
    upper = float(stats.nct.sf(critical, df, ncp))
    lower = float(stats.nct.cdf(-critical, df, ncp))
    return upper + lower
