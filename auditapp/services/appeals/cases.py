"""Store appeals: a client's manager disputes one finding of a published visit, with a
reason and photos; the agency upholds it (the answer changes and the visit is
rescored) or rejects it, with a note, by a deadline both sides see.

Rules decided here:

- Who files: the store managers of the visit's store and the regional managers whose
  scope holds it (both speak for the store to the agency). Nobody else; an appeal is
  the client's voice, not the agency's.
- What can be appealed: one question of an approved visit in a published wave that
  the visit answered, that was visible, that is scored and that lost points (earned
  less than possible, or failed as a critical item). One appeal per finding, kept by
  the unique constraint too, so two managers filing at once get one appeal.
- The window: ``Client.appeal_days`` from the moment the visit's result reached the
  client, that is its wave's publication, or its approval when it was approved after
  the wave went out (such a visit is published on approval). Zero days: no appeals.
- The reason is required (at most MAX_REASON_CHARS); up to follow_up_files.MAX_FILES
  photos, each checked as a shopper's evidence is. A refused photo refuses the whole
  appeal: nothing is stored, neither the appeal nor the photos before it.
- The agency decides by ``filed_at + Client.appeal_decision_days``; a pending appeal
  past that is overdue (shown, and alerted by services/follow_up/alerts.py).
- Who decides: admins, and the coordinators of the visit's client. Reviewers do not
  (they judge shoppers' work before approval, an appeal judges it after). A decision
  needs a note; a decided appeal cannot be decided again.
- Upholding changes the answer as a reviewer's edit does (services/review/decisions.py): the
  new value is read by the same form builder and checks as the review screen; it
  must differ from the current answer (to keep it, reject); an answer that hides
  later questions removes their answers, each with its own ReviewEdit. The visit is
  rescored through services/results.record_results, which also keeps the store's
  question sums right. The first upheld appeal of a visit keeps the approved result
  in ``Visit.original_*``; later ones leave that untouched, so the original is
  always the approved one. Reports use the adjusted (current) score; the scorecard
  shows both.
- Each decision first reads the visit again under a row lock, then the appeal, so
  two decisions on one visit (or on one appeal) apply one after the other.
- Appeal rates: per store, the approved visits of published waves, their appeals,
  how many were upheld, and appeals per visit; per shopper the same, for the agency
  only (admins and coordinators, by name). The client's managers never get the
  per-shopper table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, case, exists, false, func, literal, select
from sqlalchemy.exc import IntegrityError

import scoring
from scoring.answers import clean_answer

from ...errors import DomainError, NotFound
from ...extensions import db
from ...models import (
    ADMIN,
    COORDINATOR,
    REGIONAL_MANAGER,
    STORE_MANAGER,
    Client,
    ShopperProfile,
    Store,
    User,
    utcnow,
)
from ...models.follow_up import (
    APPEAL_PENDING,
    APPEAL_REJECTED,
    APPEAL_UPHELD,
    Appeal,
    FollowUpFile,
)
from ...models.waves import APPROVED, Visit, Wave
from ...permissions import client_scope, store_scope
from ..checklists import scoring_checklist
from ..follow_up import (
    MAX_FILES,
    appeal_decided,
    appeal_filed,
    check_photos,
    finding_changed,
    photo_path,
    store_photo,
)
from ..reporting import load_checklist
from ..review import lock_visit, points, posted_change, record_edits, write_answers
from ..visits import EvidenceRejected, answer_text, plain, record_results, stored_answers

MAX_REASON_CHARS = 2000
MAX_NOTE_CHARS = 2000
FILERS = (STORE_MANAGER, REGIONAL_MANAGER)
DECIDERS = (ADMIN, COORDINATOR)
READERS = (*DECIDERS, *FILERS)
STATUS_LABELS = {
    APPEAL_PENDING: _l("Pending"),
    APPEAL_UPHELD: _l("Upheld"),
    APPEAL_REJECTED: _l("Rejected"),
}


class NotAppealable(DomainError):
    """The finding cannot be appealed (or the appeal decided) now; the message says why."""

    status_code = 409


class AppealInvalid(DomainError):
    """Input to fix; ``field`` names where the message belongs: "reason", "photos",
    "value" (the new answer) or "note"."""

    status_code = 422

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


# --- scope ----------------------------------------------------------------------------


def appeal_scope(user: User) -> ColumnElement[bool]:
    """The appeals ``user`` may read: those of the stores in their scope, for the roles
    that deal with appeals."""
    if user.role not in READERS:
        return false()
    return Appeal.store_id.in_(select(Store.id).where(store_scope(user)))


def get_appeal(user: User, appeal_id: int) -> Appeal | None:
    return db.session.scalars(
        select(Appeal).where(Appeal.id == appeal_id, appeal_scope(user))
    ).first()


def appealable_visit(user: User, visit_id: int) -> Visit | None:
    """The visit if ``user`` files appeals and may read its published result."""
    if user.role not in FILERS:
        return None
    return db.session.scalars(
        select(Visit)
        .join(Store, Store.id == Visit.store_id)
        .join(Wave, Wave.id == Visit.wave_id)
        .where(Visit.id == visit_id, Visit.status == APPROVED, Wave.published_at.is_not(None))
        .where(store_scope(user))
    ).first()


def may_decide(user: User, visit: Visit) -> bool:
    if user.role == ADMIN:
        return True
    if user.role != COORDINATOR:
        return False
    mine = select(Client.id).where(Client.id == visit.store.client_id, client_scope(user))
    return db.session.scalar(mine) is not None


def is_overdue(appeal: Appeal, now: datetime | None = None) -> bool:
    return appeal.status == APPEAL_PENDING and appeal.decide_by < (now or utcnow())


# --- the finding ----------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One question of one visit as the appeal pages show it (current answers)."""

    question: scoring.Question
    number: int
    text: str
    answer_text: str
    earned: str | None  # points as printed; None when not applicable
    possible: str | None
    answered: bool
    visible: bool
    applicable: bool
    critical_failed: bool

    @property
    def lost_points(self) -> bool:
        if not (self.question.scored and self.applicable):
            return False
        return self.critical_failed or Fraction(self.earned or 0) < Fraction(self.possible or 0)


