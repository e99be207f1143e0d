"""Region reports and question figures over a calendar period — a month, a quarter, a
year or a custom range of days — instead of one wave: every approved visit of the
client's waves whose day falls in the period counts, whatever wave it belongs to. The
queries are services/rows.py's, the arithmetic reports/data.py's and the
calendar reports/periods.py's; this module only chooses the visits and the labels.

Rules decided here:

- The day of a visit is report_data's: the day it started (else its window's start)
  in the store's time zone. The database is asked for the visits whose instant lies in
  the period's days widened by one day on each side (no time zone is more than 14 hours
  from UTC); the few visits near either edge whose store-local day falls outside are
  then left out by id.
- Visits of one period can have been scored with several checklist versions. Sections
  and questions are labelled, and figures rounded, with the checklist of the latest
  wave (by start date, then id) that has a counted visit in the period; with no such
  visit, the latest of the client's waves overlapping the period, else the latest that
  started before the period ended, else the client's latest wave. Figures of another
  version count under the same section and question keys; a key the labelling
  checklist lacks is not shown.
- The trend is the period and the ``TREND_PERIODS - 1`` periods of the same kind before
  it (a custom range: ranges of the same length, back to back), oldest first; the
  change compares with the period just before. The year-on-year change compares with
  the same period a year earlier; for a year it is the change itself, so it is left out.
- The client's managers count only the visits of published waves (services/
  publishing.py), and only published waves label a period or list its stores; the
  agency counts every approved visit.
- The stores listed are those in the user's scope (and the chosen region, format and
  tier) that a wave overlapping the period plans, or that have a counted visit in it.
- A custom range is given as two ISO dates (YYYY-MM-DD), from 1900 to 2999, start not
  after end, at most ``MAX_CUSTOM_DAYS`` days; an unreadable date or an inverted range
  is an error on the field it concerns, and the report is not made.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import pandas as pd
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, or_, select

from reports import data
from reports.cards import Change, QuestionStat, RegionReport, TagLine
from reports.periods import KINDS, Kind, Period

from ...extensions import db
from ...models import Client, Region, Store, User
from ...models.waves import APPROVED, Visit, Wave, wave_stores
from ..core import published_waves
from . import rows
from .visits import load_checklist

TREND_PERIODS = 4  # like rows.TREND_WAVES: a trend, and what the early warning needs
MAX_CUSTOM_DAYS = 3660  # ten years
MAX_OPTIONS = 240  # periods offered in a picker, latest first
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


# --- which period ----------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodChoice:
    """The period a page is about, as read from its query string: ``kind`` "wave" (no
    period) or a reports.periods kind; the ``options`` a month, quarter or year picker
    offers (latest first); the custom range's fields as typed, and their ``errors``
    ({"from" or "to": message})."""

    kind: str = "wave"
    period: Period | None = None
    options: tuple[Period, ...] = ()
    start_text: str = ""
    end_text: str = ""
    errors: Mapping[str, str] = field(default_factory=dict)


def choose(args: Mapping[str, str], waves: Sequence[Wave], default_day: date) -> PeriodChoice:
    """The period of ``args`` (``kind``; ``period``: a label of the options; ``from``,
    ``to``: a custom range). A label that is not offered falls back to the period of
    ``default_day``; empty custom fields to that day's month."""
    kind = args.get("kind") or "wave"
    if kind not in KINDS:
        return PeriodChoice()
    if kind == "custom":
        return _custom(args.get("from", "").strip(), args.get("to", "").strip(), default_day)
    calendar = cast(Kind, kind)
    options = _options(waves, calendar)
    wanted = args.get("period")
    found = next((p for p in options if p.label == wanted), None)
    return PeriodChoice(calendar, found or data.period_of(default_day, calendar), options)


def _options(waves: Sequence[Wave], kind: Kind) -> tuple[Period, ...]:
    """The periods from the first wave's start to the last wave's end, latest first."""
    if not waves:
        return ()
    first = min(w.starts_on for w in waves)
    current = data.period_of(max(w.ends_on for w in waves), kind)
    found: list[Period] = []
    while current.end >= first and len(found) < MAX_OPTIONS:
        found.append(current)
        current = data.previous(current)
    return tuple(found)


