"""Result exports: the approved visits of one wave as a table, for the web (streamed)
and the command line (`flask reports export`).

Two shapes:

- **wide**: one row per visit: who, where, when, the score, result and grade, the
  integrity score, one column per section score and one per question (the answer in
  words), then the comments;
- **long**: one row per question of each visit: the answer in words beside the points
  it earned and could have earned, whether it applied, earned full credit or failed a
  critical item (SCORING.md §5: Σe / Σp over the applicable rows is the compliance).

Rules decided here:

- Only approved visits count (SCORING.md §5). A viewer sees the visits of the stores
  in their scope (a regional manager their region subtree, a store manager their
  store); a wave is in scope when its client is, and for client roles when it is
  published (services/follow_up/publishing.py) and plans or visited at least one of their stores.
- The shopper's name is a column only for the agency (admins, coordinators,
  reviewers) and the command line; client roles never learn who shopped.
- Columns follow the wave's checklist version. A visit pinned to another version (a
  wave moved to a newer version) fills the columns whose keys it shares.
- Scores are rounded half-up to the checklist's decimals from the exact stored score.
  Points are exact (trailing zeros dropped). Dates and times are the store's local
  time. Answers read as on the review screen, in the reader's language.
- The long shape has a row for every question of the visit's checklist, answered or
  not, so that points add up; an unanswered one reads "Not answered". Its yes/no
  columns (applicable, full credit, critical failed) are 1 or 0, empty when not
  applicable, so that an average is a share (spreadsheets skip TRUE/FALSE there). In the wide
  shape a question without an answer (unanswered or hidden) is an empty cell.
- Visits are read in chunks (by id, keyset paging), each chunk with one query per
  table, so memory stays flat however large the wave. The long rows (millions) are
  read past SQLAlchemy's result layer, as plain driver tuples of ints and text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Text,
    and_,
    cast,
    func,
    or_,
    select,
    true,
)

import scoring
from forms.waves import wave_label
from scoring.answers import clean_answer
from scoring.exact import show_number

from ... import clock
from ...extensions import db
from ...models import (
    ADMIN,
    AGENCY_ROLES,
    ChecklistQuestion,
    ChecklistSection,
    ChecklistVersion,
    Client,
    Region,
    ShopperProfile,
    Store,
    User,
)
from ...models.answers import VisitAnswer, VisitComment
from ...models.results import VisitQuestionResult, VisitSectionResult
from ...models.waves import APPROVED, Visit, Wave, wave_stores
from ...permissions import client_scope, store_scope
from ..checklists import scoring_checklist
from ..core import published_waves

SHAPES = ("wide", "long")
FORMATS = ("csv", "xlsx")
CHUNK = 500  # visits per round of queries (wide)
WIDE_FIXED_COLUMNS = 15  # visit id ... integrity score, the shopper included
LONG_COLUMNS = 13
LONG_CHUNK = 1000  # the same for long rows: 60,000 answers of a 60-question checklist
OVERALL_SECTION = "overall"  # its comment is the visit's overall comment


@dataclass
class ExportTable:
    """A table ready to write: the header (already translated) and its rows, produced
    lazily from the database as they are read."""

    header: list[str]
    rows: Iterator[list[object]]
    title: str  # the worksheet's name
    filename: str  # without extension, ASCII only


# --- scope ---------------------------------------------------------------------------


def wave_scope(user: User | None) -> ColumnElement[bool]:
    """Waves the user may export from (None: the command line, every wave)."""
    if user is None or user.role == ADMIN:
        return true()
    in_client = Wave.client_id.in_(select(Client.id).where(client_scope(user)))
    if user.role in AGENCY_ROLES:
        return in_client
    stores = select(Store.id).where(store_scope(user))
    planned = select(wave_stores.c.wave_id).where(wave_stores.c.store_id.in_(stores))
    visited = select(Visit.wave_id).where(Visit.store_id.in_(stores))
    return and_(in_client, published_waves(user), or_(Wave.id.in_(planned), Wave.id.in_(visited)))


def get_wave(user: User | None, wave_id: int) -> Wave | None:
    return db.session.scalars(select(Wave).where(Wave.id == wave_id, wave_scope(user))).first()


def shows_shopper(user: User | None) -> bool:
    """The agency knows its shoppers; the client never learns who shopped."""
    return user is None or user.role == ADMIN or user.role in AGENCY_ROLES


def _visit_filter(wave_id: int, user: User | None) -> list[ColumnElement[bool]]:
    filters = [Visit.wave_id == wave_id, Visit.status == APPROVED]
    if user is not None and user.role != ADMIN:
        filters.append(Visit.store_id.in_(select(Store.id).where(store_scope(user))))
    return filters


def exportable_waves(user: User | None) -> Select[Wave]:
    """Waves in scope, newest first (a query, for paging)."""
    return select(Wave).where(wave_scope(user)).order_by(Wave.starts_on.desc(), Wave.id.desc())


def approved_counts(user: User | None, wave_ids: list[int]) -> dict[int, int]:
    """{wave id: approved visits in the user's scope}."""
    query = (
        select(Visit.wave_id, func.count(Visit.id))
        .where(Visit.wave_id.in_(wave_ids), Visit.status == APPROVED)
        .group_by(Visit.wave_id)
    )
    if user is not None and user.role != ADMIN:
        query = query.where(Visit.store_id.in_(select(Store.id).where(store_scope(user))))
    return {int(wave_id): int(count) for wave_id, count in db.session.execute(query)}


def estimated_cells(wave: Wave, user: User | None, shape: str) -> int:
    """About how many cells the table has (approved visits in scope times its width),
    cheaply, before building it."""
    visits = (
        db.session.scalar(select(func.count(Visit.id)).where(*_visit_filter(wave.id, user))) or 0
    )
    questions = (
        db.session.scalar(
            select(func.count(ChecklistQuestion.id)).where(
                ChecklistQuestion.version_id == wave.checklist_version_id
            )
        )
        or 0
    )
    if shape == "long":
        return visits * questions * LONG_COLUMNS
    sections = (
        db.session.scalar(
            select(func.count(ChecklistSection.id)).where(
                ChecklistSection.version_id == wave.checklist_version_id
            )
        )
        or 0
    )
    return visits * (WIDE_FIXED_COLUMNS + questions + 2 * sections + 1)


def _visit_ids(wave_id: int, user: User | None, size: int) -> Iterator[list[int]]:
    """The approved visits in scope, by id, ``size`` at a time (keyset paging, so each
    query is cheap however deep into the wave)."""
    filters = _visit_filter(wave_id, user)
    last = 0
    while True:
        ids = list(
            db.session.scalars(
                select(Visit.id).where(*filters, Visit.id > last).order_by(Visit.id).limit(size)
            )
        )
        if not ids:
            return
        yield ids
        last = ids[-1]


# --- readable values -------------------------------------------------------------------


def _local(translations: Any, language: str | None, name: str, fallback: str) -> str:
    return scoring.localized(translations, language, name, fallback) if language else fallback


_MEMO_LIMIT = 2000  # distinct answers remembered per question


class AnswerWords(dict[str | None, str]):
    """A question's stored answers in words, as services/visit_answers.answer_text
    writes them: ``words[json_text]`` (None: no answer row). Exports read millions of
    answers, most of them one of a few option values, so each distinct JSON text is
    decoded and worded once and then found by a plain dictionary lookup."""

    def __init__(self, question: scoring.Question, language: str | None) -> None:
        super().__init__()
        self.question = question
        self.not_answered = _("Not answered")
        self.not_applicable = _("Not applicable")
        self.none_of_these = _("None of these")
        labels = {
            o.value: _local(o.translations, language, "label", o.label) for o in question.options
        }
        if question.type == "yes_no" and not labels:
            labels = {"yes": _("Yes"), "no": _("No")}
        self.labels = labels
        self[None] = self.not_answered

    def __missing__(self, text: str | None) -> str:
        found = self.words(None if text is None else json.loads(text))
        if len(self) < _MEMO_LIMIT:  # free text rarely repeats: don't keep it all
            self[text] = found
        return found

    def words(self, raw: object) -> str:
        question, kind, labels = self.question, self.question.type, self.labels
        if raw is None or raw == "" or raw == []:
            return self.none_of_these if raw == [] and kind == "multi" else self.not_answered
        if raw == scoring.NA and question.na_allowed:
            return self.not_applicable
        if kind in ("text", "date", "time"):
            return str(raw)
        cleaned, error = clean_answer(question, raw)
        value = raw if error is not None or cleaned is None else cleaned
        if kind in ("yes_no", "choice"):
            return labels.get(str(value), str(value))
        if kind == "multi":
            chosen = value if isinstance(value, tuple | list) else (value,)
            return ", ".join(labels.get(str(v), str(v)) for v in chosen) or self.none_of_these
        if kind == "photo":
            count = len(value) if isinstance(value, tuple | list) else 1
            return ngettext("%(num)d photo", "%(num)d photos", count)
        number = scoring.to_fraction(value)
        return str(value) if number is None else show_number(number)


class _Points(dict[str | None, Decimal | None]):
    """Stored points (Numeric(20, 8), read as text) as the exact number without
    trailing zeros: ``points["1.00000000"]`` is 1, ``points["0.50000000"]`` 0.5."""

    def __missing__(self, text: str | None) -> Decimal | None:
        if text is None:
            return None
        normal = Decimal(text).normalize()
        exponent = normal.as_tuple().exponent
        if isinstance(exponent, int) and exponent > 0:
            normal = normal.quantize(Decimal(1))
        self[text] = normal
        return normal


def _driver_rows(statement: Select[*tuple[Any, ...]]) -> list[Any]:
    """The statement's rows as the database driver returns them, past SQLAlchemy's
    result layer (about a third of the time per row). Only for columns that need no
    conversion: integers, and text the query casts to."""
    connection = db.session.connection()
    compiled = statement.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    params: Any = compiled.params
    if compiled.positiontup is not None:
        params = tuple(params[name] for name in compiled.positiontup)
    cursor = connection.connection.cursor()
    try:
        cursor.execute(compiled.string, params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def rounded(exact: str | None, fallback: Decimal | None, decimals: int) -> Decimal | None:
    """A score half-up to ``decimals`` from its exact fraction text (or, for a visit
    approved before exact scores were kept, from the 4-place copy)."""
    if exact is not None:
        return scoring.round_half_up(Fraction(exact), decimals)
    if fallback is not None:
        return scoring.round_half_up(Fraction(fallback), decimals)
    return None


class _Scores(dict[tuple[str | None, Any, int], Decimal | None]):
    """``scores[exact, fallback, decimals]``: rounded() remembered, as the same few
    scores come back thousands of times in a wave."""

    def __missing__(self, key: tuple[str | None, Any, int]) -> Decimal | None:
        exact, fallback, decimals = key
        if isinstance(fallback, str):  # read as text, past the result layer
            fallback = Decimal(fallback)
        found = self[key] = rounded(exact, fallback, decimals)
        return found


def _result_words() -> dict[str | None, str]:
    return {"PASS": _("PASS"), "FAIL": _("FAIL"), None: ""}


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "x"


def filename(wave: Wave, shape: str) -> str:
    stamp = clock.utcnow().strftime("%Y%m%d")
    return f"results-{_safe_name(wave.client.code)}-wave{wave.id}-{shape}-{stamp}"


# --- the checklist, once per export --------------------------------------------------------


@dataclass
class _Layout:
    """What the columns and rows need to know about the checklist versions involved."""

    checklist: scoring.Checklist  # the wave's version
    decimals: dict[int, int]  # version id -> its display decimals
    key_of: dict[int, str]  # question id (any version involved) -> key
    readers: dict[int, AnswerWords]  # question id -> its answers in words
    # question id -> [section key, section title, question key, question text]
    labels: dict[int, list[object]]
    rank: dict[int, int]  # question id -> place in checklist order
    ids_in_order: bool  # question ids already run in checklist order (no sorting needed)
    grades: dict[str, str]  # grade label as stored -> in the reader's language


def _layout(wave: Wave, user: User | None, language: str | None) -> _Layout:
    used = set(
        db.session.scalars(
            select(Visit.checklist_version_id).where(*_visit_filter(wave.id, user)).distinct()
        )
    )
    versions = {wave.checklist_version_id, *used}
    checklists = {
        v.id: scoring_checklist(v)
        for v in db.session.scalars(
            select(ChecklistVersion).where(ChecklistVersion.id.in_(versions))
        )
    }
    rows = db.session.execute(
        select(ChecklistQuestion.id, ChecklistQuestion.key, ChecklistQuestion.version_id)
        .join(ChecklistSection, ChecklistSection.id == ChecklistQuestion.section_id)
        .where(ChecklistQuestion.version_id.in_(versions))
        .order_by(
            ChecklistQuestion.version_id, ChecklistSection.position, ChecklistQuestion.position
        )
    ).all()
    found: dict[tuple[int, str], tuple[scoring.Section, scoring.Question]] = {
        (vid, q.key): (section, q)
        for vid, checklist in checklists.items()
        for section in checklist.sections
        for q in section.questions
    }
    layout = _Layout(
        checklist=checklists[wave.checklist_version_id],
        decimals={vid: c.scoring.decimals for vid, c in checklists.items()},
        key_of={}, readers={}, labels={}, rank={}, ids_in_order=True, grades={},
    )  # fmt: skip
    last = None
    for number, (question_id, key, version_id) in enumerate(rows):
        section, question = found[(version_id, key)]
        layout.key_of[question_id] = key
        layout.rank[question_id] = number
        layout.readers[question_id] = AnswerWords(question, language)
        layout.labels[question_id] = [
            section.key,
            _local(section.translations, language, "title", section.title),
            key,
            _local(question.translations, language, "text", question.text),
        ]
        if last is not None and last[0] == version_id and last[1] > question_id:
            layout.ids_in_order = False
        last = (version_id, question_id)
    for checklist in checklists.values():
        for band in checklist.scoring.bands:
            layout.grades.setdefault(
                band.label, _local(band.translations, language, "label", band.label)
            )
    return layout


def _region_paths(client_id: int) -> dict[int, str]:
    """Region id -> "North / North area" (names from the top of the tree down)."""
    regions = db.session.execute(
        select(Region.id, Region.name, Region.path).where(Region.client_id == client_id)
    ).all()
    names = {rid: name for rid, name, _path in regions}
    out = {}
    for rid, _name, path in regions:
        ids = [int(p) for p in path.strip("/").split("/") if p.isdigit()] or [rid]
        out[rid] = " / ".join(names.get(i, "?") for i in ids)
    return out


def _local_time(zones: dict[str, ZoneInfo], name: str, moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    zone = zones.get(name)
    if zone is None:
        zone = zones[name] = ZoneInfo(name)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).replace(tzinfo=None)


def _minute(moment: datetime | None) -> time | None:
    return None if moment is None else moment.time().replace(second=0, microsecond=0)


# --- wide: one row per visit ---------------------------------------------------------------


def wide_export(wave: Wave, user: User | None, language: str | None = None) -> ExportTable:
    layout = _layout(wave, user, language)
    checklist = layout.checklist
    with_shopper = shows_shopper(user)
    sections = list(checklist.sections)
    questions = list(checklist.questions())
    comment_keys = [s.key for s in sections if s.key != OVERALL_SECTION] + [""]
    header = [_("Visit ID"), _("Client"), _("Wave"), _("Store code"), _("Store"), _("Region")]
    if with_shopper:
        header.append(_("Shopper"))
    header += [
        _("Visit date"), _("Check-in"), _("Check-out"), _("Time slot"), _("Score"), _("Result"),
        _("Grade"), _("Integrity score"),
    ]  # fmt: skip
    header += [
        _("Section score: %(section)s", section=_local(s.translations, language, "title", s.title))
        for s in sections
    ]
    header += [f"{q.key}: {_local(q.translations, language, 'text', q.text)}" for q in questions]
    titles = {s.key: _local(s.translations, language, "title", s.title) for s in sections}
    header += [
        _("Comment: %(section)s", section=titles[k]) if k else _("Overall comment")
        for k in comment_keys
    ]
    return ExportTable(
        header=[str(h) for h in header],
        rows=_wide_rows(wave, user, layout, with_shopper, comment_keys),
        title=wave.name,
        filename=filename(wave, "wide"),
    )


def _wide_rows(
    wave: Wave, user: User | None, layout: _Layout, with_shopper: bool, comment_keys: list[str]
) -> Iterator[list[object]]:
    sections = [s.key for s in layout.checklist.sections]
    question_column = {q.key: i for i, q in enumerate(layout.checklist.questions())}
    section_column = {key: i for i, key in enumerate(sections)}
    comment_column = {key: i for i, key in enumerate(comment_keys)}
    paths = _region_paths(wave.client_id)
    zones: dict[str, ZoneInfo] = {}
    results = _result_words()
    slots: dict[str, str] = {}
    client_name, wave_name = wave.client.name, wave.name
    scores = _Scores()
    # question id -> (its column, its answers in words), for any version involved
    targets = {
        question_id: (question_column[key], layout.readers[question_id])
        for question_id, key in layout.key_of.items()
        if key in question_column and question_id in layout.readers
    }
    connection = db.session.connection()
    # Unpacked by position below, as plain values (with the shopper's name at the end).
    columns: list[Any] = [
        Visit.id, Visit.checklist_version_id, Visit.slot, Visit.window_start, Visit.started_at,
        Visit.finished_at, Visit.score_exact, Visit.score, Visit.result, Visit.grade,
        Visit.integrity_score, Store.code, Store.name, Store.region_id, Store.timezone,
    ]  # fmt: skip
    for ids in _visit_ids(wave.id, user, CHUNK):
        query = select(*columns).join(Store, Store.id == Visit.store_id)
        if with_shopper:
            query = (
                query.add_columns(User.name)
                .outerjoin(ShopperProfile, ShopperProfile.id == Visit.shopper_id)
                .outerjoin(User, User.id == ShopperProfile.user_id)
            )
        # Core, not the ORM session: plain rows (the datetimes still come back in UTC).
        visits = connection.execute(query.where(Visit.id.in_(ids)).order_by(Visit.id)).all()
        decimals = {v[0]: layout.decimals.get(v[1], 1) for v in visits}
        section_scores = _section_cells(ids, section_column, scores, decimals)
        answers = _answer_cells(ids, len(question_column), targets)
        comments = _comment_cells(ids, comment_column)
        for visit in visits:
            (
                visit_id, _version, slot, window_start, started, finished, exact, score,
                result, grade, integrity, code, name, region_id, zone, *shopper,
            ) = visit  # fmt: skip
            start = _local_time(zones, zone, started)
            day = (start or _local_time(zones, zone, window_start) or datetime.min).date()
            if slot not in slots:
                slots[slot] = wave_label("slot", slot)
            row: list[object] = [visit_id, client_name, wave_name, code, name, paths.get(region_id)]
            if with_shopper:
                row.append(shopper[0])
            row += [
                day, _minute(start), _minute(_local_time(zones, zone, finished)), slots[slot],
                scores[exact, score, decimals[visit_id]], results.get(result, result),
                layout.grades.get(grade, grade) if grade else None, integrity,
            ]  # fmt: skip
            row += section_scores[visit_id]
            row += answers[visit_id]
            row += comments[visit_id]
            yield row


def _section_cells(
    ids: list[int], column_of: dict[str, int], scores: _Scores, decimals: dict[int, int]
) -> dict[int, list[object]]:
    """Each visit's section scores, in the sections' columns."""
    cells: dict[int, list[object]] = {i: [None] * len(column_of) for i in ids}
    for visit_id, key, exact, score in _driver_rows(
        select(
            VisitSectionResult.visit_id, VisitSectionResult.section_key,
            VisitSectionResult.score_exact, cast(VisitSectionResult.score, Text),
        ).where(VisitSectionResult.visit_id.in_(ids))
    ):  # fmt: skip
        if (column := column_of.get(key)) is not None:
            cells[visit_id][column] = scores[exact, score, decimals[visit_id]]
    return cells


def _answer_cells(
    ids: list[int], width: int, targets: dict[int, tuple[int, AnswerWords]]
) -> dict[int, list[object]]:
    """Each visit's answers in words, in the questions' columns (``targets``: question
    id -> its column and its answers in words)."""
    cells: dict[int, list[object]] = {i: [None] * width for i in ids}
    for visit_id, question_id, value in _driver_rows(
        select(VisitAnswer.visit_id, VisitAnswer.question_id, cast(VisitAnswer.value, Text)).where(
            VisitAnswer.visit_id.in_(ids)
        )
    ):
        if (target := targets.get(question_id)) is not None:
            cells[visit_id][target[0]] = target[1][value]
    return cells


def _comment_cells(ids: list[int], column_of: dict[str, int]) -> dict[int, list[object]]:
    cells: dict[int, list[object]] = {i: [None] * len(column_of) for i in ids}
    for visit_id, key, text in db.session.execute(
        select(VisitComment.visit_id, VisitComment.section_key, VisitComment.text).where(
            VisitComment.visit_id.in_(ids)
        )
    ):
        if (column := column_of.get(key)) is not None:
            cells[visit_id][column] = text
    return cells


# --- long: one row per question of each visit ------------------------------------------------


def long_export(wave: Wave, user: User | None, language: str | None = None) -> ExportTable:
    layout = _layout(wave, user, language)
    header = [
        _("Visit ID"), _("Store code"), _("Wave"), _("Section key"), _("Section"),
        _("Question key"), _("Question"), _("Answer"), _("Points earned"), _("Points possible"),
        _("Applicable"), _("Full credit"), _("Critical failed"),
    ]  # fmt: skip
    return ExportTable(
        header=[str(h) for h in header],
        rows=_long_rows(wave, user, layout),
        title=wave.name,
        filename=filename(wave, "long"),
    )


def _long_rows(wave: Wave, user: User | None, layout: _Layout) -> Iterator[list[object]]:
    points = _Points()
    wave_name = wave.name
    unknown: list[object] = ["", "", "", ""]
    labels, readers, rank = layout.labels, layout.readers, layout.rank
    result = VisitQuestionResult
    query = (
        select(
            result.visit_id, result.question_id,
            cast(result.earned, Text), cast(result.possible, Text),
            cast(result.applicable, Integer), cast(result.full_credit, Integer),
            cast(result.critical_failed, Integer), cast(VisitAnswer.value, Text),
        )
        .outerjoin(
            VisitAnswer,
            and_(
                VisitAnswer.visit_id == result.visit_id,
                VisitAnswer.question_id == result.question_id,
            ),
        )
        # The primary key's order: no sorting in the database.
        .order_by(result.visit_id, result.question_id)
    )  # fmt: skip
    for ids in _visit_ids(wave.id, user, LONG_CHUNK):
        stores = dict(
            db.session.execute(
                select(Visit.id, Store.code)
                .join(Store, Store.id == Visit.store_id)
                .where(Visit.id.in_(ids))
            ).all()
        )
        found = _driver_rows(query.where(result.visit_id.in_(ids)))
        if not layout.ids_in_order:
            found.sort(key=lambda r: (r[0], rank.get(r[1], -1)))
        for visit_id, question_id, earned, possible, applicable, full, critical, value in found:
            words = readers.get(question_id)
            yield [
                visit_id, stores[visit_id], wave_name, *labels.get(question_id, unknown),
                value if words is None else words[value], points[earned], points[possible],
                applicable, full, critical,
            ]  # fmt: skip
        del found


def build_export(wave: Wave, user: User | None, shape: str, language: str | None) -> ExportTable:
    if shape == "wide":
        return wide_export(wave, user, language)
    if shape == "long":
        return long_export(wave, user, language)
    raise ValueError(f"unknown shape {shape!r}")


def reader_language(locale: object) -> str | None:
    """Checklist texts have Chinese translations under "zh"."""
    return "zh" if str(locale or "en").startswith("zh") else None
