"""The shopper's visit form: confirm the briefing, check in, fill the form section by
section, save drafts, check out and submit exactly once.

Everything works as plain HTML forms; static/visit_form/ (ES modules) adds autosave
to ``draft`` (JSON), offline queueing and show_if toggling on top of the same markup.
A shopper only reaches their own visits; anyone else gets 404.
"""

import json
import re
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import format_currency, get_locale, get_translations
from flask_babel import gettext as _
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context, Macro
from markupsafe import Markup
from wtforms.fields.choices import SelectFieldBase

import scoring
from forms.builder import QuestionSlot, field_name

from ..extensions import db
from ..models import SHOPPER
from ..models.answers import VisitDraft
from ..models.waves import RETURNED, Visit
from ..permissions import roles_required
from ..services.checklists.rows import derived, json_number
from ..services.visits import evidence as evidence_service
from ..services.visits import form as service
from .my_visits import my_visit_or_404, my_visit_query, store_time
from .transaction import transaction

bp = Blueprint("visit_form", __name__, url_prefix="/my")
RECEIPT = "receipt"  # the file input of the receipt (the expenses card)

_TIMING_KEY = re.compile(r"(^|_)(s|secs?|seconds?|mins?|minutes?)$|(seconds|minutes|wait|time)")
_TIMING_TEXT = re.compile(r"\b(seconds?|minutes?|mins?|secs?)\b|秒|分钟", re.IGNORECASE)


def _visit(visit_id: int) -> Visit:
    return my_visit_or_404(visit_id)


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
        with transaction(show=False) as saved:
            evidence_service.store_upload(
                visit, current_user, data, upload.filename, f"{upload_prefix}-{index}", kind, key
            )
        if not saved:
            refused[key or service.EXPENSE_FIELD] = saved.message
    return refused


# --- briefing, start, finish --------------------------------------------------------------


@bp.route("/visits/<int:visit_id>/briefing", methods=["POST"])
@roles_required(SHOPPER)
def briefing(visit_id: int) -> ResponseReturnValue:
    visit = _visit(visit_id)
    with transaction() as saved:
        service.confirm_briefing(visit)
    if saved:
        flash(_("Thank you. You have confirmed the briefing."), "success")
    return redirect(url_for("my_visits.show", visit_id=visit.id))


@bp.route("/visits/<int:visit_id>/start", methods=["POST"])
@roles_required(SHOPPER)
def start(visit_id: int) -> ResponseReturnValue:
    visit = _visit(visit_id)
    form = request.form
    with transaction() as saved:
        service.start_visit(
            visit,
            current_user,
            consent=form.get("consent") == "1",
            lat=form.get("latitude", ""),
            lng=form.get("longitude", ""),
            accuracy=form.get("accuracy", ""),
        )
    if not saved:
        return redirect(url_for("my_visits.show", visit_id=visit_id))
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
    # Two commits: what was typed is kept even when the check-out is refused.
    with transaction() as drafted:
        if fields:
            service.save_draft(visit, None, fields)
    if drafted:
        with transaction() as saved:
            service.finish_visit(visit)
        if saved:
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


# --- markup kept between pages ---------------------------------------------------------

# Blocks kept per form class (a published version, a language and a locale): a block
# is a kilobyte or two, so this keeps under a megabyte per form class.
QUESTION_BLOCKS_KEPT = 400
_LOCALE_FRAGMENTS: dict[tuple[str, str], str] = {}


def _keeping_markup() -> bool:
    """Not while templates reload on change (development), or edits would not show."""
    return not current_app.jinja_env.auto_reload


def same_for_locale(macro: Macro) -> str:
    """The markup of a template macro that depends on the page's language alone,
    made once per locale. (A macro's output is Markup, so it is kept as it came.)"""
    key = (macro.name, str(get_locale()))
    found = _LOCALE_FRAGMENTS.get(key)
    if found is None:
        found = macro()
        if _keeping_markup():
            _LOCALE_FRAGMENTS[key] = found
    return found


@dataclass
class QuestionBlocks:
    """Renders each question with the template's macro. The block of a question shown
    without an error or a reviewer's note depends on nothing but the question (fixed
    for a published version, language and locale: the form class), whether it is
    visible, which choices are ticked, whether its N/A box is, and how many photos it
    has; so those blocks are kept by that, beside the form class. A field holding
    typed text is rendered every time, as its text could be anything."""

    kept: dict[Hashable, str]
    visible: frozenset[str]
    errors: dict[str, str]
    photos: dict[str, list[str]]
    notes: list[Any] | None

    def __call__(self, macro: Macro, slot: QuestionSlot) -> str:
        key = self._shown(slot)
        found = None if key is None else self.kept.get(key)
        if found is None:
            found = macro(slot, self.visible, self.errors, self.photos, self.notes)
            if key is not None and len(self.kept) < QUESTION_BLOCKS_KEPT:
                self.kept[key] = found
        return found

    def _shown(self, slot: QuestionSlot) -> Hashable | None:
        """What the block shows of this page, or None when it is not kept."""
        key = slot.question.key
        field, box = slot.field, slot.na_field
        if self.errors.get(key) or self.notes:
            return None
        if isinstance(field, SelectFieldBase):
            # WTForms 3.3 yields Choice tuples; types-WTForms 3.2 knows plain ones
            value: Hashable = tuple(choice[2] for choice in field.iter_choices())
        elif field.type == "FileField":  # a file input never shows a value
            value = ()
        elif field._value() == "":  # type: ignore[attr-defined]  # every input has it
            value = ""
        else:
            return None
        ticked = None if box is None else (bool(box.data), box._value())  # type: ignore[attr-defined]
        photos = len(self.photos.get(key, ())) if slot.question.type == "photo" else 0
        return key, key in self.visible, value, ticked, photos


