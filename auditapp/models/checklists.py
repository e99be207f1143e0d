"""Checklists: a client's questionnaire, kept as numbered versions.

A version is a draft until it is published; from then on it and everything under it
(sections, questions, options) is frozen, because visits are scored against it. The
services refuse such edits with a message; the ``before_flush`` guard at the end of this
module is the backstop that makes the rule hold whatever code path tries.

Scoring settings live as columns on the version; numbers are ``Numeric`` so arithmetic
stays exact. JSON columns (grade bands, number bands, conditions) hold numbers as JSON
numbers with at most four decimal places (the services enforce it), so they read back
exactly. Translations are JSON ``{language: {field: text}}``.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ..errors import Conflict
from ..extensions import Model
from .base import UTCDateTime, in_list, utcnow
from .org import Client
from .users import User

DRAFT = "draft"
PUBLISHED = "published"
VERSION_STATUSES = (DRAFT, PUBLISHED)
SCORING_METHODS = ("pooled", "weighted_sections")
UNANSWERED_MODES = ("exclude", "zero")
CRITICAL_FAILURE_MODES = ("zero_visit", "zero_section", "flag")
QUESTION_TAGS = ("compliance", "effectiveness")
CHECKLIST_QUESTION_TYPES = (
    "yes_no", "choice", "multi", "scale", "number", "nps", "text", "photo", "date", "time",
)  # fmt: skip

# Points, weights and marks: up to 8 digits before the point and 4 after.
Points = Numeric(12, 4)


class ChecklistLocked(Conflict):
    """The version is published: it and everything under it can no longer change."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or _(
                "This version is published and can no longer be changed. "
                "Start a new version to make changes."
            )
        )


class Checklist(Model):
    __tablename__ = "checklist"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    client: Mapped[Client] = relationship()
    created_by: Mapped[User | None] = relationship()
    versions: Mapped[list["ChecklistVersion"]] = relationship(
        back_populates="checklist",
        order_by="ChecklistVersion.number",
        cascade="all, delete-orphan",
    )

    def __repr__(self) -> str:
        return f"<Checklist {self.id} {self.title!r}>"