def finding(visit: Visit, question_key: str, language: str | None = None) -> Finding | None:
    """The question on the visit as it stands, or None when its checklist has no such
    question."""
    checklist = scoring_checklist(visit.checklist_version)
    numbered = list(enumerate(checklist.questions(), start=1))
    found = next(((n, q) for n, q in numbered if q.key == question_key), None)
    if found is None:
        return None
    number, question = found
    stored = {k: r.value for k, r in stored_answers(visit).items()}
    validated = scoring.validate_answers(checklist, stored)
    outcome = scoring.score_visit(checklist, validated.answers)
    result = next(r for r in outcome.questions if r.key == question_key)
    value = validated.answers.get(question_key)
    applicable = question.scored and result.applicable
    return Finding(
        question=question,
        number=number,
        text=_local_text(question, language),
        answer_text=answer_text(question, value, language),
        earned=points(result.earned) if applicable else None,
        possible=points(result.possible) if applicable else None,
        answered=value is not None,
        visible=question_key in validated.visible,
        applicable=applicable,
        critical_failed=question_key in outcome.critical_failures,
    )


def stored_answer_text(visit: Visit, question_key: str, value: Any, language: str | None) -> str:
    """A stored answer value (an appeal's before or after) in words."""
    checklist = scoring_checklist(visit.checklist_version)
    question = next((q for q in checklist.questions() if q.key == question_key), None)
    if question is None:
        return "" if value is None else str(value)
    cleaned, _error = clean_answer(question, value)
    return answer_text(question, cleaned, language)


# --- filing ---------------------------------------------------------------------------


def appeal_closes(visit: Visit) -> datetime | None:
    """When the store's window to appeal the visit closes; None while unpublished."""
    published = visit.wave.published_at
    if published is None:
        return None
    reached = max(published, visit.approved_at) if visit.approved_at else published
    return reached + timedelta(days=visit.wave.client.appeal_days)


