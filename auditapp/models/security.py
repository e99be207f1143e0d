"""Login history, password-reset mails sent, and the development mail outbox."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..extensions import Model
from ..networks import network_of
from .base import UTCDateTime, utcnow
from .users import User


class LoginEvent(Model):
    __tablename__ = "login_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), index=True
    )
    # Throttling reads the history by the address typed in (services/login_throttle).
    email: Mapped[str] = mapped_column(String(254), index=True)
    ip: Mapped[str] = mapped_column(String(64), index=True)
    # What throttling counts by: the address, or for IPv6 its /64 (auditapp/networks.py).
    network: Mapped[str] = mapped_column(String(64), index=True, server_default="")
    user_agent: Mapped[str] = mapped_column(String(255), default="")
    success: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    user: Mapped[User | None] = relationship()

    @validates("ip")
    def _network_follows_ip(self, _key: str, ip: str) -> str:
        self.network = network_of(ip)
        return ip


class PasswordResetMail(Model):
    """One reset mail sent to a user: their count in the last hour caps the next ones,
    in the database so that the cap holds across several app machines."""

    __tablename__ = "password_reset_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class OutboxMail(Model):
    """Every e-mail the app sends is recorded here; in development it is only here."""

    __tablename__ = "outbox_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    to: Mapped[str] = mapped_column(String(254), index=True)
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Delivery attempts that failed, and the last error: admins see them in the outbox
    # and the retry sweep tries again until MAIL_MAX_ATTEMPTS.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
