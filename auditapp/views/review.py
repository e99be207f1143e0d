"""Review and quality control for admins, coordinators and reviewers: the queue of
submitted visits (filters, bulk approval of clean visits) and the review screen of
one visit (answers with their points, evidence, timing, location, integrity flags,
history), with the reviewer's actions: start or release the review, edit an answer
with a reason, return the visit to its shopper with notes, approve it.

A visit outside the user's clients is not found (404), as is any visit to anyone
outside the three roles. Approved and returned visits stay readable, without
actions. The services own the rules; a refusal about one field is shown next to it,
with what was typed kept.
"""

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from forms.builder import field_name, na_name
from forms.review import ActionForm, BulkApproveForm, EditForm, QueueFilterForm, ReturnForm

from ..extensions import db
from ..models.review import FLAG_CODES
from ..models.waves import Visit, Wave
from ..permissions import client_scope, get_client_or_404, get_region_or_404, roles_required
from ..services.core.lifecycle import STATUS_LABELS
from ..services.review import decisions as actions
from ..services.review import flags as review_flags
from ..services.review import queue as review_queue
from ..services.review import screen as review_screen
from ..services.visits.answers import answer_fields, form_for
from . import safe_next
from .params import id_list, page_arg
from .transaction import transaction

bp = Blueprint("review", __name__, url_prefix="/review")
ROLES = review_queue.REVIEW_ROLES
RESULT_LABELS = {"PASS": _l("PASS"), "FAIL": _l("FAIL")}
REFUSALS_SHOWN = 10


def _language() -> str | None:
    return "zh" if str(get_locale() or "en").startswith("zh") else None


def _visit_or_404(visit_id: int) -> Visit:
    visit = review_queue.get_visit(current_user, visit_id)
    if visit is None:
        abort(404)
    return visit


def _back(visit_id: int, anchor: str | None = None) -> ResponseReturnValue:
    return redirect(url_for(".visit", visit_id=visit_id, _anchor=anchor))


# --- the queue ------------------------------------------------------------------------


def _filters(form: QueueFilterForm) -> review_queue.QueueFilters:
    """The chosen filters; a client, wave or region outside the user's scope is a 404,
    as opening it would be."""
    client_id, wave_id, region_id = form.client.data, form.wave.data, form.region.data
    if client_id is not None:
        get_client_or_404(current_user, client_id)
    if wave_id is not None:
        scoped = select(Wave.id).where(
            Wave.id == wave_id, Wave.client.has(client_scope(current_user))
        )
        if db.session.scalar(scoped) is None:
            abort(404)
    region_path = get_region_or_404(current_user, region_id).path if region_id else None
    known = (*review_queue.FLAG_FILTERS, *FLAG_CODES)
    flags = form.flags.data if form.flags.data in known else None
    min_age = form.min_age.data if not form.min_age.errors else None
    return review_queue.QueueFilters(
        client_id=client_id,
        wave_id=wave_id,
        region_path=region_path,
        shopper_id=form.shopper.data,
        flags=flags,
        min_age_hours=min_age,
    )


def _fill_choices(form: QueueFilterForm, choices: review_queue.QueueChoices) -> None:
    everything = ("", _("All"))
    form.client.choices = [everything] + [(str(c.id), c.name) for c in choices.clients]
    form.wave.choices = [everything] + [(str(w.id), w.name) for w in choices.waves]
    form.region.choices = [everything] + [
        (str(r.id), "· " * r.depth + r.name) for r in choices.regions
    ]
    form.shopper.choices = [everything] + [(str(i), name) for i, name in choices.shoppers]
    form.flags.choices = [
        everything,
        ("flagged", _("Any flag")),
        ("clean", _("No flags")),
        *((code, str(review_flags.FLAG_LABELS[code])) for code in FLAG_CODES),
    ]


@bp.route("/")
@roles_required(*ROLES)
def queue() -> ResponseReturnValue:
    form = QueueFilterForm(request.args)
    form.validate()
    _fill_choices(form, review_queue.queue_choices(current_user))
    page = review_queue.queue(
        current_user,
        _filters(form),
        page=page_arg(),
        per_page=current_app.config["PER_PAGE"],
    )
    return render_template(
        "review/queue.html",
        form=form,
        page=page,
        bulk_form=BulkApproveForm(next=request.full_path),
        deadline_hours=current_app.config["REVIEW_DEADLINE_HOURS"],
        flag_names=review_flags.flag_names,
        status_labels=STATUS_LABELS,
        result_labels=RESULT_LABELS,
    )


@bp.route("/approve", methods=["POST"])
@roles_required(*ROLES)
def bulk_approve() -> ResponseReturnValue:
    form = BulkApproveForm()
    if not form.validate_on_submit():
        abort(400)
    back = safe_next(form.next.data, url_for(".queue"))
    ids = id_list("visit_id", request.form)
    if not ids:
        flash(_("Tick the visits to approve first."), "warning")
        return redirect(back)
    with transaction() as saved:
        approved, refused = actions.bulk_approve(ids, current_user)
    if not saved:
        return redirect(back)
    if approved:
        flash(_("%(n)d visits approved.", n=len(approved)), "success")
    if refused:
        flash(_refusals(refused), "error")
    return redirect(back)


