"""Shopper calibration: how far a shopper's scores sit from their peers' scores of the
same stores in the same waves.

Rules decided here (see docs/SCORING.md for the scores themselves):

- Input: one row per approved visit, columns ``shopper_id``, ``store_id``, ``wave_id``
  and ``score`` (Decimal, int, Fraction or float; a float is read through its repr).
  Rows with a null in any of these columns are ignored.
- A *comparison* is one visit whose store was also scored in the same wave by at
  least one **other** shopper. Its difference = the visit's score − the mean of the
  other shoppers' visit scores of that store in that wave (each visit equal, as the
  store score is in SCORING.md §5; the shopper's own other visits there are left out
  of the baseline). A shopper alone at a store in a wave gives no comparison.
- Per shopper: ``index`` = mean difference (positive = more lenient/generous than
  peers, negative = harsher), ``mean_abs`` = mean absolute difference, ``n`` = number
  of comparisons, ``stores`` = distinct stores compared, ``visits`` = scored visits
  seen (with or without a comparison).
- Arithmetic is exact (Fractions); rounding is for display only, half-up to one
  decimal (:func:`display`), and any threshold compares the rounded value, so an index
  shown as 8.0 is never "over 8".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import pandas as pd

from scoring.exact import round_half_up, to_fraction

COLUMNS = ("shopper_id", "store_id", "wave_id", "score")
DISPLAY_PLACES = 1


@dataclass(frozen=True)
class ShopperCalibration:
    """One shopper's standing against their peers; ``index`` and ``mean_abs`` are None
    when the shopper has no comparison yet (``n == 0``)."""

    shopper_id: int
    index: Fraction | None
    mean_abs: Fraction | None
    n: int
    stores: int
    visits: int


def display(value: Fraction | None, places: int = DISPLAY_PLACES) -> Decimal | None:
    """``value`` rounded half-up (away from zero) for showing: 8.25 -> 8.3, -8.25 -> -8.3."""
    return None if value is None else round_half_up(value, places)


def _exact(value: object) -> Fraction:
    exact = to_fraction(value)
    if exact is None:
        raise ValueError(f"score {value!r} is not a finite number")
    return exact


def _clean(visits: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in COLUMNS if c not in visits.columns]
    if missing:
        raise ValueError(f"missing columns: {', '.join(missing)}")
    frame = visits.loc[:, list(COLUMNS)].dropna()
    out = pd.DataFrame(
        {
            "shopper_id": frame["shopper_id"].astype("int64"),
            "store_id": frame["store_id"].astype("int64"),
            "wave_id": frame["wave_id"].astype("int64"),
            "score": pd.Series(
                [_exact(v) for v in frame["score"]], index=frame.index, dtype=object
            ),
        }
    )
    return out.reset_index(drop=True)


def comparisons(visits: pd.DataFrame) -> pd.DataFrame:
    """One row per comparison: ``shopper_id``, ``store_id``, ``wave_id``, ``score``,
    ``peers`` (the other shoppers' visits it is compared with), ``baseline`` (their
    mean score) and ``difference`` (score − baseline); exact Fractions throughout."""
    return _comparisons(_clean(visits))


def _comparisons(frame: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return frame.assign(peers=0, baseline=None, difference=None)
    place = ["store_id", "wave_id"]
    own = [*place, "shopper_id"]
    by_place = frame.groupby(place, sort=False)["score"]
    by_own = frame.groupby(own, sort=False)["score"]
    peers = by_place.transform("size") - by_own.transform("size")
    others_sum = by_place.transform("sum") - by_own.transform("sum")
    keep = peers > 0
    out = frame.loc[keep].copy()
    out["peers"] = peers[keep].astype("int64")
    out["baseline"] = pd.Series(
        [Fraction(s) / p for s, p in zip(others_sum[keep], out["peers"], strict=True)],
        index=out.index,
        dtype=object,
    )
    out["difference"] = pd.Series(
        [x - b for x, b in zip(out["score"], out["baseline"], strict=True)],
        index=out.index,
        dtype=object,
    )
    return out.reset_index(drop=True)


def calibrate(visits: pd.DataFrame) -> dict[int, ShopperCalibration]:
    """Every shopper with at least one scored visit, keyed by shopper id (see the module
    docstring for what the figures mean)."""
    frame = _clean(visits)
    compared = _comparisons(frame)
    seen: dict[int, int] = {}
    for shopper_id in frame["shopper_id"].tolist():
        seen[int(shopper_id)] = seen.get(int(shopper_id), 0) + 1
    diffs: dict[int, list[Fraction]] = {}
    stores: dict[int, set[int]] = {}
    for shopper_id, store_id, difference in zip(
        compared["shopper_id"].tolist(),
        compared["store_id"].tolist(),
        compared["difference"].tolist(),
        strict=True,
    ):
        diffs.setdefault(int(shopper_id), []).append(difference)
        stores.setdefault(int(shopper_id), set()).add(int(store_id))
    result: dict[int, ShopperCalibration] = {}
    for shopper_id, count in sorted(seen.items()):
        mine = diffs.get(shopper_id, [])
        n = len(mine)
        result[shopper_id] = ShopperCalibration(
            shopper_id=shopper_id,
            index=sum(mine, Fraction(0)) / n if n else None,
            mean_abs=sum((abs(d) for d in mine), Fraction(0)) / n if n else None,
            n=n,
            stores=len(stores.get(shopper_id, ())),
            visits=count,
        )
    return result
