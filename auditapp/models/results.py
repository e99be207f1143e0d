"""A visit's result, stored once when it is approved (and again only through a logged
rescoring), so reports add up stored figures instead of scoring millions of answers
again.

Scores are kept exact as fraction text ("173/2"), beside a rounded copy for sorting
and SQL; points are the checklist's decimals times weights, exact in Numeric(20, 8),
so question figures can be summed in SQL without error.
"""

from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

Points = Numeric(20, 8)


class VisitSectionResult(db.Model):
    __tablename__ = "visit_section_result"

    visit_id: Mapped[int] = mapped_column(
        ForeignKey("visit.id", ondelete="CASCADE"), primary_key=True
    )
    section_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    earned: Mapped[Decimal] = mapped_column(Points)
    possible: Mapped[Decimal] = mapped_column(Points)
    # None when nothing in the section applied (N/A or hidden throughout).
    score_exact: Mapped[str | None] = mapped_column(String(100))
    score: Mapped[Decimal | None] = mapped_column(Numeric(9, 4))
    applicable: Mapped[bool] = mapped_column(Boolean)
    passed: Mapped[bool | None] = mapped_column(Boolean)

    __table_args__ = (
        CheckConstraint("possible >= 0", name="possible_non_negative"),
        CheckConstraint("(score IS NULL) = (score_exact IS NULL)", name="score_both_or_none"),
    )


class VisitQuestionResult(db.Model):
    __tablename__ = "visit_question_result"

    visit_id: Mapped[int] = mapped_column(
        ForeignKey("visit.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("checklist_question.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    earned: Mapped[Decimal] = mapped_column(Points)
    possible: Mapped[Decimal] = mapped_column(Points)
    applicable: Mapped[bool] = mapped_column(Boolean)
    full_credit: Mapped[bool | None] = mapped_column(Boolean)
    critical_failed: Mapped[bool] = mapped_column(Boolean, default=False)
    # The 0..10 answer of an "nps" question, for NPS in SQL.
    nps: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint("possible >= 0", name="possible_non_negative"),
        CheckConstraint("nps IS NULL OR nps BETWEEN 0 AND 10", name="nps_range"),
    )
