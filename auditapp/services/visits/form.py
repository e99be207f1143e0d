"""The shopper's visit form on the day: briefing confirmed, check-in and check-out, the
draft saved while they type, and the one submission that counts.

Rules decided here:

- The form can be filled while a visit is accepted, in progress or returned for
  changes (EDITABLE); an assigned visit must be accepted first.
- Check-in (``start_visit``) keeps the first time: a second tap changes nothing but may
  add the location when none was stored. The location is stored only with consent and
  only when it is a real coordinate (latitude within ±90, longitude within ±180, the
  accuracy a whole number of metres ≥ 0); otherwise the visit starts without it.
- A draft is the raw form state ``{field name: string | [strings]}``. Its revision only
  grows: a save whose revision is not above the stored one changes nothing and says
  so (``stale``). A save without a revision (the no-JavaScript form) takes the next one.
- The answers of a submission are built and checked in services/answers.py
  (hidden values discarded, domain errors, required questions, photos, comments).
- A submission stores the engine's result exactly: the score rounded half-up to 4
  places, result, grade and the ``to_json()`` sections; the visit's answers and
  comments are replaced, its draft deleted, and check-out set when it was not. The
  visit takes the submission's result as its current one (reviewer edits change it
  later) and the integrity checks run on it (services/visits/integrity.py).
- ``expense_claimed`` (what the receipt says was spent) is a plain amount ≥ 0 with at
  most 2 decimals, or empty; it is asked only when the wave pays expenses.
- A visit returned for changes opens with its current answers, which include the
  reviewer's corrections, not with what the shopper last sent.
- Submitting exactly once: the browser's submission id is looked up first (a retry
  returns the submission it already made); then the visit's status moves to
  ``submitted`` with a conditional UPDATE, so of two simultaneous submits exactly one
  proceeds and the other finds the winner's submission (same id) or is refused with a
  Conflict (another id). The UNIQUE submission id is the last guard.
"""

import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

import scoring

from ...db_setup import end_reading
from ...errors import Conflict, DomainError
from ...extensions import db
from ...models import User, utcnow
from ...models.answers import VisitAnswer, VisitComment, VisitDraft, VisitSubmission
from ...models.review import ReviewNote
from ...models.waves import ACCEPTED, IN_PROGRESS, RETURNED, SUBMITTED, Visit
from ..checklists import question_ids, scoring_checklist
from ..core import log, move
from .answers import (
    OVERALL,
    Fields,
    answer_fields,
    check_answers,
    comments_from,
    form_for,
    photo_answers,
    plain,
    stored_answers,
    uploaded,
)
from .integrity import check_submission
from .results import set_score

__all__ = [
    "EDITABLE",
    "OVERALL",
    "AlreadySubmitted",
    "NotEditable",
    "SubmissionInvalid",
    "confirm_briefing",
    "draft_answers",
    "finish_visit",
    "form_for",
    "form_state",
    "get_draft",
    "new_submission_id",
    "photo_answers",
    "save_draft",
    "scoring_checklist",
    "start_visit",
    "submit",
    "uploaded",
]

EDITABLE = (ACCEPTED, IN_PROGRESS, RETURNED)
MAX_DRAFT_BYTES = 2 * 2**20  # a JSON draft body; refused unread when larger
MAX_FIELDS = 2000
MAX_VALUE_CHARS = 20000
MAX_REVISION = 2**31 - 1
SUBMISSION_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")


class SubmissionInvalid(DomainError):
    """Answers that cannot be submitted; ``errors`` maps question key -> message."""

    status_code = 422

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__(_("Some answers need your attention."))


class AlreadySubmitted(Conflict):
    pass


class NotEditable(DomainError):
    status_code = 409


# --- briefing, check-in, check-out ----------------------------------------------------


def confirm_briefing(visit: Visit) -> Visit:
    if visit.briefing_read_at is None:
        visit.briefing_read_at = utcnow()
    return visit


def _editable(visit: Visit) -> None:
    if visit.status in EDITABLE:
        return
    if visit.status == "assigned":
        raise NotEditable(_("Please accept this visit first."))
    raise NotEditable(_("This visit has already been submitted."))


def _coordinate(value: object, limit: int) -> Decimal | None:
    try:
        number = scoring.parse_number(str(value))
    except scoring.NumberError:
        return None
    if abs(number) > limit:
        return None
    return number.quantize(Decimal("0.000001"))


def _accuracy(value: object) -> int | None:
    try:
        number = scoring.parse_number(str(value))
    except scoring.NumberError:
        return None
    if number < 0 or number > 10_000_000:
        return None
    return int(number.to_integral_value())


def start_visit(
    visit: Visit, user: User | None, consent: bool, lat: object, lng: object, accuracy: object
) -> Visit:
    """Check-in: the time (first tap wins) and, with consent, where the shopper was."""
    _editable(visit)
    if visit.started_at is None:
        visit.started_at = utcnow()
    latitude, longitude = _coordinate(lat, 90), _coordinate(lng, 180)
    located = consent and latitude is not None and longitude is not None
    if located and visit.start_latitude is None:
        visit.start_latitude, visit.start_longitude = latitude, longitude
        visit.start_accuracy_m = _accuracy(accuracy) if accuracy not in (None, "") else None
    if visit.status == ACCEPTED:
        move(visit, IN_PROGRESS, user)
    return visit


