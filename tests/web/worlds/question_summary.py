"""The per-(wave, question, store) sums of the approved visits' results, as stored
(StoreQuestionSummary) and as computed here in Python from the result rows. Shared by
the question summary and appeal tests."""

from collections import Counter

from sqlalchemy import select

from auditapp.extensions import db
from auditapp.models.results import StoreQuestionSummary, VisitQuestionResult
from auditapp.models.waves import APPROVED, Visit
from auditapp.services.visits.results import SUMMARY_FIGURES

UNIT = 10**8


def expected() -> dict[tuple[int, int, int], tuple[int, ...]]:
    """The sums computed here, in Python, from the approved visits' result rows."""
    sums: dict[tuple[int, int, int], Counter[str]] = {}
    rows = db.session.execute(
        select(Visit.wave_id, Visit.store_id, VisitQuestionResult)
        .join(Visit, Visit.id == VisitQuestionResult.visit_id)
        .where(Visit.status == APPROVED)
    ).all()
    for wave_id, store_id, r in rows:
        total = sums.setdefault((wave_id, r.question_id, store_id), Counter())
        if r.applicable:
            total["earned"] += int(r.earned * UNIT)
            total["possible"] += int(r.possible * UNIT)
            total["answers"] += 1
            total["full_credit"] += bool(r.full_credit)
            total["critical_failed"] += bool(r.critical_failed)
        if r.nps is not None:
            bucket = "promoters" if r.nps >= 9 else "passives" if r.nps >= 7 else "detractors"
            total[bucket] += 1
    return {key: tuple(c[name] for name in SUMMARY_FIGURES) for key, c in sums.items()}


def stored() -> dict[tuple[int, int, int], tuple[int, ...]]:
    s = StoreQuestionSummary
    return {
        (r.wave_id, r.question_id, r.store_id): tuple(int(getattr(r, n)) for n in SUMMARY_FIGURES)
        for r in db.session.scalars(select(s))
    }
