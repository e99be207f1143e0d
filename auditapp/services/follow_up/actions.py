"""Corrective actions: what a published visit's failed questions ask the store to fix,
the steps people take on them, and the check in the next wave that the fix stuck.

Rules decided here:

- A finding is a scored answer of an approved, published visit that fails: its critical
  question failed, or it applied, could earn points, and earned less than the client's
  ``action_threshold`` percent of them (exact arithmetic: 49.99…% fails a threshold of
  50, 50% does not). An answer that applied, could earn points, did not fail critically
  and reached the threshold passes. N/A, hidden and unscored answers decide nothing.
- One action follows a (store, checklist, question key) until it is verified or
  withdrawn. A failure while the store has such an action adds the finding to it; when
  the action's latest failure (``wave_id``) is from an earlier wave, the action is also
  reopened (``times_reopened`` + 1, its severity and a new due date from this failure).
  A failure from the same wave only adds the finding. A pass adds its finding to the
  open action and, when the action's latest failure is from an earlier wave, verifies
  it. Waves are ordered by their start
  day (then id): the answers of a wave published late never reopen or verify what a
  later wave decided, they are only kept as history.
- A new action is critical or below_threshold; it is due on the day of publication in
  the store's time zone plus the client's ``critical_action_days`` or ``action_days``
  (the day the visit was approved when that is after its wave's publication). Its owner
  is the store's first active store manager (by id), else nobody. Its question text is
  the checklist's own; its description and the automatic notes are written in the
  checklist's language, from the question and the shopper's comment on its section.
  The shopper is never named.
- Every observation is an ActionFinding (one per action and visit), every change of
  status an ActionEvent (no actor: the system). Recording a visit twice changes
  nothing: an answer that already has a finding is skipped.
- After an upheld appeal (``finding_changed``), an answer that no longer fails loses
  its failing finding; an action left without one is withdrawn. When that failure was
  what reopened the action, the reopening is undone, and a now passing answer counts
  as a pass.
- Steps by people: start (open, reopened -> in progress) and resolve (open, in progress,
  reopened -> resolved, with a note and up to five photos) by the store's managers,
  the regional managers over it, the client's coordinators and admins; verify
  (resolved -> verified) and reopen (resolved -> reopened, with a note, a new due date)
  by admins, coordinators and regional managers, who may also hand the action to
  another active store manager of the store. Anyone else, or outside their scope, is
  refused.
- Scope: the actions of the stores in ``permissions.store_scope``; the client's managers
  only those of published waves. Reviewers and shoppers see none.
"""

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, false, select

import scoring

from ...errors import Conflict, DomainError
from ...extensions import db
from ...models import (
    ADMIN,
    COORDINATOR,
    REGIONAL_MANAGER,
    STORE_MANAGER,
    ActionEvent,
    ActionFinding,
    ChecklistQuestion,
    ChecklistSection,
    CorrectiveAction,
    FollowUpFile,
    Region,
    Store,
    User,
    VisitComment,
    VisitQuestionResult,
    utcnow,
)
from ...models.follow_up import (
    ACTION_ACTIVE,
    ACTION_IN_PROGRESS,
    ACTION_OPEN,
    ACTION_REOPENED,
    ACTION_RESOLVED,
    ACTION_UNVERIFIED,
    ACTION_VERIFIED,
    ACTION_WITHDRAWN,
)
from ...models.users import user_stores
from ...models.waves import APPROVED, Visit, Wave
from ...permissions import store_scope
from ..core import published_waves, sees_unpublished
from . import files

CRITICAL, BELOW_THRESHOLD = "critical", "below_threshold"
WORKERS = (ADMIN, COORDINATOR, REGIONAL_MANAGER, STORE_MANAGER)  # start and resolve
CHECKERS = (ADMIN, COORDINATOR, REGIONAL_MANAGER)  # verify, reopen, hand over
NOTE_MAX = 5000
STATUS_LABELS = {
    ACTION_OPEN: _l("Open"),
    ACTION_IN_PROGRESS: _l("In progress"),
    ACTION_RESOLVED: _l("Resolved"),
    ACTION_VERIFIED: _l("Verified"),
    ACTION_REOPENED: _l("Reopened"),
    ACTION_WITHDRAWN: _l("Withdrawn"),
}
SEVERITY_LABELS = {CRITICAL: _l("Critical"), BELOW_THRESHOLD: _l("Below the standard")}


