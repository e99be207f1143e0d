"""The builder's section and question routes, on the checklists blueprint: edit,
reorder (up/down), duplicate, delete, and the question editor with its options, number
bands and condition. Every route refuses a published version (409) before it reads a
form; the services check again and the model guard is the backstop."""

from typing import Any

from flask import abort, flash, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from forms.checklists import QuestionForm, SectionForm

from ...extensions import db
from ...models import ChecklistQuestion, ChecklistSection, ChecklistVersion
from ...permissions import get_version_or_404, roles_required
from ...services.checklists import versions as checklists
from ..transaction import Outcome, transaction
from .blueprint import EDITORS, TYPE_LABELS, bp, builder_url, draft_only


def _section_or_404(section_id: int) -> ChecklistSection:
    section = db.session.get(ChecklistSection, section_id)
    if section is None:
        abort(404)
    get_version_or_404(current_user, section.version_id)  # scope: 404 outside it
    return section


def _question_or_404(question_id: int) -> ChecklistQuestion:
    question = db.session.get(ChecklistQuestion, question_id)
    if question is None:
        abort(404)
    get_version_or_404(current_user, question.version_id)
    return question


def _editable_section(section_id: int) -> ChecklistSection:
    section = _section_or_404(section_id)
    draft_only(section.version)
    return section


def _editable_question(question_id: int) -> ChecklistQuestion:
    question = _question_or_404(question_id)
    draft_only(question.version)
    return question


def _delta() -> int:
    return -1 if request.form.get("direction") == "up" else 1


def _docs(version: ChecklistVersion) -> dict[str, Any]:
    return checklists.version_document(version)


def _section_doc(section: ChecklistSection) -> dict[str, Any]:
    return dict(_docs(section.version)["sections"][section.version.sections.index(section)])


def _question_doc(question: ChecklistQuestion) -> dict[str, Any]:
    section = question.section
    sdoc = _section_doc(section)
    return dict(sdoc["questions"][section.questions.index(question)])


def _done(version: ChecklistVersion, message: str, anchor: str | None) -> ResponseReturnValue:
    flash(message, "success")
    return redirect(builder_url(version, anchor))


# --- sections ----------------------------------------------------------------------


