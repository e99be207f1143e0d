"""Alerts: who hears about what, in their own language, in the app and by e-mail.

Rules decided here:

- What raises an alert: a published visit that failed a critical question
  (critical_failure) or scored below the client's ``alert_threshold``
  (below_threshold, on the exact score); a store whose mean fell in each of the last
  three published waves of its programme (declining, the reports' early warning); an
  active corrective action past its due date in the store's time zone
  (action_overdue, once per due date); a pending appeal past its decision deadline
  (appeal_overdue, once); an appeal filed (appeal_filed) and decided (appeal_decided).
- Who hears it, always active users within their scope: for a store, the client's
  coordinators (the users assigned to the client), the regional managers whose scope
  holds the store (one of their regions on the store's region path, or the store
  itself: the rule of permissions.store_scope, in one query) and the store's store
  managers; an overdue action also its owner. A filed or overdue appeal goes to the
  client's coordinators, a decided one to the store's managers and to whoever filed
  it. Admins, reviewers and shoppers get none.
- Once: each alert carries a dedupe key (its kind and object, and for an overdue
  action the due date), and raising it is an INSERT … ON CONFLICT DO NOTHING on
  (user, key): a sweep run again or a job retried raises nothing new.
- How: every alert is in the app. By e-mail as the user chose for its kind
  (AlertPreference; no choice: DEFAULT_DELIVERY): at once, in the daily digest, or
  not at all.
- The daily digest: at the first sweep after DIGEST_HOUR_UTC, one mail per user with
  their digest alerts raised before that hour and not mailed yet; those raised later
  wait for the next day, so nobody gets two digests in a day.
- Texts are written when raised, in the recipient's language (User.locale, else the
  default): the store, the wave, the score and the questions at fault, never the
  shopper. Links lead to the store's report for the wave, or to the action's or
  appeal's own page.
"""

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

import scoring
from reports import data
from reports.breakdowns import checklist_language
from reports.rollups import exact

from ...errors import DomainError
from ...extensions import db
from ...models import COORDINATOR, REGIONAL_MANAGER, STORE_MANAGER, ChecklistQuestion, Store, User
from ...models import utcnow as _utcnow
from ...models.alerts import (
    ALERT_KINDS,
    DELIVERIES,
    DIGEST,
    IMMEDIATE,
    IN_APP,
    AlertPreference,
    Notification,
)
from ...models.checklists import ChecklistSection
from ...models.follow_up import (
    ACTION_ACTIVE,
    APPEAL_PENDING,
    APPEAL_UPHELD,
    Appeal,
    CorrectiveAction,
)
from ...models.results import VisitQuestionResult
from ...models.users import user_clients, user_regions, user_stores
from ...models.waves import APPROVED, Visit, Wave
from ..core import absolute, external_url, retry_due, send_mail
from ..reporting import visit_rows, wave_chain

DEFAULT_DELIVERY = {
    kind: IMMEDIATE if kind in ("critical_failure", "appeal_filed", "appeal_decided") else DIGEST
    for kind in ALERT_KINDS
}
STORE_KINDS = ("critical_failure", "below_threshold", "declining", "action_overdue")
# The kinds each role can receive (and so chooses a delivery for).
ROLE_KINDS: dict[str, tuple[str, ...]] = {
    COORDINATOR: (*STORE_KINDS, "appeal_filed", "appeal_overdue"),
    REGIONAL_MANAGER: (*STORE_KINDS, "appeal_decided"),
    STORE_MANAGER: (*STORE_KINDS, "appeal_decided"),
}
KIND_LABELS = {
    "critical_failure": _l("Critical failure"),
    "below_threshold": _l("Score below the threshold"),
    "declining": _l("Declining three waves in a row"),
    "action_overdue": _l("Overdue corrective action"),
    "appeal_overdue": _l("Appeal awaiting a decision"),
    "appeal_filed": _l("New appeal"),
    "appeal_decided": _l("Appeal decided"),
}
DELIVERY_LABELS = {
    IMMEDIATE: _l("E-mail at once"),
    DIGEST: _l("Daily digest"),
    IN_APP: _l("In the app only"),
}
DECLINES = 3  # the early warning's consecutive declines
LISTED = 10  # questions named in one alert; the rest are counted