class ActionRefused(Conflict):
    """The step does not fit the action's status or the user's role."""


class ActionInvalid(DomainError):
    """What was entered is not acceptable; ``field`` names the form field at fault."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


# --- scope -------------------------------------------------------------------------------


def action_scope(user: User) -> ColumnElement[bool]:
    """The actions ``user`` may see, as a filter on CorrectiveAction."""
    if user.role not in WORKERS:
        return false()
    scoped = CorrectiveAction.store_id.in_(select(Store.id).where(store_scope(user)))
    if sees_unpublished(user):
        return scoped
    return and_(scoped, CorrectiveAction.wave_id.in_(select(Wave.id).where(published_waves(user))))


def _in_scope(user: User, action: CorrectiveAction) -> bool:
    found = select(CorrectiveAction.id).where(CorrectiveAction.id == action.id, action_scope(user))
    return db.session.scalar(found) is not None


def may_work(user: User, action: CorrectiveAction) -> bool:
    return user.role in WORKERS and _in_scope(user, action)


def may_check(user: User, action: CorrectiveAction) -> bool:
    return user.role in CHECKERS and _in_scope(user, action)


def allowed_steps(user: User, action: CorrectiveAction) -> frozenset[str]:
    """The steps the page offers: start, resolve, verify, reopen, reassign."""
    steps: set[str] = set()
    if may_work(user, action):
        if action.status in (ACTION_OPEN, ACTION_REOPENED):
            steps.add("start")
        if action.status in ACTION_ACTIVE:
            steps.add("resolve")
    if may_check(user, action):
        if action.status == ACTION_RESOLVED:
            steps |= {"verify", "reopen"}
        if action.status in ACTION_UNVERIFIED:
            steps.add("reassign")
    return frozenset(steps)


# --- dates ---------------------------------------------------------------------------------


def store_today(store: Store, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(ZoneInfo(store.timezone)).date()


def is_overdue(action: CorrectiveAction, today: date) -> bool:
    """Still the store's work and past its due date (``today`` in the store's zone)."""
    return action.status in ACTION_ACTIVE and action.due_on < today


def _days(store: Store, severity: str) -> int:
    client = store.client
    return client.critical_action_days if severity == CRITICAL else client.action_days


def _due_on(visit: Visit, severity: str) -> date:
    published = visit.wave.published_at or utcnow()
    if visit.approved_at is not None and visit.approved_at > published:
        published = visit.approved_at  # approved after the wave went out: published then
    return store_today(visit.store, published) + timedelta(days=_days(visit.store, severity))


def _wave_order(wave: Wave) -> tuple[date, int]:
    return (wave.starts_on, wave.id)


# --- what a visit's answers say --------------------------------------------------------------


@dataclass(frozen=True)
class _Answer:
    key: str
    text: str
    section_key: str
    section_title: str
    applicable: bool
    critical_failed: bool
    percent: Fraction | None  # of the possible points; None: N/A or nothing to earn

    def fails(self, threshold: int) -> bool:
        return self.critical_failed or (self.percent is not None and self.percent < threshold)

    def passes(self, threshold: int) -> bool:
        return not self.critical_failed and self.percent is not None and self.percent >= threshold

    @property
    def severity(self) -> str:
        return CRITICAL if self.critical_failed else BELOW_THRESHOLD


def _answers(visit: Visit) -> list[_Answer]:
    """The visit's stored question results, in checklist order."""
    rows = db.session.execute(
        select(VisitQuestionResult, ChecklistQuestion.key, ChecklistQuestion.text,
               ChecklistSection.key, ChecklistSection.title)
        .join(ChecklistQuestion, ChecklistQuestion.id == VisitQuestionResult.question_id)
        .join(ChecklistSection, ChecklistSection.id == ChecklistQuestion.section_id)
        .where(VisitQuestionResult.visit_id == visit.id)
        .order_by(ChecklistSection.position, ChecklistQuestion.position, ChecklistQuestion.id)
    ).all()  # fmt: skip
    found = []
    for result, key, text, section_key, section_title in rows:
        possible = scoring.to_fraction(result.possible) or Fraction(0)
        earned = scoring.to_fraction(result.earned) or Fraction(0)
        scored = result.applicable and possible > 0
        found.append(
            _Answer(key, text, section_key, section_title, bool(result.applicable),
                    bool(result.critical_failed), earned / possible * 100 if scored else None)
        )  # fmt: skip
    return found


