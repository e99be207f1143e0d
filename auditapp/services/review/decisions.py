"""What a reviewer does to a submitted visit: start and release a review, edit an
answer, return the visit for changes (and tell the shopper), approve one or many.
The queue and the scope are in services/queue.py, the review screen's data in
services/screen.py.

Rules decided here:

- An edited answer is read by the same form builder and checks as the shopper's form
  (services/visits/answers.py): a value outside the question's domain, a malformed
  number, or clearing a required visible question is refused with the form's message.
  Photo answers are the uploaded evidence and cannot be edited as values; a question
  hidden by an earlier answer has no answer to edit. A reason is required.
- An unchanged value changes nothing and records nothing.
- An edit that hides later questions removes their answers too (a hidden question's
  value is never an answer, SCORING.md §2). Each removal is a ReviewEdit row of its
  own, with the same reason, whose score is the new score on both sides.
- After an edit the visit is rescored over its current answers against its pinned
  checklist version and stores the score exact to 4 places, as a submission does.
  The shopper's submissions keep what they sent.
- Editing a submitted visit starts its review (in review, the editor as reviewer).
- Returning needs a note for the shopper; per-question notes are optional. The
  shopper is e-mailed, in their language, that the visit needs changes; the mail
  carries no answers and no notes (they read those signed in).
- Approving sets ``approved_at`` and the reviewer, stores the visit's results for
  reports (services/visits/results.py) and records the pay line. In a wave already
  published, the visit is published at once (services/follow_up/publishing.py).
- Bulk approval refuses, each with a reason: a visit not found in the user's scope, a
  visit no longer waiting for review, and a visit whose latest submission has a flag
  that costs points (it must be reviewed on its own; queue.blocks_bulk_approval).
  A flag without a penalty (``store_without_location``: the store's data is missing,
  not the shopper's) does not stop it. The rest are approved, each in a savepoint of
  its own.
- Status changes go through lifecycle.move after the visit is read again under a row
  lock, so two reviewers acting at once act one after the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import scoring
from forms.builder import field_name, na_name
from forms.review import MAX_NOTE_CHARS, MAX_REASON_CHARS

from ...errors import DomainError, NotFound
from ...extensions import db
from ...models import ChecklistQuestion, User, utcnow
from ...models.answers import VisitAnswer
from ...models.pay import PayLine
from ...models.review import ReviewEdit, ReviewNote
from ...models.waves import (
    APPROVED,
    IN_REVIEW,
    RETURNED,
    REVIEWABLE_STATUSES,
    SUBMITTED,
    Visit,
)
from ..checklists import scoring_checklist
from ..core import STATUS_LABELS, external_url, is_published, move, send_mail
from ..follow_up import visit_published
from ..pay import record_pay_line
from ..visits import (
    answer_fields,
    check_answers,
    form_for,
    plain,
    record_results,
    set_score,
    stored_answers,
)
from .flags import flag_names
from .queue import blocking_flag_codes, review_scope

BULK_LIMIT = 200


class NotReviewable(DomainError):
    status_code = 409


class ReviewInvalid(DomainError):
    """Input the reviewer must fix; ``field`` names where the message belongs (a
    question key, "reason", "note" or "note_<question key>")."""

    status_code = 422

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


# --- actions ------------------------------------------------------------------------


def lock_visit(visit: Visit) -> Visit:
    """The visit read again under a row lock (PostgreSQL; SQLite writes one at a time)."""
    return db.session.scalars(
        select(Visit)
        .where(Visit.id == visit.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _reviewable(visit: Visit) -> None:
    if visit.status not in REVIEWABLE_STATUSES:
        status = STATUS_LABELS.get(visit.status, visit.status)
        raise NotReviewable(
            _("This visit is %(status)s and can no longer be reviewed.", status=status)
        )


def start_review(visit: Visit, reviewer: User) -> Visit:
    """Submitted -> in review, with ``reviewer`` as its reviewer."""
    visit = lock_visit(visit)
    if visit.status == IN_REVIEW:
        if visit.reviewer_id == reviewer.id:
            return visit
        name = visit.reviewer.name if visit.reviewer else _("Someone else")
        raise NotReviewable(_("%(name)s is already reviewing this visit.", name=name))
    _reviewable(visit)
    move(visit, IN_REVIEW, reviewer)
    visit.reviewer_id = reviewer.id
    return visit


def release_review(visit: Visit, reviewer: User) -> Visit:
    """In review -> submitted: back in the queue for anyone."""
    visit = lock_visit(visit)
    if visit.status != IN_REVIEW:
        raise NotReviewable(_("This visit is not in review."))
    move(visit, SUBMITTED, reviewer, _("Review released"))
    visit.reviewer_id = None
    return visit


def _same(a: object, b: object) -> bool:
    """Equal answers; the options of a multi answer in any order."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return set(a) == set(b) and len(a) == len(b)
    return bool(plain(a) == plain(b))