def can_appeal(user: User, visit: Visit, question_key: str) -> str | None:
    """Why ``user`` cannot appeal the finding now, or None when they can."""
    if user.role not in FILERS:
        return _("Only the store's managers can appeal a finding.")
    if appealable_visit(user, visit.id) is None:
        return _("This visit's results are not open to you for appeal.")
    closes = appeal_closes(visit)
    if closes is None or utcnow() > closes:
        return _("The time to appeal this visit has passed.")
    taken = select(Appeal.id).where(
        Appeal.visit_id == visit.id, Appeal.question_key == question_key
    )
    if db.session.scalar(taken) is not None:
        return _("This finding has already been appealed.")
    found = finding(visit, question_key)
    if found is None:
        return _("This visit has no such question.")
    if not (found.visible and found.answered and found.lost_points):
        return _("Only an answer that cost the store points can be appealed.")
    return None


def _clean_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise AppealInvalid("reason", _("Say why the finding is wrong."))
    if len(text) > MAX_REASON_CHARS:
        raise AppealInvalid(
            "reason", _("Please keep the reason under %(n)d characters.", n=MAX_REASON_CHARS)
        )
    return text


def file_appeal(
    visit: Visit,
    user: User,
    question_key: str,
    reason: str | None,
    photos: Sequence[tuple[bytes, str | None]] = (),
) -> Appeal:
    """Files the store's appeal against one finding, with its photos, all or nothing."""
    refused = can_appeal(user, visit, question_key)
    if refused is not None:
        raise NotAppealable(refused)
    text = _clean_reason(reason)
    if len(photos) > MAX_FILES:
        raise AppealInvalid("photos", _("At most %(n)d photos can be attached.", n=MAX_FILES))
    try:
        checked = check_photos(photos)  # all of them, before decoding any
    except EvidenceRejected as error:
        raise AppealInvalid("photos", str(error)) from error
    now = utcnow()
    row = stored_answers(visit).get(question_key)
    appeal = Appeal(
        visit_id=visit.id,
        store_id=visit.store_id,
        question_key=question_key,
        filed_by_id=user.id,
        reason=text,
        status=APPEAL_PENDING,
        filed_at=now,
        decide_by=now + timedelta(days=visit.wave.client.appeal_decision_days),
        answer_before=None if row is None else row.value,
        score_before=visit.score,
    )
    stored: list[FollowUpFile] = []
    try:
        with db.session.begin_nested():
            db.session.add(appeal)
            db.session.flush()
            for number, photo in enumerate(checked, start=1):
                try:
                    stored.append(store_photo(photo, user, appeal_id=appeal.id))
                except EvidenceRejected as error:
                    raise AppealInvalid(
                        "photos", _("Photo %(n)d: %(why)s", n=number, why=str(error))
                    ) from error
    except AppealInvalid:
        _remove_files(stored)
        raise
    except IntegrityError:
        _remove_files(stored)
        raise NotAppealable(_("This finding has already been appealed.")) from None
    _filed(appeal)
    return appeal


def _remove_files(rows: list[FollowUpFile]) -> None:
    for row in rows:
        for thumb in (False, True):
            path = photo_path(row, thumb=thumb)
            if path is not None:
                path.unlink(missing_ok=True)


def _filed(appeal: Appeal) -> None:
    """What filing an appeal sets off beyond the appeal itself: the agency's alert of a
    new appeal (services/follow_up/alerts.py)."""
    appeal_filed(appeal)


# --- deciding -------------------------------------------------------------------------


def _pending(appeal: Appeal, user: User) -> tuple[Appeal, Visit]:
    """The appeal and its visit read again, the visit locked first, once the user may
    decide and the appeal is still pending."""
    visit = lock_visit(appeal.visit)
    appeal = db.session.scalars(
        select(Appeal).where(Appeal.id == appeal.id).execution_options(populate_existing=True)
    ).one()
    if not may_decide(user, visit):
        raise NotFound(_("We could not find that page."))
    if appeal.status != APPEAL_PENDING:
        status = STATUS_LABELS.get(appeal.status, appeal.status)
        raise NotAppealable(_("This appeal was already decided (%(status)s).", status=status))
    return appeal, visit


def _clean_note(note: str | None) -> str:
    text = (note or "").strip()
    if not text:
        raise AppealInvalid("note", _("Explain the decision to the store."))
    if len(text) > MAX_NOTE_CHARS:
        raise AppealInvalid(
            "note", _("Please keep the note under %(n)d characters.", n=MAX_NOTE_CHARS)
        )
    return text


