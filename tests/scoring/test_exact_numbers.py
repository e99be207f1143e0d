"""Exact arithmetic helpers: half-up rounding, exact JSON, NPS categories."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from scoring import dumps_exact, loads_exact, nps_category, round_half_up

F = Fraction


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (F(200, 3), 1, "66.7"),
        (F(1, 20), 1, "0.1"),
        (F(3, 20), 1, "0.2"),
        (F(5, 2), 0, "3"),
        (F(1, 3), 0, "0"),
        (F(75), 1, "75.0"),
        (F(1, 8), 2, "0.13"),
        (F(-1, 20), 1, "-0.1"),
        (F(0), 4, "0.0000"),
        (F(7996, 100), 1, "80.0"),
    ],
)
def test_round_half_up(value: Fraction, places: int, expected: str) -> None:
    rounded = round_half_up(value, places)

    assert str(rounded) == expected


def test_loads_exact_reads_decimals_and_refuses_what_json_should_not_hold() -> None:
    assert loads_exact('{"x": 0.1}') == {"x": Decimal("0.1")}
    for text in ('{"x": NaN}', '{"x": 1, "x": 2}', "{"):
        with pytest.raises(ValueError, match=r"\S"):
            loads_exact(text)


def test_dumps_exact_writes_numbers_digit_for_digit() -> None:
    value = {"a": Decimal("75.0"), "b": [F(1, 4), 3, None, True], "c": "é"}

    assert dumps_exact(value) == '{"a": 75.0, "b": [0.25, 3, null, true], "c": "\\u00e9"}'


def test_dumps_exact_refuses_values_it_cannot_write_exactly() -> None:
    with pytest.raises(ValueError, match="1/3"):
        dumps_exact(F(1, 3))
    with pytest.raises(TypeError):
        dumps_exact(0.5)


@pytest.mark.parametrize(
    ("value", "category"),
    [
        (10, "promoter"),
        (9, "promoter"),
        (8, "passive"),
        (7, "passive"),
        (6, "detractor"),
        (0, "detractor"),
    ],
)
def test_nps_category(value: int, category: str) -> None:
    assert nps_category(value) == category


@pytest.mark.parametrize("value", [11, -1, F(15, 2), "9", True])
def test_nps_category_refuses_values_outside_0_to_10(value: object) -> None:
    with pytest.raises(ValueError, match="0 to 10"):
        nps_category(value)
