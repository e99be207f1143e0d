"""Corrective actions: the store's list, one action and its steps, its photos, and the
"did the fix stick?" report of repeat findings.

Rules decided here (the rules of actions themselves are in services/follow_up/actions.py):

- Readers are admins, coordinators (their clients), regional managers (their regions'
  stores) and store managers (their stores); the client's managers see only actions of
  published waves. Reviewers and shoppers get 404 everywhere here, as does anything
  outside the user's scope (services/actions.action_scope).
- The list shows the work still to do by default (open, in progress, reopened,
  resolved and waiting to be checked), filtered by status, store and "overdue"; each
  with its store, owner and due date. Due dates are days of the store's calendar;
  overdue is judged by the store's own today.
- An action's page shows the question, its history at the store across waves (the
  failing and passing answers, never who made them), the description, what was done,
  the photos and every step, with the forms the user may use. A refused step is shown
  again with the message next to its field and the note as typed; photos must be
  chosen again (a browser cannot refill a file input).
- Photos are served only through their action, to whoever sees the action, privately
  cached.
- The repeats report picks a client (agency roles with several) and a region in the
  user's scope (all of it by default); a store manager sees their stores.
- Times are shown in the store's time zone. Shoppers are never named.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import RequestEntityTooLarge

import scoring
from forms.follow_up import ActionNoteForm, ActionOwnerForm

from ..extensions import db
from ..models import (
    ActionEvent,
    ActionFinding,
    Client,
    CorrectiveAction,
    FollowUpFile,
    Region,
    Store,
    User,
    utcnow,
)
from ..models.follow_up import ACTION_ACTIVE, ACTION_STATUSES, ACTION_UNVERIFIED
from ..models.waves import Visit, Wave
from ..permissions import (
    client_scope,
    get_client_or_404,
    get_region_or_404,
    region_scope,
    roles_required,
)
from ..services.core.visibility import published_waves
from ..services.follow_up import actions
from ..services.follow_up import files as follow_up_files
from ..services.visits import evidence as evidence_service
from ..services.visits.evidence import EvidenceRejected
from .params import id_arg, page_arg
from .transaction import Outcome, transaction

bp = Blueprint("actions", __name__, url_prefix="/actions")
PER_PAGE = 25
TO_DO = "todo"  # the default status filter: everything not yet verified
ALL = "all"


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def _action_or_404(action_id: int) -> CorrectiveAction:
    action = db.session.scalars(
        select(CorrectiveAction)
        .options(selectinload(CorrectiveAction.store), selectinload(CorrectiveAction.owner))
        .where(CorrectiveAction.id == action_id, actions.action_scope(_user()))
    ).first()
    if action is None:
        abort(404)
    return action


def _locale() -> str:
    return str(get_locale() or "en")


def store_time(store: Store, moment: datetime | None) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(store.timezone))
    return format_datetime(local, "short", locale=_locale())


@bp.context_processor
def _helpers() -> dict[str, object]:
    return {
        "status_label": lambda status: actions.STATUS_LABELS.get(status, status),
        "severity_label": lambda severity: actions.SEVERITY_LABELS.get(severity, severity),
        "fmt_date": lambda day: format_date(day, "medium") if day else "",
        "store_time": store_time,
    }


# --- the list ------------------------------------------------------------------------------


@bp.route("/")
@roles_required(*actions.WORKERS)
def index() -> ResponseReturnValue:
    user = _user()
    scoped = actions.action_scope(user)
    stores = list(
        db.session.scalars(
            select(Store)
            .where(Store.id.in_(select(CorrectiveAction.store_id).where(scoped)))
            .order_by(Store.code, Store.id)
        )
    )
    store = next((s for s in stores if s.id == id_arg("store")), None)
    status = request.args.get("status", TO_DO)
    if status not in (TO_DO, ALL, *ACTION_STATUSES):
        status = TO_DO
    overdue_only = request.args.get("overdue") == "1"
    where = [scoped] + ([CorrectiveAction.store_id == store.id] if store else [])
    overdue = _overdue(stores)
    counts = dict(
        db.session.execute(
            select(CorrectiveAction.status, func.count())
            .where(*where)
            .group_by(CorrectiveAction.status)
        ).all()
    )
    overdue_count = db.session.scalar(
        select(func.count(CorrectiveAction.id)).where(*where, overdue)
    )
    if status == TO_DO:
        where.append(CorrectiveAction.status.in_(ACTION_UNVERIFIED))
    elif status != ALL:
        where.append(CorrectiveAction.status == status)
    if overdue_only:
        where.append(overdue)
    # Eager loads named here: every row shows its store and owner.
    query = (
        select(CorrectiveAction)
        .join(Store, Store.id == CorrectiveAction.store_id)
        .options(selectinload(CorrectiveAction.store), selectinload(CorrectiveAction.owner))
        .where(*where)
        .order_by(CorrectiveAction.due_on, Store.code, CorrectiveAction.id)
    )
    page = db.paginate(query, page=page_arg(), per_page=PER_PAGE, error_out=False)
    return render_template(
        "actions/index.html",
        page=page,
        stores=stores,
        store=store,
        status=status,
        statuses=ACTION_STATUSES,
        overdue_only=overdue_only,
        counts=counts,
        overdue_count=overdue_count or 0,
        todo_count=sum(counts.get(s, 0) for s in ACTION_UNVERIFIED),
        todays={s.id: actions.store_today(s) for s in stores},
        filters={"status": status, "store": store.id if store else None,
                 "overdue": "1" if overdue_only else None},
    )  # fmt: skip


def _overdue(stores: list[Store]) -> ColumnElement[bool]:
    """Active actions past their due date, each judged by its store's own today (one
    condition per time zone among the stores)."""
    now = utcnow()
    zones = sorted({s.timezone for s in stores})
    late = [
        and_(
            CorrectiveAction.store_id.in_(select(Store.id).where(Store.timezone == zone)),
            CorrectiveAction.due_on < now.astimezone(ZoneInfo(zone)).date(),
        )
        for zone in zones
    ]
    return and_(CorrectiveAction.status.in_(ACTION_ACTIVE), or_(false(), *late))


# --- one action ----------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryLine:
    """One answer to the action's question at the store: a wave, a day, pass or fail."""

    wave_name: str
    day: date
    passed: bool
    critical_failed: bool
    percent: str | None
    this_action: bool