def _score(value: Fraction | None) -> Decimal | None:
    return None if value is None else scoring.round_half_up(value, 4)


def edit_answer(
    visit: Visit,
    reviewer: User,
    question_key: str,
    fields: Mapping[str, str | list[str]],
    reason: str | None,
    language: str | None = None,
) -> ReviewEdit | None:
    """Changes one answer as the reviewer typed it (``fields``: the question's posted
    form fields), rescores the visit and records why. None when nothing changed."""
    visit = lock_visit(visit)
    _reviewable(visit)
    checklist = scoring_checklist(visit.checklist_version)
    question = next((q for q in checklist.questions() if q.key == question_key), None)
    if question is None:
        raise NotFound(_("This visit has no such question."))
    if question.type == "photo":
        raise ReviewInvalid(
            question_key, _("Photos cannot be edited; return the visit to ask for others.")
        )
    change = posted_change(visit, checklist, question_key, fields, language)
    if change.hidden:
        raise ReviewInvalid(
            question_key, _("This question is hidden by an earlier answer; it takes no answer.")
        )
    if change.error is not None:
        raise ReviewInvalid(question_key, change.error)
    if change.unchanged:
        return None
    reason = (reason or "").strip()
    if not reason:
        raise ReviewInvalid("reason", _("Say why you are changing this answer."))
    if len(reason) > MAX_REASON_CHARS:
        raise ReviewInvalid(
            "reason", _("Please keep the reason under %(n)d characters.", n=MAX_REASON_CHARS)
        )
    outcome = scoring.score_visit(checklist, change.after)

    if visit.status == SUBMITTED:
        visit = start_review(visit, reviewer)
    score_before, score_after = visit.score, _score(outcome.score)
    set_score(visit, outcome)
    write_answers(visit, change)
    main = record_edits(visit, reviewer, change, reason, score_before, score_after)
    db.session.flush()
    return main


@dataclass(frozen=True)
class AnswerChange:
    """One question's answer as posted (its form fields), against the visit's current
    answers: the answers after it, where later questions it hides lose theirs."""

    key: str
    rows: dict[str, VisitAnswer]  # the stored answers, by question key
    before: dict[str, Any]  # the visible answers now
    after: dict[str, Any]
    value: Any  # the posted value, as the form read it
    hidden: bool = False  # the question is hidden by an earlier answer: nothing was read
    error: str | None = None  # the form's message for the posted value

    @property
    def unchanged(self) -> bool:
        return _same(self.value, self.before.get(self.key))

    @property
    def changed(self) -> list[str]:
        """The question, then the questions it hides that had an answer."""
        return [self.key] + [k for k in self.before if k not in self.after and k != self.key]


def posted_change(
    visit: Visit,
    checklist: scoring.Checklist,
    key: str,
    fields: Mapping[str, str | list[str]],
    language: str | None = None,
) -> AnswerChange:
    """Reads the question's posted fields with the same form builder and checks as the
    shopper's form, every other answer staying as it is."""
    rows = stored_answers(visit)
    current = scoring.validate_answers(checklist, {k: r.value for k, r in rows.items()})
    if key not in current.visible:
        return AnswerChange(key, rows, current.answers, current.answers, None, hidden=True)
    own = (field_name(key), na_name(key))
    merged = {k: v for k, v in answer_fields(checklist, current.answers).items() if k not in own}
    merged.update({k: v for k, v in fields.items() if k in own})
    answers, errors = check_answers(visit, checklist, form_for(checklist, merged, language), merged)
    value = answers.get(key)
    candidate = {k: v for k, v in current.answers.items() if k != key}
    if value is not None:
        candidate[key] = value
    after = scoring.validate_answers(checklist, candidate).answers
    return AnswerChange(key, rows, current.answers, after, value, error=errors.get(key))


def write_answers(visit: Visit, change: AnswerChange) -> None:
    """Stores the changed questions' new answers (removing those that have none)."""
    question_ids = dict(
        db.session.execute(
            select(ChecklistQuestion.key, ChecklistQuestion.id).where(
                ChecklistQuestion.version_id == visit.checklist_version_id
            )
        ).all()
    )
    for key in change.changed:
        value, row = change.after.get(key), change.rows.get(key)
        if value is None and row is not None:
            db.session.delete(row)
        elif row is not None:
            row.value = plain(value)
        elif value is not None:
            db.session.add(
                VisitAnswer(visit_id=visit.id, question_id=question_ids[key], value=plain(value))
            )
    db.session.flush()


def record_edits(
    visit: Visit,
    editor: User,
    change: AnswerChange,
    reason: str,
    score_before: Decimal | None,
    score_after: Decimal | None,
) -> ReviewEdit:
    """One ReviewEdit per changed question; the first (the question itself) is
    returned. A question removed by the change has the new score on both sides."""
    edits = [
        ReviewEdit(
            visit_id=visit.id,
            editor_id=editor.id,
            question_key=key,
            before=plain(change.before.get(key)),
            after=plain(change.after.get(key)),
            reason=reason,
            score_before=score_before if key == change.key else score_after,
            score_after=score_after,
        )
        for key in change.changed
    ]
    db.session.add_all(edits)
    return edits[0]


