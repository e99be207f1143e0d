"""What shoppers are owed: a pay line per approved visit and the payment runs that
settle them."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .answers import Evidence
from .base import UTCDateTime, utcnow
from .org import Client
from .users import ShopperProfile, User
from .waves import Visit

Money = Numeric(12, 2)


class PaymentRun(Model):
    """A batch of pay lines of one client, exported for the bank and marked paid."""

    __tablename__ = "payment_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="RESTRICT"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    reference: Mapped[str] = mapped_column(String(200), default="")

    client: Mapped[Client] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    paid_by: Mapped[User | None] = relationship(foreign_keys=[paid_by_id])
    lines: Mapped[list["PayLine"]] = relationship(back_populates="run", order_by="PayLine.id")

    __table_args__ = (
        CheckConstraint("paid_at IS NULL OR paid_by_id IS NOT NULL", name="paid_by_someone"),
    )


class PayLine(Model):
    """The fee and allowed expenses of one approved visit (one line per visit)."""

    __tablename__ = "pay_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="RESTRICT"), unique=True)
    shopper_id: Mapped[int] = mapped_column(
        ForeignKey("shopper_profile.id", ondelete="RESTRICT"), index=True
    )
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id", ondelete="RESTRICT"), index=True)
    fee: Mapped[Decimal] = mapped_column(Money)
    expenses_claimed: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    # min(claimed, the wave's cap), and nothing without a receipt.
    expenses_paid: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    receipt_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id", ondelete="SET NULL"))
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("payment_run.id", ondelete="SET NULL"), index=True
    )
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    visit: Mapped[Visit] = relationship()
    shopper: Mapped[ShopperProfile] = relationship()
    client: Mapped[Client] = relationship()
    receipt: Mapped[Evidence | None] = relationship()
    run: Mapped[PaymentRun | None] = relationship(back_populates="lines")

    __table_args__ = (
        CheckConstraint("fee >= 0 AND expenses_claimed >= 0", name="money_non_negative"),
        CheckConstraint(
            "expenses_paid >= 0 AND expenses_paid <= expenses_claimed", name="expenses_within_claim"
        ),
        # To the half cent: SQLite keeps NUMERIC as binary floating point, where
        # 80.00 + 10.21 is not exactly 90.21.
        CheckConstraint("abs(total - (fee + expenses_paid)) < 0.005", name="total_adds_up"),
    )
