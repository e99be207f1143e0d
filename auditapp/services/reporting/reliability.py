"""Question reliability: do two shoppers at the same store, in the same wave and slot,
give the same answer? (The alpha arithmetic is in reports/agreement.py.)

Rules decided here:
- A checklist is judged over all its versions; questions are matched by key, and the
  kind of answer is that of the key's question in the newest published version (an
  answer given to a question of another type in an older version is missing).
- A unit is one question in one group of approved visits of the same store, wave,
  slot and visit window by at least two different shoppers: calibration visits
  planned for this, and any other such pair alike. Two visits of the same slot on
  different days saw different moments of the store, so they are not a pair. Each
  shopper counts once per group (their first visit).
- Values: yes/no and choice answers are nominal, a multiple choice is nominal on the
  set of options chosen; scale and NPS answers are ordinal; number answers interval.
  Text, photo, date and time questions are not rated. N/A, unanswered and hidden
  questions (their answers are not stored) are missing.
- n = the number of pairable units (at least two values). A question is "too vague
  to trust" when alpha < TOO_VAGUE_BELOW with n >= MIN_PAIRED_UNITS; with fewer units
  there are "not enough paired visits yet", whatever alpha says; with enough units
  where every answer was the same, alpha is undefined: "no variation to judge yet".
- Only visits of the clients the user may see count (calibration.client_ids_for).
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select

from reports.agreement import Level, Value, krippendorff_alpha

from ...extensions import db
from ...models import Checklist, ChecklistQuestion, ChecklistVersion, User
from ...models.answers import VisitAnswer
from ...models.waves import APPROVED, Visit, Wave
from ..visits import client_ids_for

TOO_VAGUE_BELOW = 0.67
MIN_PAIRED_UNITS = 5
LEVELS: dict[str, Level] = {
    "yes_no": "nominal",
    "choice": "nominal",
    "multi": "nominal",
    "scale": "ordinal",
    "nps": "ordinal",
    "number": "interval",
}
NA = "na"

Verdict = Literal["too_vague", "reliable", "too_few", "no_variation"]


@dataclass(frozen=True)
class QuestionReliability:
    key: str
    text: str  # as the newest version words it
    level: Level
    alpha: float | None  # None: no pairable unit, or every value the same
    n: int  # pairable units

    @property
    def verdict(self) -> Verdict:
        if self.n < MIN_PAIRED_UNITS:
            return "too_few"
        if self.alpha is None:  # enough pairs, but every answer the same
            return "no_variation"
        return "too_vague" if self.alpha < TOO_VAGUE_BELOW else "reliable"


def question_reliability(checklist: Checklist, user: User) -> list[QuestionReliability]:
    """Every rated question of the checklist, in the newest version's order."""
    return reliability_for(checklist, client_ids_for(user))


def reliability_for(
    checklist: Checklist, client_ids: list[int] | None
) -> list[QuestionReliability]:
    """The same over the visits of these clients (None = every client)."""
    questions = _newest_questions(checklist)
    if not questions or (client_ids is not None and not client_ids):
        return [QuestionReliability(q.key, q.text, LEVELS[q.type], None, 0) for q in questions]
    groups = _paired_visits(checklist, client_ids)
    answers = _answers([v for group in groups for v in group])
    result = []
    for q in questions:
        level = LEVELS[q.type]
        units = [[_value(answers.get((v, q.key)), q.type) for v in group] for group in groups]
        n = sum(1 for unit in units if sum(v is not None for v in unit) >= 2)
        alpha = krippendorff_alpha(units, level) if n else None
        result.append(QuestionReliability(q.key, q.text, level, alpha, n))
    return result


def too_vague_keys(checklist: Checklist, user: User) -> dict[str, QuestionReliability]:
    """{key: its reliability} of the questions too vague to trust."""
    return {r.key: r for r in question_reliability(checklist, user) if r.verdict == "too_vague"}


def _newest_questions(checklist: Checklist) -> list[ChecklistQuestion]:
    """The rated questions of the newest published version (a draft has no visits)."""
    versions = sorted(checklist.versions, key=lambda v: v.number, reverse=True)
    published = [v for v in versions if v.is_published] or versions
    if not published:
        return []
    newest = published[0]
    ordered = sorted(newest.sections, key=lambda s: s.position)
    return [
        q
        for section in ordered
        for q in sorted(section.questions, key=lambda q: q.position)
        if q.type in LEVELS
    ]


def _paired_visits(checklist: Checklist, client_ids: list[int] | None) -> list[list[int]]:
    """Visit ids per (wave, store, slot, window) group with at least two shoppers, one
    visit per shopper (the earliest id)."""
    query = (
        select(
            Visit.id,
            Visit.wave_id,
            Visit.store_id,
            Visit.slot,
            Visit.window_start,
            Visit.shopper_id,
        )
        .join(Wave, Wave.id == Visit.wave_id)
        .join(ChecklistVersion, ChecklistVersion.id == Visit.checklist_version_id)
        .where(
            ChecklistVersion.checklist_id == checklist.id,
            Visit.status == APPROVED,
            Visit.shopper_id.is_not(None),
        )
        .order_by(Visit.id)
    )
    if client_ids is not None:
        query = query.where(Wave.client_id.in_(client_ids))
    # {place: {shopper id (never None: the query skips unstaffed visits): visit id}}
    by_place: dict[tuple[int, int, str, datetime], dict[int | None, int]] = defaultdict(dict)
    for visit_id, wave_id, store_id, slot, start, shopper_id in db.session.execute(query):
        by_place[(wave_id, store_id, slot, start)].setdefault(shopper_id, visit_id)
    return [list(shoppers.values()) for shoppers in by_place.values() if len(shoppers) > 1]


def _answers(visit_ids: Sequence[int]) -> dict[tuple[int, str], tuple[str, Any]]:
    """{(visit id, question key): (question type, stored value)}."""
    found: dict[tuple[int, str], tuple[str, Any]] = {}
    for chunk in _chunks(visit_ids, 500):
        rows = db.session.execute(
            select(
                VisitAnswer.visit_id,
                ChecklistQuestion.key,
                ChecklistQuestion.type,
                VisitAnswer.value,
            )
            .join(ChecklistQuestion, ChecklistQuestion.id == VisitAnswer.question_id)
            .where(VisitAnswer.visit_id.in_(chunk))
        )
        for visit_id, key, kind, value in rows:
            found[(visit_id, key)] = (kind, value)
    return found


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _value(stored: tuple[str, Any] | None, kind: str) -> Value | None:
    """A stored answer as a value of the question's level; None when missing (N/A,
    unanswered, or asked as another type of question in an older version)."""
    if stored is None or stored[1] is None or stored[1] == NA:
        return None
    asked_as, value = stored
    if asked_as != kind:
        return None
    if kind == "multi":
        return "|".join(sorted(str(v) for v in value)) if isinstance(value, list) else None
    if LEVELS[kind] == "nominal":
        return str(value)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
