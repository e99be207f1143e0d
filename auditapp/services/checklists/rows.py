"""Between the checklist rows in the database and the document of SCORING.md §1.

Everything that enters the database is checked first (``checklists_checks``), so the
rows of every version, draft or published, always make a document that loads. Numbers
come out of the rows as the document writes them: int, or an exact Decimal.

A published version never changes (models/versions.py refuses it), so its scoring
checklist is built once per process and kept, keyed by the version's id and
publication time, in a small LRU (``CACHE_SIZE`` versions). A draft is rebuilt every
time, as are versions whose rows the session is changing. The cached checklist is a
tree of frozen dataclasses and tuples, so no caller can change it.
"""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Any, TypeVar

from sqlalchemy import inspect, select
from sqlalchemy.orm import object_session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

import scoring
from scoring.exact import exact_decimal

from ...models import (
    PUBLISHED,
    ChecklistOption,
    ChecklistQuestion,
    ChecklistSection,
    ChecklistVersion,
)
from .checks import validate_document

CACHE_SIZE = 64
T = TypeVar("T")
Numbered = TypeVar("Numbered", ChecklistSection, ChecklistQuestion)

# --- numbers ------------------------------------------------------------------------


def doc_number(value: Any) -> int | Decimal | None:
    """A number read from a column or a JSON column, as the document writes it."""
    if value is None:
        return None
    if isinstance(value, float):
        value = Decimal(repr(value))
    fraction = scoring.to_fraction(value)
    assert fraction is not None, value
    return exact_decimal(fraction)


def column_number(value: Fraction | None) -> Decimal | None:
    return None if value is None else Decimal(exact_decimal(value))


def json_number(value: Fraction) -> int | float:
    """JSON columns hold plain JSON numbers; with at most 4 decimals a float is exact."""
    exact = exact_decimal(value)
    return exact if isinstance(exact, int) else float(exact)


# --- rows -> document -------------------------------------------------------------


def _put(doc: dict[str, Any], field: str, value: Any, default: Any = None) -> None:
    if value is not None and value != default:
        doc[field] = value


def _translations(doc: dict[str, Any], value: Mapping[str, Any] | None) -> None:
    if value:
        doc["translations"] = {lang: dict(texts) for lang, texts in value.items()}


def _json_numbers(items: list[dict[str, Any]] | None, fields: tuple[str, ...]) -> list[Any]:
    out = []
    for item in items or []:
        copy = dict(item)
        for field in fields:
            if copy.get(field) is not None:
                copy[field] = doc_number(copy[field])
        out.append(copy)
    return out


def _condition_doc(condition: Mapping[str, Any]) -> dict[str, Any]:
    def scalar(v: Any) -> Any:
        return v if isinstance(v, str) else doc_number(v)

    out: dict[str, Any] = {}
    for field, value in condition.items():
        if field == "question":
            out[field] = value
        elif isinstance(value, list):
            out[field] = [scalar(v) for v in value]
        else:
            out[field] = scalar(value)
    return out


def settings_doc(version: ChecklistVersion) -> dict[str, Any]:
    """The checklist-level fields (everything but the sections)."""
    doc: dict[str, Any] = {"title": version.title, "language": version.language}
    rules: dict[str, Any] = {"method": version.method}
    _put(rules, "pass_mark", doc_number(version.pass_mark))
    rules.update(
        decimals=version.decimals,
        unanswered=version.unanswered,
        critical_failure=version.critical_failure,
        cap_at_100=version.cap_at_100,
    )
    if version.bands:
        rules["bands"] = _json_numbers(version.bands, ("min",))
    doc["scoring"] = rules
    _translations(doc, version.translations)
    return doc


def section_doc(section: ChecklistSection, questions: bool = True) -> dict[str, Any]:
    doc: dict[str, Any] = {"key": section.key, "title": section.title}
    _put(doc, "weight", doc_number(section.weight))
    _put(doc, "pass_mark", doc_number(section.pass_mark))
    if questions:
        doc["questions"] = [question_doc(q) for q in section.questions]
    _translations(doc, section.translations)
    return doc


def question_doc(question: ChecklistQuestion) -> dict[str, Any]:
    doc: dict[str, Any] = {"key": question.key, "text": question.text, "type": question.type}
    _put(doc, "weight", doc_number(question.weight), 1)
    for flag in ("na_allowed", "critical", "required", "bonus", "client_visible"):
        if getattr(question, flag):
            doc[flag] = True
    _put(doc, "guidance", question.guidance)
    if question.options:
        doc["options"] = [option_doc(o) for o in question.options]
    if question.bands:
        doc["bands"] = _json_numbers(question.bands, ("max", "points"))
    _put(doc, "min", doc_number(question.min))
    _put(doc, "max", doc_number(question.max))
    if question.show_if:
        doc["show_if"] = _condition_doc(question.show_if)
    _put(doc, "tag", question.tag)
    _translations(doc, question.translations)
    return doc