def _language(visit: Visit) -> AbstractContextManager[Any]:
    """System texts of an action are written in the checklist's language."""
    language = visit.checklist_version.language or ""
    if not language:
        return nullcontext()
    chosen: AbstractContextManager[Any] = force_locale(_ui_locale(language))
    return chosen


def _ui_locale(language: str) -> str:
    """The UI locale of a checklist language ("zh" is our Simplified Chinese)."""
    return "zh_Hans" if language.lower().startswith("zh") else language


def _percent_text(value: Fraction) -> str:
    return str(scoring.round_half_up(value, 1))


def _description(answer: _Answer, threshold: int, comment: str) -> str:
    text: str
    if answer.critical_failed:
        text = _("A critical item failed: %(question)s", question=answer.text)
    else:
        text = _(
            "%(question)s — %(percent)s%% of the points, below the standard of %(threshold)s%%.",
            question=answer.text,
            percent=_percent_text(answer.percent or Fraction(0)),
            threshold=threshold,
        )
    if comment:
        text += "\n\n" + _(
            "The shopper's comment on “%(section)s”: %(comment)s",
            section=answer.section_title,
            comment=comment,
        )
    return text


# --- recording a published visit -----------------------------------------------------------


def record_findings(visit: Visit) -> list[CorrectiveAction]:
    """Opens, adds to, reopens or verifies the store's actions from the approved visit's
    answers (see the rules); returns the actions it changed, in checklist order."""
    if visit.status != APPROVED:
        return []
    # One visit of a store at a time: two publications cannot open the same action.
    db.session.execute(select(Store.id).where(Store.id == visit.store_id).with_for_update())
    checklist_id = visit.checklist_version.checklist_id
    done = _keys_with_findings(visit, checklist_id)
    actions = _unverified(visit.store_id, checklist_id)
    comments = dict(
        db.session.execute(
            select(VisitComment.section_key, VisitComment.text).where(
                VisitComment.visit_id == visit.id
            )
        ).all()
    )
    threshold = visit.store.client.action_threshold
    changed: list[CorrectiveAction] = []
    with _language(visit):
        for answer in _answers(visit):
            if answer.key in done:
                continue
            action = actions.get(answer.key)
            if answer.fails(threshold):
                comment = str(comments.get(answer.section_key) or "").strip()
                if action is None:
                    action = _open(visit, checklist_id, answer, threshold, comment)
                    actions[answer.key] = action
                else:
                    _failed_again(visit, action, answer, comment)
                changed.append(action)
            elif answer.passes(threshold) and action is not None:
                _passed(visit, action, answer, None)
                changed.append(action)
    db.session.flush()
    return changed


def _keys_with_findings(visit: Visit, checklist_id: int) -> set[str]:
    return set(
        db.session.scalars(
            select(CorrectiveAction.question_key)
            .join(ActionFinding, ActionFinding.action_id == CorrectiveAction.id)
            .where(
                ActionFinding.visit_id == visit.id,
                CorrectiveAction.store_id == visit.store_id,
                CorrectiveAction.checklist_id == checklist_id,
            )
        )
    )