class InvalidPreference(DomainError):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Alert:
    """One alert as raised to each recipient: ``text`` writes (title, body) in the
    language given, called under that locale."""

    kind: str
    key: str
    store_id: int | None
    endpoint: str
    values: Mapping[str, Any]
    text: Callable[[str], tuple[str, str]]


@dataclass(frozen=True)
class SweepSummary:
    actions_overdue: int
    appeals_overdue: int
    digests: int
    mail_retried: int


# --- recipients -----------------------------------------------------------------------


def _active(condition: Any) -> list[User]:
    query = select(User).where(User.active.is_(True), condition).order_by(User.id)
    return list(db.session.scalars(query))


def _coordinators_of(client_id: int) -> Any:
    assigned = select(user_clients.c.user_id).where(user_clients.c.client_id == client_id)
    return and_(User.role == COORDINATOR, User.id.in_(assigned))


def _managers_of(store: Store) -> Any:
    direct = User.id.in_(select(user_stores.c.user_id).where(user_stores.c.store_id == store.id))
    return and_(User.role == STORE_MANAGER, User.client_id == store.client_id, direct)


def store_people(store: Store) -> list[User]:
    """The client's coordinators, the regional managers whose scope holds the store and
    the store's managers (active ones)."""
    direct = User.id.in_(select(user_stores.c.user_id).where(user_stores.c.store_id == store.id))
    regions = data.ancestors(store.region.path)
    in_region = User.id.in_(
        select(user_regions.c.user_id).where(user_regions.c.region_id.in_(regions))
    )
    regional = and_(
        User.role == REGIONAL_MANAGER, User.client_id == store.client_id, or_(direct, in_region)
    )
    return _active(or_(_coordinators_of(store.client_id), regional, _managers_of(store)))


def coordinators(client_id: int) -> list[User]:
    return _active(_coordinators_of(client_id))


# --- raising --------------------------------------------------------------------------


def raise_alert(alert: Alert, users: Iterable[User], now: datetime | None = None) -> int:
    """Raises the alert to each user once; returns how many got it now."""
    now = now or _utcnow()
    recipients = list({u.id: u for u in users if u.active}.values())
    if not recipients:
        return 0
    link = url_for(alert.endpoint, _external=False, **alert.values)
    chosen = _deliveries([u.id for u in recipients], alert.kind)
    raised = 0
    for user in recipients:
        language = language_of(user)
        with force_locale(language):
            title, body = alert.text(language)
        delivery = chosen.get(user.id, DEFAULT_DELIVERY[alert.kind])
        row = {
            "user_id": user.id, "kind": alert.kind, "store_id": alert.store_id,
            "dedupe_key": alert.key[:128], "title": title[:255], "body": body, "link": link,
            "delivery": delivery, "created_at": now,
        }  # fmt: skip
        notification_id = _insert_once(row)
        if notification_id is None:
            continue
        raised += 1
        if delivery == IMMEDIATE:
            with force_locale(language):
                sent = send_mail(user.email, title[:255], _mail_body(body, link))
            db.session.execute(
                update(Notification)
                .where(Notification.id == notification_id)
                .values(mailed_at=now, mail_id=sent.id)
            )
    return raised


def _insert_once(row: dict[str, Any]) -> int | None:
    dialect = db.session.get_bind().dialect.name
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(Notification)
        .values(**row)
        .on_conflict_do_nothing(index_elements=["user_id", "dedupe_key"])
        .returning(Notification.id)
    )
    found: int | None = db.session.execute(statement).scalar()
    return found


def _deliveries(user_ids: list[int], kind: str) -> dict[int, str]:
    rows = db.session.execute(
        select(AlertPreference.user_id, AlertPreference.delivery).where(
            AlertPreference.user_id.in_(user_ids), AlertPreference.kind == kind
        )
    )
    return dict(rows.all())


