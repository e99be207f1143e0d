"""Shopper-adjusted store scores for the reports (reports/adjusted.py does the fit), shown
beside the raw scores where the client turns them on (``Client.adjusted_scores``).

Rules decided here:

- The fit is per client, over a window of its waves: the reference wave and up to
  ADJUSTED_WINDOW_WAVES − 1 earlier *published* waves (earlier: by start day, then id),
  so each shopper's usual leniency is estimated from more visits than one wave holds.
  Earlier waves count only once published, whoever reads: a published wave's figures
  are then the same for the agency and for the client's managers, and nothing of an
  unpublished wave ever reaches a client's manager. The reference wave itself must be
  readable by the user (published, for the client's managers), else NotFound.
- The visits are the approved ones with a score and a shopper (SCORING.md §5), of every
  store of the client: the shoppers' effects do not depend on who reads, so a store's
  adjusted score is the same on every page that shows it; only the stores the user may
  see are returned. A score is its exact value (else the 4-place one) as a float.
- The fit's fixed effects are each store in each wave, so a store that really got
  better (or worse) since an earlier wave does not have that change taken for the
  leniency of whoever visited it then; the shoppers' effects are shared by the window.
- A store's adjusted score for the wave = its raw mean in that wave (each visit equal)
  minus the mean of the shopper effects of those visits (one per visit, so a shopper
  who came twice counts twice), i.e. the mean of the wave's visits each with its
  shopper's effect taken out, each kept within 0..100 like any visit score. Its n is
  the wave's visits, and its 95% interval the wave's own, as every mean of the reports
  has (SCORING.md §5: Student t from n = 2, clipped to 0..100) over those adjusted
  visit scores. reports.adjusted's interval is not used: it is the store's over the
  whole window, narrower than the wave's few visits allow.
- Scores and effects become Fractions of the floats' shortest decimal form, so the
  figures round for display like every other (reports/render.py).
- Ranked by the adjusted score: by the displayed (rounded) adjusted mean, then more
  visits, then store code (SCORING.md §5); rows without an adjusted figure follow,
  unranked, in their order.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from fractions import Fraction

import pandas as pd
from flask_babel import gettext, ngettext
from sqlalchemy import and_, or_, select

from reports.adjusted import adjusted_store_scores
from reports.cards import Stat, StoreRow
from reports.stats import stat_of
from scoring import round_half_up

from ...errors import NotFound
from ...extensions import db
from ...models import Client, Store, User
from ...models.waves import APPROVED, Visit, Wave
from ...permissions import store_scope
from ..core import is_published, sees_unpublished

ADJUSTED_WINDOW_WAVES = 6  # the reference wave and up to five published waves before it
RAW, ADJUSTED = "raw", "adjusted"


@dataclass(frozen=True)
class AdjustedScores:
    """The adjusted scores of a wave's stores: {store code: Stat}, and how many waves
    the shoppers' effects were estimated over."""

    waves: int
    stores: dict[str, Stat]

    def note(self) -> str:
        """The one sentence that explains the figure, in the current language (called
        from the templates, so a PDF gets it in its own language)."""
        if self.waves == 1:
            text = gettext(
                "Adjusted for who visited: each shopper's usual leniency, estimated over "
                "this wave, is taken out of the score."
            )
        else:  # earlier waves count once published: say so, not "the last n waves"
            text = ngettext(
                "Adjusted for who visited: each shopper's usual leniency, estimated over "
                "this wave and %(num)d published wave before it, is taken out of the score.",
                "Adjusted for who visited: each shopper's usual leniency, estimated over "
                "this wave and %(num)d published waves before it, is taken out of the score.",
                self.waves - 1,
            )
        return str(text)


def shown(client: Client | None) -> bool:
    """Whether the client's reports show adjusted scores."""
    return bool(client is not None and client.adjusted_scores)


def for_wave(wave: Wave, user: User) -> AdjustedScores | None:
    """The wave's adjusted scores as ``user`` may see them, or None when its client
    does not show them."""
    client = db.session.get(Client, wave.client_id)
    return wave_scores(wave, user) if shown(client) else None


