"""What a shopper records on a visit: the draft being filled, the answers and
comments of each submission, and the evidence files.

Nothing a shopper submitted is ever silently dropped: every submission is kept with
the exact cleaned answers it carried, keyed by the id the browser generated for it,
so a retried or double-tapped submit finds the submission it already made.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .base import UTCDateTime, in_list, utcnow
from .checklists import ChecklistQuestion
from .users import User
from .waves import Visit

EVIDENCE_KINDS = ("photo", "receipt", "audio")


class VisitDraft(Model):
    """The form as the shopper left it, saved while they type. `data` is the raw form
    state ({field name: value}); `revision` only grows, so an older autosave arriving
    late (a slow network) never overwrites a newer one."""

    __tablename__ = "visit_draft"

    visit_id: Mapped[int] = mapped_column(
        ForeignKey("visit.id", ondelete="CASCADE"), primary_key=True
    )
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    visit: Mapped[Visit] = relationship()

    __table_args__ = (CheckConstraint("revision >= 0", name="revision_non_negative"),)


class VisitSubmission(Model):
    """One submission of a visit's form (a visit returned for revision has several)."""

    __tablename__ = "visit_submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    client_submission_id: Mapped[str] = mapped_column(String(64), unique=True)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The cleaned answers (hidden questions' values removed) and comments as sent.
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    comments: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # The scoring engine's result for these answers, exact to 4 places.
    score: Mapped[Decimal | None] = mapped_column(Numeric(9, 4))
    result: Mapped[str | None] = mapped_column(String(8))
    grade: Mapped[str | None] = mapped_column(String(100))
    sections: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    visit: Mapped[Visit] = relationship()
    submitted_by: Mapped[User | None] = relationship()

    __table_args__ = (
        CheckConstraint("result IS NULL OR result IN ('PASS', 'FAIL')", name="result_known"),
    )


class VisitAnswer(Model):
    """The current answer to one question of a visit (one row per visit and question)."""

    __tablename__ = "visit_answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(
        ForeignKey("checklist_question.id", ondelete="RESTRICT"), index=True
    )
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    visit: Mapped[Visit] = relationship()
    question: Mapped[ChecklistQuestion] = relationship()

    __table_args__ = (UniqueConstraint("visit_id", "question_id"),)


class VisitComment(Model):
    """A comment per section, and one overall (section_key "")."""

    __tablename__ = "visit_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    section_key: Mapped[str] = mapped_column(String(64), default="")
    text: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("visit_id", "section_key"),)


class Evidence(Model):
    """A photo, receipt or audio file of a visit. The stored image has its EXIF
    removed; what the EXIF said (capture time, GPS) is kept here for review."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    question_key: Mapped[str | None] = mapped_column(String(64))
    # The browser's id for this file, so a retried upload finds the first one.
    client_upload_id: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64), index=True)  # of the original bytes
    # Difference hash of the picture (16 hex digits): equal for a re-saved or resized
    # copy of the same photo, which the byte hash misses.
    dhash: Mapped[str | None] = mapped_column(String(16), index=True)
    content_type: Mapped[str] = mapped_column(String(64))
    original_name: Mapped[str] = mapped_column(String(255), default="")
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    stored_name: Mapped[str] = mapped_column(String(128))
    thumb_name: Mapped[str | None] = mapped_column(String(128))
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    gps_latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    gps_longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    visit: Mapped[Visit] = relationship()

    __table_args__ = (
        UniqueConstraint("visit_id", "client_upload_id"),
        CheckConstraint(in_list("kind", EVIDENCE_KINDS), name="kind_known"),
        CheckConstraint("size_bytes > 0", name="not_empty"),
    )


class PhotoHashBand(Model):
    """One 16-bit quarter of a photo's difference hash, indexed per client, so photos
    within a few bits of a new one are found without scanning every stored hash
    (multi-index hashing: auditapp/services/visits/photo_index.py)."""

    __tablename__ = "photo_hash_band"

    evidence_id: Mapped[int] = mapped_column(
        ForeignKey("evidence.id", ondelete="CASCADE"), primary_key=True
    )
    band: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    value: Mapped[int] = mapped_column(Integer)
    # The whole hash as a signed 64-bit integer (no database has an unsigned one), so a
    # lookup reads candidates from the index alone, without visiting the evidence rows.
    dhash: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        CheckConstraint("band BETWEEN 0 AND 3", name="band_range"),
        CheckConstraint("value BETWEEN 0 AND 65535", name="value_range"),
        # Covering: a lookup's ranges are (client_id, band, value) and it reads the rest.
        Index("ix_photo_hash_band_lookup", "client_id", "band", "value", "evidence_id", "dhash"),
    )