def option_doc(option: ChecklistOption) -> dict[str, Any]:
    doc: dict[str, Any] = {"value": option.value, "label": option.label}
    _put(doc, "points", doc_number(option.points), 0)
    _translations(doc, option.translations)
    return doc


def raw_document(version: ChecklistVersion) -> dict[str, Any]:
    """The version's rows as a document (defaults written out where the rows hold them)."""
    return {**settings_doc(version), "sections": [section_doc(s) for s in version.sections]}


def scoring_checklist(version: ChecklistVersion) -> scoring.Checklist:
    """The version as the scoring engine's frozen checklist (shared: never mutate it)."""
    return _frozen(version).checklist


def question_ids(version: ChecklistVersion) -> Mapping[str, int]:
    """{question key: question id} of the version (read-only)."""
    return _frozen(version).question_ids


def derived(checklist: scoring.Checklist, name: Hashable, build: Callable[[], T]) -> T:
    """``build()``, kept beside ``checklist`` when it is a cached published version, so
    that something made from the checklist alone (a form class) is made once too.
    ``name`` must say everything else the result depends on (language, locale)."""
    entry = _CACHE.entry_of(checklist)
    if entry is None:
        return build()
    with entry.lock:
        if name in entry.derived:
            return entry.derived[name]  # type: ignore[no-any-return]
    made = build()
    with entry.lock:
        return entry.derived.setdefault(name, made)  # type: ignore[no-any-return]


def clear_cache() -> None:
    """Forgets every cached version (tests whose rolled-back ids come round again)."""
    _CACHE.clear()


def version_document(version: ChecklistVersion) -> dict[str, Any]:
    """The version as a SCORING.md §1 document (defaults left out, numbers as int or
    Decimal; write it with ``scoring.dumps_exact``)."""
    return scoring.dump_checklist(scoring_checklist(version))


# --- typed checklist -> rows ------------------------------------------------------------


def _translation_dict(translations: scoring.model.Translations) -> dict[str, dict[str, str]]:
    return {lang: dict(fields) for lang, fields in translations}


def _condition_json(condition: scoring.Condition | None) -> dict[str, Any] | None:
    if condition is None:
        return None

    def scalar(v: Any) -> Any:
        return v if isinstance(v, str) else json_number(v)

    value = condition.value
    written = [scalar(v) for v in value] if isinstance(value, tuple) else scalar(value)
    return {"question": condition.question, condition.op: written}


def apply_settings(version: ChecklistVersion, checklist: scoring.Checklist) -> None:
    rules = checklist.scoring
    version.title = checklist.title
    version.language = checklist.language
    version.method = rules.method
    version.pass_mark = column_number(rules.pass_mark)
    version.decimals = rules.decimals
    version.unanswered = rules.unanswered
    version.critical_failure = rules.critical_failure
    version.cap_at_100 = rules.cap_at_100
    bands = []
    for band in rules.bands:
        item: dict[str, Any] = {"min": json_number(band.min), "label": band.label}
        if band.translations:
            item["translations"] = _translation_dict(band.translations)
        bands.append(item)
    version.bands = bands
    version.translations = _translation_dict(checklist.translations)


def apply_section(row: ChecklistSection, section: scoring.Section) -> None:
    """Sets the section's own fields (not its questions)."""
    row.key = section.key
    row.title = section.title
    row.weight = column_number(section.weight)
    row.pass_mark = column_number(section.pass_mark)
    row.translations = _translation_dict(section.translations)


def apply_question(row: ChecklistQuestion, question: scoring.Question) -> None:
    """Sets the question's fields and options; options are matched by value, so an
    edit updates rows in place instead of deleting and re-adding them."""
    row.key = question.key
    row.text = question.text
    row.type = question.type
    row.weight = Decimal(exact_decimal(question.weight))
    row.na_allowed = question.na_allowed
    row.critical = question.critical
    row.required = question.required
    row.bonus = question.bonus
    row.client_visible = question.client_visible
    row.guidance = question.guidance
    row.min = column_number(question.min)
    row.max = column_number(question.max)
    row.bands = [
        {"max": json_number(b.max), "points": json_number(b.points)}
        if b.max is not None
        else {"points": json_number(b.points)}
        for b in question.bands
    ]
    row.show_if = _condition_json(question.show_if)
    row.tag = question.tag
    row.translations = _translation_dict(question.translations)
    apply_options(row, question.options)