def return_visit(
    visit: Visit, reviewer: User, note: str | None, question_notes: Mapping[str, str]
) -> list[ReviewNote]:
    """Sends the visit back to its shopper with a note (and notes per question)."""
    _reviewable(visit)
    note = (note or "").strip()
    if not note:
        raise ReviewInvalid("note", _("Tell the shopper what needs to change."))
    if len(note) > MAX_NOTE_CHARS:
        raise ReviewInvalid(
            "note", _("Please keep notes under %(n)d characters.", n=MAX_NOTE_CHARS)
        )
    keys = [q.key for q in scoring_checklist(visit.checklist_version).questions()]
    per_question: dict[str, str] = {}
    for key in keys:
        text = (question_notes.get(key) or "").strip()
        if len(text) > MAX_NOTE_CHARS:
            raise ReviewInvalid(
                f"note_{key}", _("Please keep notes under %(n)d characters.", n=MAX_NOTE_CHARS)
            )
        if text:
            per_question[key] = text
    visit = lock_visit(visit)
    _reviewable(visit)
    move(visit, RETURNED, reviewer, _("Returned for changes"))
    visit.reviewer_id = reviewer.id
    notes = [ReviewNote(visit_id=visit.id, author_id=reviewer.id, question_key=None, text=note)]
    notes += [
        ReviewNote(visit_id=visit.id, author_id=reviewer.id, question_key=key, text=text)
        for key, text in per_question.items()
    ]
    db.session.add_all(notes)
    notify_returned(visit)
    return notes


def notify_returned(visit: Visit) -> None:
    """Tells the shopper, in their language, that the visit needs changes."""
    shopper = visit.shopper
    if shopper is None:
        return
    language = shopper.user.locale or str(current_app.config["BABEL_DEFAULT_LOCALE"])
    day = visit.window_start.astimezone(ZoneInfo(visit.store.timezone)).date()
    link = external_url("my_visits.show", visit_id=visit.id)
    with force_locale(language):
        store = visit.store.name
        send_mail(
            shopper.user.email,
            _("Changes needed: your visit to %(store)s", store=store),
            _(
                "Your visit to %(store)s on %(day)s needs some changes before it can be "
                "approved.\nPlease sign in to read the reviewer's notes and send the "
                "visit again: %(link)s",
                store=store,
                day=format_date(day, "medium", locale=language),
                link=link,
            ),
        )


def approve(visit: Visit, reviewer: User) -> PayLine:
    """Approves the visit: its results count from now on and the shopper is owed."""
    visit = lock_visit(visit)
    _reviewable(visit)
    visit.approved_at = utcnow()
    visit.reviewer_id = reviewer.id
    move(visit, APPROVED, reviewer)
    record_results(visit)
    line = record_pay_line(visit)
    db.session.flush()
    if is_published(visit.wave):  # approved after its wave went out: published now
        visit_published(visit)
    return line


def _lock_order(visit: Visit | None, visit_id: int) -> tuple[int, int, int]:
    return (visit.wave_id, visit.store_id, visit_id) if visit else (0, 0, visit_id)


def bulk_approve(visit_ids: Iterable[int], reviewer: User) -> tuple[list[Visit], dict[int, str]]:
    """(approved visits, {visit id: why it was not approved}). A visit with a flag
    that costs points is refused; a flag without a penalty is no reason to."""
    ids = list(dict.fromkeys(int(i) for i in visit_ids))
    if len(ids) > BULK_LIMIT:
        raise DomainError(_("Approve at most %(n)d visits at a time.", n=BULK_LIMIT))
    found = {
        v.id: v
        for v in db.session.scalars(select(Visit).where(Visit.id.in_(ids), review_scope(reviewer)))
    }
    flags = blocking_flag_codes(found)
    approved: list[Visit] = []
    refused: dict[int, str] = {}
    # Approving adds to the per-store summary rows (services/visits/results.py): taking them in
    # one order, by wave and store, keeps two bulk approvals from deadlocking.
    for visit_id in sorted(ids, key=lambda i: _lock_order(found.get(i), i)):
        visit = found.get(visit_id)
        if visit is None:
            refused[visit_id] = _("not found")
        elif visit.status not in REVIEWABLE_STATUSES:
            status = STATUS_LABELS.get(visit.status, visit.status)
            refused[visit_id] = _("it is %(status)s", status=status)
        elif flags.get(visit_id):
            refused[visit_id] = _(
                "integrity flags (%(flags)s); review it on its own",
                flags=flag_names(flags[visit_id]),
            )
        else:
            try:
                with db.session.begin_nested():
                    approve(visit, reviewer)
            except DomainError as error:
                refused[visit_id] = str(error)
            except IntegrityError:
                refused[visit_id] = _("it was changed meanwhile")
            else:
                approved.append(visit)
    return approved, refused