def language_of(user: User) -> str:
    return user.locale or str(current_app.config["BABEL_DEFAULT_LOCALE"])


def _mail_body(body: str, link: str | None = None) -> str:
    """The alert's text, its link, and where to change what is mailed."""
    settings = external_url("alerts.preferences")
    parts = [body, absolute(link)] if link is not None else [body]
    footer = _("You get this e-mail because of your alert settings: %(link)s", link=settings)
    return "\n\n".join([*parts, "-- \n" + footer])


# --- texts ----------------------------------------------------------------------------


def _shown(score: Fraction | None, places: int) -> str:
    return _("no score") if score is None else str(scoring.round_half_up(score, places))


def _day(moment: datetime, timezone: str, language: str) -> str:
    return format_date(moment.astimezone(ZoneInfo(timezone)), "medium", locale=language)


def _listed(heading: str, texts: Sequence[str]) -> str:
    if not texts:
        return ""
    lines = [f"- {text}" for text in texts[:LISTED]]
    if len(texts) > LISTED:
        lines.append(_("… and %(count)d more", count=len(texts) - LISTED))
    return "\n\n" + heading + "\n" + "\n".join(lines)


def _store_report(store_id: int, wave_id: int) -> tuple[str, dict[str, Any]]:
    return "reports.store", {"store_id": store_id, "wave": wave_id}


def _question(version_id: int, key: str) -> ChecklistQuestion | None:
    return db.session.scalars(
        select(ChecklistQuestion).where(
            ChecklistQuestion.version_id == version_id, ChecklistQuestion.key == key
        )
    ).first()


def _question_text(question: ChecklistQuestion | None, fallback: str, language: str) -> str:
    if question is None:
        return fallback
    texts = question.translations.get(checklist_language(language) or "", {})
    return texts.get("text") or question.text


# --- published visits and waves -----------------------------------------------------


def _findings(visit: Visit) -> list[tuple[ChecklistQuestion, bool]]:
    """The visit's questions at fault, in checklist order: failed critical ones, and
    those that earned less than the client's action threshold (True: critical)."""
    threshold = visit.store.client.action_threshold
    rows = db.session.execute(
        select(ChecklistQuestion, VisitQuestionResult)
        .join(VisitQuestionResult, VisitQuestionResult.question_id == ChecklistQuestion.id)
        .join(ChecklistSection, ChecklistSection.id == ChecklistQuestion.section_id)
        .where(VisitQuestionResult.visit_id == visit.id)
        .order_by(ChecklistSection.position, ChecklistQuestion.position)
    ).all()
    found = []
    for question, result in rows:
        short = result.applicable and result.possible > 0
        if result.critical_failed or (short and result.earned * 100 < result.possible * threshold):
            found.append((question, bool(result.critical_failed)))
    return found


def visit_published(visit: Visit) -> int:
    """critical_failure and below_threshold for one published approved visit."""
    if visit.status != APPROVED:
        return 0
    store, wave = visit.store, visit.wave
    findings = _findings(visit)
    score = exact(visit.score_exact or visit.score)
    threshold = store.client.alert_threshold
    critical = [q for q, failed in findings if failed]
    below = score is not None and score < threshold
    if not critical and not below:
        return 0
    places = int(visit.checklist_version.decimals)
    when = visit.started_at or visit.window_start
    endpoint, values = _store_report(store.id, wave.id)
    people = store_people(store)

    def text(kind: str, questions: list[ChecklistQuestion]) -> Callable[[str], tuple[str, str]]:
        def write(language: str) -> tuple[str, str]:
            facts = {
                "store": store.name, "code": store.code, "wave": wave.name,
                "day": _day(when, store.timezone, language), "score": _shown(score, places),
                "threshold": threshold,
            }  # fmt: skip
            names = [_question_text(q, q.text, language) for q in questions]
            if kind == "critical_failure":
                title = _("Critical failure at %(store)s", **facts)
                lead = _(
                    "The visit to %(store)s (%(code)s) on %(day)s, wave %(wave)s, failed a "
                    "critical question. Score: %(score)s.",
                    **facts,
                )
                return title, lead + _listed(_("Failed critical questions:"), names)
            title = _("%(store)s scored %(score)s, below %(threshold)s", **facts)
            lead = _(
                "The visit to %(store)s (%(code)s) on %(day)s, wave %(wave)s, scored "
                "%(score)s, below the alert threshold of %(threshold)s.",
                **facts,
            )
            return title, lead + _listed(_("Questions to fix:"), names)

        return write

    raised = 0
    if critical:
        alert = Alert(
            "critical_failure", f"critical_failure:visit:{visit.id}", store.id, endpoint, values,
            text("critical_failure", critical),
        )  # fmt: skip
        raised += raise_alert(alert, people)
    if below:
        alert = Alert(
            "below_threshold", f"below_threshold:visit:{visit.id}", store.id, endpoint, values,
            text("below_threshold", [q for q, _failed in findings]),
        )  # fmt: skip
        raised += raise_alert(alert, people)
    return raised