def _refusals(refused: dict[int, str]) -> str:
    """One message for all refusals (flashes live in the session cookie, which is small)."""
    shown = [
        _("#%(id)d: %(reason)s", id=visit_id, reason=reason)
        for visit_id, reason in list(refused.items())[:REFUSALS_SHOWN]
    ]
    more = len(refused) - len(shown)
    text = _("Not approved: %(visits)s.", visits="; ".join(shown))
    if more:
        text += " " + _("And %(n)d more.", n=more)
    return text


# --- the review screen ----------------------------------------------------------------


@dataclass
class EditState:
    """A refused edit: which question, what was typed, and the message."""

    key: str
    fields: dict[str, str | list[str]]
    reason: str
    errors: dict[str, str] = field(default_factory=dict)  # "value" or "reason"


@dataclass
class ReturnState:
    note: str = ""
    notes: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # "note" or "note_<key>"


def _render(
    visit: Visit,
    status: int = 200,
    edit: EditState | None = None,
    returning: ReturnState | None = None,
) -> ResponseReturnValue:
    language = _language()
    screen = review_screen.review_screen(visit, current_user, language)
    fields: dict[str, Any] = answer_fields(screen.checklist, screen.answers)
    if edit is not None:
        own = (field_name(edit.key), na_name(edit.key))
        fields = {k: v for k, v in fields.items() if k not in own} | edit.fields
    answer_form = form_for(screen.checklist, fields, language)
    return_form = ReturnForm(data={"note": returning.note} if returning else None)
    if returning is not None and "note" in returning.errors:
        return_form.note.errors = [returning.errors["note"]]
    return (
        render_template(
            "review/visit.html",
            visit=visit,
            screen=screen,
            slots={slot.question.key: slot for slot in answer_form.slots()},
            edit=edit,
            returning=returning or ReturnState(),
            return_form=return_form,
            action_form=ActionForm(),
            status_labels=STATUS_LABELS,
            score_text=review_screen.score_text,
            result_labels=RESULT_LABELS,
        ),
        status,
    )


@bp.route("/visits/<int:visit_id>")
@roles_required(*ROLES)
def visit(visit_id: int) -> ResponseReturnValue:
    return _render(_visit_or_404(visit_id))


def _action(visit_id: int, act: Any, done: str) -> ResponseReturnValue:
    visit = _visit_or_404(visit_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    with transaction() as saved:
        act(visit, current_user)
    if saved:
        flash(done, "success")
    return _back(visit_id)


@bp.route("/visits/<int:visit_id>/start", methods=["POST"])
@roles_required(*ROLES)
def start(visit_id: int) -> ResponseReturnValue:
    return _action(visit_id, actions.start_review, _("You are reviewing this visit."))


@bp.route("/visits/<int:visit_id>/release", methods=["POST"])
@roles_required(*ROLES)
def release(visit_id: int) -> ResponseReturnValue:
    return _action(visit_id, actions.release_review, _("The visit is back in the queue."))


@bp.route("/visits/<int:visit_id>/approve", methods=["POST"])
@roles_required(*ROLES)
def approve(visit_id: int) -> ResponseReturnValue:
    visit = _visit_or_404(visit_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    with transaction() as saved:
        actions.approve(visit, current_user)
    if not saved:
        return _back(visit_id)
    flash(_("Visit #%(id)d approved.", id=visit_id), "success")
    return redirect(url_for(".queue"))


@bp.route("/visits/<int:visit_id>/edit", methods=["POST"])
@roles_required(*ROLES)
def edit(visit_id: int) -> ResponseReturnValue:
    visit = _visit_or_404(visit_id)
    form = EditForm()
    if not form.validate_on_submit():
        abort(400)
    key = (form.question.data or "").strip()
    own = (field_name(key), na_name(key))
    posted: dict[str, str | list[str]] = {}
    for name in own:
        values = request.form.getlist(name)
        if values:
            posted[name] = values[0] if len(values) == 1 else values
    reason = form.reason.data or ""
    with transaction(show=False) as saved:
        change = actions.edit_answer(visit, current_user, key, posted, reason, _language())
    if isinstance(saved.error, actions.ReviewInvalid):
        where = "reason" if saved.error.field == "reason" else "value"
        state = EditState(key, posted, reason, {where: saved.message})
        return _render(_visit_or_404(visit_id), saved.status, edit=state)
    if not saved:
        flash(saved.message, "error")
        return _back(visit_id)
    if change is None:
        flash(_("The answer is unchanged; nothing was recorded."), "info")
    else:
        flash(_("Answer changed; the visit was rescored."), "success")
    return _back(visit_id, f"rq-{key}")


@bp.route("/visits/<int:visit_id>/return", methods=["POST"])
@roles_required(*ROLES)
def return_visit(visit_id: int) -> ResponseReturnValue:
    visit = _visit_or_404(visit_id)
    form = ReturnForm()
    if not form.validate_on_submit():
        abort(400)
    notes = {
        name[len("note_") :]: request.form.get(name, "")
        for name in request.form
        if name.startswith("note_")
    }
    with transaction(show=False) as saved:
        actions.return_visit(visit, current_user, form.note.data, notes)
    if isinstance(saved.error, actions.ReviewInvalid):
        state = ReturnState(form.note.data or "", notes, {saved.error.field: saved.message})
        return _render(_visit_or_404(visit_id), saved.status, returning=state)
    if not saved:
        flash(saved.message, "error")
        return _back(visit_id)
    flash(
        _("Visit #%(id)d returned to the shopper, who has been e-mailed.", id=visit_id), "success"
    )
    return redirect(url_for(".queue"))