def _unverified(store_id: int, checklist_id: int) -> dict[str, CorrectiveAction]:
    rows = db.session.scalars(
        select(CorrectiveAction).where(
            CorrectiveAction.store_id == store_id,
            CorrectiveAction.checklist_id == checklist_id,
            CorrectiveAction.status.in_(ACTION_UNVERIFIED),
        )
    )
    return {action.question_key: action for action in rows}


def _store_managers(store_id: int) -> Select[User]:
    """The store's active store managers."""
    return (
        select(User)
        .join(user_stores, user_stores.c.user_id == User.id)
        .where(
            user_stores.c.store_id == store_id,
            User.role == STORE_MANAGER,
            User.active.is_(True),
        )
    )


def _store_manager(store_id: int) -> User | None:
    """The owner of a new action: the store's first store manager."""
    return db.session.scalars(_store_managers(store_id).order_by(User.id).limit(1)).first()


def _finding(visit: Visit, action: CorrectiveAction, answer: _Answer, comment: str) -> None:
    percent = None if answer.percent is None else scoring.round_half_up(answer.percent, 4)
    action.findings.append(
        ActionFinding(
            visit_id=visit.id,
            wave_id=visit.wave_id,
            passed=not answer.fails(visit.store.client.action_threshold),
            critical_failed=answer.critical_failed,
            percent=percent,
            comment=comment,
        )
    )


def _event(action: CorrectiveAction, to: str, actor: User | None, note: str = "") -> None:
    action.events.append(
        ActionEvent(
            actor_id=actor.id if actor else None,
            from_status=action.status if action.id is not None else None,
            to_status=to,
            note=note,
        )
    )
    action.status = to


def _open(
    visit: Visit, checklist_id: int, answer: _Answer, threshold: int, comment: str
) -> CorrectiveAction:
    owner = _store_manager(visit.store_id)
    action = CorrectiveAction(
        store_id=visit.store_id,
        checklist_id=checklist_id,
        question_key=answer.key,
        question_text=answer.text,
        visit_id=visit.id,
        wave_id=visit.wave_id,
        severity=answer.severity,
        status=ACTION_OPEN,
        description=_description(answer, threshold, comment),
        owner_id=owner.id if owner else None,
        due_on=_due_on(visit, answer.severity),
        times_reopened=0,
    )
    action.events.append(
        ActionEvent(to_status=ACTION_OPEN, note=_("Failed in %(wave)s", wave=visit.wave.name))
    )
    _finding(visit, action, answer, comment)
    db.session.add(action)
    db.session.flush()
    return action


def _failed_again(visit: Visit, action: CorrectiveAction, answer: _Answer, comment: str) -> None:
    _finding(visit, action, answer, comment)
    if _wave_order(action.wave) < _wave_order(visit.wave):
        action.wave_id, action.wave = visit.wave_id, visit.wave
        action.severity = answer.severity
        action.due_on = _due_on(visit, answer.severity)
        action.overdue_alerted_on = None
        action.times_reopened += 1
        if action.owner_id is None and (owner := _store_manager(visit.store_id)) is not None:
            action.owner_id = owner.id
        _event(action, ACTION_REOPENED, None, _("Failed again in %(wave)s", wave=visit.wave.name))


def _passed(visit: Visit, action: CorrectiveAction, answer: _Answer, actor: User | None) -> None:
    _finding(visit, action, answer, "")
    if _wave_order(action.wave) < _wave_order(visit.wave):
        action.closed_at = utcnow()
        _event(action, ACTION_VERIFIED, actor, _("Passed in %(wave)s", wave=visit.wave.name))


# --- an upheld appeal ----------------------------------------------------------------------


