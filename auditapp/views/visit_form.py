"""The shopper's visit form: confirm the briefing, check in, fill the form section by
section, save drafts, check out and submit exactly once.

Everything works as plain HTML forms; static/visit_form.js (another area) adds autosave
to ``draft`` (JSON), offline queueing and show_if toggling on top of the same markup.
A shopper only reaches their own visits; anyone else gets 404.
"""

import json
import re
from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_currency, get_locale
from flask_babel import gettext as _
from flask_login import current_user

import scoring
from forms.builder import field_name

from ..errors import DomainError
from ..extensions import db
from ..models import SHOPPER
from ..models.waves import RETURNED, Visit
from ..permissions import roles_required
from ..services import evidence as evidence_service
from ..services import visit_form as service
from ..services.checklists_rows import json_number
from .my_visits import _me, _own_visit_or_404, store_time

bp = Blueprint("visit_form", __name__, url_prefix="/my")
RECEIPT = "receipt"  # the file input of the receipt (the expenses card)

_TIMING_KEY = re.compile(r"(^|_)(s|secs?|seconds?|mins?|minutes?)$|(seconds|minutes|wait|time)")
_TIMING_TEXT = re.compile(r"\b(seconds?|minutes?|mins?|secs?)\b|秒|分钟", re.IGNORECASE)


def _visit(visit_id: int) -> Visit:
    return _own_visit_or_404(_me(), visit_id)


def _language() -> str | None:
    return "zh" if str(get_locale() or "en").startswith("zh") else None


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


def _posted_fields() -> dict[str, str | list[str]]:
    """The form's fields as draft data: one string, or a list when a name repeats."""
    fields: dict[str, str | list[str]] = {}
    for name in request.form:
        if name in ("csrf_token", "action", "submission_id", "revision"):
            continue
        values = request.form.getlist(name)
        fields[name] = values[0] if len(values) == 1 else values
    return fields


def _store_posted_photos(visit: Visit, upload_prefix: str) -> dict[str, str]:
    """Photos chosen in the form's own file inputs (no JavaScript) become evidence for
    their question, committed at once so they are kept whatever happens next. Returns
    the refusals by question key. ``upload_prefix`` makes a retried POST idempotent."""
    names = [
        n
        for n, f in request.files.items(multi=True)
        if (n.startswith("q_") or n == RECEIPT) and f.filename
    ]
    if not names:
        return {}
    checklist = service.scoring_checklist(visit.checklist_version)
    photo_keys = {q.key for q in checklist.questions() if q.type == "photo"}
    refused: dict[str, str] = {}
    for index, (name, upload) in enumerate(request.files.items(multi=True)):
        key = name[2:] if name.startswith("q_") else None
        if (key not in photo_keys and name != RECEIPT) or not upload.filename:
            continue
        data = upload.stream.read(evidence_service.max_bytes() + 1)
        kind = "photo" if key else "receipt"
        try:
            evidence_service.store_upload(
                visit, current_user, data, upload.filename, f"{upload_prefix}-{index}", kind, key
            )
        except DomainError as error:
            db.session.rollback()
            refused[key or service.EXPENSE_FIELD] = str(error)
        else:
            db.session.commit()
    return refused


# --- briefing, start, finish --------------------------------------------------------------


@bp.route("/visits/<int:visit_id>/briefing", methods=["POST"])
@roles_required(SHOPPER)
def briefing(visit_id: int) -> ResponseReturnValue:
    visit = _visit(visit_id)
    service.confirm_briefing(visit)
    db.session.commit()
    flash(_("Thank you. You have confirmed the briefing."), "success")
    return redirect(url_for("my_visits.show", visit_id=visit.id))


