"""A visit's result, stored once when it is approved (and again only through a logged
rescoring), so reports add up stored figures instead of scoring millions of answers
again.

Scores are kept exact as fraction text ("173/2"), beside a rounded copy for sorting
and SQL; points are the checklist's decimals times weights, exact in Numeric(20, 8),
so question figures can be summed in SQL without error.

StoreQuestionSummary holds, per (wave, store, question), the sums of the approved
visits' question results: a region report groups one row per store and question
instead of one per answer (4 visits a store: a quarter of the rows to sort). Points
are whole 10^-8 units in BIGINT, so every sum is an exact integer on SQLite too.
"""

from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    Numeric,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model

Points = Numeric(20, 8)


class VisitSectionResult(Model):
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


class VisitQuestionResult(Model):
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


class StoreQuestionSummary(Model):
    """The approved visits' question results of one store in one wave, summed:
    services/results.record_results keeps it up to date (adding a visit when it is
    approved, swapping its figures when it is rescored). earned, possible, answers,
    full_credit and critical_failed count the applicable answers only, as the
    question roll-up does (SCORING.md §5); the NPS buckets count every 0..10 answer.

    The key starts (wave, question) so that a wave's figures, grouped by question, are
    read in key order without a sort; on SQLite the table is clustered on it (WITHOUT
    ROWID), so the read touches nothing else."""

    __tablename__ = "store_question_result"

    wave_id: Mapped[int] = mapped_column(
        ForeignKey("wave.id", ondelete="CASCADE"), primary_key=True
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("checklist_question.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    store_id: Mapped[int] = mapped_column(
        ForeignKey("store.id", ondelete="CASCADE"), primary_key=True
    )
    earned: Mapped[int] = mapped_column(BigInteger)  # 10^-8 points
    possible: Mapped[int] = mapped_column(BigInteger)  # 10^-8 points
    answers: Mapped[int] = mapped_column(Integer)
    full_credit: Mapped[int] = mapped_column(Integer)
    critical_failed: Mapped[int] = mapped_column(Integer)
    promoters: Mapped[int] = mapped_column(Integer)
    passives: Mapped[int] = mapped_column(Integer)
    detractors: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint("possible >= 0", name="possible_non_negative"),
        CheckConstraint(
            "answers >= 0 AND full_credit BETWEEN 0 AND answers "
            "AND critical_failed BETWEEN 0 AND answers",
            name="counts_in_range",
        ),
        CheckConstraint(
            "promoters >= 0 AND passives >= 0 AND detractors >= 0", name="nps_non_negative"
        ),
        {"sqlite_with_rowid": False},
    )
