"""Shopper-adjusted store scores: each store's score with the shopper effect taken out.

A store's raw score is the mean of a few visits, each judged by one shopper, so a lenient
shopper lifts every store they visit. The model is the linear mixed model

    score = store_s + shopper_j + error,   shopper_j ~ N(0, tau²),   error ~ N(0, sigma²)

with the stores as fixed effects (one mean each, no common intercept) and the shopper as
a random effect, i.e. ``score ~ C(store) - 1`` with ``(1 | shopper)``.

Method (our own closed form, not statsmodels ``MixedLM``): for a given variance ratio
gamma = tau²/sigma², Henderson's mixed model equations have an exact solution once the
store means are absorbed. With C the shopper × store visit counts,

    A = diag(visits per shopper) − C · diag(1 / visits per store) · Cᵀ   (shoppers × shoppers)
    r = per shopper, the sum of (score − its store's raw mean)

the shopper effects are the BLUPs b = (A + I/gamma)⁻¹ r — each shopper's mean deviation
shrunk towards 0 by about tau²/(tau² + sigma²/n_j), jointly over shoppers who share
stores — and a store's adjusted mean is the mean of (score − b_shopper) over its visits.
gamma itself is the REML estimate: with A = Q·diag(d)·Qᵀ, the restricted likelihood,
profiled over sigma², is minimised in 1-D,

    (N − S) · log(yᵀPy) + Σ log(1 + gamma·d_k),   yᵀPy = yᵀMy − Σ (Qᵀr)_k² · gamma/(1 + gamma·d_k)

(N visits, S stores, yᵀMy the within-store sum of squares) by a fixed grid over
log gamma refined by golden-section search; gamma = 0 (shoppers do not differ) is a
candidate too. Then sigma² = yᵀPy/(N − S) and tau² = gamma·sigma².

Why not ``MixedLM``: the work is one eigen-decomposition of a shoppers × shoppers matrix
and a bounded number of cheap evaluations (``GRID_POINTS`` + ``GOLDEN_STEPS``), so it is
fast, deterministic, never warns about convergence on stores with two visits, and needs
no optimiser settings. The tests check it against ``MixedLM`` on a dataset.

Rules decided here:

- Input columns ``store``, ``shopper``, ``score``; a score is a number 0..100 (int, float,
  Decimal or Fraction; computed in float). Rows with a null in any of them are ignored;
  a score outside 0..100 or not a number is a ValueError.
- A store visited by one shopper only is still estimated: its adjusted mean is its raw
  mean minus that shopper's shrunk effect, which the shopper's visits to other stores
  determine (a shopper seen nowhere else has an effect of 0, so nothing moves).
- Without within-store replication (every store visited once) or without any spread
  within stores, nothing identifies the shopper effects: every effect is 0 and the
  adjusted mean equals the raw mean.
- The 95% interval is adjusted_mean ± t(0.975, N − S) · SE with
  SE² = sigma² · (1/n_s + w_sᵀ (A + I/gamma)⁻¹ w_s), w_s the shares of the store's visits
  by each shopper: the within-store error of the mean plus the uncertainty of the shopper
  effects removed (the exact prediction error variance given the variance components;
  their own uncertainty is not added). The mean and the bounds are clipped to 0..100.
  A store with n < 2 has no interval (NaN), as everywhere in the reports.
- Output rows are sorted by store, shopper effects by shopper; empty input gives empty
  frames with the same columns. A positive shopper effect means a lenient shopper.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from reports.stats import CONFIDENCE, t_quantile

STORE_COLUMNS = ("store", "n", "raw_mean", "adjusted_mean", "ci_low", "ci_high")
SHOPPER_COLUMNS = ("shopper", "n", "effect")
SCALE_LOW, SCALE_HIGH = 0.0, 100.0
# log10 of the variance ratio tau²/sigma² searched: from "shoppers barely differ" to
# "shoppers differ far more than visits do".
LOG_GAMMA_RANGE = (-6.0, 6.0)
GRID_POINTS = 49
GOLDEN_STEPS = 60
# A within-store sum of squares below this (in points²) is no spread at all.
_NO_SPREAD = 1e-9

Vector = npt.NDArray[np.float64]


def _empty() -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.DataFrame(columns=list(STORE_COLUMNS)), pd.DataFrame(columns=list(SHOPPER_COLUMNS))


def _score(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"score {value!r} is not a number") from None
    if not SCALE_LOW <= number <= SCALE_HIGH:  # also rejects NaN
        raise ValueError(f"score {value!r} is not within 0..100")
    return number


def _objective(log_gamma: float, residual_df: int, within: float, d: Vector, q: Vector) -> float:
    """The REML criterion (−2 log restricted likelihood, up to a constant) at gamma."""
    gamma = 10.0**log_gamma
    quadratic = within - float(np.sum(q**2 * gamma / (1.0 + gamma * d)))
    quadratic = max(quadratic, _NO_SPREAD)
    return residual_df * math.log(quadratic) + float(np.sum(np.log1p(gamma * d)))


def _reml_gamma(residual_df: int, within: float, d: Vector, q: Vector) -> float:
    """The REML variance ratio tau²/sigma² (0 on the boundary)."""
    low, high = LOG_GAMMA_RANGE
    grid = np.linspace(low, high, GRID_POINTS)
    values = [_objective(float(x), residual_df, within, d, q) for x in grid]
    best = int(np.argmin(values))
    # Golden-section search between the grid neighbours of the best grid point.
    a = float(grid[max(best - 1, 0)])
    b = float(grid[min(best + 1, GRID_POINTS - 1)])
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    c, e = b - ratio * (b - a), a + ratio * (b - a)
    fc = _objective(c, residual_df, within, d, q)
    fe = _objective(e, residual_df, within, d, q)
    for _ in range(GOLDEN_STEPS):
        if fc <= fe:
            b, e, fe = e, c, fc
            c = b - ratio * (b - a)
            fc = _objective(c, residual_df, within, d, q)
        else:
            a, c, fc = c, e, fe
            e = a + ratio * (b - a)
            fe = _objective(e, residual_df, within, d, q)
    log_gamma = (a + b) / 2.0
    # gamma = 0: no shopper variance; the criterion there is residual_df · log(within).
    at_zero = residual_df * math.log(within)
    if at_zero <= _objective(log_gamma, residual_df, within, d, q):
        return 0.0
    return float(10.0**log_gamma)


def adjusted_store_scores(visits: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per store: ``store``, ``n``, ``raw_mean``, ``adjusted_mean``, ``ci_low``,
    ``ci_high``; per shopper: ``shopper``, ``n``, ``effect`` (see the module docstring)."""
    missing = {"store", "shopper", "score"} - set(visits.columns)
    if missing:
        raise ValueError(f"visits lack the columns {sorted(missing)}")
    rows = visits[["store", "shopper", "score"]].dropna()
    if rows.empty:
        return _empty()

    store_labels = sorted(rows["store"].unique().tolist())
    shopper_labels = sorted(rows["shopper"].unique().tolist())
    store_index = {label: i for i, label in enumerate(store_labels)}
    shopper_index = {label: j for j, label in enumerate(shopper_labels)}
    s_of = np.array([store_index[v] for v in rows["store"]], dtype=np.intp)
    j_of = np.array([shopper_index[v] for v in rows["shopper"]], dtype=np.intp)
    y = np.array([_score(v) for v in rows["score"]], dtype=np.float64)
    n_visits, n_stores, n_shoppers = len(y), len(store_labels), len(shopper_labels)

    store_n = np.bincount(s_of, minlength=n_stores).astype(np.float64)
    shopper_n = np.bincount(j_of, minlength=n_shoppers).astype(np.float64)
    raw_mean = np.bincount(s_of, weights=y, minlength=n_stores).astype(np.float64) / store_n
    deviation = y - raw_mean[s_of]
    within = float(np.sum(deviation**2))
    residual_df = n_visits - n_stores

    counts = np.zeros((n_shoppers, n_stores), dtype=np.float64)
    np.add.at(counts, (j_of, s_of), 1.0)
    absorbed = np.diag(shopper_n) - (counts / store_n) @ counts.T
    eigenvalues, vectors = np.linalg.eigh((absorbed + absorbed.T) / 2.0)
    eigenvalues = np.clip(eigenvalues, 0.0, None)
    shopper_sums = np.bincount(j_of, weights=deviation, minlength=n_shoppers).astype(np.float64)
    projected = vectors.T @ shopper_sums

    if residual_df < 1 or within < _NO_SPREAD:
        gamma = 0.0
    else:
        gamma = _reml_gamma(residual_df, within, eigenvalues, projected)
    # (A + I/gamma)⁻¹ = Q · diag(gamma / (1 + gamma·d)) · Qᵀ; 0 when gamma = 0.
    shrink = gamma / (1.0 + gamma * eigenvalues)
    effects = vectors @ (shrink * projected)
    # The interval below is about the unclipped value; the mean itself stays on the
    # scale (a perfect store seen by strict shoppers is 100, not 105).
    unclipped = raw_mean - (counts.T @ effects) / store_n
    adjusted = np.clip(unclipped, SCALE_LOW, SCALE_HIGH)

    fit = _Fit(within, residual_df, vectors, projected, shrink)
    ci_low, ci_high = _intervals(unclipped, counts, store_n, fit)

    stores = pd.DataFrame(
        {
            "store": store_labels,
            "n": store_n.astype(np.int64),
            "raw_mean": raw_mean,
            "adjusted_mean": adjusted,
            "ci_low": ci_low,
            "ci_high": ci_high,
        }
    )
    shoppers = pd.DataFrame(
        {"shopper": shopper_labels, "n": shopper_n.astype(np.int64), "effect": effects}
    )
    return stores, shoppers