def apply_options(row: ChecklistQuestion, options: Sequence[scoring.Option]) -> None:
    existing = {o.value: o for o in row.options}
    kept = []
    for position, option in enumerate(options):
        item = existing.pop(option.value, None) or ChecklistOption(value=option.value)
        item.position = position
        item.label = option.label
        item.points = Decimal(exact_decimal(option.points))
        item.translations = _translation_dict(option.translations)
        kept.append(item)
    row.options = kept


def new_section(version: ChecklistVersion, section: scoring.Section) -> ChecklistSection:
    row = ChecklistSection()
    version.sections.append(row)  # appending (not a backref) puts it in the session
    apply_section(row, section)
    for question in section.questions:
        new_question(row, question)
    return row


def new_question(section: ChecklistSection, question: scoring.Question) -> ChecklistQuestion:
    row = ChecklistQuestion(version=section.version, options=[])
    apply_question(row, question)
    section.questions.append(row)
    renumber(section.questions)
    return row


def fill_version(version: ChecklistVersion, checklist: scoring.Checklist) -> None:
    """Gives an empty version the settings and sections of ``checklist``."""
    apply_settings(version, checklist)
    for section in checklist.sections:
        new_section(version, section)
    renumber(version.sections)


def renumber(rows: Sequence[Numbered]) -> None:
    for position, row in enumerate(rows):
        if row.position != position:
            row.position = position


# --- the per-process cache of published versions ---------------------------------------


@dataclass(frozen=True)
class _Entry:
    checklist: scoring.Checklist
    question_ids: Mapping[str, int]
    derived: dict[Hashable, Any] = dataclass_field(default_factory=dict)
    lock: threading.Lock = dataclass_field(default_factory=threading.Lock)


class _VersionCache:
    """A thread-safe LRU of entries by key; also finds an entry by its checklist."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._by_checklist: dict[int, _Entry] = {}  # id() of a checklist the LRU holds
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: Hashable, entry: _Entry) -> _Entry:
        """Stores ``entry`` unless another thread stored one first; returns the kept one."""
        with self._lock:
            kept = self._entries.setdefault(key, entry)
            self._entries.move_to_end(key)
            self._by_checklist[id(kept.checklist)] = kept
            while len(self._entries) > self.size:
                _key, old = self._entries.popitem(last=False)
                del self._by_checklist[id(old.checklist)]
            return kept

    def entry_of(self, checklist: scoring.Checklist) -> _Entry | None:
        with self._lock:
            entry = self._by_checklist.get(id(checklist))
        # The LRU holds the checklist, so its id() cannot be reused while it is there.
        return entry if entry is not None and entry.checklist is checklist else None

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._by_checklist.clear()


_CACHE = _VersionCache(CACHE_SIZE)
_ROWS = (ChecklistVersion, ChecklistSection, ChecklistQuestion, ChecklistOption)


def _frozen(version: ChecklistVersion) -> _Entry:
    key = _published_key(version)
    if key is not None and (entry := _CACHE.get(key)) is not None:
        return entry
    _load_rows(version)
    entry = _Entry(
        validate_document(raw_document(version)),
        MappingProxyType({q.key: q.id for q in version.questions()}),
    )
    if key is None or _rows_changing(version):
        return entry
    return _CACHE.put(key, entry)


def _published_key(version: ChecklistVersion) -> tuple[int, datetime] | None:
    """(id, published_at) of a version stored as published, else None (not cacheable)."""
    state: Any = inspect(version)
    if not state.persistent or state.attrs.status.history.has_changes():
        return None
    if version.status != PUBLISHED or version.published_at is None:
        return None
    return version.id, version.published_at


def _rows_changing(version: ChecklistVersion) -> bool:
    """Whether the session holds unflushed checklist rows: never cache what they show."""
    session = object_session(version)
    if session is None:
        return False
    pending = (session.new, session.dirty, session.deleted)
    return any(isinstance(obj, _ROWS) for objects in pending for obj in objects)


def _load_rows(version: ChecklistVersion) -> None:
    """Loads sections, questions and options in three queries instead of one per row."""
    session = object_session(version)
    if session is None or "sections" not in inspect(version).unloaded:
        return
    if not inspect(version).persistent:
        return
    sections = session.scalars(
        select(ChecklistSection)
        .where(ChecklistSection.version_id == version.id)
        .order_by(ChecklistSection.position)
        .options(selectinload(ChecklistSection.questions).selectinload(ChecklistQuestion.options))
    ).all()
    set_committed_value(version, "sections", list(sections))