def _custom(start_text: str, end_text: str, default_day: date) -> PeriodChoice:
    if not start_text and not end_text:
        month = data.period_of(default_day, "month")
        return PeriodChoice("custom", data.custom(month.start, month.end), (),
                            month.start.isoformat(), month.end.isoformat())  # fmt: skip
    start, end = _day(start_text), _day(end_text)
    errors: dict[str, str] = {}
    if start is None:
        errors["from"] = str(_l("Enter a date as YYYY-MM-DD (from 1900 to 2999)."))
    if end is None:
        errors["to"] = str(_l("Enter a date as YYYY-MM-DD (from 1900 to 2999)."))
    if start is not None and end is not None:
        if end < start:
            errors["to"] = str(_l("The end date is before the start date."))
        elif (end - start).days >= MAX_CUSTOM_DAYS:
            errors["to"] = str(_l("A range can cover at most ten years."))
    period = None if errors or start is None or end is None else data.custom(start, end)
    return PeriodChoice("custom", period, (), start_text, end_text, errors)


def _day(text: str) -> date | None:
    if not ISO_DAY.fullmatch(text):
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if EARLIEST <= day <= LATEST else None


def chain(period: Period, size: int = TREND_PERIODS) -> list[Period]:
    """The period and the ``size - 1`` before it, oldest first."""
    found = [period]
    while len(found) < size:
        found.append(data.previous(found[-1]))
    return found[::-1]


# --- which visits ----------------------------------------------------------------------


def _instant_between(start: datetime, end: datetime) -> ColumnElement[bool]:
    """The visit started (else its window starts) in [start, end)."""
    return or_(
        and_(Visit.started_at.is_not(None), Visit.started_at >= start, Visit.started_at < end),
        and_(Visit.started_at.is_(None), Visit.window_start >= start, Visit.window_start < end),
    )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _widened(period: Period) -> ColumnElement[bool]:
    """Every visit whose local day may fall in the period (and a few just outside)."""
    return _instant_between(
        _midnight(period.start - timedelta(days=1)), _midnight(period.end + timedelta(days=2))
    )


def _outside_ids(scope: ColumnElement[bool], period: Period) -> list[int]:
    """The visits of the widened period whose store-local day falls outside it: only
    those within a day of either edge can."""
    edges = or_(
        _instant_between(
            _midnight(period.start - timedelta(days=1)), _midnight(period.start + timedelta(days=1))
        ),
        _instant_between(_midnight(period.end), _midnight(period.end + timedelta(days=2))),
    )
    rows = db.session.execute(
        select(Visit.id, Visit.started_at, Visit.window_start, Store.timezone)
        .join(Store, Store.id == Visit.store_id)
        .where(Visit.status == APPROVED, scope, edges)
    )
    zones: dict[str, ZoneInfo] = {}
    outside = []
    for visit_id, started, window, zone in rows:
        day = (started or window).astimezone(zones.setdefault(zone, ZoneInfo(zone))).date()
        if day not in period:
            outside.append(visit_id)
    return outside


@dataclass(frozen=True)
class _Scope:
    """The visits a period report may count: the client's waves, the chosen stores."""

    client_id: int
    stores: Select[Any]
    visits: ColumnElement[bool]

    def during(self, period: Period) -> ColumnElement[bool]:
        """Exactly the visits whose local day falls in the period, as a SQL filter."""
        outside = _outside_ids(self.visits, period)
        exact = and_(self.visits, _widened(period))
        return and_(exact, Visit.id.not_in(outside)) if outside else exact


def _scope(client_id: int, region: Region | None, user: User, filters: dict[str, Any]) -> _Scope:
    stores = rows.scoped_stores(user, client_id, region, **filters)
    waves = select(Wave.id).where(Wave.client_id == client_id, published_waves(user))
    return _Scope(client_id, stores, and_(Visit.store_id.in_(stores), Visit.wave_id.in_(waves)))


def _client_waves(client_id: int, user: User) -> list[Wave]:
    """The client's waves whose results the user may read, latest first."""
    query = select(Wave).where(Wave.client_id == client_id, published_waves(user))
    return list(db.session.scalars(query.order_by(Wave.starts_on.desc(), Wave.id.desc())))


def labelling_wave(waves: Sequence[Wave], period: Period, counted: set[int]) -> Wave | None:
    """The wave whose checklist labels the period (see the rules); ``waves`` latest
    first, ``counted``: the ids of the waves with a counted visit in the period."""
    overlapping = [w for w in waves if w.starts_on <= period.end and w.ends_on >= period.start]
    started = [w for w in waves if w.starts_on <= period.end]
    for candidates in ([w for w in waves if w.id in counted], overlapping, started, waves):
        if candidates:
            return candidates[0]
    return None