def finding_changed(visit: Visit, question_key: str, actor: User | None) -> None:
    """After an upheld appeal changed the answer and the visit was rescored: an answer
    that no longer fails gives up its failing finding (see the rules)."""
    checklist_id = visit.checklist_version.checklist_id
    finding = db.session.scalars(
        select(ActionFinding)
        .join(CorrectiveAction, CorrectiveAction.id == ActionFinding.action_id)
        .where(
            ActionFinding.visit_id == visit.id,
            ActionFinding.passed.is_(False),
            CorrectiveAction.store_id == visit.store_id,
            CorrectiveAction.checklist_id == checklist_id,
            CorrectiveAction.question_key == question_key,
        )
    ).first()
    threshold = visit.store.client.action_threshold
    answer = next((a for a in _answers(visit) if a.key == question_key), None)
    if finding is None or (answer is not None and answer.fails(threshold)):
        return
    action, wave = finding.action, visit.wave
    action.findings.remove(finding)
    db.session.flush()
    failing = sorted((f for f in action.findings if not f.passed), key=lambda f: f.id)
    with _language(visit):
        if not failing:
            action.closed_at = utcnow()
            note = _("Withdrawn: an upheld appeal removed the finding of %(wave)s.", wave=wave.name)
            _event(action, ACTION_WITHDRAWN, actor, note)
        else:
            if action.visit_id == visit.id:
                action.visit_id = failing[0].visit_id
            _undo_reopening(action, wave, failing, actor)
            if answer and answer.passes(threshold) and action.status in ACTION_UNVERIFIED:
                _passed(visit, action, answer, actor)
    db.session.flush()


def _undo_reopening(
    action: CorrectiveAction, wave: Wave, failing: list[ActionFinding], actor: User | None
) -> None:
    """When the removed failure was the only one of the wave that reopened the action,
    the action goes back to its earlier latest failure (and status, if still reopened)."""
    latest = max(failing, key=lambda f: _wave_order(f.wave))
    if action.wave_id != wave.id or latest.wave_id == wave.id:
        return
    reopenings = [e for e in action.events if e.to_status == ACTION_REOPENED and e.actor_id is None]
    action.wave_id, action.wave = latest.wave_id, latest.wave
    if not reopenings:
        return  # opened in this wave by a failure the appeal removed, earlier ones stand
    action.times_reopened = max(action.times_reopened - 1, 0)
    undo = reopenings[-1]
    if action.events[-1] is undo and action.status == ACTION_REOPENED and undo.from_status:
        note = _("An upheld appeal removed the failure of %(wave)s.", wave=wave.name)
        _event(action, undo.from_status, actor, note)


# --- steps by people -----------------------------------------------------------------------


def _require(action: CorrectiveAction, statuses: Sequence[str], message: str) -> None:
    if action.status not in statuses:
        raise ActionRefused(message)


def _note(note: str | None, required_message: str | None) -> str:
    text = (note or "").strip()
    if required_message and not text:
        raise ActionInvalid(required_message, "note")
    if len(text) > NOTE_MAX:
        raise ActionInvalid(_("Keep the note under %(n)d characters.", n=NOTE_MAX), "note")
    return text


def _refuse_unless(allowed: bool) -> None:
    if not allowed:
        raise ActionRefused(_("You may not take this step on this action."))


def start(action: CorrectiveAction, user: User) -> None:
    _refuse_unless(may_work(user, action))
    _require(action, (ACTION_OPEN, ACTION_REOPENED), _("Only an open action can be started."))
    _event(action, ACTION_IN_PROGRESS, user)
    db.session.flush()


def resolve(
    action: CorrectiveAction,
    user: User,
    note: str | None,
    photos: Sequence[tuple[bytes, str | None]] = (),
) -> list[FollowUpFile]:
    """Marks the fix done, with what was done and the photos that show it (stored here;
    a refused photo raises EvidenceRejected and none of this call's files is kept)."""
    _refuse_unless(may_work(user, action))
    _require(action, ACTION_ACTIVE, _("This action is not open: there is nothing to resolve."))
    text = _note(note, _("Say what was done to fix it."))
    stored = _store_photos(action, user, photos)
    action.resolution_note = text
    action.resolved_at = utcnow()
    _event(action, ACTION_RESOLVED, user, text)
    db.session.flush()
    return stored