@bp.route("/visits/<int:visit_id>/start", methods=["POST"])
@roles_required(SHOPPER)
def start(visit_id: int) -> ResponseReturnValue:
    visit = _visit(visit_id)
    form = request.form
    try:
        service.start_visit(
            visit,
            current_user,
            consent=form.get("consent") == "1",
            lat=form.get("latitude", ""),
            lng=form.get("longitude", ""),
            accuracy=form.get("accuracy", ""),
        )
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("my_visits.show", visit_id=visit_id))
    db.session.commit()
    flash(_("Visit started. Your check-in time is recorded."), "success")
    return redirect(url_for(".form", visit_id=visit_id))


@bp.route("/visits/<int:visit_id>/finish", methods=["POST"])
@roles_required(SHOPPER)
def finish(visit_id: int) -> ResponseReturnValue:
    """Check-out; posted from inside the visit form, so what was typed is saved too."""
    visit = _visit(visit_id)
    fields = _posted_fields()
    for message in _store_posted_photos(visit, f"draft-{service.new_submission_id()}").values():
        flash(message, "error")
    try:
        if fields:
            service.save_draft(visit, None, fields)
        service.finish_visit(visit)
    except DomainError as error:
        db.session.commit()  # the draft, if it was saved
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Check-out recorded. You can finish the form now."), "success")
    return redirect(url_for(".form", visit_id=visit_id))


# --- the form -------------------------------------------------------------------------------


def _condition(question: scoring.Question) -> str | None:
    condition = question.show_if
    if condition is None:
        return None

    def value(v: Any) -> Any:
        return v if isinstance(v, str) else json_number(v)

    written = (
        [value(v) for v in condition.value]
        if isinstance(condition.value, tuple)
        else value(condition.value)
    )
    return json.dumps({"question": condition.question, condition.op: written})


def stopwatch_unit(question: scoring.Question) -> str | None:
    """ "s" or "min" for a number question that times something, else None."""
    if question.type != "number":
        return None
    text = f"{question.key} {question.text}".lower()
    if not (_TIMING_KEY.search(question.key.lower()) or _TIMING_TEXT.search(text)):
        return None
    if re.search(r"min|分钟", text):
        return "min"
    return "s" if re.search(r"(^|_)s\b|sec|秒", text) else None


def _render(
    visit: Visit,
    fields: dict[str, Any],
    errors: dict[str, str] | None = None,
    status: int = 200,
    submission_id: str | None = None,
) -> ResponseReturnValue:
    checklist = service.scoring_checklist(visit.checklist_version)
    form = service.form_for(checklist, fields, _language())
    visible = scoring.visible_keys(checklist, form.submitted())
    draft = service.get_draft(visit)
    photos = service.photo_answers(visit)
    receipts = service.receipts(visit)
    notes = service.return_notes(visit) if visit.status == RETURNED else None
    comments = {s.key: fields.get(f"comment_{s.key}", "") for s in checklist.sections} | {
        "": fields.get(f"comment_{service.OVERALL}", "")
    }
    return (
        render_template(
            "visit_form/form.html",
            visit=visit,
            wave=visit.wave,
            form=form,
            visible=visible,
            errors=errors or {},
            comments={k: v[0] if isinstance(v, list) else v for k, v in comments.items()},
            draft_data=fields,
            revision=draft.revision if draft else 0,
            saved_at=draft.saved_at if draft else None,
            photos=photos,
            receipts=receipts,
            money=format_currency,
            notes=notes,
            expense=fields.get(service.EXPENSE_FIELD, ""),
            condition=_condition,
            stopwatch_unit=stopwatch_unit,
            field_name=field_name,
            store_time=store_time,
            submission_id=submission_id or service.new_submission_id(),
        ),
        status,
    )


@bp.route("/visits/<int:visit_id>/form")
@roles_required(SHOPPER)
def form(visit_id: int) -> ResponseReturnValue:
    visit = _visit(visit_id)
    if visit.status not in service.EDITABLE:
        if visit.status == "assigned":
            flash(_("Please accept this visit first."), "info")
        else:
            flash(_("This visit has already been submitted."), "info")
        return redirect(url_for("my_visits.show", visit_id=visit.id))
    return _render(visit, service.draft_answers(visit))