def _decide(appeal: Appeal, user: User, status: str, note: str) -> None:
    appeal.status = status
    appeal.decision_note = note
    appeal.decided_at = utcnow()
    appeal.decided_by_id = user.id


def reject(appeal: Appeal, user: User, note: str | None) -> Appeal:
    """Rejects the appeal: the finding and the visit's score stand."""
    appeal, _visit = _pending(appeal, user)
    _decide(appeal, user, APPEAL_REJECTED, _clean_note(note))
    db.session.flush()
    _decided(appeal, [])
    return appeal


def uphold(
    appeal: Appeal,
    user: User,
    note: str | None,
    fields: Mapping[str, str | list[str]],
    language: str | None = None,
) -> Appeal:
    """Upholds the appeal: the question takes the answer in ``fields`` (its posted form
    fields), the visit is rescored, and the change is in its edit trail."""
    appeal, visit = _pending(appeal, user)
    text = _clean_note(note)
    key = appeal.question_key
    checklist = scoring_checklist(visit.checklist_version)
    change = posted_change(visit, checklist, key, fields, language)
    if change.hidden:
        raise AppealInvalid(
            "value", _("This question is now hidden by an earlier answer; reject the appeal.")
        )
    if change.error is not None:
        raise AppealInvalid("value", change.error)
    if change.unchanged:
        raise AppealInvalid(
            "value", _("The answer is unchanged: change it to uphold, or reject the appeal.")
        )

    if not _upheld_before(visit, appeal):
        _keep_original(visit)
    score_before = visit.score
    write_answers(visit, change)
    record_results(visit)
    reason = _("Appeal upheld: %(note)s", note=text)
    record_edits(visit, user, change, reason, score_before, visit.score)
    appeal.answer_after = plain(change.value)
    appeal.score_before = score_before
    appeal.score_after = visit.score
    _decide(appeal, user, APPEAL_UPHELD, text)
    db.session.flush()
    _decided(appeal, change.changed)
    return appeal


def _upheld_before(visit: Visit, appeal: Appeal) -> bool:
    others = exists().where(
        Appeal.visit_id == visit.id, Appeal.status == APPEAL_UPHELD, Appeal.id != appeal.id
    )
    return bool(db.session.scalar(select(others)))


def _keep_original(visit: Visit) -> None:
    """The approved result, kept before the first upheld appeal changes it."""
    visit.original_score = visit.score
    visit.original_score_exact = visit.score_exact
    visit.original_result = visit.result
    visit.original_grade = visit.grade


def _decided(appeal: Appeal, changed: list[str]) -> None:
    """What a decision sets off beyond the appeal, the visit's answers and its results:
    the corrective actions of the changed findings (``changed``: the question keys
    whose answers changed, empty for a rejection) and the store's alert of the
    decision."""
    for key in changed:
        finding_changed(appeal.visit, key, appeal.decided_by)
    appeal_decided(appeal)


# --- lists ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AppealRow:
    appeal: Appeal
    visit: Visit
    store: Store
    wave: Wave
    overdue: bool


def appeal_list(user: User, status: str | None = None) -> list[AppealRow]:
    """The appeals ``user`` may read, ``status`` only when given: pending ones first,
    the soonest deadline first, then the decided ones, latest first."""
    query = (
        select(Appeal, Visit, Store, Wave)
        .join(Visit, Visit.id == Appeal.visit_id)
        .join(Store, Store.id == Appeal.store_id)
        .join(Wave, Wave.id == Visit.wave_id)
        .where(appeal_scope(user))
    )
    if status is not None:
        query = query.where(Appeal.status == status)
    now = utcnow()
    rows = [
        AppealRow(appeal, visit, store, wave, is_overdue(appeal, now))
        for appeal, visit, store, wave in db.session.execute(query)
    ]
    pending = sorted(
        (r for r in rows if r.appeal.status == APPEAL_PENDING),
        key=lambda r: (r.appeal.decide_by, r.appeal.id),
    )
    decided = sorted(
        (r for r in rows if r.appeal.status != APPEAL_PENDING),
        key=lambda r: (r.appeal.decided_at or r.appeal.filed_at, r.appeal.id),
        reverse=True,
    )
    return pending + decided


