"""reports/stats.py: Student's t against printed tables and an exact closed form, exact
moments, the 95% interval of a mean, NPS, shares, the significance rule and the
displayed value (half-up)."""

import math
from decimal import Decimal, getcontext
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.cards import Change, Nps, Stat
from reports.stats import (
    INTERVAL_PLACES,
    Moments,
    change,
    describe,
    incomplete_beta,
    nps,
    share,
    shown,
    significant,
    sqrt_fraction,
    stat_of,
    t_cdf,
    t_critical,
    t_quantile,
)

F = Fraction


# --- Student's t ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "df", "table"),
    [
        (0.975, 1, "12.706"),
        (0.975, 2, "4.303"),
        (0.975, 3, "3.182"),
        (0.975, 4, "2.776"),
        (0.975, 5, "2.571"),
        (0.975, 10, "2.228"),
        (0.975, 30, "2.042"),
        (0.975, 120, "1.980"),
        (0.95, 5, "2.015"),
        (0.95, 20, "1.725"),
        (0.995, 10, "3.169"),
        (0.9995, 3, "12.924"),
    ],
)
def test_the_t_quantile_matches_the_printed_tables(p, df, table):
    assert f"{t_quantile(p, df):.3f}" == table


def _exact_cdf(t: Decimal, df: int) -> Decimal:
    """P(T <= t) for an even df, by the closed form (Abramowitz & Stegun 26.7.3): no
    special function, so Decimal arithmetic gives it to 50 digits."""
    getcontext().prec = 50
    cos2 = Decimal(df) / (df + t * t)
    sine = t / (df + t * t).sqrt()
    term = total = Decimal(1)
    for k in range(1, df // 2):
        term *= Decimal(2 * k - 1) / Decimal(2 * k) * cos2
        total += term
    return (1 + sine * total) / 2


@settings(max_examples=40, deadline=None)
@given(df=st.integers(1, 150).map(lambda k: 2 * k), p=st.floats(0.55, 0.9995))
def test_the_t_quantile_agrees_with_an_exact_closed_form(df, p):
    q = t_quantile(p, df)
    # The exact CDF at the computed quantile is p to within float precision.
    assert float(_exact_cdf(Decimal(q), df)) == pytest.approx(p, rel=1e-12, abs=1e-13)


@pytest.mark.parametrize(
    ("df", "exact"),  # by bisection on the exact closed form above, to 20 digits
    [(4, "2.7764451051977943"), (10, "2.2281388519862747"), (30, "2.0422724563012383"),
     (100, "1.9839715185235523")],
)  # fmt: skip
def test_the_t_quantile_is_right_to_thirteen_digits(df, exact):
    assert t_quantile(0.975, df) == pytest.approx(float(exact), rel=1e-13)


def test_closed_forms_and_the_general_method_agree():
    # df 1 is Cauchy: P(T <= t) = 1/2 + atan(t)/pi; df 2 has its own closed form.
    for t in (-30.0, -2.0, -0.3, 0.0, 0.7, 4.0, 12.706):
        assert t_cdf(t, 1) == pytest.approx(0.5 + math.atan(t) / math.pi, abs=1e-14)
        assert t_cdf(t, 2) == pytest.approx(0.5 + t / (2 * math.sqrt(2 + t * t)), abs=1e-14)
    assert t_cdf(t_quantile(0.975, 1), 1) == pytest.approx(0.975, abs=1e-14)
    assert t_cdf(t_quantile(0.975, 2), 2) == pytest.approx(0.975, abs=1e-14)


def test_the_t_distribution_is_symmetric_and_tends_to_the_normal():
    assert t_quantile(0.5, 7) == 0.0
    assert t_quantile(0.025, 7) == -t_quantile(0.975, 7)
    assert t_cdf(-1.3, 9) == pytest.approx(1 - t_cdf(1.3, 9), abs=1e-15)
    assert t_quantile(0.975, 1_000_000) == pytest.approx(1.959966, abs=1e-6)
    assert t_quantile(0.975, 9_999) == pytest.approx(1.960201, abs=1e-6)


def test_t_refuses_what_has_no_answer():
    for bad in ((0.0, 3), (1.0, 3), (0.975, 0)):
        with pytest.raises(ValueError):
            t_quantile(*bad)
    with pytest.raises(ValueError):
        t_cdf(1.0, 0)


def test_incomplete_beta_at_its_edges_and_a_known_value():
    assert incomplete_beta(2.0, 3.0, 0.0) == 0.0
    assert incomplete_beta(2.0, 3.0, 1.0) == 1.0
    # I_x(1, b) = 1 - (1 - x)^b
    assert incomplete_beta(1.0, 3.0, 0.4) == pytest.approx(1 - 0.6**3, abs=1e-15)


def test_the_critical_t_is_the_quantile_for_n_minus_one_degrees_of_freedom():
    assert t_critical(5) == Fraction(t_quantile(0.975, 4))


# --- moments and the interval of a mean ---------------------------------------------


def test_moments_are_exact():
    m = Moments.of([F(173, 2), F(80), F(1, 3)])
    assert m.n == 3 and m.mean() == (F(173, 2) + 80 + F(1, 3)) / 3
    values = [F(173, 2), F(80), F(1, 3)]
    mean = sum(values) / 3
    assert m.variance() == sum((v - mean) ** 2 for v in values) / 2
    assert Moments().mean() is None and Moments.of([F(5)]).variance() is None
    assert Moments.weighted([(F(1, 2), 3), (F(2), 1)]) == Moments.of([F(1, 2)] * 3 + [F(2)])


@given(
    a=st.lists(st.fractions(min_value=0, max_value=100, max_denominator=60), max_size=8),
    b=st.lists(st.fractions(min_value=0, max_value=100, max_denominator=60), max_size=8),
)
def test_moments_add_up_like_the_values_they_summarise(a, b):
    both, joined = Moments.of(a) + Moments.of(b), Moments.of(a + b)
    assert (both.n, both.mean(), both.variance()) == (joined.n, joined.mean(), joined.variance())


def test_a_mean_with_its_interval():
    # 60, 70, 80: mean 70, s = 10, t(0.975, 2) = 4.302652729749464 -> 70 ± 24.8414...
    stat = stat_of([F(60), F(70), F(80)])
    half = 4.302652729749464 * 10 / math.sqrt(3)
    assert (stat.mean, stat.n, stat.low_sample) == (70, 3, False)
    assert float(stat.low) == pytest.approx(70 - half, abs=1e-10)
    assert float(stat.high) == pytest.approx(70 + half, abs=1e-10)
    assert 10**INTERVAL_PLACES % stat.low.denominator == 0  # rounded to 10 places


def test_one_value_has_no_interval_and_two_are_a_low_sample():
    assert stat_of([]) == Stat(mean=None, n=0)
    assert stat_of([F(75)]) == Stat(mean=F(75), n=1)
    two = stat_of([F(95), F(97)])
    # s = sqrt(2), t(0.975, 1) = 12.7062...: 96 ± 12.7062 -> [83.29, 108.71], clipped
    assert two.low_sample and float(two.low) == pytest.approx(96 - 12.70620473617, abs=1e-9)
    assert two.high == 100


def test_an_interval_never_leaves_the_score_scale():
    # 70 ± 12.7062 * 10 = 70 ± 127.06: no store scores below 0 or above 100.
    wide = stat_of([F(60), F(80)])
    assert (wide.mean, wide.low, wide.high) == (70, 0, 100)
    # A change is still judged against the clipped intervals the reader sees.
    assert not change(stat_of([F(98), F(100)]), wide).significant
    assert stat_of([F(60), F(80)], interval=False) == Stat(mean=F(70), n=2)


def test_equal_values_have_a_zero_width_interval():
    assert stat_of([F(80)] * 4) == Stat(mean=F(80), n=4, low=F(80), high=F(80))
    third = stat_of([F(1, 3)] * 3)
    assert third.low == third.high == F(3333333333, 10**10)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.fractions(min_value=0, max_value=100, max_denominator=400), min_size=2,
                max_size=30))  # fmt: skip