@bp.route("/visits/<int:visit_id>/draft", methods=["POST"])
@roles_required(SHOPPER)
def draft(visit_id: int) -> ResponseReturnValue:
    visit = _visit(visit_id)
    if not request.is_json:
        return _save_posted_draft(visit)
    unreadable = jsonify({"ok": False, "error": _("The draft could not be read.")}), 400
    data = _body(service.MAX_DRAFT_BYTES)
    if data is None:
        message = _("The draft is too large to save. Shorten the longest answers.")
        return jsonify({"ok": False, "error": message}), 413
    try:
        body = scoring.loads_exact(data.decode("utf-8"))
    except ValueError:  # not UTF-8 or not JSON, nested too deep, numbers out of bounds
        return unreadable
    if not isinstance(body, dict):
        return unreadable
    revision = body.get("revision")
    if not isinstance(revision, int) or isinstance(revision, bool):
        return unreadable
    try:
        stored, stale = service.save_draft(visit, revision, body.get("data"))
    except DomainError as error:
        db.session.rollback()
        return jsonify({"ok": False, "error": str(error)}), error.status_code
    if stale:
        db.session.rollback()
        return jsonify({"revision": stored, "stale": True})
    db.session.commit()
    saved = service.get_draft(visit)
    return jsonify({"revision": stored, "saved_at": saved.saved_at.isoformat() if saved else None})


def _body(limit: int) -> bytes | None:
    """The request body, or None when it is larger than ``limit`` bytes: refused on its
    declared length, else after reading at most one byte more than the limit."""
    if request.content_length is not None and request.content_length > limit:
        return None
    data = bytearray()
    while len(data) <= limit and (chunk := request.stream.read(limit + 1 - len(data))):
        data += chunk
    return None if len(data) > limit else bytes(data)


def _save_posted_draft(visit: Visit) -> ResponseReturnValue:
    for message in _store_posted_photos(visit, f"draft-{service.new_submission_id()}").values():
        flash(message, "error")
    try:
        service.save_draft(visit, None, _posted_fields())
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("my_visits.show", visit_id=visit.id))
    db.session.commit()
    flash(_("Draft saved."), "success")
    return redirect(url_for(".form", visit_id=visit.id))


@bp.route("/visits/<int:visit_id>/submit", methods=["POST"])
@roles_required(SHOPPER)
def submit(visit_id: int) -> ResponseReturnValue:
    visit = _visit(visit_id)
    if request.form.get("action") == "save":  # a browser that ignored formaction
        return _save_posted_draft(visit)
    fields = _posted_fields()
    submission_id = request.form.get("submission_id", "").strip()
    refused = _store_posted_photos(visit, f"form-{submission_id[:40]}")
    try:
        if refused:
            raise service.SubmissionInvalid(refused)
        submission = service.submit(visit, current_user, submission_id, fields, _language())
    except service.SubmissionInvalid as invalid:
        db.session.rollback()
        if _wants_json():
            return jsonify({"ok": False, "errors": invalid.errors}), 422
        try:  # without JavaScript there is no autosave: keep what was typed as the draft
            service.save_draft(visit, None, fields)
            db.session.commit()
        except DomainError:
            db.session.rollback()
        flash(_("Some answers need your attention; nothing you entered was lost."), "error")
        return _render(visit, fields, invalid.errors, 422, submission_id)
    except DomainError as error:
        db.session.rollback()
        if _wants_json():
            return jsonify({"ok": False, "error": str(error)}), error.status_code
        return render_template("errors/error.html", message=str(error)), error.status_code
    client_id = submission.client_submission_id
    db.session.commit()
    if _wants_json():
        return jsonify(
            {"ok": True, "submission_id": client_id, "redirect": url_for("my_visits.index")}
        )
    flash(_("Visit submitted. Thank you!"), "success")
    return redirect(url_for("my_visits.index"))
