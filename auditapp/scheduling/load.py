"""What a shopper is booked for while a schedule is being built.

Used for the solver's starting hint, for the repair pass that tops up a schedule cut
short by the time limit, and to say why an eligible shopper could not take an
unfilled visit.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from auditapp.scheduling.model import Candidate, Rules, VisitSlot


def iso_week(day: date) -> tuple[int, int]:
    iso = day.isocalendar()
    return iso.year, iso.week


class Load:
    """Bookings of one shopper: already-booked visits plus those added here."""

    def __init__(self, cand: Candidate, rules: Rules) -> None:
        self.cand = cand
        self.per_day: Counter[date] = Counter()
        self.per_week: Counter[tuple[int, int]] = Counter()
        self.windows: list[tuple[datetime, datetime]] = []
        self.stores: set[int] = set()
        for start, end, store in cand.existing:
            self._book(start, end)
            if rules.in_wave(start.date()):
                self.stores.add(store)

    def _book(self, start: datetime, end: datetime) -> None:
        self.per_day[start.date()] += 1
        self.per_week[iso_week(start.date())] += 1
        self.windows.append((start, end))

    def blocker(self, visit: VisitSlot) -> str | None:
        """The first busy rule that stops this shopper taking ``visit`` now, if any."""
        if self.per_day[visit.day] >= self.cand.per_day:
            return "capacity_day"
        if self.per_week[iso_week(visit.day)] >= self.cand.per_week:
            return "capacity_week"
        if any(s < visit.end and visit.start < e for s, e in self.windows):
            return "overlap"
        if visit.store_id in self.stores:
            return "same_store_in_wave"
        return None

    def add(self, visit: VisitSlot) -> None:
        self._book(visit.start, visit.end)
        self.stores.add(visit.store_id)