def test_the_interval_agrees_with_the_textbook_formula(values):
    stat = stat_of(values)
    n = len(values)
    mean = sum(values) / n
    s = math.sqrt(float(sum((v - mean) ** 2 for v in values) / (n - 1)))
    half = t_quantile(0.975, n - 1) * s / math.sqrt(n)
    assert stat.mean == mean
    assert float(stat.low) == pytest.approx(max(float(mean) - half, 0), abs=1e-9)
    assert float(stat.high) == pytest.approx(min(float(mean) + half, 100), abs=1e-9)


def test_describe_reads_integer_sums_over_a_denominator():
    # 1/2, 3/2 over denominator 2 -> k = 1, 3
    assert describe(Moments(2, 4, 10, 2), interval=False) == Stat(mean=F(1), n=2)


def test_square_roots_are_exact_to_their_places():
    root = sqrt_fraction(F(2), 20)
    assert root == F(141421356237309504880, 10**20)
    assert sqrt_fraction(F(9, 4)) == F(3, 2)
    with pytest.raises(ValueError):
        sqrt_fraction(F(-1))


# --- comparisons, shares, NPS, display ----------------------------------------------------


def iv(mean, low, high, n=5):
    return Stat(mean=F(mean), n=n, low=F(low), high=F(high))


@pytest.mark.parametrize(
    ("new", "old", "expected"),
    [
        (iv(80, 75, 85), iv(60, 55, 65), True),  # each outside the other
        (iv(80, 60, 100), iv(70, 65, 75), False),  # old mean inside the new interval
        (iv(80, 78, 82), iv(70, 60, 80), False),  # new mean on the old interval's edge
        (iv(60, 55, 65), iv(80, 75, 85), True),  # falls count too
        (Stat(mean=F(80), n=1), iv(60, 55, 65), False),  # no interval, no significance
        (iv(80, 80, 80, 2), iv(60, 60, 60, 2), True),  # zero-width intervals
    ],
)
def test_a_change_is_significant_only_outside_both_intervals(new, old, expected):
    assert significant(new, old) is expected
    assert change(new, old) == Change(delta=new.mean - old.mean, significant=expected)


