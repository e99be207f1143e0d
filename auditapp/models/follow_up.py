"""What happens after a wave is published: corrective actions for the findings a
store must fix, the store's appeals against findings it disputes, and the files
(photos) either carries as evidence.

A finding is one question of one approved visit that failed: a critical question
that failed, or a question that earned less than the client's action threshold.
One action follows a (store, question key) until it is verified: a later failure of
the same question reopens it rather than opening another, so an action's findings
are the history of that question in that store ("did the fix stick").
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .base import UTCDateTime, in_list, utcnow
from .org import Store
from .users import User
from .waves import Visit, Wave

# Corrective actions: open -> in progress -> resolved -> verified, or reopened (by a
# failing answer in a later wave, or by a reviewer of the fix); withdrawn when an
# upheld appeal removes the finding that opened it.
ACTION_OPEN = "open"
ACTION_IN_PROGRESS = "in_progress"
ACTION_RESOLVED = "resolved"
ACTION_VERIFIED = "verified"
ACTION_REOPENED = "reopened"
ACTION_WITHDRAWN = "withdrawn"
ACTION_STATUSES = (
    ACTION_OPEN, ACTION_IN_PROGRESS, ACTION_RESOLVED, ACTION_VERIFIED, ACTION_REOPENED,
    ACTION_WITHDRAWN,
)  # fmt: skip
# Still the store's work (shown as open, counted as overdue past the due date).
ACTION_ACTIVE = (ACTION_OPEN, ACTION_IN_PROGRESS, ACTION_REOPENED)
# Not closed: a later wave's answer to the question still decides them.
ACTION_UNVERIFIED = (*ACTION_ACTIVE, ACTION_RESOLVED)
SEVERITIES = ("critical", "below_threshold")

APPEAL_PENDING = "pending"
APPEAL_UPHELD = "upheld"
APPEAL_REJECTED = "rejected"
APPEAL_STATUSES = (APPEAL_PENDING, APPEAL_UPHELD, APPEAL_REJECTED)


class CorrectiveAction(Model):
    __tablename__ = "corrective_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id", ondelete="CASCADE"), index=True)
    # The checklist's question key: stable across the checklist's versions, so a later
    # wave on a newer version still answers "the same question".
    checklist_id: Mapped[int] = mapped_column(ForeignKey("checklist.id", ondelete="CASCADE"))
    question_key: Mapped[str] = mapped_column(String(64))
    # The question's text when the action opened (in the checklist's languages).
    question_text: Mapped[str] = mapped_column(Text, default="")
    # The finding that opened it, and the wave of the latest failing finding.
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id", ondelete="CASCADE"), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=ACTION_OPEN, index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    due_on: Mapped[date] = mapped_column(Date)
    resolution_note: Mapped[str] = mapped_column(Text, default="")
    times_reopened: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the overdue alert went out for the current due date (once per due date).
    overdue_alerted_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    store: Mapped[Store] = relationship()
    visit: Mapped[Visit] = relationship()
    wave: Mapped[Wave] = relationship()
    owner: Mapped[User | None] = relationship()
    findings: Mapped[list["ActionFinding"]] = relationship(
        back_populates="action", order_by="ActionFinding.id", cascade="all, delete-orphan"
    )
    events: Mapped[list["ActionEvent"]] = relationship(
        back_populates="action", order_by="ActionEvent.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint(in_list("status", ACTION_STATUSES), name="status_known"),
        CheckConstraint(in_list("severity", SEVERITIES), name="severity_known"),
        CheckConstraint("times_reopened >= 0", name="times_reopened_non_negative"),
        CheckConstraint("status <> 'resolved' OR resolved_at IS NOT NULL", name="resolved_when"),
        # At most one unverified action per store and question: a repeat finding
        # reopens it instead of opening a second one.
        Index(
            "uq_corrective_action_unverified",
            "store_id",
            "checklist_id",
            "question_key",
            unique=True,
            sqlite_where=text("status IN ('open', 'in_progress', 'resolved', 'reopened')"),
            postgresql_where=text("status IN ('open', 'in_progress', 'resolved', 'reopened')"),
        ),
    )

    def __repr__(self) -> str:
        return f"<CorrectiveAction {self.id} {self.status}>"


class ActionFinding(Model):
    """One approved visit's answer to the action's question: the failure that opened or
    reopened it, or the later pass that verified it."""

    __tablename__ = "action_finding"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(
        ForeignKey("corrective_action.id", ondelete="CASCADE"), index=True
    )
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id", ondelete="CASCADE"))
    passed: Mapped[bool] = mapped_column(Boolean)
    critical_failed: Mapped[bool] = mapped_column(Boolean, default=False)
    # The question's share of its points on that visit, in percent (None: N/A).
    percent: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    action: Mapped[CorrectiveAction] = relationship(back_populates="findings")
    visit: Mapped[Visit] = relationship()
    wave: Mapped[Wave] = relationship()

    __table_args__ = (UniqueConstraint("action_id", "visit_id"),)


class ActionEvent(Model):
    """Every status change of an action: who (None: the system, from a later wave),
    when, from what, to what, and the note."""

    __tablename__ = "action_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(
        ForeignKey("corrective_action.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    action: Mapped[CorrectiveAction] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class Appeal(Model):
    """A store's dispute of one finding (one question of one published visit)."""

    __tablename__ = "appeal"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id", ondelete="CASCADE"), index=True)
    question_key: Mapped[str] = mapped_column(String(64))
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=APPEAL_PENDING, index=True)
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The coordinator decides by then; both sides see it.
    decide_by: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decision_note: Mapped[str] = mapped_column(Text, default="")
    # The answer when the appeal was filed and, when upheld, the answer it became
    # (stored answer values, JSON null for none), with the visit's score either side.
    answer_before: Mapped[Any] = mapped_column(JSON, nullable=True)
    answer_after: Mapped[Any] = mapped_column(JSON, nullable=True)
    score_before: Mapped[Decimal | None] = mapped_column(Numeric(9, 4))
    score_after: Mapped[Decimal | None] = mapped_column(Numeric(9, 4))
    # When the overdue alert went out (once).
    overdue_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    visit: Mapped[Visit] = relationship()
    store: Mapped[Store] = relationship()
    filed_by: Mapped[User | None] = relationship(foreign_keys=[filed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __table_args__ = (
        # One dispute per finding.
        UniqueConstraint("visit_id", "question_key"),
        CheckConstraint(in_list("status", APPEAL_STATUSES), name="status_known"),
        CheckConstraint("length(trim(reason)) > 0", name="reason_given"),
        CheckConstraint(
            "(status = 'pending') = (decided_at IS NULL)", name="decided_unless_pending"
        ),
        CheckConstraint(
            "status = 'pending' OR length(trim(decision_note)) > 0", name="decision_explained"
        ),
    )

    def __repr__(self) -> str:
        return f"<Appeal {self.id} {self.status}>"


class FollowUpFile(Model):
    """A photo attached to an action (evidence of the fix) or an appeal (evidence for
    the dispute): stored like a visit's evidence, upright and without metadata."""

    __tablename__ = "follow_up_file"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int | None] = mapped_column(
        ForeignKey("corrective_action.id", ondelete="CASCADE"), index=True
    )
    appeal_id: Mapped[int | None] = mapped_column(
        ForeignKey("appeal.id", ondelete="CASCADE"), index=True
    )
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(64))
    original_name: Mapped[str] = mapped_column(String(255), default="")
    size_bytes: Mapped[int] = mapped_column(Integer)
    stored_name: Mapped[str] = mapped_column(String(128))
    thumb_name: Mapped[str | None] = mapped_column(String(128))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("(action_id IS NULL) <> (appeal_id IS NULL)", name="exactly_one_owner"),
        CheckConstraint("size_bytes > 0", name="not_empty"),
    )
