"""Krippendorff's alpha against the published worked example and the reference package."""

import math
import random

import krippendorff
import numpy as np
import pytest

from reports.agreement import Level, krippendorff_alpha

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: four
# observers (rows) by twelve units (columns), None where an observer gave no value.
PAPER = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]
PAPER_UNITS = [list(unit) for unit in zip(*PAPER, strict=True)]


@pytest.mark.parametrize(
    ("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)]
)
def test_the_papers_worked_example(level: Level, published: float) -> None:
    alpha = krippendorff_alpha(PAPER_UNITS, level)
    assert alpha is not None
    assert round(alpha, 3) == published
    reference = krippendorff.alpha(
        reliability_data=np.array(PAPER, dtype=float), level_of_measurement=level
    )
    assert alpha == pytest.approx(reference, abs=1e-12)


def _random_data(rng: random.Random, values: int) -> list[list[float | None]]:
    """Observers by units, with values drawn near a per-unit truth and some missing."""
    observers, units = rng.randint(2, 5), rng.randint(5, 30)
    truths = [rng.randint(1, values) for _ in range(units)]
    rows: list[list[float | None]] = []
    for _ in range(observers):
        row: list[float | None] = []
        for truth in truths:
            if rng.random() < 0.2:
                row.append(None)
            elif rng.random() < 0.6:
                row.append(float(truth))
            else:
                row.append(float(rng.randint(1, values)))
        rows.append(row)
    return rows


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
@pytest.mark.parametrize("seed", range(15))
def test_agrees_with_the_krippendorff_package(level: Level, seed: int) -> None:
    rng = random.Random(seed * 31 + len(level))
    rows = _random_data(rng, values=rng.choice([2, 3, 5, 7]))
    units = [list(unit) for unit in zip(*rows, strict=True)]
    ours = krippendorff_alpha(units, level)
    matrix = np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=float)
    assert ours is not None  # the data always vary
    reference = krippendorff.alpha(reliability_data=matrix, level_of_measurement=level)
    assert ours == pytest.approx(reference, abs=1e-9)


def test_perfect_agreement_is_one_and_systematic_disagreement_below_zero() -> None:
    assert krippendorff_alpha([["yes", "yes"], ["no", "no"], ["yes", "yes"]], "nominal") == 1
    opposite = krippendorff_alpha([["yes", "no"], ["no", "yes"], ["yes", "no"]], "nominal")
    assert opposite is not None and opposite < 0


def test_string_values_work_for_nominal_and_ordinal() -> None:
    units = [["a", "a"], ["b", "c"], ["c", "c"], ["a", "b"]]
    numeric = [[{"a": 1, "b": 2, "c": 3}[v] for v in unit] for unit in units]
    for level in ("nominal", "ordinal"):
        assert krippendorff_alpha(units, level) == pytest.approx(krippendorff_alpha(numeric, level))
    with pytest.raises(ValueError, match="numbers"):
        krippendorff_alpha(units, "interval")


def test_units_with_fewer_than_two_values_do_not_count() -> None:
    base: list[list[float | None]] = [[1, 1], [2, 3], [3, 3], [1, 2]]
    padded: list[list[float | None]] = [*base, [5, None], [None, None], [4]]
    assert krippendorff_alpha(padded, "interval") == krippendorff_alpha(base, "interval")


def test_undefined_without_pairable_values_or_variation() -> None:
    assert krippendorff_alpha([], "nominal") is None
    assert krippendorff_alpha([[1, None], [None, 2], [3]], "nominal") is None
    assert krippendorff_alpha([[2, 2], [2, 2, 2]], "interval") is None


def test_alpha_is_finite_for_two_observers_and_two_values() -> None:
    alpha = krippendorff_alpha([[0, 1], [1, 1]], "nominal")
    assert alpha is not None and math.isfinite(alpha)