def _store_photos(
    action: CorrectiveAction, user: User, photos: Sequence[tuple[bytes, str | None]]
) -> list[FollowUpFile]:
    checked = files.check_photos(photos)  # all of them, before decoding any
    stored: list[FollowUpFile] = []
    try:
        for photo in checked:
            stored.append(files.store_photo(photo, user, action_id=action.id))
    except BaseException:
        for row in stored:
            for thumb in (False, True):
                if (path := files.photo_path(row, thumb=thumb)) is not None:
                    path.unlink(missing_ok=True)
        raise
    return stored


def verify(action: CorrectiveAction, user: User, note: str | None = None) -> None:
    _refuse_unless(may_check(user, action))
    _require(action, (ACTION_RESOLVED,), _("Only a resolved action can be verified."))
    text = _note(note, None)
    action.closed_at = utcnow()
    _event(action, ACTION_VERIFIED, user, text)
    db.session.flush()


def reopen(action: CorrectiveAction, user: User, note: str | None) -> None:
    """The fix does not hold: back to the store, with why and a new due date."""
    _refuse_unless(may_check(user, action))
    _require(action, (ACTION_RESOLVED,), _("Only a resolved action can be reopened."))
    text = _note(note, _("Say why the fix is not enough."))
    action.times_reopened += 1
    action.due_on = store_today(action.store) + timedelta(days=_days(action.store, action.severity))
    action.overdue_alerted_on = None
    _event(action, ACTION_REOPENED, user, text)
    db.session.flush()


def store_managers(store: Store) -> list[User]:
    """Who an action of the store can be given to: its active store managers."""
    return list(db.session.scalars(_store_managers(store.id).order_by(User.name, User.id)))


def reassign(action: CorrectiveAction, user: User, owner_id: int | None) -> None:
    _refuse_unless(may_check(user, action))
    _require(action, ACTION_UNVERIFIED, _("This action is closed."))
    owner = next((u for u in store_managers(action.store) if u.id == owner_id), None)
    if owner is None:
        raise ActionInvalid(_("Choose one of the store's managers."), "owner")
    action.owner_id = owner.id
    db.session.flush()


# --- for others: the scorecard's lines ---------------------------------------------------------


def open_action_lines(store: Store, language: str | None, limit: int = 10) -> tuple[str, ...]:
    """The store's actions not yet verified, soonest due first, one short line each
    ("question · status · due date"), in ``language``; at most ``limit`` and a last line
    saying how many more."""
    actions = list(
        db.session.scalars(
            select(CorrectiveAction)
            .where(
                CorrectiveAction.store_id == store.id,
                CorrectiveAction.status.in_(ACTION_UNVERIFIED),
            )
            .order_by(CorrectiveAction.due_on, CorrectiveAction.id)
        )
    )
    with force_locale(_ui_locale(language)) if language else nullcontext():
        lines = [
            " · ".join(
                (
                    action.question_text,
                    str(STATUS_LABELS[action.status]),
                    _("due %(day)s", day=format_date(action.due_on, "medium")),
                )
            )
            for action in actions[:limit]
        ]
        if len(actions) > limit:
            lines.append(_("and %(n)d more", n=len(actions) - limit))
    return tuple(lines)


# --- "did the fix stick?" ----------------------------------------------------------------------


@dataclass(frozen=True)
class RepeatRow:
    """One question of one store that failed: in which waves, and what happened since."""

    store_id: int
    store_code: str
    store_name: str
    question_key: str
    question_text: str
    failed_waves: tuple[str, ...]  # wave names, in wave order
    failures: int  # failing answers (a wave may have several visits)
    passed_since: bool  # a pass in a wave after the last failure
    status: str  # of the latest action
    action_id: int

    @property
    def repeated(self) -> bool:
        return len(self.failed_waves) > 1


@dataclass(frozen=True)
class WaveCounts:
    """What a wave's answers did: actions opened, reopened and verified."""

    wave_id: int
    name: str
    opened: int
    reopened: int
    verified: int


@dataclass(frozen=True)
class RepeatReport:
    rows: tuple[RepeatRow, ...]
    waves: tuple[WaveCounts, ...]