# --- the reports -----------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodReport:
    """A region report over a period (``report.wave_name`` is the period's label), with
    its change against the same period a year earlier (None for a year) and the
    wave whose checklist labels it."""

    report: RegionReport
    year_change: Change | None
    year_label: str | None
    wave: Wave

    @property
    def places(self) -> int:
        return int(self.wave.checklist_version.decimals)


def region_report(
    region: Region | None,
    client: Client,
    period: Period,
    user: User,
    language: str | None = None,
    **filters: str | None,
) -> PeriodReport | None:
    """The region's report over the period (``region`` None: the whole client's), over
    the stores of its subtree the user may see — the caller has checked that the user
    may open the region; ``filters``: rows.scoped_stores' store_format and tier.
    None when the client has no wave (nothing to label the figures with)."""
    scope = _scope(client.id, region, user, filters)
    periods, earlier = chain(period), data.year_before(period)
    days = rows.visit_days(
        and_(
            scope.visits,
            or_(_widened(data.custom(periods[0].start, period.end)), _widened(earlier)),
        )
    )
    counted = data.within(days, periods)
    now = counted[counted["period"] == period.label]
    waves = _client_waves(client.id, user)
    wave = labelling_wave(waves, period, {int(w) for w in now["wave_id"]})
    if wave is None:
        return None
    checklist, keys = load_checklist(wave.checklist_version_id)
    current = scope.during(period)
    inputs = data.RegionInputs(
        client_name=client.name,
        region_name=client.name if region is None else region.name,
        checklist=checklist,
        chain=[data.Group(p.label, p.label, p.start, p.end) for p in periods],
        stores=_listed_stores(scope, waves, period, {int(s) for s in now["store_id"]}),
        visits=counted.assign(wave_id=counted["period"]),
        sections=rows.section_rows(current),
        questions=rows.question_rows(current, dict(keys)),
    )
    report = data.region_report(inputs, language)
    if earlier == data.previous(period):
        return PeriodReport(report, None, None, wave)
    return PeriodReport(report, _year_change(days, period, earlier), earlier.label, wave)


def _year_change(days: pd.DataFrame, period: Period, earlier: Period) -> Change | None:
    """The region mean's change since the same period a year earlier. Each period is
    labelled on its own: a custom range a year back may overlap the trend's ranges."""
    both = pd.concat([data.within(days, [period]), data.within(days, [earlier])])
    return data.compare(data.store_scores(both, by="period"), period.label, earlier.label)


def _listed_stores(
    scope: _Scope, waves: Sequence[Wave], period: Period, visited: set[int]
) -> dict[int, data.StoreInfo]:
    planned = [w.id for w in waves if w.starts_on <= period.end and w.ends_on >= period.start]
    listed = or_(
        Store.id.in_(select(wave_stores.c.store_id).where(wave_stores.c.wave_id.in_(planned))),
        Store.id.in_(visited),
    )
    rows = db.session.execute(
        select(Store.id, Store.code, Store.name).where(Store.id.in_(scope.stores), listed)
    )
    return {store_id: data.StoreInfo(store_id, code, name) for store_id, code, name in rows}


@dataclass(frozen=True)
class PeriodQuestions:
    """Every scored question over a period's visits, worst first, then those without a
    compliance; the tag lines; the wave whose checklist labels them."""

    stats: tuple[QuestionStat, ...]
    tags: tuple[TagLine, ...]
    wave: Wave

    @property
    def places(self) -> int:
        return int(self.wave.checklist_version.decimals)


def question_table(
    region: Region | None,
    client: Client,
    period: Period,
    user: User,
    language: str | None = None,
    **filters: str | None,
) -> PeriodQuestions | None:
    """The question analysis over the period (see :func:`region_report` for the
    arguments); None when the client has no wave."""
    scope = _scope(client.id, region, user, filters)
    current = scope.during(period)
    counted = db.session.scalars(
        select(Visit.wave_id).where(Visit.status == APPROVED, current).distinct()
    )
    wave = labelling_wave(_client_waves(client.id, user), period, set(counted))
    if wave is None:
        return None
    checklist, keys = load_checklist(wave.checklist_version_id)
    figures = rows.question_rows(current, dict(keys))
    stats = data.question_stats(figures, checklist, language)
    ranked = data.worst_questions(stats, len(stats))
    rest = tuple(s for s in stats if s.compliance is None)
    return PeriodQuestions(ranked + rest, data.by_tag(stats, figures), wave)
