"""Why a visit stayed empty, in one stable code per visit."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from auditapp.scheduling.load import Load
from auditapp.scheduling.model import Unfilled, VisitSlot
from auditapp.scheduling.pairs import Pair, Screen
from auditapp.scheduling.reasons import BUSY_CODES, CODES, describe


def why_unfilled(
    visit: VisitSlot, pairs: Sequence[Pair], screen: Screen | None, loads: Sequence[Load]
) -> Unfilled:
    """If nobody may do the visit: the rule that excludes the most shoppers (each
    shopper counted once per rule). Otherwise every eligible shopper was busy (the
    schedule is maximal): the busy rule that stopped most of them."""
    if screen is None:
        return Unfilled(visit.id, "no_candidates", describe("no_candidates", {}))
    counts: Counter[str] = Counter()
    if pairs:
        for p in pairs:
            blocker = loads[p.shopper].blocker(visit)
            if blocker is None:  # pragma: no cover - the repair pass rules this out
                raise AssertionError(f"visit {visit.id} left out though shopper was free")
            counts[blocker] += 1
        code = _most_common(counts, BUSY_CODES)
        params = {"eligible": len(pairs), "count": counts[code]}
    else:
        counts = screen.reason_counts(visit)
        code = _most_common(counts, CODES)
        params = {"total": len(screen.cands), "count": counts[code]}
    return Unfilled(visit.id, code, describe(code, params), tuple(sorted(params.items())))


def _most_common(counts: Counter[str], order: Sequence[str]) -> str:
    """Highest count; ties go to the rule listed first."""
    return max(order, key=lambda code: (counts[code], -order.index(code)))