def _published_chain(wave: Wave) -> list[data.Group]:
    """The published waves of the wave's programme, oldest first, ending with it."""
    everything = wave_chain(wave, size=sys.maxsize)
    published = set(
        db.session.scalars(
            select(Wave.id).where(
                Wave.id.in_([g.key for g in everything]), Wave.published_at.is_not(None)
            )
        )
    )
    return [g for g in everything if g.key in published][-(DECLINES + 1) :]


def wave_published(wave: Wave) -> int:
    """declining for each store of the wave whose mean fell three published waves in
    a row (reports.rollups.early_warning over the published chain)."""
    chain = _published_chain(wave)
    if len(chain) < DECLINES + 1 or chain[-1].key != wave.id:
        return 0
    keys = [g.key for g in chain]
    in_wave = select(Visit.store_id).where(Visit.wave_id == wave.id, Visit.status == APPROVED)
    scores = data.store_scores(
        visit_rows(and_(Visit.wave_id.in_(keys), Visit.store_id.in_(in_wave)))
    )
    places = int(wave.checklist_version.decimals)
    raised = 0
    for store_id in data.early_warning(scores, keys, places, DECLINES):
        store = db.session.get(Store, store_id)
        assert store is not None
        means = [(g.label, scores.stat(g.key, store_id, interval=False).mean) for g in chain]

        def write(language: str, store: Store = store, means: list[Any] = means) -> tuple[str, str]:
            trend = " → ".join(f"{label} {_shown(mean, places)}" for label, mean in means)
            title = _("%(store)s declined three waves in a row", store=store.name)
            body = _(
                "The score of %(store)s (%(code)s) fell in each of the last three waves: "
                "%(trend)s.",
                store=store.name, code=store.code, trend=trend,
            )  # fmt: skip
            return title, body

        endpoint, values = _store_report(store.id, wave.id)
        alert = Alert("declining", f"declining:wave:{wave.id}:store:{store.id}", store.id,
                      endpoint, values, write)  # fmt: skip
        raised += raise_alert(alert, store_people(store))
    return raised


# --- appeals --------------------------------------------------------------------------


def _appeal_alert(appeal: Appeal, kind: str, write: Callable[[str], tuple[str, str]]) -> Alert:
    values = {"appeal_id": appeal.id}
    return Alert(kind, f"{kind}:{appeal.id}", appeal.store_id, "appeals.show", values, write)


def _appeal_question(appeal: Appeal, language: str) -> str:
    question = _question(appeal.visit.checklist_version_id, appeal.question_key)
    return _question_text(question, appeal.question_key, language)


def appeal_filed(appeal: Appeal) -> int:
    store = appeal.store

    def write(language: str) -> tuple[str, str]:
        facts = {
            "store": store.name, "code": store.code, "wave": appeal.visit.wave.name,
            "question": _appeal_question(appeal, language),
            "by": format_datetime(appeal.decide_by, "medium", tzinfo=ZoneInfo(store.timezone),
                                  locale=language),
        }  # fmt: skip
        title = _("New appeal from %(store)s", **facts)
        body = _(
            "%(store)s (%(code)s) disputes the finding “%(question)s” of wave %(wave)s. "
            "Please decide by %(by)s.",
            **facts,
        )
        return title, body + "\n\n" + appeal.reason

    return raise_alert(_appeal_alert(appeal, "appeal_filed", write), coordinators(store.client_id))


