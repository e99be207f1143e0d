"""The data of a store scorecard and a region report, read from the stored results
(services/visits/results.py) in a few bounded queries; the arithmetic is reports/data.py's.

Rules decided here:

- Only approved visits count (SCORING.md §5), and only those of stores the user may see
  (permissions.store_scope): a regional manager's region report covers the stores of
  the region's subtree inside their scope.
- The client's managers read only published waves (services/follow_up/publishing.py): a report
  on an unpublished wave is not found for them, and the trend leaves unpublished waves
  out (the change then compares with the latest published wave before). The agency
  reads every wave.
- A store's rank is among all the stores of its own region (the region it belongs to
  and those below): a store manager sees where their store stands without seeing the
  other stores' figures.
- The trend is the wave and the waves before it in its programme (``previous_wave_id``),
  up to ``TREND_WAVES`` the reader may see, oldest first; the change compares with the
  wave just before.
- Nothing heavy leaves the database: visit-level rows (store, wave, exact score, grade,
  result) are read once, as plain driver tuples; section scores come grouped by
  (section, score) with a count; question figures are sums and counts per question in
  SQL, and the NPS buckets of the nps questions in a second, small query. A region's
  wave reads them from the per-(wave, store, question) sums services/visits/results.py keeps
  (a quarter of the rows with four visits a store), in one query. Sums of points
  are exact: NUMERIC on PostgreSQL; on SQLite, which stores NUMERIC as binary floats,
  each value is summed as a whole number of 10^-8 points (ROUND(x * 10^8)), which its
  8 stored decimal places make exact, as long as a value is below 4.5e7 points.
- The roll-ups of the visit rows (reports.data.region_scores) run in a worker thread
  while the database sums the section and question figures: pure code, no session.
- A visit approved before scores were stored exactly (no ``score_exact``) counts with
  its 4-place ``score``.
- The day of a visit is the day it started (else its window's start) in the store's
  time zone.
- Texts come in ``language`` (a UI locale, e.g. "zh_Hans", or the checklist's "zh"):
  questions, sections and bands from the checklist's translations; answers like the
  review screen writes them.
"""

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from flask_babel import force_locale
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    cast,
    func,
    literal_column,
    or_,
    select,
)

from reports import data
from reports.cards import RegionReport, StoreScorecard

from ...errors import NotFound
from ...extensions import db
from ...models import ChecklistQuestion, Client, Region, Store, User
from ...models.results import StoreQuestionSummary, VisitQuestionResult, VisitSectionResult
from ...models.waves import APPROVED, Visit, Wave, wave_stores
from ...permissions import store_scope
from ..core import is_published, sees_unpublished
from ..visits import SUMMARY_FIGURES
from .visits import load_checklist, visit_details

TREND_WAVES = 4  # the last four waves: a trend, and what the early warning needs
POINT_SCALE = 10**8  # Numeric(20, 8)
VISIT_COLUMNS = ["wave_id", "store_id", "score", "grade", "result"]
QUESTION_COLUMNS = ["question_key", "earned", "possible", "answers", "full_credit",
                    "critical_failed", "promoters", "passives", "detractors"]  # fmt: skip


# --- waves and checklists --------------------------------------------------------------


def may_read(user: User, wave: Wave) -> bool:
    """Whether the wave's results are open to the user: published, or the agency's."""
    return sees_unpublished(user) or is_published(wave)


def wave_chain(wave: Wave, size: int = TREND_WAVES, user: User | None = None) -> list[data.Group]:
    """The wave and those before it in its programme, oldest first (at most ``size``;
    the chain stops at a loop); with ``user``, only the waves whose results they may
    read. One query over the client's waves."""
    everyone = user is None or sees_unpublished(user)
    rows = db.session.execute(
        select(
            Wave.id, Wave.previous_wave_id, Wave.published_at, Wave.name, Wave.starts_on,
            Wave.ends_on,
        ).where(Wave.client_id == wave.client_id)
    )  # fmt: skip
    waves = {
        wave_id: (
            previous_id,
            everyone or published_at is not None,
            data.Group(wave_id, name, starts_on, ends_on),
        )
        for wave_id, previous_id, published_at, name, starts_on, ends_on in rows
    }
    chain: list[data.Group] = []
    seen: set[int] = set()
    current: int | None = wave.id
    while current in waves and len(chain) < size and current not in seen:
        seen.add(current)
        previous_id, readable, group = waves[current]
        if readable:
            chain.append(group)
        current = previous_id
    return chain[::-1]


