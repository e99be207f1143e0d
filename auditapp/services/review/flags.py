"""Integrity flags in words, for the review queue and the review screen.

A flag's ``detail`` is what the check found (see services/visits/integrity.py for every key).
Its plain values are shown as name and value pairs, times in the store's time zone.
The lists of findings become findings of their own, which the template puts into
sentences (templates/review/_flags.html):

- ``photo_time.photos``: which file, when it was taken and how long before check-in or
  after check-out (before the window opened or after it closed, without check-in);
- ``duplicate_photo.photos``: which file, whether the same file, the same picture or
  a similar one, and the other visits that hold it; a similar one also shows how many
  of the 64 hash bits differ and the two pictures side by side (this visit's and the
  nearest earlier one), the other only when the reader may open its visit;
- ``copied_comment.comments``: which comment, how alike (in per cent) and the other
  visit's comment it is like.

A file of this visit links to the file; another visit links to its review screen only
when the reader may open it (otherwise only its number is shown). An item that does
not read as expected falls back to its plain text, so nothing a check stored is hidden.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...extensions import db
from ...models import User
from ...models.review import FLAG_CODES, VisitFlag
from ...models.waves import Visit
from .queue import VIEWABLE, review_scope

FLAG_LABELS = {
    "outside_window": _l("Visited outside the time window"),
    "outside_hours": _l("Visited outside the store's opening hours"),
    "short_duration": _l("Visit too short"),
    "far_check_in": _l("Checked in far from the store"),
    "poor_accuracy": _l("Check-in location imprecise"),
    "photo_time": _l("Photo taken outside the visit"),
    "duplicate_photo": _l("Photo used before"),
    "copied_comment": _l("Comment copied from another visit"),
    "straight_lining": _l("Same answer everywhere"),
    "missing_evidence": _l("Evidence missing"),
    "store_without_location": _l(
        "Distance not checked: the store has no location on file (add its coordinates)"
    ),
}
assert set(FLAG_LABELS) == set(FLAG_CODES)

# Detail keys holding a moment (ISO 8601 in UTC), shown in the store's time zone.
TIME_KEYS = frozenset({"checked_in_at", "window_start", "window_end", "start", "end"})
# (flag code, detail key) of the lists read into findings.
LISTS = {("photo_time", "photos"), ("duplicate_photo", "photos"), ("copied_comment", "comments")}


def flag_names(codes: Iterable[str]) -> str:
    return ", ".join(str(FLAG_LABELS.get(code, code)) for code in codes)


@dataclass(frozen=True)
class FileRef:
    """A file of this visit that a flag points at."""

    evidence_id: int | None
    kind: str  # "photo", "receipt", "audio", ...
    question: str  # the question's text; "" when the file answers no question
    openable: bool  # one of this visit's files, so it links to the file


@dataclass(frozen=True)
class OtherVisit:
    id: int
    viewable: bool  # the reader may open its review screen


@dataclass(frozen=True)
class LateFile:
    """photo_time: a file taken outside the visit."""

    file: FileRef
    taken_at: datetime | None
    side: str  # "before" (check-in, or the window's start) or "after"
    minutes: int | None
    basis: str  # "visit" (check-in to check-out) or "window" (never checked in)


@dataclass(frozen=True)
class OtherFile:
    """Another visit's file a flag points at."""

    evidence_id: int
    visit: OtherVisit


@dataclass(frozen=True)
class ReusedFile:
    """duplicate_photo: a file that other visits hold too."""

    file: FileRef
    match: str  # "file" (the same bytes), "picture" (re-saved or resized) or "similar"
    visits: tuple[OtherVisit, ...]
    distance: int | None = None  # "similar": bits of 64 that differ from the nearest
    nearest: OtherFile | None = None  # "similar": the nearest earlier picture


@dataclass(frozen=True)
class CopiedComment:
    """copied_comment: a comment (nearly) equal to one of another visit."""

    section: str | None  # this visit's section title; None for the overall comment
    visit: OtherVisit
    other_section: str | None  # the other comment's section; None for overall
    percent: int


@dataclass
class FlagView:
    code: str
    label: str
    penalty: int
    details: list[tuple[str, str]]  # the detail's plain values, as name and value
    late_files: list[LateFile] = field(default_factory=list)
    reused_files: list[ReusedFile] = field(default_factory=list)
    copied_comments: list[CopiedComment] = field(default_factory=list)


def flag_views(
    flags: Iterable[VisitFlag],
    user: User,
    *,
    files: Mapping[int, str] | None = None,
    questions: Mapping[str, str] | None = None,
    sections: Mapping[str, str] | None = None,
    timezone: str | None = None,
) -> list[FlagView]:
    """The flags in words. ``files``: this visit's files, {evidence id: the key of the
    question it answers ("" for none)}; ``questions`` and ``sections``: key -> text as
    shown; ``timezone``: the store's. One query for the other visits the flags name
    that ``user`` may open (none when they name none)."""
    flags = list(flags)
    named = {visit_id for flag in flags for visit_id in _other_visit_ids(flag)}
    viewable: set[int] = set()
    if named:
        viewable = set(
            db.session.scalars(
                select(Visit.id).where(
                    Visit.id.in_(named), review_scope(user), Visit.status.in_(VIEWABLE)
                )
            )
        )
    return [
        flag_view(
            flag,
            viewable=viewable,
            files=files,
            questions=questions,
            sections=sections,
            timezone=timezone,
        )
        for flag in flags
    ]


