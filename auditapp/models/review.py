"""Quality control of submitted visits: the integrity flags found at submission,
every change a reviewer makes to an answer, and the notes sent back to the shopper."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .answers import VisitSubmission
from .base import UTCDateTime, in_list, utcnow
from .users import User
from .waves import Visit

# One code per integrity check (services/visits/integrity.py says what each means).
FLAG_CODES = (
    "outside_window",
    "outside_hours",
    "short_duration",
    "far_check_in",
    "poor_accuracy",
    "photo_time",
    "duplicate_photo",
    "copied_comment",
    "straight_lining",
    "missing_evidence",
    "store_without_location",
)


class VisitFlag(Model):
    """One integrity check that failed for one submission, with what it found
    (`detail`: the figures and the other visits or photos involved)."""

    __tablename__ = "visit_flag"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("visit_submission.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(32), index=True)
    # Points this finding takes off the visit's integrity score of 100.
    penalty: Mapped[int] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    visit: Mapped[Visit] = relationship()
    submission: Mapped[VisitSubmission] = relationship()

    __table_args__ = (
        UniqueConstraint("submission_id", "code"),
        CheckConstraint(in_list("code", FLAG_CODES), name="code_known"),
        CheckConstraint("penalty BETWEEN 0 AND 100", name="penalty_range"),
    )


class ReviewEdit(Model):
    """A reviewer's change to one answer: who, when, before, after, why, and the
    visit's score on either side of it. Rows are only ever added."""

    __tablename__ = "review_edit"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    question_key: Mapped[str] = mapped_column(String(64))
    # The stored answer values (JSON null when there was none / it was removed).
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    score_before: Mapped[Decimal | None] = mapped_column(Numeric(9, 4))
    score_after: Mapped[Decimal | None] = mapped_column(Numeric(9, 4))

    visit: Mapped[Visit] = relationship()
    editor: Mapped[User | None] = relationship()

    __table_args__ = (CheckConstraint("length(trim(reason)) > 0", name="reason_given"),)


class ReviewNote(Model):
    """What the reviewer tells the shopper when returning a visit: one note for the
    visit (question_key NULL) and optionally one per question."""

    __tablename__ = "review_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    question_key: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    visit: Mapped[Visit] = relationship()
    author: Mapped[User | None] = relationship()

    __table_args__ = (CheckConstraint("length(trim(text)) > 0", name="text_given"),)
