"""The data of the review screen: one visit's answers in words with their points (as
the checklist scores them over the current answers), sections, evidence, timing and
location, the integrity flags of its latest submission (services/flags.py),
submissions, reviewers' edits and notes, its events, and the shopper's recent visits
and calibration as the reader may see them.

Also the answers as the built form's raw fields, which both the screen's edit forms
and a reviewer's edit (services/decisions.py) start from.

Rules decided here:

- Answers are shown in the reader's language when the checklist has a translation
  (``language`` "zh"), otherwise as written.
- The shopper's recent visits are the last ``HISTORY_SIZE`` of their submitted or
  finished visits within the reader's review scope; those with a review screen link
  to it.
- The shopper's calibration (services/visits/calibration.py) counts the approved visits of
  the reader's clients, as on the shopper's page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import joinedload

import scoring

from ...extensions import db
from ...models import ChecklistVersion, Store, User
from ...models.answers import Evidence, VisitComment, VisitSubmission
from ...models.review import ReviewEdit, ReviewNote, VisitFlag
from ...models.waves import (
    APPROVED,
    IN_REVIEW,
    MISSED,
    RETURNED,
    REVIEWABLE_STATUSES,
    SUBMITTED,
    Visit,
    VisitEvent,
)
from ...scheduling.eligibility import haversine_km
from ..checklists import scoring_checklist
from ..visits import Leniency, answer_text, client_ids_for, leniency_of, local_text, stored_answers
from .flags import FlagView, flag_views
from .queue import VIEWABLE, review_scope

HISTORY_STATUSES = (SUBMITTED, IN_REVIEW, RETURNED, APPROVED, MISSED)
HISTORY_SIZE = 10


@dataclass
class QuestionView:
    question: scoring.Question
    number: int
    text: str
    answer_text: str
    answered: bool
    earned: str | None
    possible: str | None
    applicable: bool
    na: bool
    hidden: bool
    critical_failed: bool
    editable: bool
    photos: list[Evidence] = field(default_factory=list)
    notes: list[ReviewNote] = field(default_factory=list)


@dataclass
class SectionView:
    key: str
    title: str
    score: Decimal | None
    earned: str
    possible: str
    applicable: bool
    passed: bool | None
    comment: str
    questions: list[QuestionView]


@dataclass
class HistoryRow:
    """Another visit of the same shopper (within the reader's clients)."""

    visit: Visit
    store_name: str
    local_start: datetime  # in that store's time zone
    decimals: int  # its checklist's display precision

    @property
    def viewable(self) -> bool:
        return self.visit.status in VIEWABLE


@dataclass
class ReviewScreen:
    visit: Visit
    checklist: scoring.Checklist
    answers: dict[str, Any]
    sections: list[SectionView]
    score: Decimal | None
    result: str | None
    grade: str | None
    critical_failures: list[str]
    overall_comment: str
    receipts: list[Evidence]
    other_evidence: list[Evidence]
    flags: list[FlagView]
    submissions: list[VisitSubmission]
    edits: list[tuple[ReviewEdit, str]]  # with the question's text
    notes: list[tuple[ReviewNote, str]]  # with the question's text ("" for overall)
    events: list[VisitEvent]
    history: list[HistoryRow]
    leniency: Leniency | None  # the shopper's calibration over the reader's clients
    submitted_at: datetime | None
    duration_minutes: int | None
    distance_m: int | None

    @property
    def reviewable(self) -> bool:
        return self.visit.status in REVIEWABLE_STATUSES


def score_text(value: Decimal | None, decimals: int = 1) -> str:
    """A stored score as shown: half-up to the checklist's decimals, or a dash."""
    return "—" if value is None else str(scoring.round_half_up(Fraction(value), decimals))


def points(value: Fraction) -> str:
    """Points as printed: half-up to 4 places, trailing zeros dropped."""
    return format(scoring.round_half_up(value, 4).normalize(), "f")


def review_screen(visit: Visit, user: User, language: str | None = None) -> ReviewScreen:
    checklist = scoring_checklist(visit.checklist_version)
    stored = {k: r.value for k, r in stored_answers(visit).items()}
    validated = scoring.validate_answers(checklist, stored)
    result = scoring.score_visit(checklist, validated.answers)
    evidence = list(
        db.session.scalars(
            select(Evidence).where(Evidence.visit_id == visit.id).order_by(Evidence.id)
        )
    )
    notes = list(
        db.session.scalars(
            select(ReviewNote)
            .options(joinedload(ReviewNote.author))
            .where(ReviewNote.visit_id == visit.id)
            .order_by(ReviewNote.id)
        )
    )
    comments = dict(
        db.session.execute(
            select(VisitComment.section_key, VisitComment.text).where(
                VisitComment.visit_id == visit.id
            )
        ).all()
    )
    on_screen = _OnScreen(validated, result, language, evidence, notes, comments)
    sections = _section_views(checklist, on_screen)
    texts = on_screen.texts
    submissions = list(
        db.session.scalars(
            select(VisitSubmission)
            .where(VisitSubmission.visit_id == visit.id)
            .order_by(VisitSubmission.id)
        )
    )
    history: list[HistoryRow] = []
    leniency: Leniency | None = None
    if visit.shopper_id is not None:
        history = _history(visit, user)
        leniency = leniency_of(visit.shopper_id, client_ids_for(user))
    return ReviewScreen(
        visit=visit,
        checklist=checklist,
        answers=dict(validated.answers),
        sections=sections,
        score=result.display_score(),
        result=result.result,
        grade=result.grade,
        critical_failures=[texts.get(k, k) for k in result.critical_failures],
        overall_comment=comments.get("", ""),
        receipts=[e for e in evidence if e.kind == "receipt"],
        other_evidence=[
            e
            for e in evidence
            if e.kind != "receipt" and not (e.kind == "photo" and e.question_key in texts)
        ],
        flags=flag_views(
            _latest_flags(submissions),
            user,
            files={e.id: e.question_key or "" for e in evidence},
            questions=texts,
            sections={s.key: s.title for s in sections},
            timezone=visit.store.timezone,
        ),
        submissions=submissions,
        edits=[(e, texts.get(e.question_key, e.question_key)) for e in _edits(visit)],
        notes=[(n, texts.get(n.question_key or "", n.question_key or "")) for n in notes],
        events=_events(visit),
        history=history,
        leniency=leniency,
        submitted_at=submissions[-1].submitted_at if submissions else None,
        duration_minutes=_duration(visit),
        distance_m=_distance_m(visit),
    )


@dataclass
class _OnScreen:
    """What the section and question views are drawn from; ``texts`` collects each
    question's text in the reader's language as they are drawn."""

    validated: scoring.Validated
    result: scoring.VisitResult
    language: str | None
    evidence: list[Evidence]
    notes: list[ReviewNote]
    comments: dict[str, str]
    texts: dict[str, str] = field(default_factory=dict)


def _section_views(checklist: scoring.Checklist, screen: _OnScreen) -> list[SectionView]:
    photos: dict[str, list[Evidence]] = {}
    for item in screen.evidence:
        if item.kind == "photo" and item.question_key:
            photos.setdefault(item.question_key, []).append(item)
    by_key = {r.key: r for r in screen.result.questions}
    sections, number = [], 0
    for section, outcome in zip(checklist.sections, screen.result.sections, strict=True):
        views = []
        for question in section.questions:
            number += 1
            views.append(_question_view(question, number, by_key[question.key], photos, screen))
        sections.append(
            SectionView(
                key=section.key,
                title=local_text(section.translations, screen.language, "title", section.title),
                score=None
                if outcome.score is None
                else scoring.round_half_up(outcome.score, screen.result.decimals),
                earned=points(outcome.earned),
                possible=points(outcome.possible),
                applicable=outcome.applicable,
                passed=outcome.passed,
                comment=screen.comments.get(section.key, "") if section.key != "overall" else "",
                questions=views,
            )
        )
    return sections


def _question_view(
    question: scoring.Question,
    number: int,
    outcome: scoring.QuestionResult,
    photos: dict[str, list[Evidence]],
    screen: _OnScreen,
) -> QuestionView:
    value = screen.validated.answers.get(question.key)
    text = screen.texts[question.key] = local_text(
        question.translations, screen.language, "text", question.text
    )
    hidden = question.key not in screen.validated.visible
    shown = question.scored and outcome.applicable
    return QuestionView(
        question=question,
        number=number,
        text=text,
        answer_text=answer_text(question, value, screen.language),
        answered=value is not None,
        earned=points(outcome.earned) if shown else None,
        possible=points(outcome.possible) if shown else None,
        applicable=outcome.applicable,
        na=value == scoring.NA and question.na_allowed,
        hidden=hidden,
        critical_failed=question.key in screen.result.critical_failures,
        editable=question.type != "photo" and not hidden,
        photos=photos.get(question.key, []),
        notes=[n for n in screen.notes if n.question_key == question.key],
    )


def _latest_flags(submissions: list[VisitSubmission]) -> list[VisitFlag]:
    """The integrity flags of the latest submission (earlier ones were answered)."""
    if not submissions:
        return []
    return list(
        db.session.scalars(
            select(VisitFlag)
            .where(VisitFlag.submission_id == submissions[-1].id)
            .order_by(VisitFlag.code)
        )
    )


def _edits(visit: Visit) -> list[ReviewEdit]:
    return list(
        db.session.scalars(
            select(ReviewEdit)
            .options(joinedload(ReviewEdit.editor))
            .where(ReviewEdit.visit_id == visit.id)
            .order_by(ReviewEdit.id)
        )
    )


def _events(visit: Visit) -> list[VisitEvent]:
    return list(
        db.session.scalars(
            select(VisitEvent)
            .options(joinedload(VisitEvent.actor))
            .where(VisitEvent.visit_id == visit.id)
            .order_by(VisitEvent.id)
        )
    )


def _history(visit: Visit, user: User) -> list[HistoryRow]:
    rows = db.session.execute(
        select(Visit, Store.name, Store.timezone, ChecklistVersion.decimals)
        .join(Store, Visit.store_id == Store.id)
        .join(ChecklistVersion, Visit.checklist_version_id == ChecklistVersion.id)
        .where(
            Visit.shopper_id == visit.shopper_id,
            Visit.id != visit.id,
            Visit.status.in_(HISTORY_STATUSES),
            review_scope(user),
        )
        .order_by(Visit.window_start.desc(), Visit.id.desc())
        .limit(HISTORY_SIZE)
    )
    return [
        HistoryRow(v, name, v.window_start.astimezone(ZoneInfo(zone)), decimals)
        for v, name, zone, decimals in rows
    ]


def _duration(visit: Visit) -> int | None:
    if visit.started_at is None or visit.finished_at is None:
        return None
    return int((visit.finished_at - visit.started_at).total_seconds() // 60)


def _distance_m(visit: Visit) -> int | None:
    """How far from the store the shopper checked in, when both places are known."""
    store = visit.store
    latitude, longitude = visit.start_latitude, visit.start_longitude
    if latitude is None or longitude is None or store.latitude is None or store.longitude is None:
        return None
    km = haversine_km(
        float(latitude), float(longitude), float(store.latitude), float(store.longitude)
    )
    return round(km * 1000)
