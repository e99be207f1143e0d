"""The client's organisation: clients, a region tree of any depth, stores."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
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
from .base import UTCDateTime, in_list, utcnow

REGION_KINDS = ("region", "area", "district")
STORE_FORMATS = (
    "convenience",
    "supermarket",
    "hypermarket",
    "specialty",
    "department_store",
    "restaurant",
    "bank_branch",
    "service_centre",
)
OWNERSHIPS = ("direct", "franchise", "managed")
TIERS = ("A", "B", "C")
STORE_STATUSES = ("active", "closed")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")


class Client(Model):
    __tablename__ = "client"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Rotation: a shopper may not shop the same store again within this many days.
    rotation_days: Mapped[int] = mapped_column(Integer, default=90)
    # Follow-up after publication. A question earning less than action_threshold
    # percent of its points (or a failed critical one) opens a corrective action, due
    # in critical_action_days or action_days; a visit scoring below alert_threshold
    # raises an alert; a store may appeal a finding for appeal_days after publication,
    # and the agency decides within appeal_decision_days.
    action_threshold: Mapped[int] = mapped_column(Integer, default=50)
    alert_threshold: Mapped[int] = mapped_column(Integer, default=70)
    critical_action_days: Mapped[int] = mapped_column(Integer, default=7)
    action_days: Mapped[int] = mapped_column(Integer, default=30)
    appeal_days: Mapped[int] = mapped_column(Integer, default=14)
    appeal_decision_days: Mapped[int] = mapped_column(Integer, default=7)
    # Show each store's shopper-adjusted score beside its raw one (reports/adjusted.py).
    adjusted_scores: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    regions: Mapped[list["Region"]] = relationship(back_populates="client")

    __table_args__ = (
        CheckConstraint("rotation_days >= 0", name="rotation_days_non_negative"),
        CheckConstraint(
            "action_threshold BETWEEN 0 AND 100 AND alert_threshold BETWEEN 0 AND 100",
            name="thresholds_in_range",
        ),
        CheckConstraint(
            "critical_action_days > 0 AND action_days > 0 AND appeal_days >= 0 "
            "AND appeal_decision_days > 0",
            name="follow_up_days_positive",
        ),
    )

    def __repr__(self) -> str:
        return f"<Client {self.code}>"


class Region(Model):
    """A node of the client's region tree. `path` ("/1/4/9/") makes a subtree one
    LIKE query, so scope checks never walk the tree in Python."""

    __tablename__ = "region"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="RESTRICT"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("region.id", ondelete="RESTRICT"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="region")
    path: Mapped[str] = mapped_column(String(255), default="", index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    client: Mapped[Client] = relationship(back_populates="regions")
    parent: Mapped["Region | None"] = relationship(remote_side=[id])

    __table_args__ = (
        UniqueConstraint("client_id", "code"),
        CheckConstraint(in_list("kind", REGION_KINDS), name="kind_known"),
    )

    @property
    def depth(self) -> int:
        return max(self.path.count("/") - 2, 0)

    def __repr__(self) -> str:
        return f"<Region {self.code}>"


class Store(Model):
    __tablename__ = "store"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="RESTRICT"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id", ondelete="RESTRICT"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    format: Mapped[str] = mapped_column(String(32), default="specialty")
    ownership: Mapped[str] = mapped_column(String(16), default="direct")
    tier: Mapped[str] = mapped_column(String(1), default="B")
    # {"mon": ["09:00", "21:00"], ..., "sun": null}; null means closed that day.
    opening_hours: Mapped[dict[str, list[str] | None]] = mapped_column(JSON, default=dict)
    target_female_pct: Mapped[int | None] = mapped_column(Integer)
    target_age_bands: Mapped[list[str]] = mapped_column(JSON, default=list)
    manager_name: Mapped[str] = mapped_column(String(120), default="")
    manager_phone: Mapped[str] = mapped_column(String(40), default="")
    manager_email: Mapped[str] = mapped_column(String(254), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    client: Mapped[Client] = relationship()
    region: Mapped[Region] = relationship()

    __table_args__ = (
        UniqueConstraint("client_id", "code"),
        CheckConstraint(in_list("format", STORE_FORMATS), name="format_known"),
        CheckConstraint(in_list("ownership", OWNERSHIPS), name="ownership_known"),
        CheckConstraint(in_list("tier", TIERS), name="tier_known"),
        CheckConstraint(in_list("status", STORE_STATUSES), name="status_known"),
        CheckConstraint("latitude IS NULL OR latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint(
            "longitude IS NULL OR longitude BETWEEN -180 AND 180", name="longitude_range"
        ),
        CheckConstraint(
            "target_female_pct IS NULL OR target_female_pct BETWEEN 0 AND 100",
            name="target_female_pct_range",
        ),
    )

    def days_since_update(self, now: datetime | None = None) -> int:
        return ((now or utcnow()) - self.updated_at).days

    def __repr__(self) -> str:
        return f"<Store {self.code}>"