@dataclass(frozen=True)
class _Seen:
    action_id: int
    key: tuple[int, int, str]  # store, checklist, question key
    wave: tuple[date, int]
    passed: bool


def repeat_findings(user: User, client_id: int, region_id: int | None = None) -> RepeatReport:
    """Per store and question, the waves in which it failed, in the user's scope (the
    client's managers: published waves only), optionally in the region's subtree; rows
    failing in most waves first. Wave counts: see WaveCounts."""
    query = (
        select(ActionFinding.passed, Wave.id, Wave.name, Wave.starts_on, CorrectiveAction, Store)
        .join(CorrectiveAction, CorrectiveAction.id == ActionFinding.action_id)
        .join(Store, Store.id == CorrectiveAction.store_id)
        .join(Wave, Wave.id == ActionFinding.wave_id)
        .where(action_scope(user), Store.client_id == client_id, published_waves(user))
        .order_by(ActionFinding.id)
    )
    if region_id is not None:
        region = db.session.get(Region, region_id)
        path = region.path if region is not None and region.client_id == client_id else None
        query = query.join(Region, Region.id == Store.region_id).where(
            false() if path is None else Region.path.startswith(path, autoescape=True)
        )
    names: dict[int, str] = {}
    actions: dict[int, CorrectiveAction] = {}
    stores: dict[int, Store] = {}
    seen: list[_Seen] = []
    for passed, wave_id, name, starts_on, action, store in db.session.execute(query):
        names[wave_id] = name
        actions[action.id], stores[store.id] = action, store
        key = (store.id, action.checklist_id, action.question_key)
        seen.append(_Seen(action.id, key, (starts_on, wave_id), bool(passed)))
    rows = [_repeat_row(group, actions, stores, names) for group in _grouped(seen, "key")]
    rows.sort(key=lambda r: (-len(r.failed_waves), -r.failures, r.store_code, r.question_key))
    return RepeatReport(tuple(rows), _wave_counts(seen, names))


def _grouped(seen: list[_Seen], attribute: str) -> Iterator[list[_Seen]]:
    groups: dict[Any, list[_Seen]] = {}
    for item in seen:
        groups.setdefault(getattr(item, attribute), []).append(item)
    return iter(groups.values())


def _repeat_row(
    group: list[_Seen],
    actions: dict[int, CorrectiveAction],
    stores: dict[int, Store],
    names: dict[int, str],
) -> RepeatRow:
    failed = sorted({s.wave for s in group if not s.passed})
    last = failed[-1] if failed else None
    latest = actions[max(s.action_id for s in group)]
    store = stores[latest.store_id]
    return RepeatRow(
        store_id=store.id,
        store_code=store.code,
        store_name=store.name,
        question_key=latest.question_key,
        question_text=latest.question_text,
        failed_waves=tuple(names[wave_id] for _day, wave_id in failed),
        failures=sum(1 for s in group if not s.passed),
        passed_since=any(s.passed and (last is None or s.wave > last) for s in group),
        status=latest.status,
        action_id=latest.id,
    )


def _wave_counts(seen: list[_Seen], names: dict[int, str]) -> tuple[WaveCounts, ...]:
    """Per wave: actions whose first failure is in it (opened), actions failing in it
    again after an earlier wave (reopened), actions passing in it after their last
    earlier failure (verified)."""
    counts: dict[tuple[date, int], list[int]] = {}
    for group in _grouped(seen, "action_id"):
        failed = sorted({s.wave for s in group if not s.passed})
        if not failed:
            continue
        counts.setdefault(failed[0], [0, 0, 0])[0] += 1
        for wave in failed[1:]:
            counts.setdefault(wave, [0, 0, 0])[1] += 1
        passes = sorted({s.wave for s in group if s.passed and s.wave > failed[-1]})
        if passes:
            counts.setdefault(passes[0], [0, 0, 0])[2] += 1
    return tuple(
        WaveCounts(wave[1], names[wave[1]], *figures) for wave, figures in sorted(counts.items())
    )