def finish_visit(visit: Visit) -> Visit:
    """Check-out; the first time counts. A visit never checked in cannot check out."""
    _editable(visit)
    if visit.started_at is None:
        raise DomainError(_("Start the visit first."))
    if visit.finished_at is None:
        visit.finished_at = max(utcnow(), visit.started_at)
    return visit


# --- drafts -----------------------------------------------------------------------------


def clean_draft_data(data: object) -> dict[str, str | list[str]]:
    """The draft's shape, checked: {field name: string | [strings]}, of bounded size."""
    invalid = DomainError(_("The draft could not be read."))
    if not isinstance(data, Mapping) or len(data) > MAX_FIELDS:
        raise invalid
    clean: dict[str, str | list[str]] = {}
    for name, value in data.items():
        if not isinstance(name, str) or not 0 < len(name) <= 100:
            raise invalid
        if name in ("csrf_token", "action", "submission_id"):
            continue
        if isinstance(value, str):
            values = [value]
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            values = list(value)
        else:
            raise invalid
        if len(values) > 200 or any(len(v) > MAX_VALUE_CHARS for v in values):
            raise invalid
        clean[name] = value if isinstance(value, str) else values
    return clean


def save_draft(visit: Visit, revision: int | None, data: object) -> tuple[int, bool]:
    """Stores the form state; returns (stored revision, stale). ``revision`` None: next."""
    _editable(visit)
    clean = clean_draft_data(data)
    if revision is not None and not 0 < revision <= MAX_REVISION:
        raise DomainError(_("The draft could not be read."))
    visit_id = visit.id
    end_reading()
    for _attempt in range(3):
        now = utcnow()
        query = update(VisitDraft).where(VisitDraft.visit_id == visit_id)
        if revision is None:
            query = query.values(data=clean, revision=VisitDraft.revision + 1, saved_at=now)
        else:
            query = query.where(VisitDraft.revision < revision).values(
                data=clean, revision=revision, saved_at=now
            )
        result = db.session.execute(query.execution_options(synchronize_session=False))
        if result.rowcount == 1:  # type: ignore[attr-defined]
            stored = db.session.scalar(
                select(VisitDraft.revision).where(VisitDraft.visit_id == visit_id)
            )
            return int(stored or 0), False
        stored = db.session.scalar(
            select(VisitDraft.revision).where(VisitDraft.visit_id == visit_id)
        )
        if stored is not None:
            return int(stored), True
        try:
            with db.session.begin_nested():
                db.session.add(
                    VisitDraft(visit_id=visit_id, data=clean, revision=revision or 1, saved_at=now)
                )
        except IntegrityError:
            continue  # someone created it meanwhile: update theirs
        return revision or 1, False
    raise Conflict(_("The draft could not be saved; please try again."))


def return_notes(visit: Visit) -> list[ReviewNote]:
    """What the reviewer wrote about the latest submission (overall note first)."""
    latest = (
        select(func.max(VisitSubmission.submitted_at))
        .where(VisitSubmission.visit_id == visit.id)
        .scalar_subquery()
    )
    query = select(ReviewNote).where(
        ReviewNote.visit_id == visit.id,
        or_(latest.is_(None), ReviewNote.created_at >= latest),
    )
    notes = db.session.scalars(query.order_by(ReviewNote.id)).all()
    return sorted(notes, key=lambda n: (n.question_key is not None, n.id))


def get_draft(visit: Visit) -> VisitDraft | None:
    return db.session.get(VisitDraft, visit.id)


def draft_answers(visit: Visit) -> dict[str, str | list[str]]:
    """The form state to show (see ``form_state``)."""
    return form_state(visit, get_draft(visit))


def form_state(visit: Visit, draft: VisitDraft | None) -> dict[str, str | list[str]]:
    """The form state to show: the draft, else the visit's current answers (a visit
    returned for changes starts from what was sent, with the reviewer's
    corrections), else nothing."""
    if draft is not None:
        return dict(draft.data or {})
    stored = {key: row.value for key, row in stored_answers(visit).items()}
    comments = db.session.execute(
        select(VisitComment.section_key, VisitComment.text).where(VisitComment.visit_id == visit.id)
    ).all()
    if not stored and not comments:
        return {}
    checklist = scoring_checklist(visit.checklist_version)
    answers = scoring.validate_answers(checklist, stored).answers
    data = answer_fields(checklist, answers)
    for key, text in comments:
        data[f"comment_{key or OVERALL}"] = text
    if visit.expense_claimed is not None:
        data[EXPENSE_FIELD] = str(visit.expense_claimed)
    return data


def new_submission_id() -> str:
    return str(uuid.uuid4())


def find_submission(client_submission_id: str) -> VisitSubmission | None:
    return db.session.scalars(
        select(VisitSubmission).where(VisitSubmission.client_submission_id == client_submission_id)
    ).first()