def window(wave: Wave) -> list[int]:
    """Ids of the fit's waves: ``wave`` and up to ADJUSTED_WINDOW_WAVES − 1 published
    waves of its client that start before it (same start: a lower id), latest first."""
    earlier = or_(
        Wave.starts_on < wave.starts_on, and_(Wave.starts_on == wave.starts_on, Wave.id < wave.id)
    )
    before = db.session.scalars(
        select(Wave.id)
        .where(Wave.client_id == wave.client_id, Wave.published_at.is_not(None), earlier)
        .order_by(Wave.starts_on.desc(), Wave.id.desc())
        .limit(ADJUSTED_WINDOW_WAVES - 1)
    )
    return [wave.id, *before]


def window_visits(wave_ids: Sequence[int]) -> pd.DataFrame:
    """The approved, scored visits of these waves: wave_id, store_id, store (code),
    shopper (id), score (float)."""
    rows = db.session.execute(
        select(Visit.wave_id, Visit.store_id, Store.code, Visit.shopper_id, Visit.score_exact,
               Visit.score)
        .join(Store, Store.id == Visit.store_id)
        .where(Visit.wave_id.in_(wave_ids), Visit.status == APPROVED,
               Visit.score.is_not(None), Visit.shopper_id.is_not(None))
    )  # fmt: skip
    records = [
        (wave_id, store_id, code, shopper, _float(exact, score))
        for wave_id, store_id, code, shopper, exact, score in rows
    ]
    return pd.DataFrame(records, columns=["wave_id", "store_id", "store", "shopper", "score"])


def _float(exact: str | None, score: Decimal | None) -> float:
    """The exact score (a fraction's text), else the 4-place one, as a float."""
    if exact is not None:
        return float(Fraction(exact))
    assert score is not None  # window_visits reads scored visits only
    return float(score)


def wave_scores(wave: Wave, user: User) -> AdjustedScores:
    """Every adjusted score of the wave's stores the user may see (see the rules)."""
    if not (sees_unpublished(user) or is_published(wave)):
        raise NotFound()
    waves = window(wave)
    visits = window_visits(waves)
    visible = set(
        db.session.scalars(
            select(Store.code).where(Store.client_id == wave.client_id, store_scope(user))
        )
    )
    return AdjustedScores(waves=len(waves), stores=adjust(visits, wave.id, visible))


def adjust(visits: pd.DataFrame, wave_id: int, codes: set[str]) -> dict[str, Stat]:
    """{store code: Stat} for the stores of ``codes`` with visits in the wave: the fit
    over all ``visits`` (columns wave_id, store, shopper, score), the rule of the
    module's docstring applied to the wave's visits."""
    current = visits[(visits["wave_id"] == wave_id) & visits["store"].isin(codes)]
    if current.empty:
        return {}
    store_in_wave = visits["store"].astype(str) + "@" + visits["wave_id"].astype(str)
    fit = visits.assign(store=store_in_wave)[["store", "shopper", "score"]]
    _stores, shoppers = adjusted_store_scores(fit)
    effect = {s: _fraction(e) for s, e in zip(shoppers["shopper"], shoppers["effect"], strict=True)}
    return {
        str(code): stat_of(
            min(max(_fraction(score) - effect[shopper], Fraction(0)), Fraction(100))
            for score, shopper in zip(group["score"], group["shopper"], strict=True)
        )
        for code, group in current.groupby("store")
    }


def _fraction(value: float) -> Fraction:
    """The float's shortest decimal form, exactly (62.45, not 62.4499…)."""
    return Fraction(repr(float(value)))


def ranked(
    rows: Sequence[StoreRow], adjusted: dict[str, Stat], decimals: int
) -> tuple[StoreRow, ...]:
    """The rows ranked by adjusted score (see the rules), each with its new rank."""

    def has_figure(row: StoreRow) -> bool:
        stat = adjusted.get(row.store_code)
        return stat is not None and stat.mean is not None

    scored = [r for r in rows if has_figure(r)]
    rest = [replace(r, rank=None) for r in rows if not has_figure(r)]

    def key(row: StoreRow) -> tuple[Decimal, int, str]:
        stat = adjusted[row.store_code]
        assert stat.mean is not None
        return (-round_half_up(stat.mean, decimals), -stat.n, row.store_code)

    order = sorted(scored, key=key)
    return tuple(replace(r, rank=i) for i, r in enumerate(order, start=1)) + tuple(rest)