def _history(action: CorrectiveAction) -> list[HistoryLine]:
    """Every recorded answer to the question at the store (this and earlier actions),
    in wave order, only of waves the user may read."""
    rows = db.session.execute(
        select(ActionFinding, Wave.name, Visit.started_at, Visit.window_start)
        .join(CorrectiveAction, CorrectiveAction.id == ActionFinding.action_id)
        .join(Wave, Wave.id == ActionFinding.wave_id)
        .join(Visit, Visit.id == ActionFinding.visit_id)
        .where(
            CorrectiveAction.store_id == action.store_id,
            CorrectiveAction.checklist_id == action.checklist_id,
            CorrectiveAction.question_key == action.question_key,
            published_waves(_user()),
        )
        .order_by(Wave.starts_on, Wave.id, Visit.window_start, ActionFinding.id)
    ).all()
    zone = ZoneInfo(action.store.timezone)
    return [
        HistoryLine(
            wave_name=name,
            day=(started or window).astimezone(zone).date(),
            passed=finding.passed,
            critical_failed=finding.critical_failed,
            percent=None if finding.percent is None else _percent(finding.percent),
            this_action=finding.action_id == action.id,
        )
        for finding, name, started, window in rows
    ]


def _percent(value: Any) -> str:
    exact = scoring.to_fraction(value)
    return "" if exact is None else str(scoring.round_half_up(exact, 1))


def _show(
    action: CorrectiveAction,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> ResponseReturnValue:
    user = _user()
    steps = actions.allowed_steps(user, action)
    events = db.session.scalars(
        select(ActionEvent)
        .options(selectinload(ActionEvent.actor))
        .where(ActionEvent.action_id == action.id)
        .order_by(ActionEvent.id)
    ).all()
    html = render_template(
        "actions/show.html",
        action=action,
        history=_history(action),
        events=events,
        photos=follow_up_files.photos(action_id=action.id),
        steps=steps,
        owners=actions.store_managers(action.store) if "reassign" in steps else [],
        overdue=actions.is_overdue(action, actions.store_today(action.store)),
        max_photos=follow_up_files.MAX_FILES,
        errors=errors or {},
        values=values or {},
    )
    return html, status


@bp.route("/<int:action_id>")
@roles_required(*actions.WORKERS)
def show(action_id: int) -> ResponseReturnValue:
    return _show(_action_or_404(action_id))


def _done(action_id: int, message: str) -> ResponseReturnValue:
    flash(message, "success")
    return redirect(url_for(".show", action_id=action_id))


def _refused(
    action_id: int, step: str, saved: Outcome, values: dict[str, str]
) -> ResponseReturnValue:
    """The page again, the message next to the field at fault, the note as typed."""
    field = getattr(saved.error, "field", None)
    if isinstance(saved.error, EvidenceRejected):
        field = "photos"
    key = f"{step}-{field}" if field else "step"
    return _show(_action_or_404(action_id), {key: saved.message}, values, saved.status)


@bp.route("/<int:action_id>/start", methods=["POST"])
@roles_required(*actions.WORKERS)
def start(action_id: int) -> ResponseReturnValue:
    action = _action_or_404(action_id)
    with transaction(show=False) as saved:
        actions.start(action, _user())
    if not saved:
        return _refused(action_id, "start", saved, {})
    return _done(action_id, _("Marked as in progress."))


@bp.route("/<int:action_id>/resolve", methods=["POST"])
@roles_required(*actions.WORKERS)
def resolve(action_id: int) -> ResponseReturnValue:
    action = _action_or_404(action_id)
    note = _posted_note()
    with transaction(show=False) as saved:
        photos = _uploaded_photos()
        actions.resolve(action, _user(), note, photos)
    if not saved:
        return _refused(action_id, "resolve", saved, {"resolve-note": note})
    return _done(action_id, _("Resolved. It will be checked, at the latest in the next wave."))


def _posted_note() -> str:
    """The note of resolve, verify or reopen; whether it is needed is the service's rule."""
    return ActionNoteForm().note.data or ""


def _uploaded_photos() -> list[tuple[bytes, str | None]]:
    """The chosen photos (empty file inputs are skipped), each read one byte past the
    size limit, which is enough to refuse it."""
    limit = evidence_service.max_bytes() + 1
    return [
        (upload.stream.read(limit), upload.filename)
        for upload in request.files.getlist("photos")
        if upload.filename
    ]


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_error: RequestEntityTooLarge) -> ResponseReturnValue:
    """Photos over the request limit together: said next to the photo field. The limit
    is hit before the view runs, so who may see the action is checked here."""
    action_id = (request.view_args or {}).get("action_id")
    action = None
    signed_in = current_user.is_authenticated and current_user.role in actions.WORKERS
    if request.endpoint == "actions.resolve" and signed_in:
        action = db.session.scalars(
            select(CorrectiveAction).where(
                CorrectiveAction.id == action_id, actions.action_scope(_user())
            )
        ).first()
    if action is None:
        message = _("The file is too large.")
        return render_template("errors/error.html", code=413, message=message), 413
    message = _("These photos are too large together. Send fewer at a time, or smaller ones.")
    return _show(action, {"resolve-photos": message}, {}, 413)