# --- the queries ----------------------------------------------------------------------


def scoped_stores(
    user: User,
    client_id: int,
    region: Region | None,
    *,
    store_format: str | None = None,
    tier: str | None = None,
) -> Select[int]:
    """Ids of the client's stores the user may see (in the region's subtree), of this
    format and tier when given: a report on, say, tier A supermarkets only."""
    query = select(Store.id).where(Store.client_id == client_id, store_scope(user))
    if store_format is not None:
        query = query.where(Store.format == store_format)
    if tier is not None:
        query = query.where(Store.tier == tier)
    if region is not None:
        query = query.join(Region, Region.id == Store.region_id).where(
            Region.path.startswith(region.path, autoescape=True)
        )
    return query


def _sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def _approved(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    approved = Visit.status == APPROVED
    if _sqlite():
        # Nearly every stored visit is approved: without statistics SQLite would walk
        # the status index (all history) instead of the wave's visits.
        approved = func.likelihood(approved, literal_column("0.9"))
    return and_(approved, *conditions)


def fetch(query: Select[*tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The rows as plain tuples from the driver, in the session's transaction: for the
    large reads, which need no type conversion (SQLAlchemy's Row objects would cost
    more than the query)."""
    connection = db.session.connection()
    compiled = query.compile(connection, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    bound: Any = (
        tuple(params[name] for name in compiled.positiontup or ())
        if compiled.positional
        else params
    )
    cursor = connection.exec_driver_sql(str(compiled), bound).cursor
    assert cursor is not None
    return list(cursor.fetchall())


def _frame(rows: Sequence[Sequence[Any]], columns: list[str]) -> pd.DataFrame:
    """Rows as a DataFrame of Python objects, built column by column."""
    return pd.DataFrame(
        {name: pd.Series([row[i] for row in rows], dtype=object) for i, name in enumerate(columns)}
    )


def visit_rows(where: ColumnElement[bool]) -> pd.DataFrame:
    """Approved visits: wave_id, store_id, score (exact fraction text; the 4-place
    score for a visit stored before exact scores were), grade, result."""
    score = func.coalesce(Visit.score_exact, cast(Visit.score, String))
    query = select(Visit.wave_id, Visit.store_id, score, Visit.grade, Visit.result)
    return _frame(fetch(query.where(_approved(where))), VISIT_COLUMNS)


def _visit_ids(where: ColumnElement[bool]) -> Select[int]:
    """The approved visits' ids, as a subquery: filtering the result rows with it lets
    PostgreSQL hash the few visit ids once instead of joining every result row."""
    return select(Visit.id).where(_approved(where))


def section_rows(where: ColumnElement[bool]) -> pd.DataFrame:
    """section_key, score (exact text), count: equal section scores grouped in SQL."""
    r = VisitSectionResult
    query = (
        select(r.section_key, r.score_exact, func.count())
        .where(r.visit_id.in_(_visit_ids(where)), r.score_exact.is_not(None))
        .group_by(r.section_key, r.score_exact)
    )
    return _frame(fetch(query), ["section_key", "score", "count"])


def _points_sum(column: Any) -> Any:
    if _sqlite():
        return func.sum(cast(func.round(column * POINT_SCALE), Integer))
    return func.sum(column)


def _points(value: Any) -> Fraction:
    if value is None:
        return Fraction(0)
    if isinstance(value, int) and _sqlite():
        return Fraction(value, POINT_SCALE)
    return Fraction(Decimal(value))


def _count_true(column: Any) -> Any:
    if _sqlite():
        return func.sum(column)  # booleans are stored as 0 and 1
    return func.count().filter(column.is_(True))


def question_rows(where: ColumnElement[bool], keys: dict[int, str]) -> pd.DataFrame:
    """Per question, summed in SQL over the applicable answers: earned, possible,
    answers, full_credit, critical_failed; and for the NPS questions the promoters,
    passives, detractors. ``keys`` ({question id: key}) grows with any other checklist
    version's ids. Two queries: the scored answers, then the NPS answers alone."""
    q = VisitQuestionResult
    scored = fetch(
        select(
            q.question_id,
            _points_sum(q.earned),
            _points_sum(q.possible),
            func.count(),
            _count_true(q.full_credit),
            _count_true(q.critical_failed),
        )
        .where(q.visit_id.in_(_visit_ids(where)), q.applicable.is_(True))
        .group_by(q.question_id)
    )
    versions = select(Visit.checklist_version_id).where(_approved(where)).distinct()
    nps_ids = select(ChecklistQuestion.id).where(
        ChecklistQuestion.type == "nps", ChecklistQuestion.version_id.in_(versions)
    )
    nps = fetch(
        select(
            q.question_id,
            func.count().filter(q.nps >= 9),
            func.count().filter(q.nps.between(7, 8)),
            func.count().filter(q.nps <= 6),
        )
        .join(Visit, Visit.id == q.visit_id)  # each visit's NPS answers by primary key
        .where(_approved(where), q.question_id.in_(nps_ids), q.nps.is_not(None))
        .group_by(q.question_id)
    )
    _learn_keys(keys, {row[0] for row in scored + nps})
    records = [
        (keys[qid], _points(e), _points(p), int(a), int(f or 0), int(c or 0), 0, 0, 0)
        for qid, e, p, a, f, c in scored
    ]
    records += [
        (keys[qid], Fraction(0), Fraction(0), 0, 0, 0, int(pr), int(pa), int(de))
        for qid, pr, pa, de in nps
    ]
    return _frame(records, QUESTION_COLUMNS)


def _learn_keys(keys: dict[int, str], ids: set[int]) -> None:
    """Adds the keys of question ids ``keys`` does not know (another version's)."""
    unknown = ids - set(keys)
    if unknown:
        keys.update(
            db.session.execute(
                select(ChecklistQuestion.id, ChecklistQuestion.key).where(
                    ChecklistQuestion.id.in_(unknown)
                )
            ).all()
        )


def wave_question_rows(wave_id: int, stores: Select[Any], keys: dict[int, str]) -> pd.DataFrame:
    """question_rows' figures for the wave's approved visits at ``stores`` (a query of
    store ids), read from the per-store sums that services/visits/results.py keeps
    (StoreQuestionSummary): one row per store and question to group instead of one per
    answer. Points there are whole 10^-8 units, so the sums are exact integers."""
    s = StoreQuestionSummary
    rows = fetch(
        select(
            s.question_id,
            *(func.sum(getattr(s, name)) for name in SUMMARY_FIGURES),
        )
        .where(s.wave_id == wave_id, s.store_id.in_(stores))
        .group_by(s.question_id)
    )
    _learn_keys(keys, {row[0] for row in rows})
    records = [
        (keys[qid], Fraction(int(e), POINT_SCALE), Fraction(int(p), POINT_SCALE),
         int(a), int(f), int(c), 0, 0, 0)
        for qid, e, p, a, f, c, *_nps in rows if a
    ]  # fmt: skip
    records += [
        (keys[qid], Fraction(0), Fraction(0), 0, 0, 0, int(pr), int(pa), int(de))
        for qid, *_scored, pr, pa, de in rows
        if pr or pa or de
    ]
    return _frame(records, QUESTION_COLUMNS)


def _store_infos(query: Select[int, str, str]) -> dict[int, data.StoreInfo]:
    return {store_id: data.StoreInfo(store_id, code, name) for store_id, code, name in fetch(query)}


def _locale(language: str | None) -> Any:
    if not language:
        return nullcontext()
    return force_locale("zh_Hans" if language.lower().startswith("zh") else language)


# --- the reports ----------------------------------------------------------------------


def region_report(
    region: Region | None,
    wave: Wave,
    user: User,
    language: str | None = None,
    *,
    store_format: str | None = None,
    tier: str | None = None,
) -> RegionReport:
    """The region's report for the wave, over the stores of its subtree the user may
    see (the caller has checked that the user may open the region); with ``region``
    None, the whole client's (head office). ``store_format``, ``tier``: only the stores
    of that format and tier."""
    if (region is not None and wave.client_id != region.client_id) or not may_read(user, wave):
        raise NotFound()
    chain = wave_chain(wave, user=user)
    checklist, keys = load_checklist(wave.checklist_version_id)
    in_scope = scoped_stores(user, wave.client_id, region, store_format=store_format, tier=tier)
    scope = Visit.store_id.in_(in_scope)
    current = and_(Visit.wave_id == wave.id, scope)
    listed = or_(
        Store.id.in_(select(wave_stores.c.store_id).where(wave_stores.c.wave_id == wave.id)),
        Store.id.in_(select(Visit.store_id).where(_approved(Visit.wave_id == wave.id))),
    )
    stores = _store_infos(
        select(Store.id, Store.code, Store.name).where(Store.id.in_(in_scope), listed)
    )
    client_name = db.session.scalars(select(Client.name).where(Client.id == wave.client_id)).one()
    visits = visit_rows(and_(Visit.wave_id.in_([g.key for g in chain]), scope))
    # The roll-ups of the visits run in a worker thread while the database sums the
    # section and question figures (both release the GIL while they wait).
    with ThreadPoolExecutor(max_workers=1) as pool:
        part = pool.submit(data.region_scores, visits, chain, stores, checklist, language)
        sections = section_rows(current)
        questions = wave_question_rows(wave.id, in_scope, keys)
        scores = part.result()
    inputs = data.RegionInputs(
        client_name=client_name,
        region_name=client_name if region is None else region.name,
        checklist=checklist,
        chain=chain,
        stores=stores,
        visits=visits,
        sections=sections,
        questions=questions,
    )
    return data.region_report(inputs, language, scores)


def store_card(store: Store, wave: Wave, user: User, language: str | None = None) -> StoreScorecard:
    """The store's scorecard for the wave, without its open corrective actions (which
    services/scorecards/pdfs.py adds: they belong to the follow-up area). Raises NotFound
    when the user may not see the store, the wave is another client's or its results
    are not open to the user."""
    visible = db.session.scalars(select(Store.id).where(Store.id == store.id, store_scope(user)))
    if wave.client_id != store.client_id or not may_read(user, wave) or visible.first() is None:
        raise NotFound()
    chain = wave_chain(wave, user=user)
    loaded = load_checklist(wave.checklist_version_id)
    checklist, keys = loaded[0], dict(loaded[1])
    region = db.session.get(Region, store.region_id)
    assert region is not None
    in_region = (
        select(Store.id)
        .join(Region, Region.id == Store.region_id)
        .where(Store.client_id == store.client_id)
        .where(Region.path.startswith(region.path, autoescape=True))
    )
    region_stores = _store_infos(
        select(Store.id, Store.code, Store.name).where(Store.id.in_(in_region))
    )
    visits = visit_rows(
        or_(
            and_(Visit.wave_id == wave.id, Visit.store_id.in_(in_region)),
            and_(Visit.wave_id.in_([g.key for g in chain]), Visit.store_id == store.id),
        )
    )
    names = dict(
        db.session.execute(
            select(Region.id, Region.name).where(Region.id.in_(data.ancestors(region.path)))
        ).all()
    )
    mine = and_(Visit.wave_id == wave.id, Visit.store_id == store.id)
    with _locale(language):
        details = visit_details(store, wave, user, language, {wave.checklist_version_id: loaded})
    client_name = db.session.scalars(select(Client.name).where(Client.id == store.client_id)).one()
    inputs = data.StoreInputs(
        client_name=client_name,
        region_names=tuple(names[r] for r in data.ancestors(region.path) if r in names),
        store=data.StoreInfo(store.id, store.code, store.name),
        region_stores=region_stores,
        checklist=checklist,
        chain=chain,
        visits=visits,
        sections=section_rows(mine),
        questions=question_rows(mine, keys),
        details=details,
    )
    return data.store_scorecard(inputs, language)


def visit_days(where: ColumnElement[bool]) -> pd.DataFrame:
    """Approved visits with the day each took place (store time), for period roll-ups
    (reports.periods): wave_id, store_id, score, grade, result, day."""
    rows = db.session.execute(
        select(
            Visit.wave_id, Visit.store_id, Visit.score_exact, Visit.score, Visit.grade,
            Visit.result, Visit.started_at, Visit.window_start, Store.timezone,
        ).join(Store, Store.id == Visit.store_id).where(_approved(where))
    )  # fmt: skip
    zones: dict[str, ZoneInfo] = {}
    records = []
    for wave_id, store_id, exact, score, grade, result, started, window, zone in rows:
        tz = zones.setdefault(zone, ZoneInfo(zone))
        day: date = (started or window).astimezone(tz).date()
        records.append((wave_id, store_id, exact or score, grade, result, day))
    columns = ["wave_id", "store_id", "score", "grade", "result", "day"]
    return pd.DataFrame(records, columns=columns).astype(object)
