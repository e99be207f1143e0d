"""People: users with one role each, their data scope, and shopper profiles."""

import secrets
from datetime import datetime
from decimal import Decimal

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship, validates

from ..extensions import Model, db
from .base import UTCDateTime, in_list, utcnow
from .org import Client, Region, Store

ADMIN = "admin"
COORDINATOR = "coordinator"
REVIEWER = "reviewer"
SHOPPER = "shopper"
REGIONAL_MANAGER = "regional_manager"
STORE_MANAGER = "store_manager"
ROLES = (ADMIN, COORDINATOR, REVIEWER, SHOPPER, REGIONAL_MANAGER, STORE_MANAGER)
AGENCY_ROLES = (COORDINATOR, REVIEWER)  # scoped by the clients assigned to them
CLIENT_ROLES = (REGIONAL_MANAGER, STORE_MANAGER)  # scoped by regions or stores

GENDERS = ("female", "male", "other", "undisclosed")

user_clients = Table(
    "user_client",
    db.metadata,
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("client_id", ForeignKey("client.id", ondelete="CASCADE"), primary_key=True),
)
user_regions = Table(
    "user_region",
    db.metadata,
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("region_id", ForeignKey("region.id", ondelete="CASCADE"), primary_key=True),
)
user_stores = Table(
    "user_store",
    db.metadata,
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("store_id", ForeignKey("store.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    # Empty until the user accepts an invitation and picks a password.
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[str] = mapped_column(String(24))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(16))
    # Client users (regional and store managers) belong to exactly one client.
    client_id: Mapped[int | None] = mapped_column(ForeignKey("client.id", ondelete="RESTRICT"))
    can_export: Mapped[bool] = mapped_column(Boolean, default=False)
    # Unused since sign-in throttling reads the login history (services/login_throttle),
    # but still columns: dropping them on SQLite means rebuilding this table (and its
    # constraints), which is left for a migration of its own.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Part of every session's and remember cookie's user id (see get_id): raising it
    # ends all of the user's sessions at their next request.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    client: Mapped[Client | None] = relationship()
    clients: Mapped[list[Client]] = relationship(secondary=user_clients)
    regions: Mapped[list[Region]] = relationship(secondary=user_regions)
    stores: Mapped[list[Store]] = relationship(secondary=user_stores)
    shopper: Mapped["ShopperProfile | None"] = relationship(back_populates="user")

    __table_args__ = (
        CheckConstraint(in_list("role", ROLES), name="role_known"),
        CheckConstraint(
            "client_id IS NOT NULL OR role NOT IN ('regional_manager', 'store_manager')",
            name="client_user_has_client",
        ),
        CheckConstraint("failed_logins >= 0", name="failed_logins_non_negative"),
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and the remember cookie; security.py
        loads the user only while the version still matches."""
        return f"{self.id}:{self.session_version or 0}"

    def end_sessions(self) -> None:
        """Every session and remember cookie issued so far stops working. The version
        is raised in the database, not here: two requests raising it at the same time
        (a sign-out and a password change) must not both write the same new value."""
        session = object_session(self)
        if session is None or self.id is None:  # not saved yet: no session to end
            self.session_version = (self.session_version or 0) + 1
            return
        with session.no_autoflush:  # may run inside a validator, halfway through a change
            session.execute(
                update(User)
                .where(User.id == self.id)
                .values(session_version=User.session_version + 1)
                .execution_options(synchronize_session=False)
            )
            session.refresh(self, ["session_version"])

    @validates("active")
    def _deactivation_ends_sessions(self, _key: str, active: bool) -> bool:
        # Otherwise an old session would come back to life on reactivation.
        if self.active and not active:
            self.end_sessions()
        return active

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


def new_calendar_token() -> str:
    """256 random bits, as 64 hex digits."""
    return secrets.token_hex(32)


class ShopperProfile(Model):
    __tablename__ = "shopper_profile"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), unique=True)
    gender: Mapped[str] = mapped_column(String(16), default="undisclosed")
    birth_year: Mapped[int | None] = mapped_column(Integer)
    home_city: Mapped[str] = mapped_column(String(100), default="")
    home_latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    home_longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    qualifications: Mapped[list[str]] = mapped_column(JSON, default=list)
    certification_level: Mapped[int] = mapped_column(Integer, default=1)
    # 0..100; starts neutral and moves with accepted-then-missed visits.
    reliability: Mapped[int] = mapped_column(Integer, default=80)
    max_visits_per_day: Mapped[int] = mapped_column(Integer, default=2)
    max_visits_per_week: Mapped[int] = mapped_column(Integer, default=6)
    max_travel_km: Mapped[int] = mapped_column(Integer, default=30)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    # The secret in the address of the shopper's calendar feed (services/core/calendar.py);
    # a new one revokes the old address.
    calendar_token: Mapped[str] = mapped_column(String(64), default=new_calendar_token)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(back_populates="shopper")
    conflicts: Mapped[list["ShopperConflict"]] = relationship(
        back_populates="shopper", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint(in_list("gender", GENDERS), name="gender_known"),
        CheckConstraint(
            "birth_year IS NULL OR birth_year BETWEEN 1900 AND 2100", name="birth_year_range"
        ),
        CheckConstraint("certification_level BETWEEN 0 AND 5", name="certification_range"),
        CheckConstraint("reliability BETWEEN 0 AND 100", name="reliability_range"),
        CheckConstraint(
            "max_visits_per_day >= 0 AND max_visits_per_week >= max_visits_per_day",
            name="capacity_consistent",
        ),
        CheckConstraint("max_travel_km > 0", name="travel_positive"),
        CheckConstraint(
            "home_latitude IS NULL OR home_latitude BETWEEN -90 AND 90", name="latitude_range"
        ),
        CheckConstraint(
            "home_longitude IS NULL OR home_longitude BETWEEN -180 AND 180",
            name="longitude_range",
        ),
    )


class ShopperConflict(Model):
    """A client or store the shopper must never be sent to (they or family work there)."""

    __tablename__ = "shopper_conflict"

    id: Mapped[int] = mapped_column(primary_key=True)
    shopper_id: Mapped[int] = mapped_column(
        ForeignKey("shopper_profile.id", ondelete="CASCADE"), index=True
    )
    client_id: Mapped[int | None] = mapped_column(ForeignKey("client.id", ondelete="CASCADE"))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("store.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(200), default="")

    shopper: Mapped[ShopperProfile] = relationship(back_populates="conflicts")
    client: Mapped[Client | None] = relationship()
    store: Mapped[Store | None] = relationship()

    __table_args__ = (
        CheckConstraint("(client_id IS NULL) <> (store_id IS NULL)", name="exactly_one_target"),
    )
