"""The store manager's phone view of their store's published results.

Rules decided here:

- Only store managers, and only their own stores (permissions.store_scope): anyone
  else gets 404 here (regional managers and the agency read /reports/). A manager of
  one store lands straight on it; a manager of several picks one.
- Only published waves count (services/follow_up/publishing.py): a wave not yet published is
  not offered, and its visits are 404 even for the store's own manager.
- The store page shows the latest published wave (or the one picked): the store's
  score with its change and rank, what to improve, the trend, the visits, and the
  store's open corrective actions and appeals. A visit page lists the questions that
  lost points first (each with its action and the way to appeal it), then the rest.
- The shopper is only ever a pseudonym (services/core/pseudonyms.py).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import Blueprint, abort, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date, get_locale
from flask_login import current_user
from sqlalchemy import func, select

from reports.cards import QuestionLine, VisitDetail

from ..extensions import db
from ..models import STORE_MANAGER, ActionFinding, Appeal, CorrectiveAction, Store, User
from ..models.follow_up import ACTION_ACTIVE, ACTION_RESOLVED
from ..models.waves import APPROVED, Visit, Wave
from ..permissions import get_store_or_404, roles_required, store_scope
from ..services.appeals import cases as appeals
from ..services.appeals.cases import STATUS_LABELS as APPEAL_LABELS
from ..services.core.pseudonyms import pseudonym
from ..services.follow_up.actions import STATUS_LABELS as ACTION_LABELS
from ..services.reporting.visits import visit_details
from ..services.scorecards import pdfs as scorecards
from ..services.visits.results import parse_exact
from .params import id_arg
from .reports import charts as report_charts

bp = Blueprint("my_store", __name__, url_prefix="/my-store")
RECENT_VISITS = 20


@dataclass(frozen=True)
class Finding:
    """A question of the visit that lost points, with what the store can do about it."""

    line: QuestionLine
    action: CorrectiveAction | None
    appeal: Appeal | None
    can_appeal: bool


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def _language() -> str:
    return str(get_locale() or "en")


def _published_waves(store: Store) -> list[Wave]:
    """The store's client's published waves with an approved visit of the store, newest
    first."""
    has_visit = (
        select(Visit.id)
        .where(Visit.wave_id == Wave.id, Visit.store_id == store.id, Visit.status == APPROVED)
        .exists()
    )
    return list(
        db.session.scalars(
            select(Wave)
            .where(Wave.client_id == store.client_id, Wave.published_at.is_not(None), has_visit)
            .order_by(Wave.starts_on.desc(), Wave.id.desc())
        )
    )


@bp.route("/")
@roles_required(STORE_MANAGER)
def index() -> ResponseReturnValue:
    stores = list(
        db.session.scalars(select(Store).where(store_scope(_user())).order_by(Store.code))
    )
    if len(stores) == 1:
        return redirect(url_for(".store", store_id=stores[0].id))
    return render_template("my_store/index.html", stores=stores)


@bp.route("/<int:store_id>")
@roles_required(STORE_MANAGER)
def store(store_id: int) -> ResponseReturnValue:
    user = _user()
    shop = get_store_or_404(user, store_id)
    waves = _published_waves(shop)
    wave = waves[0] if waves else None
    if (wave_id := id_arg("wave")) is not None:
        wave = next((w for w in waves if w.id == wave_id), None)
        if wave is None:
            abort(404)
    card = scorecards.store_scorecard(shop, wave, user, _language()) if wave else None
    return render_template(
        "my_store/store.html",
        store=shop,
        wave=wave,
        waves=waves,
        card=card,
        visits=_recent_visits(shop),
        actions=_open_actions(shop),
        appeal_counts=_appeal_counts(shop),
        places=int(wave.checklist_version.decimals) if wave else 1,
    )


@bp.route("/visits/<int:visit_id>")
@roles_required(STORE_MANAGER)
def visit(visit_id: int) -> ResponseReturnValue:
    user = _user()
    found = appeals.appealable_visit(user, visit_id)  # a published visit of their store
    if found is None:
        abort(404)
    details = visit_details(found.store, found.wave, user, _language())
    detail = next(d for d in details if d.visit_id == found.id)
    findings, others = _findings(user, found, detail)
    return render_template(
        "my_store/visit.html",
        visit=found,
        detail=detail,
        findings=findings,
        others=others,
        shopper=pseudonym(found.shopper_id, found.store.client_id),
        appeal_closes=appeals.appeal_closes(found),
        places=int(found.wave.checklist_version.decimals),
    )


# --- data -----------------------------------------------------------------------------------


def _recent_visits(shop: Store) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(Visit)
        .join(Wave, Wave.id == Visit.wave_id)
        .where(Visit.store_id == shop.id, Visit.status == APPROVED, Wave.published_at.is_not(None))
        .order_by(Visit.window_start.desc(), Visit.id.desc())
        .limit(RECENT_VISITS)
    )
    return [{"visit": v, "shopper": pseudonym(v.shopper_id, shop.client_id)} for v in rows]


def _open_actions(shop: Store) -> list[CorrectiveAction]:
    """The store's actions still to do or to be checked, the soonest due first."""
    return list(
        db.session.scalars(
            select(CorrectiveAction)
            .where(
                CorrectiveAction.store_id == shop.id,
                CorrectiveAction.status.in_((*ACTION_ACTIVE, ACTION_RESOLVED)),
            )
            .order_by(CorrectiveAction.due_on, CorrectiveAction.id)
        )
    )