@bp.route("/<int:action_id>/verify", methods=["POST"])
@roles_required(*actions.CHECKERS)
def verify(action_id: int) -> ResponseReturnValue:
    action = _action_or_404(action_id)
    note = _posted_note()
    with transaction(show=False) as saved:
        actions.verify(action, _user(), note)
    if not saved:
        return _refused(action_id, "verify", saved, {"verify-note": note})
    return _done(action_id, _("Verified: the fix holds."))


@bp.route("/<int:action_id>/reopen", methods=["POST"])
@roles_required(*actions.CHECKERS)
def reopen(action_id: int) -> ResponseReturnValue:
    action = _action_or_404(action_id)
    note = _posted_note()
    with transaction(show=False) as saved:
        actions.reopen(action, _user(), note)
    if not saved:
        return _refused(action_id, "reopen", saved, {"reopen-note": note})
    return _done(action_id, _("Reopened: the store has been asked to fix it again."))


@bp.route("/<int:action_id>/owner", methods=["POST"])
@roles_required(*actions.CHECKERS)
def reassign(action_id: int) -> ResponseReturnValue:
    action = _action_or_404(action_id)
    form = ActionOwnerForm()
    owner = form.owner.data if form.validate_on_submit() else None  # None: the service says
    with transaction(show=False) as saved:
        actions.reassign(action, _user(), owner)
    if not saved:
        return _refused(action_id, "reassign", saved, {})
    return _done(action_id, _("The action has a new owner."))


@bp.route("/<int:action_id>/photos/<int:file_id>")
@roles_required(*actions.WORKERS)
def photo(action_id: int, file_id: int) -> ResponseReturnValue:
    action = _action_or_404(action_id)
    row = db.session.scalars(
        select(FollowUpFile).where(FollowUpFile.id == file_id, FollowUpFile.action_id == action.id)
    ).first()
    return follow_up_files.photo_response(row, request.args.get("thumb") == "1")


# --- did the fix stick? ------------------------------------------------------------------------


@bp.route("/repeats")
@roles_required(*actions.WORKERS)
def repeats() -> ResponseReturnValue:
    user = _user()
    clients = sorted(db.session.scalars(select(Client).where(client_scope(user))), key=_name)
    client: Client | None = None
    if (client_id := id_arg("client")) is not None:
        client = get_client_or_404(user, client_id)
    region: Region | None = None
    if (region_id := id_arg("region")) is not None:
        region = get_region_or_404(user, region_id)
        client = client or region.client
    client = client or (clients[0] if clients else None)
    if region is not None and client is not None and region.client_id != client.id:
        region = None  # the client switcher sent the old region along
    regions = []
    report = None
    if client is not None:
        regions = list(
            db.session.scalars(
                select(Region)
                .where(Region.client_id == client.id, region_scope(user))
                .order_by(Region.path, Region.id)
            )
        )
        report = actions.repeat_findings(user, client.id, region.id if region else None)
    only_repeats = request.args.get("repeats") == "1"
    rows = [] if report is None else [r for r in report.rows if r.repeated or not only_repeats]
    return render_template(
        "actions/repeats.html",
        clients=clients,
        client=client,
        regions=regions,
        region=region,
        report=report,
        rows=rows,
        only_repeats=only_repeats,
    )


def _name(client: Client) -> str:
    return client.name
