"""The statistics behind every report figure (SCORING.md §5): exact means on Fractions,
the 95% interval of a mean with Student's t, NPS, and when a change is significant.

Rules decided here:

- A mean is exact (Fraction). Its interval, from n = 2, is mean ± t(0.975, n−1) · s/√n
  with s the sample standard deviation (n − 1 in the denominator). √ and t are not
  rational, so the bounds are computed to well below display precision and stored
  rounded half-up to ``INTERVAL_PLACES`` decimals: t comes from the t distribution's CDF
  (the regularized incomplete beta function, by its continued fraction) inverted by
  bisection in binary floating point, relative error below 1e-13; √ is an integer
  square root, exact to 1e-20. A bound is therefore right to ±1e-9 at worst, far inside
  the four decimals any report shows.
- With n < 2 there is no interval; n < 3 is "low sample" (``Stat.low_sample``).
- Every mean with an interval is of scores on the 0–100 scale, so its bounds are clipped
  to it: with few visits and a wide spread, t·s/√n alone reaches past 100 or below 0,
  which no store can score. Clipping changes no significance test, since both means
  always lie inside the scale.
- A change between two means is significant only when each mean lies outside the other
  one's interval; without both intervals it is never significant.
- Shares (NPS shares, pass rates, compliance) are exact fractions 0..1; the NPS itself is
  in points, −100..100.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from reports.cards import Change, Nps, Stat

CONFIDENCE = 0.95
INTERVAL_PLACES = 10
HUNDRED = Fraction(100)
_SQRT_PLACES = 20
_EPS = 1e-16
_MAX_TERMS = 100_000


# --- Student's t --------------------------------------------------------------------


def _continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, _MAX_TERMS):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        step = d * c
        h *= step
        if abs(step - 1.0) < _EPS:
            return h
    raise ArithmeticError("incomplete beta: the continued fraction did not converge")


def incomplete_beta(a: float, b: float, x: float, y: float | None = None) -> float:
    """The regularized incomplete beta function I_x(a, b); ``y`` = 1 − x when the caller
    knows it more precisely than 1 − x would give."""
    y = 1.0 - x if y is None else y
    if x <= 0.0:
        return 0.0
    if y <= 0.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(y)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _continued_fraction(a, b, x) / a
    return 1.0 - front * _continued_fraction(b, a, y) / b


def t_cdf(t: float, df: int) -> float:
    """P(T ≤ t) for Student's t with ``df`` degrees of freedom."""
    if df < 1:
        raise ValueError("the t distribution needs at least one degree of freedom")
    if t == 0.0:
        return 0.5
    square = t * t
    tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + square), square / (df + square))
    return 1.0 - tail if t > 0 else tail


@lru_cache(maxsize=4096)
def t_quantile(p: float, df: int) -> float:
    """The t with P(T ≤ t) = p: closed forms for df 1 and 2, else the CDF inverted by
    bisection down to the last representable digit."""
    if not 0.0 < p < 1.0:
        raise ValueError("p must lie strictly between 0 and 1")
    if df < 1:
        raise ValueError("the t distribution needs at least one degree of freedom")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    if df == 1:
        return math.tan(math.pi * (p - 0.5))
    if df == 2:
        return (2.0 * p - 1.0) / math.sqrt(2.0 * p * (1.0 - p))
    low, high = 0.0, 1.0
    while t_cdf(high, df) < p:
        low, high = high, high * 2.0
    for _ in range(200):
        middle = (low + high) / 2.0
        if middle in (low, high):
            break
        if t_cdf(middle, df) < p:
            low = middle
        else:
            high = middle
    return (low + high) / 2.0


@lru_cache(maxsize=4096)
def t_critical(n: int, confidence: float = CONFIDENCE) -> Fraction:
    """The two-sided critical t for a mean of n values (n − 1 degrees of freedom), as the
    exact value of its float."""
    return Fraction(t_quantile(1.0 - (1.0 - confidence) / 2.0, n - 1))


# --- exact moments and the Stat of a mean -------------------------------------------


