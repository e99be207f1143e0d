"""Appeals: a store's manager disputes a finding of a published visit from their
phone; the agency's coordinator upholds or rejects it at a desk.

Rules decided here (the rules of appeals themselves are in services/appeals/cases.py):

- Store and regional managers file appeals and follow their stores' appeals;
  admins and coordinators read their clients' appeals and decide them. Everyone else,
  and anything outside the user's scope, is not found (404).
- The filing page shows why a finding cannot be appealed (the window has passed, it
  is already appealed, it cost no points) instead of the form. A refused appeal is
  shown again with the message next to the field and the reason as typed; photos
  must be chosen again (a browser cannot refill a file input).
- The decision form is the question's own answer field, as on the review screen,
  filled with the current answer, with a note and two buttons: uphold (the answer
  changes to the one in the field) and reject.
- The client's people see the shopper only as a pseudonym; the agency by name.
- Times are shown in the store's time zone.
- Appeal rates: the agency picks a client (and a wave); a manager sees their own
  client's stores in their scope, and no per-shopper table.
"""

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

import scoring
from forms.builder import field_name, na_name
from forms.follow_up import AppealDecisionForm, AppealForm

from ..extensions import db
from ..models import ADMIN, Client, FollowUpFile, User
from ..models.follow_up import APPEAL_PENDING, APPEAL_STATUSES, Appeal
from ..models.waves import Visit, Wave
from ..permissions import client_scope, roles_required
from ..services.appeals import cases as service
from ..services.checklists.versions import scoring_checklist
from ..services.core.pseudonyms import pseudonym
from ..services.follow_up.files import MAX_FILES, photo_response, photos
from ..services.review.screen import score_text
from ..services.visits import evidence as evidence_service
from ..services.visits.answers import answer_fields, form_for, stored_answers
from .params import id_arg
from .transaction import Outcome, transaction

bp = Blueprint("appeals", __name__, url_prefix="/appeals")


def _user() -> User:
    user: User = current_user._get_current_object()
    return user


def _language() -> str | None:
    """The checklist's translation to show ("zh"), or None for its own language."""
    return "zh" if str(get_locale() or "en").startswith("zh") else None


def _agency(user: User) -> bool:
    return user.role in service.DECIDERS


def _shopper_label(user: User, visit: Visit) -> str:
    """The shopper by name for the agency, by pseudonym for the client's people."""
    if _agency(user) and visit.shopper is not None:
        return str(visit.shopper.user.name)
    return pseudonym(visit.shopper_id, visit.store.client_id)


def _appeal_or_404(appeal_id: int) -> Appeal:
    appeal = service.get_appeal(_user(), appeal_id)
    if appeal is None:
        abort(404)
    return appeal


# --- the list ---------------------------------------------------------------------------


@bp.route("/")
@roles_required(*service.READERS)
def index() -> ResponseReturnValue:
    user = _user()
    wanted = request.args.get("status")
    if wanted is None and _agency(user):
        wanted = APPEAL_PENDING  # the agency's queue: what waits for a decision
    status = wanted if wanted in APPEAL_STATUSES else None
    rows = service.appeal_list(user, status)
    return render_template(
        "appeals/index.html",
        rows=rows,
        status=status,
        agency=_agency(user),
        questions=service.question_texts(rows, _language()),
        status_labels=service.STATUS_LABELS,
    )


# --- filing -----------------------------------------------------------------------------


@dataclass
class FilingState:
    reason: str = ""
    errors: dict[str, str] = field(default_factory=dict)  # "reason" or "photos"


def _posted_photos() -> list[tuple[bytes, str | None]]:
    """The chosen photos (an empty file input posts one nameless part: skipped); read
    one byte past the limit, enough to know a file is too large."""
    limit = evidence_service.max_bytes() + 1
    return [
        (upload.stream.read(limit), upload.filename)
        for upload in request.files.getlist("photos")
        if upload.filename
    ]


@bp.route("/new/<int:visit_id>/<question_key>", methods=["GET", "POST"])
@roles_required(*service.FILERS)
def new(visit_id: int, question_key: str) -> ResponseReturnValue:
    user = _user()
    visit = service.appealable_visit(user, visit_id)
    if visit is None:
        abort(404)
    found = service.finding(visit, question_key, _language())
    if found is None:
        abort(404)
    filed = db.session.scalars(
        select(Appeal).where(Appeal.visit_id == visit.id, Appeal.question_key == question_key)
    ).first()
    if filed is not None and service.get_appeal(user, filed.id) is not None:
        return redirect(url_for(".show", appeal_id=filed.id))
    state, saved = FilingState(), Outcome()
    if request.method == "POST":
        state.reason = AppealForm().reason.data or ""
        with transaction(show=False) as saved:
            appeal = service.file_appeal(visit, user, question_key, state.reason, _posted_photos())
        if saved:
            flash(_("Your appeal was sent. The agency decides it by the date shown."), "success")
            return redirect(url_for(".show", appeal_id=appeal.id))
        if isinstance(saved.error, service.AppealInvalid):
            state.errors[saved.error.field] = saved.message
        else:
            flash(saved.message, "error")
    return (
        render_template(
            "appeals/new.html",
            visit=visit,
            finding=found,
            refused=service.can_appeal(user, visit, question_key),
            closes=service.appeal_closes(visit),
            decision_days=visit.wave.client.appeal_decision_days,
            shopper=_shopper_label(user, visit),
            state=state,
            max_files=MAX_FILES,
            max_reason=service.MAX_REASON_CHARS,
        ),
        saved.status,
    )


