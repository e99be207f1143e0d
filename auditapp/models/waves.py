"""Waves of a programme and the visits they plan.

A visit's status is the lifecycle the review process walks through; the database
only accepts the known states, and only visits in a planned state may lack a
shopper. Two guarantees against double-booking live in the database itself:
a visit is taken with a conditional UPDATE (the first claim wins), and a shopper
cannot hold two visits whose windows overlap (an exclusion constraint on
PostgreSQL, a trigger on SQLite; both created in the migration).
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model, db
from .base import UTCDateTime, in_list, utcnow
from .checklists import ChecklistVersion
from .org import Client, Store
from .users import ShopperProfile, User

CADENCES = ("weekly", "monthly", "quarterly", "half_yearly")
SLOTS = ("opening", "midday", "peak", "closing")
WAVE_STATUSES = ("draft", "open", "closed")

PLANNED = "planned"
ASSIGNED = "assigned"
ACCEPTED = "accepted"
IN_PROGRESS = "in_progress"
SUBMITTED = "submitted"
IN_REVIEW = "in_review"
RETURNED = "returned"
APPROVED = "approved"
CANCELLED = "cancelled"
MISSED = "missed"
VISIT_STATUSES = (
    PLANNED, ASSIGNED, ACCEPTED, IN_PROGRESS, SUBMITTED, IN_REVIEW, RETURNED, APPROVED,
    CANCELLED, MISSED,
)  # fmt: skip
# The lifecycle: every status change a visit may make. The migration copies this
# table into the database (visit_transition), where a trigger refuses any other
# change, whoever writes the row; services move visits only along these edges.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    PLANNED: (ASSIGNED, ACCEPTED, CANCELLED),
    ASSIGNED: (ACCEPTED, PLANNED, CANCELLED, MISSED),
    ACCEPTED: (IN_PROGRESS, SUBMITTED, PLANNED, CANCELLED, MISSED),
    IN_PROGRESS: (SUBMITTED,),
    SUBMITTED: (IN_REVIEW, RETURNED, APPROVED),
    IN_REVIEW: (SUBMITTED, RETURNED, APPROVED),
    RETURNED: (SUBMITTED,),
    APPROVED: (),
    CANCELLED: (),
    MISSED: (),
}
# Waiting for a reviewer (the review queue).
REVIEWABLE_STATUSES = (SUBMITTED, IN_REVIEW)
# States in which a visit occupies its shopper's time (for overlap and capacity).
BOOKED_STATUSES = (ASSIGNED, ACCEPTED, IN_PROGRESS)
UNSTAFFED_STATUSES = (PLANNED, CANCELLED, MISSED)
Money = Numeric(12, 2)

wave_stores = Table(
    "wave_store",
    db.metadata,
    Column("wave_id", ForeignKey("wave.id", ondelete="CASCADE"), primary_key=True),
    Column("store_id", ForeignKey("store.id", ondelete="CASCADE"), primary_key=True),
)


class Wave(Model):
    __tablename__ = "wave"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="RESTRICT"), index=True)
    checklist_version_id: Mapped[int] = mapped_column(
        ForeignKey("checklist_version.id", ondelete="RESTRICT")
    )
    previous_wave_id: Mapped[int | None] = mapped_column(ForeignKey("wave.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200))
    cadence: Mapped[str] = mapped_column(String(16), default="monthly")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    # How the stores were chosen, kept so "create next wave" can choose again:
    # {"regions": [ids], "tiers": ["A"], "formats": [...], "stores": [ids]}.
    scope: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    visits_per_tier: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # Shares in percent: {"opening": 25, "midday": 25, "peak": 30, "closing": 20}.
    slot_quotas: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    weekend_share: Mapped[int] = mapped_column(Integer, default=30)
    # Percent of the wave's stores that get a second visit in the same slot by another
    # shopper, so the checklist's questions can be tested for agreement.
    calibration_share: Mapped[int] = mapped_column(Integer, default=0)
    fee: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    expense_cap: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    required_level: Mapped[int] = mapped_column(Integer, default=1)
    max_travel_km: Mapped[int] = mapped_column(Integer, default=30)
    claim_limit: Mapped[int] = mapped_column(Integer, default=3)
    min_duration_minutes: Mapped[int] = mapped_column(Integer, default=10)
    allow_audio: Mapped[bool] = mapped_column(Boolean, default=False)
    scenario: Mapped[str] = mapped_column(Text, default="")
    purchase: Mapped[str] = mapped_column(Text, default="")
    questions_to_ask: Mapped[str] = mapped_column(Text, default="")
    # Results reach the client's managers only once published: at publish_at when a
    # coordinator schedules it (services/follow_up/publishing.py publishes due waves), or at once.
    publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    client: Mapped[Client] = relationship()
    checklist_version: Mapped[ChecklistVersion] = relationship()
    previous_wave: Mapped["Wave | None"] = relationship(remote_side=[id])
    stores: Mapped[list[Store]] = relationship(secondary=wave_stores)
    visits: Mapped[list["Visit"]] = relationship(back_populates="wave")

    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="period_ordered"),
        CheckConstraint(in_list("cadence", CADENCES), name="cadence_known"),
        CheckConstraint(in_list("status", WAVE_STATUSES), name="status_known"),
        CheckConstraint("weekend_share BETWEEN 0 AND 100", name="weekend_share_range"),
        CheckConstraint("calibration_share BETWEEN 0 AND 50", name="calibration_share_range"),
        CheckConstraint("fee >= 0 AND expense_cap >= 0", name="money_non_negative"),
        CheckConstraint("required_level BETWEEN 0 AND 5", name="required_level_range"),
        CheckConstraint("max_travel_km > 0", name="travel_positive"),
        CheckConstraint("claim_limit >= 0", name="claim_limit_non_negative"),
        CheckConstraint("min_duration_minutes >= 0", name="min_duration_non_negative"),
    )

    def __repr__(self) -> str:
        return f"<Wave {self.id} {self.name}>"


class Visit(Model):
    __tablename__ = "visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id", ondelete="CASCADE"), index=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id", ondelete="RESTRICT"), index=True)
    # Pinned when the visit is created: scoring always uses this version.
    checklist_version_id: Mapped[int] = mapped_column(
        ForeignKey("checklist_version.id", ondelete="RESTRICT")
    )
    slot: Mapped[str] = mapped_column(String(16))
    # The second visit of a store in the same wave and slot, planned for agreement.
    calibration: Mapped[bool] = mapped_column(Boolean, default=False)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    shopper_id: Mapped[int | None] = mapped_column(
        ForeignKey("shopper_profile.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=PLANNED, index=True)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # On the day: the shopper confirms the briefing, checks in (with the location
    # only if they consent) and checks out. Stored in UTC, shown in store time.
    briefing_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    start_latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    start_longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    start_accuracy_m: Mapped[int | None] = mapped_column(Integer)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the shopper spent per their receipt; paid up to the wave's expense cap.
    expense_claimed: Mapped[Decimal | None] = mapped_column(Money)
    # The current result: the latest submission's, rescored after each reviewer edit
    # (exact to 4 places, like VisitSubmission.score).
    score: Mapped[Decimal | None] = mapped_column(Numeric(9, 4))
    # The same score exact, as fraction text ("173/2"); reports average these.
    score_exact: Mapped[str | None] = mapped_column(String(100))
    result: Mapped[str | None] = mapped_column(String(8))
    grade: Mapped[str | None] = mapped_column(String(100))
    # The approved result before the first upheld appeal changed it (None: never
    # changed by an appeal); score and score_exact above are then the adjusted ones.
    original_score: Mapped[Decimal | None] = mapped_column(Numeric(9, 4))
    original_score_exact: Mapped[str | None] = mapped_column(String(100))
    original_result: Mapped[str | None] = mapped_column(String(8))
    original_grade: Mapped[str | None] = mapped_column(String(100))
    # 0..100 from the integrity checks run at submission (services/visits/integrity.py).
    integrity_score: Mapped[int | None] = mapped_column(Integer)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    wave: Mapped[Wave] = relationship(back_populates="visits")
    store: Mapped[Store] = relationship()
    checklist_version: Mapped[ChecklistVersion] = relationship()
    shopper: Mapped[ShopperProfile | None] = relationship()
    reviewer: Mapped[User | None] = relationship()
    events: Mapped[list["VisitEvent"]] = relationship(
        back_populates="visit", order_by="VisitEvent.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint(in_list("status", VISIT_STATUSES), name="status_known"),
        CheckConstraint(in_list("slot", SLOTS), name="slot_known"),
        CheckConstraint("window_end > window_start", name="window_ordered"),
        CheckConstraint(
            "shopper_id IS NOT NULL OR status IN ('planned', 'cancelled', 'missed')",
            name="staffed_unless_planned",
        ),
        CheckConstraint("status <> 'planned' OR shopper_id IS NULL", name="planned_is_open"),
        CheckConstraint(
            "finished_at IS NULL OR (started_at IS NOT NULL AND finished_at >= started_at)",
            name="finish_after_start",
        ),
        CheckConstraint("start_accuracy_m IS NULL OR start_accuracy_m >= 0", name="accuracy"),
        CheckConstraint("expense_claimed IS NULL OR expense_claimed >= 0", name="expense_claimed"),
        CheckConstraint("result IS NULL OR result IN ('PASS', 'FAIL')", name="result_known"),
        CheckConstraint(
            "integrity_score IS NULL OR integrity_score BETWEEN 0 AND 100", name="integrity_range"
        ),
        CheckConstraint("status <> 'approved' OR approved_at IS NOT NULL", name="approved_when"),
        Index("ix_visit_shopper_window", "shopper_id", "window_start"),
        # Covers the visit rows of a region report (services/report_data.visit_rows), so
        # a wave's approved scores are read from the index alone.
        Index(
            "ix_visit_report_rows",
            *("wave_id", "status", "store_id", "score_exact", "score", "grade", "result"),
        ),
    )

    def __repr__(self) -> str:
        return f"<Visit {self.id} {self.status}>"


class VisitTransition(Model):
    """TRANSITIONS as rows, read by the database trigger that guards visit.status."""

    __tablename__ = "visit_transition"

    from_status: Mapped[str] = mapped_column(String(16), primary_key=True)
    to_status: Mapped[str] = mapped_column(String(16), primary_key=True)


class VisitEvent(Model):
    """Every status change of a visit: who, when, from what, to what, and why."""

    __tablename__ = "visit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    visit: Mapped[Visit] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class ShopperAbsence(Model):
    """Days a shopper is not available (holidays, exams); inclusive range."""

    __tablename__ = "shopper_absence"

    id: Mapped[int] = mapped_column(primary_key=True)
    shopper_id: Mapped[int] = mapped_column(
        ForeignKey("shopper_profile.id", ondelete="CASCADE"), index=True
    )
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")

    __table_args__ = (CheckConstraint("last_day >= first_day", name="range_ordered"),)