def sqrt_fraction(value: Fraction, places: int = _SQRT_PLACES) -> Fraction:
    """√value rounded down to ``places`` decimals (an integer square root, so exact to
    10^-places)."""
    if value < 0:
        raise ValueError("no square root of a negative number")
    scale = 10**places
    return Fraction(math.isqrt(value.numerator * scale * scale // value.denominator), scale)


@dataclass(frozen=True)
class Moments:
    """n values k_i / ``denominator`` summarised exactly by integer sums: ``total`` = Σk,
    ``squares`` = Σk². Integers keep large roll-ups fast: no Fraction is made until the
    mean and its interval are."""

    n: int = 0
    total: int = 0
    squares: int = 0
    denominator: int = 1

    @classmethod
    def of(cls, values: Iterable[Fraction]) -> Moments:
        return cls.weighted((value, 1) for value in values)

    @classmethod
    def weighted(cls, pairs: Iterable[tuple[Fraction, int]]) -> Moments:
        """From (value, how many times) pairs."""
        items = list(pairs)
        common = math.lcm(1, *(value.denominator for value, _ in items))
        n = total = squares = 0
        for value, count in items:
            k = value.numerator * (common // value.denominator)
            n, total, squares = n + count, total + count * k, squares + count * k * k
        return cls(n, total, squares, common)

    def __add__(self, other: Moments) -> Moments:
        common = math.lcm(self.denominator, other.denominator)
        a, b = common // self.denominator, common // other.denominator
        return Moments(
            self.n + other.n,
            self.total * a + other.total * b,
            self.squares * a * a + other.squares * b * b,
            common,
        )

    def mean(self) -> Fraction | None:
        return Fraction(self.total, self.n * self.denominator) if self.n else None

    def variance(self) -> Fraction | None:
        """The sample variance (n − 1 in the denominator), exact; None below n = 2."""
        if self.n < 2:
            return None
        spread = max(self.n * self.squares - self.total * self.total, 0)
        return Fraction(spread, self.n * (self.n - 1) * self.denominator**2)

    def stat(self, interval: bool = True) -> Stat:
        return describe(self, interval)


_WORK = 10**_SQRT_PLACES  # the interval is worked out in units of 10^-20
_SHOWN = 10**INTERVAL_PLACES


def interval_units(n: int, total: int, squares: int, below: int) -> tuple[int, int | None]:
    """(mean, half-width of its 95% interval) in units of 10^-20, for n values k_i /
    ``below`` with Σk = ``total`` and Σk² = ``squares``; no half-width below n = 2."""
    centre = total * _WORK // (n * below)
    if n < 2:
        return centre, None
    spread = max(n * squares - total * total, 0)  # s²/n = spread / (n²(n−1)L²)
    root = math.isqrt(spread * _WORK * _WORK // (n * n * (n - 1) * below * below))
    t = t_critical(n)
    return centre, root * t.numerator // t.denominator


def describe(moments: Moments, interval: bool = True) -> Stat:
    """The mean with its n and, from n = 2 (when ``interval``), its 95% interval: mean ±
    t · √(s²/n), worked out in integers to 10^-20 and rounded half-up to
    ``INTERVAL_PLACES``."""
    n, total, below = moments.n, moments.total, moments.denominator
    if n == 0:
        return Stat(mean=None, n=0)
    mean = Fraction(total, n * below)
    if not interval or n < 2:
        return Stat(mean=mean, n=n)
    centre, half = interval_units(n, total, moments.squares, below)
    assert half is not None
    low, high = _bound(centre - half), _bound(centre + half)
    return Stat(mean=mean, n=n, low=max(low, Fraction(0)), high=min(high, HUNDRED))


def stat_of(values: Iterable[Fraction], interval: bool = True) -> Stat:
    return describe(Moments.of(values), interval)


def _bound(units: int) -> Fraction:
    """A value in units of 10^-20, rounded half-up to ``INTERVAL_PLACES``."""
    step = _WORK // _SHOWN
    rounded = (abs(units) + step // 2) // step
    return Fraction(rounded if units >= 0 else -rounded, _SHOWN)


# --- comparisons, shares, NPS ---------------------------------------------------------


def change(new: Stat, old: Stat | None) -> Change | None:
    """``new`` against ``old``; None when either has no mean."""
    if old is None or new.mean is None or old.mean is None:
        return None
    return Change(delta=new.mean - old.mean, significant=significant(new, old))


def significant(new: Stat, old: Stat) -> bool:
    """Each mean outside the other's interval (both intervals needed)."""
    if new.mean is None or old.mean is None or new.low is None or new.high is None:
        return False
    if old.low is None or old.high is None:
        return False
    outside_old = new.mean < old.low or new.mean > old.high
    return outside_old and (old.mean < new.low or old.mean > new.high)


def share(part: int | Fraction, whole: int | Fraction) -> Fraction | None:
    """part / whole (0..1), exact; None when whole is 0."""
    if not whole:
        return None
    if isinstance(part, int) and isinstance(whole, int):
        return Fraction(part, whole)
    return Fraction(part) / Fraction(whole)


def nps(promoters: int, passives: int, detractors: int) -> Nps:
    """NPS = % promoters (9–10) − % detractors (0–6) in points (−100..100), with the three
    shares (0..1)."""
    n = promoters + passives + detractors
    if n == 0:
        return Nps(score=None, promoters=Fraction(0), passives=Fraction(0),
                   detractors=Fraction(0), n=0)  # fmt: skip
    shares = [Fraction(k, n) for k in (promoters, passives, detractors)]
    return Nps(
        score=HUNDRED * (shares[0] - shares[2]),
        promoters=shares[0],
        passives=shares[1],
        detractors=shares[2],
        n=n,
    )


def shown(value: Fraction, decimals: int) -> Fraction:
    """``value`` as displayed (half-up to ``decimals``), exact: what ranks, bands and
    declines compare, so two figures printed alike are alike."""
    scale = 10**decimals
    units = (2 * abs(value.numerator) * scale + value.denominator) // (2 * value.denominator)
    return Fraction(units if value >= 0 else -units, scale)