def question_texts(rows: Sequence[AppealRow], language: str | None) -> dict[int, str]:
    """{appeal id: "number. question text"}, each checklist version loaded once."""
    texts: dict[int, dict[str, str]] = {}
    out: dict[int, str] = {}
    for row in rows:
        version_id = row.visit.checklist_version_id
        if version_id not in texts:
            checklist, _keys = load_checklist(version_id)
            texts[version_id] = {
                q.key: f"{n}. " + _local_text(q, language)
                for n, q in enumerate(checklist.questions(), start=1)
            }
        key = row.appeal.question_key
        out[row.appeal.id] = texts[version_id].get(key, key)
    return out


def _local_text(question: scoring.Question, language: str | None) -> str:
    if not language:
        return question.text
    return scoring.localized(question.translations, language, "text", question.text)


# --- appeal rates ---------------------------------------------------------------------


@dataclass(frozen=True)
class RateRow:
    """Appeals against the published visits of one store (or of one shopper)."""

    key: int
    code: str
    name: str
    visits: int
    appeals: int
    upheld: int

    @property
    def rate(self) -> Fraction | None:
        """Appeals per visit."""
        return Fraction(self.appeals, self.visits) if self.visits else None

    @property
    def upheld_share(self) -> Fraction | None:
        """The share of the appeals that were upheld."""
        return Fraction(self.upheld, self.appeals) if self.appeals else None


@dataclass(frozen=True)
class AppealRates:
    stores: list[RateRow]
    shoppers: list[RateRow] | None  # None: not for this reader


def appeal_rates(user: User, client_id: int, wave_id: int | None = None) -> AppealRates:
    """Appeal rates over the client's published visits that ``user`` may read, per
    store and (for the agency) per shopper; ``wave_id`` narrows to one wave."""
    if user.role not in READERS:
        raise NotFound()
    client = db.session.scalars(select(Client).where(Client.id == client_id, client_scope(user)))
    if client.first() is None:
        raise NotFound()
    visits = (
        select(Visit.id, Visit.store_id, Visit.shopper_id)
        .join(Wave, Wave.id == Visit.wave_id)
        .join(Store, Store.id == Visit.store_id)
        .where(Wave.client_id == client_id, Wave.published_at.is_not(None))
        .where(Visit.status == APPROVED, store_scope(user))
    )
    if wave_id is not None:
        visits = visits.where(Visit.wave_id == wave_id)
    scoped = visits.subquery()
    stores = _rates(
        scoped,
        scoped.c.store_id,
        lambda ids: select(Store.id, Store.code, Store.name).where(Store.id.in_(ids)),
    )
    shoppers = None
    if user.role in DECIDERS:
        shoppers = _rates(
            scoped,
            scoped.c.shopper_id,
            lambda ids: (
                select(ShopperProfile.id, literal(""), User.name)
                .join(User, User.id == ShopperProfile.user_id)
                .where(ShopperProfile.id.in_(ids))
            ),
        )
    return AppealRates(stores, shoppers)


def _rates(scoped: Any, by: Any, names: Any) -> list[RateRow]:
    """Visits, appeals and upheld appeals grouped by ``by`` (two grouped queries), named
    by ``names`` (a query of (key, code, name) rows)."""
    counted = {
        k: int(n)
        for k, n in db.session.execute(select(by, func.count()).group_by(by))
        if k is not None
    }
    upheld = func.sum(case((Appeal.status == APPEAL_UPHELD, 1), else_=0))
    appealed = {
        k: (int(total), int(ups or 0))
        for k, total, ups in db.session.execute(
            select(by, func.count(Appeal.id), upheld)
            .select_from(scoped)
            .join(Appeal, Appeal.visit_id == scoped.c.id)
            .group_by(by)
        )
    }
    rows = [
        RateRow(int(k), str(code), str(name), counted[k], *appealed.get(k, (0, 0)))
        for k, code, name in db.session.execute(names(list(counted)))
    ]
    return sorted(rows, key=lambda r: (-(r.rate or 0), -r.visits, r.code, r.name))


def rate_percent(value: Fraction | None) -> Decimal | None:
    """A share or rate as a percentage, half-up to one place."""
    return None if value is None else scoring.round_half_up(value * 100, 1)
