"""What a wave's planned visits buy: the precision of a store's score and the power to
see a drop, from the client's history (the arithmetic is in reports/planning.py).

Rules decided here:

- History = the approved visits with a score of the client's waves earlier than this
  one (earlier: by start day, then id). The spread is the pooled within-store-and-wave
  standard deviation: the squared deviations of each visit from its (store, wave) mean,
  summed over every (store, wave), over df = Σ(n − 1). With df < 2, or no spread at
  all, there is no usable history and the planner says so.
- For each tier with visits planned (A, B, C in order), what n visits per store buy:
  the ± half-width of the store's score in one wave (95%), and the power to detect a
  ``DROP``-point drop between two waves (two-sided two-sample t-test at 5%). One visit
  buys neither (no interval, no test). The ± is shown rounded up to one decimal
  (``shown_half_width``), so it never looks narrower than it is, nor narrower than the
  "± 5 / ± 10 points need …" targets beside it; the power in whole percent rounded
  down (``shown_power``), so it never reads as reaching the 80% it misses.
- What a chosen precision needs: visits per store for ± 5 and ± 10 points and for the
  ± the coordinator asks for, and per wave for a ``DROP``-point change (or the change
  asked for, which the tiers' power then uses too) at 80% power. A need beyond
  reports.planning.MAX_VISITS is None ("more than …").
"""

import math
from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy import and_, func, or_, select

from reports import planning

from ...extensions import db
from ...models import TIERS
from ...models.waves import APPROVED, Visit, Wave

DROP = 10
TARGET_HALF_WIDTHS = (5, 10)
TARGET_POWER = 0.8


@dataclass(frozen=True)
class TierPrecision:
    """What ``visits`` per store of ``tier`` buy; both None with a single visit."""

    tier: str
    visits: int
    half_width: float | None
    power: float | None

    @property
    def shown_power(self) -> int | None:
        """The power in whole percent, rounded down (0.796 -> 79), so it never reads
        as reaching a target it misses."""
        if self.power is None:
            return None
        return math.floor(round(self.power * 100, 9))

    @property
    def shown_half_width(self) -> float | None:
        """The ± rounded up to one decimal (10.02 -> 10.1)."""
        if self.half_width is None:
            return None
        return math.ceil(round(self.half_width * 10, 9)) / 10


@dataclass(frozen=True)
class WavePrecision:
    """The planner for one wave; ``sd`` is None without usable history (then nothing
    else is filled in)."""

    sd: float | None
    df: int
    tiers: tuple[TierPrecision, ...] = ()
    # {half-width: visits per store}; None = more than planning.MAX_VISITS.
    needed: tuple[tuple[int, int | None], ...] = ()
    to_detect: int | None = None
    drop: int = DROP
    target_power: float = TARGET_POWER
    limit: int = planning.MAX_VISITS


def pooled_sd(wave: Wave) -> tuple[float | None, int]:
    """(pooled within-store-and-wave sd, its df) over the client's earlier waves; the sd
    is None when df < 2 or every visit equals its (store, wave) mean."""
    groups = db.session.execute(
        select(
            func.count(Visit.id),
            func.sum(Visit.score),
            func.sum(Visit.score * Visit.score),
        )
        .join(Wave, Wave.id == Visit.wave_id)
        .where(
            Wave.client_id == wave.client_id,
            or_(
                Wave.starts_on < wave.starts_on,
                and_(Wave.starts_on == wave.starts_on, Wave.id < wave.id),
            ),
            Visit.status == APPROVED,
            Visit.score.is_not(None),
        )
        .group_by(Visit.wave_id, Visit.store_id)
        .having(func.count(Visit.id) > 1)
    ).all()
    squares, df = Fraction(0), 0
    for n, score_sum, square_sum in groups:
        assert score_sum is not None and square_sum is not None  # sums of non-null scores
        # Σ(x − mean)² = Σx² − (Σx)²/n, exact on the stored 4-place scores.
        total, total_squares = Fraction(score_sum), Fraction(square_sum)
        squares += total_squares - total * total / n
        df += n - 1
    if df < 2 or squares <= 0:
        return None, df
    return math.sqrt(squares / df), df


def _needed(sd: float, half_width: int) -> int | None:
    try:
        return planning.visits_needed(sd, half_width)
    except ValueError:
        return None


def _tier(tier: str, visits: int, sd: float, drop: int) -> TierPrecision:
    if visits < 2:
        return TierPrecision(tier, visits, None, None)
    visits = min(visits, planning.MAX_VISITS)
    return TierPrecision(
        tier,
        visits,
        planning.half_width(sd, visits),
        planning.power_to_detect(sd, drop, visits),
    )


def wave_precision(wave: Wave, half_width: int | None = None, drop: int = DROP) -> WavePrecision:
    """The planner for ``wave`` (see the module docstring), with the ± ``half_width``
    and the ``drop`` the coordinator chose, if any."""
    sd, df = pooled_sd(wave)
    if sd is None:
        return WavePrecision(sd=None, df=df, drop=drop)
    planned = wave.visits_per_tier or {}
    try:
        to_detect: int | None = planning.visits_to_detect(sd, drop, TARGET_POWER)
    except ValueError:
        to_detect = None
    targets = sorted({*TARGET_HALF_WIDTHS, *([half_width] if half_width else [])})
    return WavePrecision(
        sd=sd,
        df=df,
        tiers=tuple(
            _tier(tier, int(planned[tier]), sd, drop) for tier in TIERS if planned.get(tier, 0) > 0
        ),
        needed=tuple((target, _needed(sd, target)) for target in targets),
        to_detect=to_detect,
        drop=drop,
    )
