"""Alerts: in-app notifications, and how each user wants each kind by e-mail.

Every alert is a Notification row for one user (the in-app list). Its e-mail goes
out at once or in the user's daily digest, as the user's AlertPreference for that
kind says (no row: the kind's default). `dedupe_key` makes raising the same alert
twice (a sweep run again, a job retried) a no-op.
"""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .base import UTCDateTime, in_list, utcnow
from .org import Store
from .users import User

ALERT_KINDS = (
    "critical_failure",  # a critical question failed on a published visit
    "below_threshold",  # a published visit scored below the client's threshold
    "declining",  # a store's score fell three waves in a row
    "action_overdue",  # a corrective action is past its due date
    "appeal_overdue",  # an appeal is past its decision deadline
    "appeal_filed",  # a store disputes a finding (the agency decides it)
    "appeal_decided",  # the agency upheld or rejected a store's appeal
)
IMMEDIATE = "immediate"
DIGEST = "digest"
IN_APP = "in_app"  # only in the app, no e-mail
DELIVERIES = (IMMEDIATE, DIGEST, IN_APP)


class Notification(Model):
    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("store.id", ondelete="CASCADE"))
    dedupe_key: Mapped[str] = mapped_column(String(128))
    # Written in the user's language when raised.
    title: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(500), default="")
    delivery: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When its e-mail (immediate, or the digest that carried it) was queued.
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mail_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_mail.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship()
    store: Mapped[Store | None] = relationship()

    __table_args__ = (
        UniqueConstraint("user_id", "dedupe_key"),
        CheckConstraint(in_list("kind", ALERT_KINDS), name="kind_known"),
        CheckConstraint(in_list("delivery", DELIVERIES), name="delivery_known"),
        Index("ix_notification_user_unread", "user_id", "read_at", "id"),
        Index("ix_notification_digest_due", "delivery", "mailed_at"),
    )


class AlertPreference(Model):
    """A user's choice for one kind of alert."""

    __tablename__ = "alert_preference"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    delivery: Mapped[str] = mapped_column(String(16))

    __table_args__ = (
        CheckConstraint(in_list("kind", ALERT_KINDS), name="kind_known"),
        CheckConstraint(in_list("delivery", DELIVERIES), name="delivery_known"),
    )