def appeal_decided(appeal: Appeal) -> int:
    store = appeal.store
    people = _active(_managers_of(store))
    if appeal.filed_by is not None:
        people.append(appeal.filed_by)
    places = int(appeal.visit.checklist_version.decimals)

    def write(language: str) -> tuple[str, str]:
        facts = {
            "store": store.name, "question": _appeal_question(appeal, language),
            "before": _shown(exact(appeal.score_before), places),
            "after": _shown(exact(appeal.score_after), places),
        }  # fmt: skip
        if appeal.status == APPEAL_UPHELD:
            title = _("Appeal upheld: %(question)s", **facts)
            body = _(
                "The appeal of %(store)s on “%(question)s” was upheld. The visit's score "
                "went from %(before)s to %(after)s.",
                **facts,
            )
        else:
            title = _("Appeal rejected: %(question)s", **facts)
            body = _("The appeal of %(store)s on “%(question)s” was rejected.", **facts)
        return title, body + "\n\n" + appeal.decision_note

    return raise_alert(_appeal_alert(appeal, "appeal_decided", write), people)


# --- the sweep ------------------------------------------------------------------------


def sweep(now: datetime | None = None) -> SweepSummary:
    """What the periodic tick does: overdue actions and appeals, the daily digests and
    the mail retries."""
    now = now or _utcnow()
    return SweepSummary(
        actions_overdue=overdue_actions(now),
        appeals_overdue=overdue_appeals(now),
        digests=send_digests(now),
        mail_retried=retry_due(now),
    )