def test_no_change_without_both_means():
    assert change(iv(80, 70, 90), None) is None
    assert change(Stat(mean=None, n=0), iv(80, 70, 90)) is None
    assert change(iv(80, 70, 90), Stat(mean=None, n=0)) is None


def test_nps_with_its_three_shares():
    assert nps(3, 2, 2) == Nps(score=F(100, 7), promoters=F(3, 7), passives=F(2, 7),
                              detractors=F(2, 7), n=7)  # fmt: skip
    assert nps(4, 0, 0).score == 100 and nps(0, 0, 5).score == -100
    # Very different spreads, one NPS: the shares tell them apart.
    assert nps(5, 0, 5).score == nps(0, 10, 0).score == 0
    assert nps(0, 0, 0) == Nps(score=None, promoters=F(0), passives=F(0), detractors=F(0), n=0)


def test_shares_are_fractions_of_one():
    assert share(3, 8) == F(3, 8) and share(0, 0) is None and share(F(1, 2), 2) == F(1, 4)


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (F(8005, 100), 1, F(801, 10)),
        (F(800499, 10000), 1, F(80)),
        (F(-825, 100), 1, F(-83, 10)),
        (F(200, 3), 1, F(667, 10)),
        (F(1, 3), 0, F(0)),
        (F(5, 2), 0, F(3)),
    ],
)
def test_the_displayed_value_rounds_half_up(value, decimals, expected):
    assert shown(value, decimals) == expected
