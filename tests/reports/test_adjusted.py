"""Shopper-adjusted store scores (reports/adjusted.py): simulated data with known truth,
a case checkable by hand, agreement with statsmodels' MixedLM, and the edge cases."""

from __future__ import annotations

import math
import warnings
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from reports.adjusted import SHOPPER_COLUMNS, STORE_COLUMNS, adjusted_store_scores


def simulate(
    seed: int,
    leniency_sd: float,
    stores: int = 40,
    visits: int = 3,
    shoppers: int = 12,
    noise_sd: float = 5.0,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Each store visited ``visits`` times by distinct shoppers drawn at random; returns
    the visits, the true store means and the true leniencies (ordered like the sorted
    store and shopper labels)."""
    rng = np.random.default_rng(seed)
    truth = rng.normal(70.0, 6.0, stores)
    leniency = rng.normal(0.0, leniency_sd, shoppers) if leniency_sd else np.zeros(shoppers)
    rows = []
    for s in range(stores):
        for j in rng.choice(shoppers, visits, replace=False):
            score = truth[s] + leniency[j] + rng.normal(0.0, noise_sd)
            rows.append((f"s{s:03d}", f"p{j:02d}", float(np.clip(score, 0.0, 100.0))))
    return pd.DataFrame(rows, columns=["store", "shopper", "score"]), truth, leniency


def mean_abs_error(estimates: pd.Series, truth: np.ndarray) -> float:
    return float(np.mean(np.abs(estimates.to_numpy(dtype=float) - truth)))


def error_ratio(seed: int, leniency_sd: float) -> float:
    """Mean absolute error of the adjusted means over that of the raw means."""
    visits, truth, _ = simulate(seed, leniency_sd)
    stores, _ = adjusted_store_scores(visits)
    return mean_abs_error(stores["adjusted_mean"], truth) / mean_abs_error(
        stores["raw_mean"], truth
    )


SEEDS = range(1, 11)


def test_adjusted_means_are_closer_to_the_truth_when_shoppers_differ() -> None:
    # One draw of 12 shoppers can happen to agree; over ten draws the gain is large.
    ratios = [error_ratio(seed, leniency_sd=8.0) for seed in SEEDS]
    assert float(np.mean(ratios)) < 0.8
    assert sum(ratio < 1.0 for ratio in ratios) >= 9


def test_adjusted_means_are_no_worse_when_shoppers_agree() -> None:
    ratios = [error_ratio(seed, leniency_sd=0.0) for seed in SEEDS]
    assert float(np.mean(ratios)) <= 1.02
    assert max(ratios) <= 1.05


def test_recovered_leniency_follows_the_true_leniency() -> None:
    visits, _, leniency = simulate(11, leniency_sd=8.0)
    _, shoppers = adjusted_store_scores(visits)
    assert list(shoppers.columns) == list(SHOPPER_COLUMNS)
    correlation = np.corrcoef(shoppers["effect"].to_numpy(dtype=float), leniency)[0, 1]
    assert correlation > 0.9


def test_a_ten_point_lenient_shopper_is_taken_out_exactly() -> None:
    # Shopper A adds 10 points to what B would give; no other noise. True means are
    # 50, 60, 70, 80. S1 and S2 are seen by both, S3 only by A, S4 only by B.
    truth = {"S1": 50, "S2": 60, "S3": 70, "S4": 80}
    design = [("S1", "A"), ("S1", "B"), ("S2", "A"), ("S2", "B")]
    design += [("S3", "A"), ("S3", "A"), ("S4", "B"), ("S4", "B")]
    rows = [(s, p, truth[s] + (10 if p == "A" else 0)) for s, p in design]
    stores, shoppers = adjusted_store_scores(
        pd.DataFrame(rows, columns=["store", "shopper", "score"])
    )

    assert stores["raw_mean"].tolist() == [55.0, 65.0, 80.0, 80.0]
    # Effects are centred: A +5, B −5, so every adjusted mean is its truth + 5 and the
    # gaps between stores are the true ones.
    effects = dict(zip(shoppers["shopper"], shoppers["effect"], strict=True))
    assert effects["A"] == pytest.approx(5.0, abs=1e-3)
    assert effects["B"] == pytest.approx(-5.0, abs=1e-3)
    assert stores["adjusted_mean"].tolist() == pytest.approx([55.0, 65.0, 75.0, 85.0], abs=1e-3)
    assert shoppers["n"].tolist() == [4, 4]


def test_fixed_effects_agree_with_statsmodels_mixedlm() -> None:
    visits, _, _ = simulate(5, leniency_sd=8.0, stores=30, visits=4, shoppers=10)
    stores, _ = adjusted_store_scores(visits)
    with warnings.catch_warnings():
        # MixedLM's own optimiser chatter is not what this test is about.
        warnings.simplefilter("ignore")
        fit = smf.mixedlm("score ~ C(store) - 1", visits, groups=visits["shopper"]).fit(reml=True)
    reference = fit.fe_params.to_numpy()
    ours = stores["adjusted_mean"].to_numpy(dtype=float)
    raw = stores["raw_mean"].to_numpy(dtype=float)
    assert np.max(np.abs(ours - reference)) < 0.05
    # ... which is a real adjustment, not the raw means.
    assert np.max(np.abs(raw - reference)) > 1.0
    # The interval's standard error is MixedLM's standard error of the fixed effect.
    t = (stores["ci_high"] - stores["ci_low"]).to_numpy(dtype=float) / 2.0
    inside = (stores["ci_low"] > 0) & (stores["ci_high"] < 100)
    se = fit.bse_fe.to_numpy()
    ratio = t[inside.to_numpy()] / se[inside.to_numpy()]
    assert ratio == pytest.approx(np.full(ratio.shape, ratio[0]), rel=0.02)
    assert 1.9 < ratio[0] < 2.1  # t(0.975, N − S) with N − S = 90


def test_a_store_seen_by_one_shopper_is_raw_minus_that_shoppers_effect() -> None:
    visits, _, _ = simulate(8, leniency_sd=8.0)
    alone = pd.DataFrame(
        [("solo", "p03", 80.0), ("solo", "p03", 84.0)], columns=["store", "shopper", "score"]
    )
    stores, shoppers = adjusted_store_scores(pd.concat([visits, alone], ignore_index=True))
    solo = stores.set_index("store").loc["solo"]
    effect = shoppers.set_index("shopper").loc["p03", "effect"]
    assert effect != 0
    assert solo["raw_mean"] == 82.0
    assert solo["adjusted_mean"] == pytest.approx(82.0 - effect)
    assert solo["ci_low"] < solo["adjusted_mean"] < solo["ci_high"]


def test_a_shopper_seen_nowhere_else_moves_nothing() -> None:
    visits, _, _ = simulate(8, leniency_sd=8.0)
    hermit = pd.DataFrame(
        [("far", "hermit", 40.0), ("far", "hermit", 50.0)], columns=["store", "shopper", "score"]
    )
    stores, shoppers = adjusted_store_scores(pd.concat([visits, hermit], ignore_index=True))
    assert shoppers.set_index("shopper").loc["hermit", "effect"] == pytest.approx(0.0, abs=1e-9)
    assert stores.set_index("store").loc["far", "adjusted_mean"] == pytest.approx(45.0)


def test_a_store_with_one_visit_has_no_interval() -> None:
    visits, _, _ = simulate(4, leniency_sd=8.0)
    once = pd.DataFrame([("once", "p01", 70.0)], columns=["store", "shopper", "score"])
    stores, _ = adjusted_store_scores(pd.concat([visits, once], ignore_index=True))
    row = stores.set_index("store").loc["once"]
    assert row["n"] == 1
    assert math.isnan(row["ci_low"]) and math.isnan(row["ci_high"])
    assert not math.isnan(row["adjusted_mean"])
    assert stores["ci_low"].notna().sum() == len(stores) - 1


def test_empty_input_gives_empty_frames_with_the_columns() -> None:
    for visits in (
        pd.DataFrame(columns=["store", "shopper", "score"]),
        pd.DataFrame({"store": ["a"], "shopper": ["x"], "score": [None]}),
    ):
        stores, shoppers = adjusted_store_scores(visits)
        assert stores.empty and shoppers.empty
        assert list(stores.columns) == list(STORE_COLUMNS)
        assert list(shoppers.columns) == list(SHOPPER_COLUMNS)


def test_without_replication_nothing_is_adjusted() -> None:
    visits = pd.DataFrame(
        {"store": ["b", "a", "c"], "shopper": ["x", "y", "x"], "score": [60, 70, 80]}
    )
    stores, shoppers = adjusted_store_scores(visits)
    assert stores["store"].tolist() == ["a", "b", "c"]  # ordered by store
    assert stores["adjusted_mean"].tolist() == [70.0, 60.0, 80.0]
    assert shoppers["effect"].tolist() == [0.0, 0.0]
    assert stores["ci_low"].isna().all()


def test_exact_scores_are_read_and_bounds_stay_on_the_scale() -> None:
    visits = pd.DataFrame(
        {
            "store": ["a", "a", "b", "b"],
            "shopper": ["x", "y", "x", "y"],
            "score": [Decimal("99.5"), Fraction(1, 2), 100, Decimal("0")],
        }
    )
    stores, _ = adjusted_store_scores(visits)
    assert stores["raw_mean"].tolist() == [50.0, 50.0]
    assert (stores["ci_low"] >= 0).all() and (stores["ci_high"] <= 100).all()


@pytest.mark.parametrize("score", [100.5, -1, "high", float("nan")])
def test_a_score_off_the_scale_is_refused(score: object) -> None:
    visits = pd.DataFrame({"store": ["a", "a"], "shopper": ["x", "y"], "score": [50, score]})
    if isinstance(score, float) and math.isnan(score):
        # A missing score is ignored, not refused.
        stores, _ = adjusted_store_scores(visits)
        assert stores["n"].tolist() == [1]
        return
    with pytest.raises(ValueError):
        adjusted_store_scores(visits)


def test_missing_columns_are_refused() -> None:
    with pytest.raises(ValueError, match="score"):
        adjusted_store_scores(pd.DataFrame({"store": ["a"], "shopper": ["x"]}))


def test_an_adjusted_mean_stays_on_the_scale() -> None:
    # Ann is strict (20 points under Bob wherever both went); her perfect visit to Z,
    # net of her strictness, would be above 100: it stays 100, like any score.
    visits = pd.DataFrame(
        [("x", "ann", 60), ("x", "bob", 80), ("y", "ann", 50), ("y", "bob", 70),
         ("w", "ann", 40), ("w", "bob", 60), ("z", "ann", 100), ("z", "ann", 100)],
        columns=["store", "shopper", "score"],
    )  # fmt: skip
    stores, shoppers = adjusted_store_scores(visits)
    assert shoppers.set_index("shopper")["effect"]["ann"] < -5
    z = stores.set_index("store").loc["z"]
    assert z["adjusted_mean"] == 100.0 and z["ci_high"] <= 100.0