def _local_day(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def overdue_actions(now: datetime) -> int:
    """action_overdue once per due date for each active action past it; returns how
    many actions were alerted."""
    candidates = db.session.scalars(
        select(CorrectiveAction)
        .options(selectinload(CorrectiveAction.store), selectinload(CorrectiveAction.owner))
        .where(
            CorrectiveAction.status.in_(ACTION_ACTIVE),
            # No time zone is more than a day ahead of UTC: a cheap first cut.
            CorrectiveAction.due_on < (now + timedelta(days=1)).date(),
            or_(
                CorrectiveAction.overdue_alerted_on.is_(None),
                CorrectiveAction.overdue_alerted_on != CorrectiveAction.due_on,
            ),
        )
        .order_by(CorrectiveAction.id)
    ).all()
    alerted = 0
    for action in candidates:
        store = action.store
        if _local_day(now, store.timezone) <= action.due_on:
            continue
        people = store_people(store) + ([action.owner] if action.owner is not None else [])
        raise_alert(_action_alert(action), people, now)
        action.overdue_alerted_on = action.due_on
        alerted += 1
    return alerted


def _action_alert(action: CorrectiveAction) -> Alert:
    store = action.store

    def write(language: str) -> tuple[str, str]:
        question = _question(action.visit.checklist_version_id, action.question_key)
        facts = {
            "store": store.name, "code": store.code,
            "question": _question_text(question, action.question_text or action.question_key,
                                       language),
            "due": format_date(action.due_on, "medium", locale=language),
        }  # fmt: skip
        title = _("Overdue at %(store)s: %(question)s", **facts)
        body = _(
            "The corrective action “%(question)s” at %(store)s (%(code)s) was due on "
            "%(due)s and is not resolved yet.",
            **facts,
        )
        return title, body

    key = f"action_overdue:{action.id}:{action.due_on.isoformat()}"
    return Alert("action_overdue", key, store.id, "actions.show", {"action_id": action.id}, write)


def overdue_appeals(now: datetime) -> int:
    """appeal_overdue once for each pending appeal past its decision deadline."""
    candidates = db.session.scalars(
        select(Appeal)
        .options(selectinload(Appeal.store), selectinload(Appeal.visit))
        .where(
            Appeal.status == APPEAL_PENDING,
            Appeal.decide_by < now,
            Appeal.overdue_alerted_at.is_(None),
        )
        .order_by(Appeal.id)
    ).all()
    for appeal in candidates:
        store = appeal.store

        def write(language: str, appeal: Appeal = appeal, store: Store = store) -> tuple[str, str]:
            facts = {
                "store": store.name, "question": _appeal_question(appeal, language),
                "by": format_datetime(appeal.decide_by, "medium",
                                      tzinfo=ZoneInfo(store.timezone), locale=language),
            }  # fmt: skip
            title = _("Appeal awaiting a decision: %(store)s", **facts)
            body = _(
                "The appeal of %(store)s on “%(question)s” should have been decided by %(by)s.",
                **facts,
            )
            return title, body

        raise_alert(
            _appeal_alert(appeal, "appeal_overdue", write), coordinators(store.client_id), now
        )
        appeal.overdue_alerted_at = now
    return len(candidates)


def digest_cutoff(now: datetime) -> datetime:
    """The latest DIGEST_HOUR_UTC at or before ``now``: a digest covers what came before."""
    hour = int(current_app.config["DIGEST_HOUR_UTC"])
    today = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return today if today <= now else today - timedelta(days=1)


def send_digests(now: datetime) -> int:
    """One mail per user listing their digest alerts due (see the module docstring)."""
    due = db.session.scalars(
        select(Notification)
        .options(selectinload(Notification.user))
        .where(
            Notification.delivery == DIGEST,
            Notification.mailed_at.is_(None),
            Notification.created_at < digest_cutoff(now),
        )
        .order_by(Notification.user_id, Notification.id)
        .with_for_update(skip_locked=True)
    ).all()
    sent = 0
    for _user_id, group in groupby(due, key=lambda n: n.user_id):
        items = list(group)
        user = items[0].user
        if not user.active:
            continue
        with force_locale(language_of(user)):
            subject = _("Your alerts: %(count)d new", count=len(items))
            body = "\n\n".join(f"{n.title}\n{n.body}\n{absolute(n.link)}" for n in items)
            message = send_mail(user.email, subject, _mail_body(body))
        for item in items:
            item.mailed_at, item.mail_id = now, message.id
        sent += 1
    return sent


# --- the user's side ------------------------------------------------------------------


def kinds_for(user: User) -> tuple[str, ...]:
    return ROLE_KINDS.get(user.role, ())


def preferences(user: User) -> dict[str, str]:
    """{kind: delivery} for the kinds the user's role can receive."""
    chosen = dict(
        db.session.execute(
            select(AlertPreference.kind, AlertPreference.delivery).where(
                AlertPreference.user_id == user.id
            )
        ).all()
    )
    return {kind: chosen.get(kind, DEFAULT_DELIVERY[kind]) for kind in kinds_for(user)}


def save_preferences(user: User, chosen: Mapping[str, str]) -> None:
    """Keeps a row only where the choice differs from the default, so a changed
    default reaches everyone who never chose."""
    wanted = {kind: chosen[kind] for kind in kinds_for(user) if chosen.get(kind) is not None}
    for kind, value in wanted.items():
        if value not in DELIVERIES:
            raise InvalidPreference(kind, _("Choose one of the offered options."))
    for kind, value in wanted.items():
        row = db.session.get(AlertPreference, (user.id, kind))
        if value == DEFAULT_DELIVERY[kind]:
            if row is not None:
                db.session.delete(row)
        elif row is None:
            db.session.add(AlertPreference(user_id=user.id, kind=kind, delivery=value))
        else:
            row.delivery = value


def unread_count(user: User) -> int:
    return int(
        db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.user_id == user.id, Notification.read_at.is_(None)
            )
        )
        or 0
    )


def mark_read(notification: Notification, now: datetime | None = None) -> None:
    if notification.read_at is None:
        notification.read_at = now or _utcnow()


def mark_all_read(user: User, now: datetime | None = None) -> int:
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=now or _utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)
