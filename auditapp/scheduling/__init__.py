"""Shopper eligibility and wave auto-scheduling: pure, no database, no Flask.

``explain`` says which hard rules keep a shopper off a visit, ``rank`` orders shoppers
for a direct-assignment screen, and ``auto_schedule`` fills a whole wave (solver.py
explains the model). Reasons are stable codes; ``describe`` gives the English.
"""

from auditapp.scheduling.eligibility import explain, preference, rank
from auditapp.scheduling.model import (
    Assignment,
    Booking,
    Candidate,
    Excluded,
    Ranked,
    Ranking,
    Reason,
    Result,
    Rules,
    Stats,
    Unfilled,
    VisitSlot,
)
from auditapp.scheduling.reasons import CODES, describe
from auditapp.scheduling.solver import auto_schedule

__all__ = [
    "CODES",
    "Assignment",
    "Booking",
    "Candidate",
    "Excluded",
    "Ranked",
    "Ranking",
    "Reason",
    "Result",
    "Rules",
    "Stats",
    "Unfilled",
    "VisitSlot",
    "auto_schedule",
    "describe",
    "explain",
    "preference",
    "rank",
]
