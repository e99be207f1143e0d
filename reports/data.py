"""The report data layer: roll-ups shaped into the view models of reports/cards.py.

The arithmetic lives in reports/stats.py (means, intervals, NPS, significance),
reports/rollups.py (visits → stores → regions → client, ranks, early warning),
reports/breakdowns.py (sections, questions, grades, tags) and reports/periods.py
(months, quarters, years, custom ranges); this module re-exports them and assembles a
RegionReport or a StoreScorecard from plain DataFrames, so the database side
(auditapp/services/reporting/rows.py) only loads rows.

Rules decided here (beyond those of the modules above):

- A report is about one group (a wave, or a period label) and compares it with the
  group before (``previous``): the wave its ``previous_wave_id`` names, or the period
  before. The trend is the ``chain`` of groups, oldest first, ending with this one.
- Store rows: the ranked stores first (rank 1 = best), then the stores of the report
  without a score in this group (rank None), by code.
- Early warning: the ranked stores whose displayed mean fell three times in a row over
  the last four groups of the chain, in rank order.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

import pandas as pd

import scoring
from reports.breakdowns import (
    by_tag,
    critical_failures,
    grade_counts,
    grade_for,
    grader,
    nps_of,
    passes,
    question_stats,
    section_lines,
    to_improve,
    worst_questions,
)
from reports.cards import (
    Change,
    RegionReport,
    Stat,
    StoreRow,
    StoreScorecard,
    TrendPoint,
    VisitDetail,
)
from reports.periods import (
    Period,
    assign,
    compare,
    custom,
    period_of,
    previous,
    within,
    year_before,
)
from reports.rollups import (
    StoreScores,
    ancestors,
    bottom,
    by_region,
    early_warning,
    rank_stores,
    store_scores,
    top,
)
from reports.stats import change, describe, nps, share, stat_of, t_quantile

__all__ = [
    "Group",
    "Period",
    "RegionInputs",
    "RegionScores",
    "StoreInfo",
    "StoreInputs",
    "StoreScores",
    "ancestors",
    "assign",
    "bottom",
    "by_region",
    "by_tag",
    "change",
    "compare",
    "critical_failures",
    "custom",
    "describe",
    "early_warning",
    "early_warning_rows",
    "grade_counts",
    "grade_for",
    "grader",
    "nps",
    "nps_of",
    "passes",
    "share",
    "period_of",
    "previous",
    "question_stats",
    "rank_stores",
    "region_report",
    "region_scores",
    "section_lines",
    "stat_of",
    "store_rows",
    "store_scorecard",
    "store_scores",
    "store_trend",
    "t_quantile",
    "to_improve",
    "top",
    "trend",
    "within",
    "worst_questions",
    "year_before",
]

DECLINES = 3


@dataclass(frozen=True)
class StoreInfo:
    store_id: int
    code: str
    name: str


@dataclass(frozen=True)
class Group:
    """A wave (key = its id) or a period (key = its label), as a trend shows it."""

    key: Hashable
    label: str
    starts_on: date
    ends_on: date


def store_rows(
    scores: StoreScores,
    group: Hashable,
    stores: Mapping[int, StoreInfo],
    checklist: scoring.Checklist,
    language: str | None = None,
    previous_group: Hashable | None = None,
) -> tuple[StoreRow, ...]:
    """A row for every store in ``stores``: ranked first, then the unscored by code."""
    ids = list(stores)
    decimals = checklist.scoring.decimals
    codes = {s: info.code for s, info in stores.items()}
    ranked = rank_stores(scores, group, codes, decimals, ids)
    now = scores.stats(group)
    changes = scores.changes(group, previous_group) if previous_group is not None else {}
    rates = scores.pass_rates(group)
    grade = grader(checklist, language)
    rows = []
    for rank, store_id in ranked:
        stat, info = now[store_id], stores[store_id]
        rows.append(
            StoreRow(
                rank=rank,
                store_code=info.code,
                store_name=info.name,
                stat=stat,
                change=changes.get(store_id),
                grade=grade(stat.mean),
                pass_rate=rates.get(store_id),
            )
        )
    done = {store_id for _, store_id in ranked}
    for store_id in sorted((s for s in ids if s not in done), key=codes.__getitem__):
        info = stores[store_id]
        rows.append(
            StoreRow(
                rank=None,
                store_code=info.code,
                store_name=info.name,
                stat=now.get(store_id, Stat(mean=None, n=0)),
                pass_rate=rates.get(store_id),
            )
        )
    return tuple(rows)


def early_warning_rows(
    scores: StoreScores,
    chain: Sequence[Hashable],
    rows: Sequence[StoreRow],
    stores: Mapping[int, StoreInfo],
    decimals: int,
    declines: int = DECLINES,
) -> tuple[StoreRow, ...]:
    """The rows of the stores flagged by :func:`reports.rollups.early_warning`."""
    flagged = {stores[s].code for s in early_warning(scores, chain, decimals, declines, stores)}
    return tuple(row for row in rows if row.store_code in flagged and row.rank is not None)


def trend(
    scores: StoreScores, chain: Sequence[Group], store_ids: Sequence[int] | None = None
) -> tuple[TrendPoint, ...]:
    """The region (or client) mean per group of the chain, oldest first."""
    return tuple(
        TrendPoint(label=g.label, starts_on=g.starts_on, stat=scores.region(g.key, store_ids))
        for g in chain
    )


def store_trend(
    scores: StoreScores, chain: Sequence[Group], store_id: int
) -> tuple[TrendPoint, ...]:
    """One store's mean per group of the chain, oldest first."""
    return tuple(
        TrendPoint(label=g.label, starts_on=g.starts_on, stat=scores.stat(g.key, store_id))
        for g in chain
    )