# --- one appeal and its decision --------------------------------------------------------


@dataclass
class DecisionState:
    """A refused decision: what was typed and the messages ("value" or "note")."""

    fields: dict[str, str | list[str]] = field(default_factory=dict)
    note: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def _render(
    appeal: Appeal, state: DecisionState | None = None, status: int = 200
) -> ResponseReturnValue:
    user, language = _user(), _language()
    visit = appeal.visit
    deciding = appeal.status == APPEAL_PENDING and service.may_decide(user, visit)
    slot = None
    if deciding:
        checklist = scoring_checklist(visit.checklist_version)
        stored = {k: r.value for k, r in stored_answers(visit).items()}
        current = scoring.validate_answers(checklist, stored).answers
        fields: dict[str, Any] = answer_fields(checklist, current)
        if state is not None:
            own = (field_name(appeal.question_key), na_name(appeal.question_key))
            fields = {k: v for k, v in fields.items() if k not in own} | state.fields
        form = form_for(checklist, fields, language)
        slot = next((s for s in form.slots() if s.question.key == appeal.question_key), None)
    before = service.stored_answer_text(visit, appeal.question_key, appeal.answer_before, language)
    after = None
    if appeal.status != APPEAL_PENDING and appeal.answer_after is not None:
        after = service.stored_answer_text(
            visit, appeal.question_key, appeal.answer_after, language
        )
    return (
        render_template(
            "appeals/show.html",
            appeal=appeal,
            visit=visit,
            finding=service.finding(visit, appeal.question_key, language),
            answer_before=before,
            answer_after=after,
            photos=photos(appeal_id=appeal.id),
            shopper=_shopper_label(user, visit),
            overdue=service.is_overdue(appeal),
            agency=_agency(user),
            deciding=deciding,
            slot=slot,
            state=state or DecisionState(),
            status_labels=service.STATUS_LABELS,
            places=int(visit.checklist_version.decimals),
            max_note=service.MAX_NOTE_CHARS,
            score_text=score_text,
        ),
        status,
    )


@bp.route("/<int:appeal_id>")
@roles_required(*service.READERS)
def show(appeal_id: int) -> ResponseReturnValue:
    return _render(_appeal_or_404(appeal_id))


@bp.route("/<int:appeal_id>/decide", methods=["POST"])
@roles_required(*service.DECIDERS)
def decide(appeal_id: int) -> ResponseReturnValue:
    appeal = _appeal_or_404(appeal_id)
    if not service.may_decide(_user(), appeal.visit):
        abort(404)
    key = appeal.question_key
    posted: dict[str, str | list[str]] = {}
    for name in (field_name(key), na_name(key)):
        values = request.form.getlist(name)
        if values:
            posted[name] = values[0] if len(values) == 1 else values
    form = AppealDecisionForm()
    if not form.validate_on_submit():
        abort(400)  # no decision, or not one of the two buttons
    note = form.note.data or ""
    with transaction(show=False) as saved:
        if form.decision.data == "uphold":
            service.uphold(appeal, _user(), note, posted, _language())
            done = _("Appeal upheld: the answer changed and the visit was rescored.")
        else:
            service.reject(appeal, _user(), note)
            done = _("Appeal rejected: the finding stands.")
    if isinstance(saved.error, service.AppealInvalid):
        state = DecisionState(posted, note, {saved.error.field: saved.message})
        return _render(_appeal_or_404(appeal_id), state, saved.status)
    if saved:
        flash(done, "success")
    else:
        flash(saved.message, "error")
    return redirect(url_for(".show", appeal_id=appeal_id))


@bp.route("/<int:appeal_id>/photos/<int:file_id>")
@roles_required(*service.READERS)
def photo(appeal_id: int, file_id: int) -> ResponseReturnValue:
    appeal = _appeal_or_404(appeal_id)
    row = db.session.scalars(
        select(FollowUpFile).where(FollowUpFile.id == file_id, FollowUpFile.appeal_id == appeal.id)
    ).first()
    return photo_response(row, request.args.get("thumb") == "1")


# --- appeal rates -----------------------------------------------------------------------


@bp.route("/rates")
@roles_required(*service.READERS)
def rates() -> ResponseReturnValue:
    user = _user()
    clients = list(
        db.session.scalars(select(Client).where(client_scope(user)).order_by(Client.name))
    )
    client_id = id_arg("client")
    if client_id is None and len(clients) == 1:
        client_id = clients[0].id
    client = next((c for c in clients if c.id == client_id), None)
    if client_id is not None and client is None:
        abort(404)
    waves: list[Wave] = []
    wave = None
    result = None
    if client is not None:
        waves = list(
            db.session.scalars(
                select(Wave)
                .where(Wave.client_id == client.id, Wave.published_at.is_not(None))
                .order_by(Wave.starts_on.desc(), Wave.id.desc())
            )
        )
        wave_id = id_arg("wave")
        if wave_id is not None:
            wave = next((w for w in waves if w.id == wave_id), None)
            if wave is None:
                abort(404)
        result = service.appeal_rates(user, client.id, wave.id if wave else None)
    return render_template(
        "appeals/rates.html",
        clients=clients,
        client=client,
        waves=waves,
        wave=wave,
        result=result,
        percent=service.rate_percent,
        pick_client=user.role == ADMIN or len(clients) > 1,
    )