class ChecklistVersion(Model):
    __tablename__ = "checklist_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    checklist_id: Mapped[int] = mapped_column(
        ForeignKey("checklist.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=DRAFT)
    title: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(16), default="en")
    method: Mapped[str] = mapped_column(String(24), default="pooled")
    pass_mark: Mapped[Decimal | None] = mapped_column(Points)
    decimals: Mapped[int] = mapped_column(Integer, default=1)
    unanswered: Mapped[str] = mapped_column(String(16), default="exclude")
    critical_failure: Mapped[str] = mapped_column(String(16), default="zero_visit")
    cap_at_100: Mapped[bool] = mapped_column(Boolean, default=True)
    # [{"min": 90, "label": "Excellent", "translations": {...}}, ...]
    bands: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    translations: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    checklist: Mapped[Checklist] = relationship(back_populates="versions")
    published_by: Mapped[User | None] = relationship()
    sections: Mapped[list["ChecklistSection"]] = relationship(
        back_populates="version",
        order_by="ChecklistSection.position",
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        UniqueConstraint("checklist_id", "number"),
        CheckConstraint(in_list("status", VERSION_STATUSES), name="status_known"),
        CheckConstraint(in_list("method", SCORING_METHODS), name="method_known"),
        CheckConstraint(in_list("unanswered", UNANSWERED_MODES), name="unanswered_known"),
        CheckConstraint(
            in_list("critical_failure", CRITICAL_FAILURE_MODES), name="critical_failure_known"
        ),
        CheckConstraint("decimals BETWEEN 0 AND 4", name="decimals_range"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("status = 'draft' OR published_at IS NOT NULL", name="published_has_date"),
        # At most one draft per checklist.
        Index(
            "uq_checklist_version_one_draft",
            "checklist_id",
            unique=True,
            sqlite_where=text("status = 'draft'"),
            postgresql_where=text("status = 'draft'"),
        ),
    )

    @property
    def is_published(self) -> bool:
        return self.status == PUBLISHED

    @property
    def is_draft(self) -> bool:
        return self.status == DRAFT

    def questions(self) -> list["ChecklistQuestion"]:
        """Every question in checklist order (section by section)."""
        return [q for s in self.sections for q in s.questions]

    def __repr__(self) -> str:
        return f"<ChecklistVersion {self.checklist_id} v{self.number} {self.status}>"


class ChecklistSection(Model):
    __tablename__ = "checklist_section"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("checklist_version.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    weight: Mapped[Decimal | None] = mapped_column(Points)  # None: absent (counts as 1)
    pass_mark: Mapped[Decimal | None] = mapped_column(Points)
    translations: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON, default=dict)

    version: Mapped[ChecklistVersion] = relationship(back_populates="sections")
    questions: Mapped[list["ChecklistQuestion"]] = relationship(
        back_populates="section",
        order_by="ChecklistQuestion.position",
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        UniqueConstraint("version_id", "key"),
        CheckConstraint("weight IS NULL OR weight >= 0", name="weight_non_negative"),
    )

    def __repr__(self) -> str:
        return f"<ChecklistSection {self.key}>"


class ChecklistQuestion(Model):
    __tablename__ = "checklist_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(
        ForeignKey("checklist_section.id", ondelete="CASCADE"), index=True
    )
    # Denormalised so that keys are unique across the whole version.
    version_id: Mapped[int] = mapped_column(
        ForeignKey("checklist_version.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    key: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(16))
    weight: Mapped[Decimal] = mapped_column(Points, default=Decimal(1))
    na_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    bonus: Mapped[bool] = mapped_column(Boolean, default=False)
    # A photo question whose photos the client's managers may see (in their reports
    # and at /evidence); evidence is agency-only otherwise (permissions.may_see_evidence).
    client_visible: Mapped[bool] = mapped_column(Boolean, default=False)
    guidance: Mapped[str | None] = mapped_column(Text)
    min: Mapped[Decimal | None] = mapped_column(Points)
    max: Mapped[Decimal | None] = mapped_column(Points)
    # [{"max": 30, "points": 2}, ..., {"points": 0}]
    bands: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # {"question": "staff", "in": ["rude"]} or null
    show_if: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    tag: Mapped[str | None] = mapped_column(String(16))
    translations: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON, default=dict)

    section: Mapped[ChecklistSection] = relationship(back_populates="questions")
    version: Mapped[ChecklistVersion] = relationship()
    options: Mapped[list["ChecklistOption"]] = relationship(
        back_populates="question",
        order_by="ChecklistOption.position",
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        UniqueConstraint("version_id", "key"),
        CheckConstraint(in_list("type", CHECKLIST_QUESTION_TYPES), name="type_known"),
        CheckConstraint("tag IS NULL OR " + in_list("tag", QUESTION_TAGS), name="tag_known"),
        CheckConstraint("weight >= 0", name="weight_non_negative"),
    )

    def __repr__(self) -> str:
        return f"<ChecklistQuestion {self.key}>"


class ChecklistOption(Model):
    __tablename__ = "checklist_option"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("checklist_question.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    value: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(300))
    points: Mapped[Decimal] = mapped_column(Points, default=Decimal(0))
    translations: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON, default=dict)

    question: Mapped[ChecklistQuestion] = relationship(back_populates="options")

    __table_args__ = (UniqueConstraint("question_id", "value"),)

    def __repr__(self) -> str:
        return f"<ChecklistOption {self.value}>"


# --- the backstop: nothing under a published version changes -------------------------


def _committed_status(version: ChecklistVersion) -> str | None:
    """The status as stored in the database (before this flush's changes)."""
    history = inspect(version).attrs.status.history
    if history.deleted:
        return str(history.deleted[0])
    if inspect(version).pending:
        return None  # a new version has nothing stored to protect yet
    return version.status


def _owning_version(session: Session, obj: object) -> ChecklistVersion | None:
    if isinstance(obj, ChecklistVersion):
        return obj
    if isinstance(obj, ChecklistOption):
        question = obj.question
        if question is None and obj.question_id is not None:
            question = session.get(ChecklistQuestion, obj.question_id)
        obj = question
    version_id = getattr(obj, "version_id", None)
    version = getattr(obj, "version", None)
    if version is None and version_id is not None:
        version = session.get(ChecklistVersion, version_id)
    return version


_GUARDED = (ChecklistVersion, ChecklistSection, ChecklistQuestion, ChecklistOption)


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_published(session: Session, _context: Any, _instances: Any) -> None:
    """Raises ChecklistLocked when a flush would add, change or delete anything under a
    version that is stored as published. The draft -> published transition itself is
    allowed, because its stored status is still 'draft'."""
    changed = [o for o in session.dirty if session.is_modified(o, include_collections=False)]
    touched = [
        (obj, kind)
        for kind, objs in (("new", session.new), ("dirty", changed), ("deleted", session.deleted))
        for obj in objs
        if isinstance(obj, _GUARDED)
    ]
    if not touched:
        return
    with session.no_autoflush:
        for obj, kind in touched:
            if isinstance(obj, ChecklistVersion) and kind == "new":
                continue
            version = _owning_version(session, obj)
            if version is not None and _committed_status(version) == PUBLISHED:
                raise ChecklistLocked()