def _same_or_conflict(found: VisitSubmission | None, visit_id: int) -> VisitSubmission:
    if found is not None and found.visit_id == visit_id:
        return found
    if found is not None:
        raise Conflict(_("This submission belongs to another visit."))
    raise AlreadySubmitted(
        _("This visit has already been submitted. Reload the page to see its status.")
    )


def submit(
    visit: Visit, user: User | None, submission_id: str, fields: Fields, language: str | None = None
) -> VisitSubmission:
    """Validates and stores one submission; a repeated ``submission_id`` returns the first."""
    if not SUBMISSION_ID.fullmatch(submission_id or ""):
        raise DomainError(_("The submission could not be read; please reload the page."))
    existing = find_submission(submission_id)
    if existing is not None:
        return _same_or_conflict(existing, visit.id)
    if visit.status not in EDITABLE:
        if visit.status == "assigned":
            _editable(visit)
        return _same_or_conflict(None, visit.id)
    checklist = scoring_checklist(visit.checklist_version)
    form = form_for(checklist, fields, language)
    answers, errors = check_answers(visit, checklist, form, fields)
    comments, comment_errors = comments_from(checklist, fields)
    errors.update(comment_errors)
    expense, expense_error = expense_from(fields)
    if expense_error:
        errors[EXPENSE_FIELD] = expense_error
    if errors:
        raise SubmissionInvalid(errors)
    outcome = scoring.score_visit(checklist, answers)
    summary = outcome.to_json()
    ids = question_ids(visit.checklist_version)
    before, visit_id, user_id = visit.status, visit.id, (user.id if user is not None else None)
    end_reading(keep_loaded=True)
    now = utcnow()
    submission = VisitSubmission(
        visit_id=visit_id,
        client_submission_id=submission_id,
        submitted_by_id=user_id,
        submitted_at=now,
        answers=plain(answers),
        comments=comments,
        score=None if outcome.score is None else scoring.round_half_up(outcome.score, 4),
        result=outcome.result,
        grade=outcome.grade,
        sections=plain(summary["sections"]),
    )
    try:
        with db.session.begin_nested():
            _mark_submitted(visit, now)
            db.session.add(submission)
            db.session.flush()
    except (_Lost, IntegrityError):
        return _same_or_conflict(find_submission(submission_id), visit_id)
    set_score(visit, outcome)
    visit.expense_claimed = expense
    _replace_answers(visit_id, {ids[key]: plain(value) for key, value in answers.items()}, comments)
    db.session.execute(delete(VisitDraft).where(VisitDraft.visit_id == visit_id))
    log(visit, SUBMITTED, user, before=before)
    db.session.flush()
    check_submission(visit, submission)
    return submission


def _mark_submitted(visit: Visit, now: datetime) -> None:
    """Moves the visit to submitted if it is still editable (else raises _Lost), and
    sets what the UPDATE wrote on the loaded visit instead of reading it back."""
    started_at = visit.started_at
    stored = db.session.execute(
        update(Visit)
        .where(Visit.id == visit.id, Visit.status.in_(EDITABLE))
        .values(
            status=SUBMITTED,
            finished_at=func.coalesce(
                Visit.finished_at,
                # check-out needs a check-in (finish_after_start)
                None if started_at is None else max(now, started_at),
            ),
            updated_at=now,
        )
        .returning(Visit.finished_at)
        .execution_options(synchronize_session=False)
    ).first()
    if stored is None:
        raise _Lost
    for name, value in (("status", SUBMITTED), ("finished_at", stored[0]), ("updated_at", now)):
        set_committed_value(visit, name, value)


def _replace_answers(visit_id: int, values: dict[int, Any], comments: dict[str, str]) -> None:
    """The visit's answers ({question id: value}) and comments, each set in one INSERT."""
    db.session.execute(delete(VisitAnswer).where(VisitAnswer.visit_id == visit_id))
    db.session.execute(delete(VisitComment).where(VisitComment.visit_id == visit_id))
    answers = [{"visit_id": visit_id, "question_id": q, "value": v} for q, v in values.items()]
    if answers:
        db.session.execute(insert(VisitAnswer), answers)
    texts = [{"visit_id": visit_id, "section_key": k, "text": t} for k, t in comments.items()]
    if texts:
        db.session.execute(insert(VisitComment), texts)


EXPENSE_FIELD = "expense_claimed"
_AMOUNT = re.compile(r"\d{1,9}(?:[.,]\d{1,2})?")


def expense_from(fields: Fields) -> tuple[Decimal | None, str | None]:
    """(the amount the shopper spent, or None when left empty; an error message)."""
    value = fields.get(EXPENSE_FIELD)
    text = str((value[0] if value else "") if isinstance(value, list) else (value or "")).strip()
    if not text:
        return None, None
    if not _AMOUNT.fullmatch(text):
        return None, _("Enter the amount on the receipt, for example 35.50.")
    return Decimal(text.replace(",", ".")), None


class _Lost(Exception):
    """The visit was no longer editable when the UPDATE ran (another submit won)."""
