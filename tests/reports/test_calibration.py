"""Shopper calibration (reports/calibration.py): hand-computed examples and the
properties any leniency index must have."""

from decimal import Decimal
from fractions import Fraction

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.calibration import COLUMNS, ShopperCalibration, calibrate, comparisons, display

MODEST = settings(max_examples=100, deadline=None)
A, B, C = 1, 2, 3
S1, S2, S3 = 11, 12, 13
W1, W2 = 21, 22


def frame(rows):
    return pd.DataFrame(rows, columns=list(COLUMNS))


def D(text):
    return Decimal(text)


# Two waves. Differences (score - mean of the other shoppers' visits there):
# W1/S1: A 80, B 70, C 60      -> A +15, B 0, C -15
# W1/S2: A 90, B 84            -> A +6, B -6
# W2/S1: A 75, C 70, C 71      -> A 75 - 70.5 = +4.5; C 70 - 75 = -5, 71 - 75 = -4
# W2/S3: B 50 alone            -> no comparison
HAND = [
    (A, S1, W1, D("80")), (B, S1, W1, D("70")), (C, S1, W1, D("60")),
    (A, S2, W1, D("90")), (B, S2, W1, D("84")),
    (A, S1, W2, D("75")), (C, S1, W2, D("70")), (C, S1, W2, D("71")),
    (B, S3, W2, D("50")),
]  # fmt: skip


def test_hand_computed_example_across_two_waves():
    result = calibrate(frame(HAND))
    assert result == {
        A: ShopperCalibration(A, Fraction(17, 2), Fraction(17, 2), n=3, stores=2, visits=3),
        B: ShopperCalibration(B, Fraction(-3), Fraction(3), n=2, stores=2, visits=3),
        C: ShopperCalibration(C, Fraction(-8), Fraction(8), n=3, stores=1, visits=3),
    }
    assert display(result[A].index) == Decimal("8.5")
    assert display(result[C].index) == Decimal("-8.0")


def test_the_comparisons_behind_the_example():
    rows = comparisons(frame(HAND))
    got = sorted(
        (int(r.shopper_id), int(r.store_id), int(r.wave_id), r.peers, r.baseline, r.difference)
        for r in rows.itertuples()
    )
    assert got == sorted(
        [
            (A, S1, W1, 2, 65, 15),
            (B, S1, W1, 2, 70, 0),
            (C, S1, W1, 2, 75, -15),
            (A, S2, W1, 1, 84, 6),
            (B, S2, W1, 1, 90, -6),
            (A, S1, W2, 2, Fraction(141, 2), Fraction(9, 2)),
            (C, S1, W2, 1, 75, -5),
            (C, S1, W2, 1, 75, -4),
        ]  # fmt: skip
    )


def test_a_shopper_alone_at_a_store_gives_no_comparison():
    result = calibrate(frame([(A, S1, W1, D("90")), (A, S1, W1, D("40")), (B, S2, W1, D("10"))]))
    assert result[A] == ShopperCalibration(A, None, None, n=0, stores=0, visits=2)
    assert result[B].n == 0 and result[B].index is None


def test_the_same_store_in_another_wave_is_no_peer():
    result = calibrate(frame([(A, S1, W1, D("90")), (B, S1, W2, D("40"))]))
    assert result[A].n == result[B].n == 0


def test_null_scores_and_nulls_anywhere_are_ignored():
    rows = [
        (A, S1, W1, D("80")),
        (B, S1, W1, None),
        (C, S1, W1, float("nan")),
        (None, S1, W1, D("10")),
        (B, S1, W1, D("70")),
    ]
    result = calibrate(frame(rows))
    assert set(result) == {A, B}
    assert result[A].index == 10 and result[B].index == -10
    assert result[B].visits == 1


def test_exact_arithmetic_and_half_up_display():
    # Four-place scores as stored: 66.6667 vs 33.3333 and 50.0000.
    rows = [(A, S1, W1, D("66.6667")), (B, S1, W1, D("33.3333")), (C, S1, W1, D("50.0000"))]
    result = calibrate(frame(rows))
    assert result[A].index == Fraction("66.6667") - Fraction("41.66665")
    assert display(result[A].index) == Decimal("25.0")
    assert display(Fraction(-1, 20)) == Decimal("-0.1")  # halves away from zero
    assert display(Fraction(1, 20)) == Decimal("0.1")
    assert display(None) is None


def test_other_number_types_are_read_exactly():
    rows = [(A, S1, W1, 0.1), (B, S1, W1, 1), (C, S1, W1, Fraction(1, 3))]
    result = calibrate(frame(rows))
    assert result[B].index == 1 - (Fraction(1, 10) + Fraction(1, 3)) / 2


def test_empty_input_gives_no_shoppers():
    assert calibrate(frame([])) == {}
    assert comparisons(frame([])).empty


def test_bad_input_is_an_error():
    with pytest.raises(ValueError, match="missing columns: score"):
        calibrate(pd.DataFrame({"shopper_id": [1], "store_id": [1], "wave_id": [1]}))
    with pytest.raises(ValueError, match="not a finite number"):
        calibrate(frame([(A, S1, W1, "80")]))


# --- properties ---------------------------------------------------------------------

scores = st.integers(min_value=0, max_value=1_000_000).map(lambda u: Decimal(u).scaleb(-4))
rows = st.lists(
    st.tuples(st.integers(1, 5), st.integers(1, 4), st.integers(1, 3), scores | st.none()),
    max_size=40,
)


@MODEST
@given(rows, st.integers(-10_000, 10_000).map(lambda u: Decimal(u).scaleb(-2)))
def test_adding_a_constant_to_every_score_changes_no_index(data, shift):
    shifted = [(s, k, w, None if x is None else x + shift) for s, k, w, x in data]
    assert calibrate(frame(shifted)) == calibrate(frame(data))


@MODEST
@given(
    st.lists(st.tuples(st.integers(1, 5), st.integers(1, 4), st.integers(1, 3)), max_size=40),
    st.dictionaries(st.tuples(st.integers(1, 4), st.integers(1, 3)), scores),
)
def test_agreeing_shoppers_all_have_index_zero(places, given_scores):
    data = [(s, k, w, given_scores.get((k, w), Decimal("50"))) for s, k, w in places]
    for c in calibrate(frame(data)).values():
        assert c.index in (None, 0)
        assert c.mean_abs in (None, 0)


@MODEST
@given(rows, st.permutations([1, 2, 3, 4, 5]))
def test_swapping_shopper_labels_permutes_the_result(data, order):
    relabel = dict(zip([1, 2, 3, 4, 5], order, strict=True))
    swapped = calibrate(frame([(relabel[s], k, w, x) for s, k, w, x in data]))
    original = calibrate(frame(data))
    assert set(swapped) == {relabel[s] for s in original}
    for s, c in original.items():
        assert swapped[relabel[s]] == ShopperCalibration(
            relabel[s], c.index, c.mean_abs, c.n, c.stores, c.visits
        )


@MODEST
@given(rows)
def test_counts_and_signs_hang_together(data):
    result = calibrate(frame(data))
    compared = comparisons(frame(data))
    assert sum(c.n for c in result.values()) == len(compared)
    for c in result.values():
        assert 0 <= c.n <= c.visits
        assert (c.index is None) == (c.n == 0) == (c.stores == 0)
        if c.n:
            assert abs(c.index) <= c.mean_abs
            assert 1 <= c.stores <= c.n