@bp.route("/sections/<int:section_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit_section(section_id: int) -> ResponseReturnValue:
    section = _editable_section(section_id)
    version = section.version
    doc = _section_doc(section)
    form = SectionForm()
    saved = Outcome()
    if request.method == "GET":
        form.fill(doc)
    elif form.validate_on_submit():
        with transaction(form) as saved:
            checklists.update_section(section, form.to_data(doc))
        if saved:
            return _done(version, _("Section saved."), f"section-{section_id}")
    page = render_template(
        "checklists/section_form.html", form=form, version=version, section=section
    )
    return page, saved.status


@bp.route("/sections/<int:section_id>/move", methods=["POST"])
@roles_required(*EDITORS)
def move_section(section_id: int) -> ResponseReturnValue:
    section = _editable_section(section_id)
    with transaction():
        checklists.move_section(section, _delta())
    return redirect(builder_url(section.version, f"section-{section_id}"))


@bp.route("/sections/<int:section_id>/duplicate", methods=["POST"])
@roles_required(*EDITORS)
def duplicate_section(section_id: int) -> ResponseReturnValue:
    section = _editable_section(section_id)
    with transaction() as saved:
        copy = checklists.duplicate_section(section)
        db.session.flush()
    if saved:
        return _done(section.version, _("Section duplicated."), f"section-{copy.id}")
    return redirect(builder_url(section.version, f"section-{section_id}"))


@bp.route("/sections/<int:section_id>/delete", methods=["POST"])
@roles_required(*EDITORS)
def delete_section(section_id: int) -> ResponseReturnValue:
    section = _editable_section(section_id)
    version = section.version
    with transaction() as saved:
        checklists.delete_section(section)
    if saved:
        return _done(version, _("Section deleted."), None)
    return redirect(builder_url(version, f"section-{section_id}"))


# --- questions ---------------------------------------------------------------------


def _question_form(
    version: ChecklistVersion, before: ChecklistQuestion | ChecklistSection
) -> QuestionForm:
    """The editor, its condition limited to questions before ``before`` (a question, or
    a section whose end a new question is added to)."""
    form = QuestionForm()
    if isinstance(before, ChecklistSection):
        upto = version.sections[: version.sections.index(before) + 1]
        questions = [q for s in upto for q in s.questions]
    else:
        everything = version.questions()
        questions = everything[: everything.index(before)]
    earlier = [(q.key, f"{q.key} — {q.text[:60]}") for q in questions]
    form.set_earlier(earlier)
    return form


def _types(version: ChecklistVersion) -> dict[str, str]:
    return {q.key: q.type for q in version.questions()}


def _options_by_key(version: ChecklistVersion) -> dict[str, list[str]]:
    """Each earlier question's possible values, offered as hints for the condition."""
    hints = {}
    for q in version.questions():
        if q.type == "yes_no":
            hints[q.key] = ["yes", "no"]
        elif q.options:
            hints[q.key] = [o.value for o in q.options]
    return hints


def _render_question(
    form: QuestionForm, version: ChecklistVersion, section: ChecklistSection, question: Any
) -> ResponseReturnValue:
    status = 400 if request.method == "POST" else 200
    return render_template(
        "checklists/question_form.html", form=form, version=version, section=section,
        question=question, hints=_options_by_key(version), type_labels=TYPE_LABELS,
    ), status  # fmt: skip


@bp.route("/sections/<int:section_id>/questions/new", methods=["GET", "POST"])
@roles_required(*EDITORS)
def add_question(section_id: int) -> ResponseReturnValue:
    section = _editable_section(section_id)
    version = section.version
    form = _question_form(version, section)
    if request.method == "GET":
        form.pad()
    elif form.validate_on_submit():
        with transaction(form) as saved:
            question = checklists.add_question(section, form.to_data(None, _types(version)))
            db.session.flush()
        if saved:
            return _done(version, _("Question added."), f"question-{question.id}")
    return _render_question(form, version, section, None)


@bp.route("/questions/<int:question_id>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit_question(question_id: int) -> ResponseReturnValue:
    question = _editable_question(question_id)
    version, section = question.version, question.section
    doc = _question_doc(question)
    form = _question_form(version, question)
    if request.method == "GET":
        form.fill(doc)
    elif form.validate_on_submit():
        with transaction(form) as saved:
            checklists.update_question(question, form.to_data(doc, _types(version)))
        if saved:
            return _done(version, _("Question saved."), f"question-{question_id}")
    return _render_question(form, version, section, question)


@bp.route("/questions/<int:question_id>/move", methods=["POST"])
@roles_required(*EDITORS)
def move_question(question_id: int) -> ResponseReturnValue:
    question = _editable_question(question_id)
    with transaction():
        checklists.move_question(question, _delta())
    return redirect(builder_url(question.version, f"question-{question_id}"))


@bp.route("/questions/<int:question_id>/duplicate", methods=["POST"])
@roles_required(*EDITORS)
def duplicate_question(question_id: int) -> ResponseReturnValue:
    question = _editable_question(question_id)
    with transaction() as saved:
        copy = checklists.duplicate_question(question)
        db.session.flush()
    if saved:
        return _done(question.version, _("Question duplicated."), f"question-{copy.id}")
    return redirect(builder_url(question.version, f"question-{question_id}"))


@bp.route("/questions/<int:question_id>/delete", methods=["POST"])
@roles_required(*EDITORS)
def delete_question(question_id: int) -> ResponseReturnValue:
    question = _editable_question(question_id)
    version, section = question.version, question.section
    with transaction() as saved:
        checklists.delete_question(question)
    if saved:
        return _done(version, _("Question deleted."), f"section-{section.id}")
    return redirect(builder_url(version, f"question-{question_id}"))