@pass_context
def _page_gettext(context: Context, text: str, **variables: Any) -> str:
    """The page's ``_`` (Jinja's newstyle gettext): the page's translations looked up
    once, in ``_render``, rather than at each of the page's many words."""
    translated = context["page_translations"].ugettext(text)
    if context.eval_ctx.autoescape:
        translated = Markup(translated)  # noqa: S704 - a translation is markup, as in Jinja
    return translated % variables  # type: ignore[no-any-return]


def _question_blocks(checklist: scoring.Checklist, language: str | None) -> dict[Hashable, str]:
    if not _keeping_markup():
        return {}
    return derived(checklist, ("question blocks", language, str(get_locale())), dict)


def _render(
    visit: Visit,
    fields: dict[str, Any],
    draft: VisitDraft | None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    submission_id: str | None = None,
) -> ResponseReturnValue:
    checklist = service.scoring_checklist(visit.checklist_version)
    form = service.form_for(checklist, fields, _language())
    visible = scoring.visible_keys(checklist, form.submitted())
    photos, receipts = service.uploaded(visit)
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
            question_block=QuestionBlocks(
                _question_blocks(checklist, _language()),
                frozenset(visible),
                errors or {},
                photos,
                notes,
            ),
            same_for_locale=same_for_locale,
            gettext=_page_gettext,
            page_translations=get_translations(),
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


def _visit_and_draft(visit_id: int) -> tuple[Visit, VisitDraft | None]:
    """The shopper's visit (as ``_visit``) with its draft, in one query."""
    found = db.session.execute(
        my_visit_query(visit_id)
        .add_columns(VisitDraft)
        .outerjoin(VisitDraft, VisitDraft.visit_id == Visit.id)
    ).first()
    if found is None:
        abort(404)
    return found[0], found[1]


@bp.route("/visits/<int:visit_id>/form")
@roles_required(SHOPPER)
def form(visit_id: int) -> ResponseReturnValue:
    visit, draft = _visit_and_draft(visit_id)
    if visit.status not in service.EDITABLE:
        if visit.status == "assigned":
            flash(_("Please accept this visit first."), "info")
        else:
            flash(_("This visit has already been submitted."), "info")
        return redirect(url_for("my_visits.show", visit_id=visit.id))
    return _render(visit, service.form_state(visit, draft), draft)


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
    with transaction(show=False) as saved:
        stored, stale = service.save_draft(visit, revision, body.get("data"))
    if not saved:
        return jsonify({"ok": False, "error": saved.message}), saved.status
    if stale:  # nothing was written
        return jsonify({"revision": stored, "stale": True})
    row = service.get_draft(visit)
    return jsonify({"revision": stored, "saved_at": row.saved_at.isoformat() if row else None})


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
    with transaction() as saved:
        service.save_draft(visit, None, _posted_fields())
    if not saved:
        return redirect(url_for("my_visits.show", visit_id=visit.id))
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
    if refused:
        return _not_submitted(visit, fields, refused, submission_id)
    with transaction(show=False) as saved:
        submission = service.submit(visit, current_user, submission_id, fields, _language())
        client_id = submission.client_submission_id
    if isinstance(saved.error, service.SubmissionInvalid):
        return _not_submitted(visit, fields, saved.error.errors, submission_id)
    if not saved:
        if _wants_json():
            return jsonify({"ok": False, "error": saved.message}), saved.status
        return render_template("errors/error.html", message=saved.message), saved.status
    if _wants_json():
        return jsonify(
            {"ok": True, "submission_id": client_id, "redirect": url_for("my_visits.index")}
        )
    flash(_("Visit submitted. Thank you!"), "success")
    return redirect(url_for("my_visits.index"))


def _not_submitted(
    visit: Visit, fields: dict[str, str | list[str]], errors: dict[str, str], submission_id: str
) -> ResponseReturnValue:
    """Answers to fix: listed for the script, else the form again with the messages."""
    if _wants_json():
        return jsonify({"ok": False, "errors": errors}), 422
    # Without JavaScript there is no autosave: keep what was typed as the draft (when
    # the draft is refused too, the messages below still say what to fix).
    with transaction(show=False):
        service.save_draft(visit, None, fields)
    flash(_("Some answers need your attention; nothing you entered was lost."), "error")
    return _render(visit, fields, service.get_draft(visit), errors, 422, submission_id)
