"""How many visits are enough (reports/planning.py): hand values, the defining
inequality at n − 1 and n, and statsmodels' power solver as the reference."""

from __future__ import annotations

import math
import warnings

import pytest
from scipy import stats
from statsmodels.stats.power import TTestIndPower

from reports.planning import (
    MAX_VISITS,
    half_width,
    power_to_detect,
    visits_needed,
    visits_to_detect,
)


def test_hand_values() -> None:
    # t(0.975, 17) = 2.1098: 2.1098 · 10/√18 = 4.973 ≤ 5, while
    # t(0.975, 16) = 2.1199: 2.1199 · 10/√17 = 5.1415 > 5.
    assert half_width(10, 18) == pytest.approx(4.9729, abs=1e-4)
    assert half_width(10, 17) == pytest.approx(5.1415, abs=1e-4)
    assert visits_needed(10, 5) == 18
    # Two visits: t(0.975, 1) = 12.706, so ± 12.706 · 10/√2 = 89.85.
    assert half_width(10, 2) == pytest.approx(89.846, abs=1e-3)
    assert visits_needed(10, 90) == 2
    # The textbook case: a one-sd change at 80% power needs 17 per group.
    assert visits_to_detect(10, 10) == 17
    assert power_to_detect(10, 10, 17) == pytest.approx(0.807, abs=1e-3)


@pytest.mark.parametrize(
    ("sd", "target", "confidence"),
    [(10, 5, 0.95), (12.5, 3, 0.95), (8, 1, 0.9), (20, 2.5, 0.99), (3, 10, 0.95), (15, 0.4, 0.95)],
)
def test_visits_needed_is_the_first_n_that_holds(
    sd: float, target: float, confidence: float
) -> None:
    n = visits_needed(sd, target, confidence)
    t = stats.t.ppf(1 - (1 - confidence) / 2, n - 1)
    assert t * sd / math.sqrt(n) <= target
    assert half_width(sd, n, confidence) <= target
    if n > 2:
        t_before = stats.t.ppf(1 - (1 - confidence) / 2, n - 2)
        assert t_before * sd / math.sqrt(n - 1) > target


GRID = [
    (sd, delta, power, alpha)
    for sd in (6.0, 12.0, 20.0)
    for delta in (3.0, 5.0, 10.0)
    for power in (0.7, 0.8, 0.9)
    for alpha in (0.01, 0.05, 0.1)
]


@pytest.mark.parametrize(("sd", "delta", "power", "alpha"), GRID)
def test_visits_to_detect_matches_statsmodels(
    sd: float, delta: float, power: float, alpha: float
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the solver's own convergence chatter
        reference = TTestIndPower().solve_power(
            effect_size=delta / sd, power=power, alpha=alpha, alternative="two-sided"
        )
    n = visits_to_detect(sd, delta, power, alpha)
    assert n == max(2, math.ceil(reference - 1e-9))
    assert power_to_detect(sd, delta, n, alpha) >= power
    if n > 2:
        assert power_to_detect(sd, delta, n - 1, alpha) < power


@pytest.mark.parametrize("n", [2, 5, 17, 60])
def test_power_matches_statsmodels(n: int) -> None:
    reference = TTestIndPower().power(effect_size=0.6, nobs1=n, alpha=0.05)
    assert power_to_detect(10, 6, n) == pytest.approx(reference, abs=1e-6)


def test_more_visits_buy_more() -> None:
    assert half_width(10, 10) > half_width(10, 20)
    assert power_to_detect(10, 10, 10) < power_to_detect(10, 10, 20)
    assert visits_needed(10, 5) < visits_needed(10, 2.5)
    assert visits_to_detect(10, 10) < visits_to_detect(10, 5)


def test_targets_beyond_the_cap_are_refused() -> None:
    with pytest.raises(ValueError, match=str(MAX_VISITS)):
        visits_needed(50, 0.01)
    with pytest.raises(ValueError, match=str(MAX_VISITS)):
        visits_to_detect(50, 0.01)
    with pytest.raises(ValueError):
        half_width(10, MAX_VISITS + 1)


@pytest.mark.parametrize(
    "call",
    [
        lambda: visits_needed(0, 5),
        lambda: visits_needed(-1, 5),
        lambda: visits_needed(10, 0),
        lambda: visits_needed(float("nan"), 5),
        lambda: visits_needed(10, float("inf")),
        lambda: visits_needed(10, 5, confidence=1.0),
        lambda: visits_needed(10, 5, confidence=0),
        lambda: visits_to_detect(10, 0),
        lambda: visits_to_detect(10, -5),
        lambda: visits_to_detect(10, 5, power=1.0),
        lambda: visits_to_detect(10, 5, alpha=0.0),
        lambda: half_width(10, 1),
        lambda: half_width(10, 2.5),  # type: ignore[arg-type]
        lambda: power_to_detect(10, 5, 1),
        lambda: power_to_detect(10, 5, 10, alpha=1.5),
    ],
)
def test_bad_inputs_are_refused(call: object) -> None:
    with pytest.raises(ValueError):
        call()  # type: ignore[operator]