# --- whole reports --------------------------------------------------------------------


@dataclass(frozen=True)
class RegionInputs:
    """What a region report is made of. ``visits``: approved visits of ``stores`` in
    every group of ``chain`` (``wave_id`` = the group key, ``store_id``, ``score``,
    ``grade``, ``result``); ``sections`` and ``questions``: this group's figures (see
    reports/breakdowns.py), questions with the NPS counts."""

    client_name: str
    region_name: str
    checklist: scoring.Checklist
    chain: Sequence[Group]  # oldest first; the last is the report's group
    stores: Mapping[int, StoreInfo]
    visits: pd.DataFrame
    sections: pd.DataFrame
    questions: pd.DataFrame


@dataclass(frozen=True)
class RegionScores:
    """The part of a region report that comes from the visits alone (see
    :func:`region_scores`)."""

    score: Stat
    visits: int
    change: Change | None
    stores: tuple[StoreRow, ...]
    trend: tuple[TrendPoint, ...]
    grades: tuple[tuple[str, int], ...]
    pass_rate: Fraction | None
    early_warning: tuple[StoreRow, ...]


def region_scores(
    visits: pd.DataFrame,
    chain: Sequence[Group],
    stores: Mapping[int, StoreInfo],
    checklist: scoring.Checklist,
    language: str | None = None,
) -> RegionScores:
    """Scores, ranks, trend, grades, pass rate and early warning of the region, from its
    visits in every group of the chain (see RegionInputs). The region is every store of
    ``visits``: a trend point counts the stores scored in that group."""
    chain = list(chain)
    group = chain[-1]
    before = chain[-2].key if len(chain) > 1 else None
    scores = store_scores(visits)
    rows = store_rows(scores, group.key, stores, checklist, language, before)
    score = scores.region(group.key)
    current = visits[visits["wave_id"] == group.key]
    return RegionScores(
        score=score,
        visits=scores.visits(group.key),
        change=change(score, scores.region(before)) if before is not None else None,
        stores=rows,
        trend=trend(scores, chain),
        grades=grade_counts(current["grade"].tolist(), checklist, language),
        pass_rate=scores.pass_rate(group.key),
        early_warning=early_warning_rows(
            scores, [g.key for g in chain], rows, stores, checklist.scoring.decimals
        ),
    )


def region_report(
    inputs: RegionInputs, language: str | None = None, scores: RegionScores | None = None
) -> RegionReport:
    """The whole report; ``scores``: :func:`region_scores` of the same inputs when the
    caller has computed it already (e.g. while the database was still summing the
    question figures)."""
    checklist, group = inputs.checklist, inputs.chain[-1]
    if scores is None:
        scores = region_scores(inputs.visits, inputs.chain, inputs.stores, checklist, language)
    questions = question_stats(inputs.questions, checklist, language)
    return RegionReport(
        client_name=inputs.client_name,
        region_name=inputs.region_name,
        wave_name=group.label,
        period=(group.starts_on, group.ends_on),
        score=scores.score,
        visits=scores.visits,
        change=scores.change,
        stores=scores.stores,
        sections=section_lines(inputs.sections, checklist, language),
        worst_questions=worst_questions(questions),
        trend=scores.trend,
        grades=scores.grades,
        pass_rate=scores.pass_rate,
        early_warning=scores.early_warning,
        nps=nps_of(inputs.questions, checklist),
        critical_failures=critical_failures(questions),
        tags=by_tag(questions, inputs.questions),
    )


@dataclass(frozen=True)
class StoreInputs:
    """What a store scorecard is made of. ``visits``: approved visits of the store's
    region (its own and those below) in every group of ``chain`` (the store's trend and
    change) — at least this group for the rank; ``sections``, ``questions``: the
    store's figures in this group; ``details``: its visits, as printed."""

    client_name: str
    region_names: tuple[str, ...]
    store: StoreInfo
    region_stores: Mapping[int, StoreInfo]
    checklist: scoring.Checklist
    chain: Sequence[Group]
    visits: pd.DataFrame
    sections: pd.DataFrame
    questions: pd.DataFrame
    details: tuple[VisitDetail, ...]


def store_scorecard(inputs: StoreInputs, language: str | None = None) -> StoreScorecard:
    checklist, chain, store = inputs.checklist, list(inputs.chain), inputs.store
    group = chain[-1]
    before = chain[-2].key if len(chain) > 1 else None
    scores = store_scores(inputs.visits)
    stat = scores.stat(group.key, store.store_id)
    codes = {s: info.code for s, info in inputs.region_stores.items()}
    ranked = rank_stores(scores, group.key, codes, checklist.scoring.decimals, codes)
    rank = next((r for r, s in ranked if s == store.store_id), None)
    lines = section_lines(inputs.sections, checklist, language)
    previous_stat = scores.stat(before, store.store_id) if before is not None else None
    return StoreScorecard(
        client_name=inputs.client_name,
        store_code=store.code,
        store_name=store.name,
        region_names=inputs.region_names,
        wave_name=group.label,
        period=(group.starts_on, group.ends_on),
        score=stat,
        grade=grade_for(stat.mean, checklist, language),
        passed=passes(stat.mean, checklist),
        pass_rate=scores.pass_rates(group.key).get(store.store_id),
        change=change(stat, previous_stat),
        rank_in_region=rank,
        stores_in_region=len(ranked),
        sections=lines,
        trend=store_trend(scores, chain, store.store_id),
        visits=inputs.details,
        to_improve=to_improve(lines),
        nps=nps_of(inputs.questions, checklist),
    )