@dataclass(frozen=True)
class _Fit:
    """What the intervals need of the fit: the within-store sum of squares and its
    degrees of freedom, the eigenvectors of the absorbed shopper matrix, the shopper
    sums projected on them and the shrinkage along each."""

    within: float
    residual_df: int
    vectors: npt.NDArray[np.float64]
    projected: Vector
    shrink: Vector


def _intervals(
    unclipped: Vector, counts: npt.NDArray[np.float64], store_n: Vector, fit: _Fit
) -> tuple[Vector, Vector]:
    """Each store's 95% interval, about the unclipped mean and then clipped to the
    scale; none for a store seen once or when no degree of freedom is left."""
    ci_low = np.full(len(store_n), np.nan)
    ci_high = np.full(len(store_n), np.nan)
    if fit.residual_df < 1:
        return ci_low, ci_high
    quadratic = fit.within - float(np.sum(fit.projected**2 * fit.shrink))
    sigma2 = max(quadratic, 0.0) / fit.residual_df
    shares = counts.T / store_n[:, None]  # stores × shoppers
    rotated = shares @ fit.vectors
    variance = sigma2 * (1.0 / store_n + (rotated**2) @ fit.shrink)
    t = t_quantile(1.0 - (1.0 - CONFIDENCE) / 2.0, fit.residual_df)
    half = t * np.sqrt(variance)
    enough = store_n >= 2
    ci_low[enough] = np.clip(unclipped - half, SCALE_LOW, SCALE_HIGH)[enough]
    ci_high[enough] = np.clip(unclipped + half, SCALE_LOW, SCALE_HIGH)[enough]
    return ci_low, ci_high