def _appeal_counts(shop: Store) -> dict[str, int]:
    rows = db.session.execute(
        select(Appeal.status, func.count())
        .where(Appeal.store_id == shop.id)
        .group_by(Appeal.status)
    )
    return {str(row[0]): int(row[1]) for row in rows}


def _findings(
    user: User, visit: Visit, detail: VisitDetail
) -> tuple[list[Finding], list[QuestionLine]]:
    """The questions that lost points (with their action and appeal), and the others."""
    actions = {
        a.question_key: a
        for a in db.session.scalars(
            select(CorrectiveAction)
            .join(ActionFinding, ActionFinding.action_id == CorrectiveAction.id)
            .where(ActionFinding.visit_id == visit.id)
            .order_by(CorrectiveAction.id)
        )
    }
    filed = {
        a.question_key: a
        for a in db.session.scalars(select(Appeal).where(Appeal.visit_id == visit.id))
    }
    findings, others = [], []
    for line in detail.questions:
        if line.applicable and (line.earned < line.possible or line.critical_failed):
            appeal = filed.get(line.key)
            findings.append(
                Finding(
                    line=line,
                    action=actions.get(line.key),
                    appeal=appeal,
                    can_appeal=appeal is None and appeals.can_appeal(user, visit, line.key) is None,
                )
            )
        else:
            others.append(line)
    return findings, others


def _visit_day(visit: Visit) -> str:
    moment = visit.started_at or visit.window_start
    return str(format_date(moment.astimezone(ZoneInfo(visit.store.timezone)).date(), "medium"))


def _store_time(store: Store, moment: datetime) -> str:
    local = moment.astimezone(ZoneInfo(store.timezone))
    return str(format_datetime(local, "medium", locale=_language()))


def _helpers() -> dict[str, Any]:
    return {
        "visit_day": _visit_day,
        "store_time": _store_time,
        "exact_score": lambda v: parse_exact(v.score_exact),
        "exact_original": lambda v: parse_exact(v.original_score_exact),
        "action_status": lambda status: ACTION_LABELS.get(status, status),
        "appeal_status": lambda status: APPEAL_LABELS.get(status, status),
    }


bp.context_processor(report_charts.helpers)
bp.context_processor(_helpers)