def flag_view(
    flag: VisitFlag,
    *,
    viewable: Collection[int] = (),
    files: Mapping[int, str] | None = None,
    questions: Mapping[str, str] | None = None,
    sections: Mapping[str, str] | None = None,
    timezone: str | None = None,
) -> FlagView:
    """A flag in words: its label, its plain values and its findings. ``viewable``:
    the other visits the reader may open."""
    detail = flag.detail or {}
    reading = _Reading(
        viewable, files or {}, questions or {}, sections or {}, str(detail.get("basis") or "")
    )
    view = FlagView(flag.code, str(FLAG_LABELS.get(flag.code, flag.code)), flag.penalty, [])
    for key, value in detail.items():
        if (flag.code, key) in LISTS and isinstance(value, list):
            unread = [item for item in value if not _add_finding(view, item, reading)]
            if unread:
                view.details.append((_name(key), _text(unread)))
        else:
            view.details.append((_name(key), _text(value, timezone if key in TIME_KEYS else None)))
    return view


@dataclass(frozen=True)
class _Reading:
    viewable: Collection[int]
    files: Mapping[int, str]
    questions: Mapping[str, str]
    sections: Mapping[str, str]
    basis: str  # photo_time's

    def file(self, item: Mapping[str, Any]) -> FileRef:
        """One of the visit's files (a duplicate_photo item names no question: the
        file's own question is taken)."""
        evidence_id = _int(item.get("evidence_id"))
        own = None if evidence_id is None else self.files.get(evidence_id)
        key = str(item.get("question_key") or own or "")
        return FileRef(
            evidence_id=evidence_id,
            kind=str(item.get("kind") or "photo"),
            question=self.questions.get(key, key),
            openable=own is not None,
        )

    def visit(self, visit_id: int) -> OtherVisit:
        return OtherVisit(visit_id, visit_id in self.viewable)

    def section(self, key: object) -> str | None:
        """A comment's section as shown; None for the overall comment (key "")."""
        return self.sections.get(str(key), str(key)) if key else None


def _add_finding(view: FlagView, item: object, reading: _Reading) -> bool:
    """Reads one item of the flag's list into a finding; False when it does not read."""
    if not isinstance(item, dict):
        return False
    if view.code == "photo_time":
        view.late_files.append(
            LateFile(
                file=reading.file(item),
                taken_at=_moment(item.get("taken_at")),
                side="before" if item.get("side") == "before" else "after",
                minutes=_int(item.get("minutes")),
                basis="window" if reading.basis == "window" else "visit",
            )
        )
    elif view.code == "duplicate_photo":
        match = str(item.get("match"))
        nearest = _int(item.get("nearest_evidence_id"))
        near_visit = _int(item.get("nearest_visit_id"))
        view.reused_files.append(
            ReusedFile(
                file=reading.file(item),
                match=match if match in ("picture", "similar") else "file",
                visits=tuple(reading.visit(i) for i in _ints(item.get("other_visit_ids"))),
                distance=_int(item.get("distance")) if match == "similar" else None,
                nearest=(
                    OtherFile(nearest, reading.visit(near_visit))
                    if match == "similar" and nearest is not None and near_visit is not None
                    else None
                ),
            )
        )
    elif (other := _int(item.get("other_visit_id"))) is not None:
        view.copied_comments.append(
            CopiedComment(
                section=reading.section(item.get("section")),
                visit=reading.visit(other),
                other_section=reading.section(item.get("other_section")),
                percent=_percent(item.get("similarity")),
            )
        )
    else:
        return False
    return True


def _other_visit_ids(flag: VisitFlag) -> set[int]:
    """The other visits a flag's findings name."""
    found: set[int] = set()
    for key in ("photos", "comments"):
        items = (flag.detail or {}).get(key) if (flag.code, key) in LISTS else None
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict):
                found.update(_ints(item.get("other_visit_ids")))
                found.update(_ints([item.get("other_visit_id"), item.get("nearest_visit_id")]))
    return found


def _percent(similarity: object) -> int:
    try:
        return round(float(similarity) * 100)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _ints(values: object) -> list[int]:
    """The whole numbers of a list (anything else left out)."""
    if not isinstance(values, list):
        return []
    return [n for n in map(_int, values) if n is not None]


def _moment(value: object) -> datetime | None:
    """An ISO 8601 moment as stored (UTC), or None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _name(key: object) -> str:
    return str(key).replace("_", " ")


def _text(value: object, timezone: str | None = None) -> str:
    """A plain detail value as text; a moment in the store's time zone when known."""
    if timezone and (moment := _moment(value)) is not None:
        try:
            zone = ZoneInfo(timezone)
        except (ValueError, KeyError):
            return str(value)
        return f"{moment.astimezone(zone):%Y-%m-%d %H:%M}"
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)
