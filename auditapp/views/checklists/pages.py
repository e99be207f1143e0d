"""Checklists: the list, new/starter/import, a checklist's versions and their diff,
exports, and the builder page of a draft (settings, sections, lint, publish).

The editing of sections and questions lives in ``builder`` and the preview in
``preview``, both on this same blueprint (blueprint.py). Every state change is a POST
(CSRF is checked app-wide); edits to a published version end in ChecklistLocked,
which errors.py shows as a 409 page.
"""

import re
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; types-WTForms 3.2 lacks it

from forms.checklists import (
    CRITICAL_CHOICES,
    METHOD_CHOICES,
    TAG_CHOICES,
    UNANSWERED_CHOICES,
    ChecklistImportForm,
    NewChecklistForm,
    SectionForm,
    SettingsForm,
    StarterForm,
)
from scoring import LintIssue

from ...extensions import db
from ...models import (
    Checklist,
    ChecklistVersion,
    Client,
)
from ...permissions import (
    checklist_scope,
    client_scope,
    get_checklist_or_404,
    get_client_or_404,
    get_version_or_404,
    roles_required,
)
from ...services.checklists import files as checklist_files
from ...services.checklists import versions as checklists
from ...services.reporting import reliability
from ..params import id_arg
from ..transaction import add_error, transaction
from .blueprint import EDITORS, TYPE_LABELS, bp, builder_url, draft_only

EXPORTS = {
    "json": (checklist_files.export_json, "application/json"),
    "yaml": (checklist_files.export_yaml, "application/yaml"),
    "xlsx": (
        checklist_files.export_xlsx,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
}
TAG_LABELS = {choice.value: choice.label for choice in TAG_CHOICES}
# How a published version's scoring settings read, instead of their stored keys.
SETTING_LABELS = {
    "method": {choice.value: choice.label for choice in METHOD_CHOICES},
    "unanswered": {choice.value: choice.label for choice in UNANSWERED_CHOICES},
    "critical_failure": {choice.value: choice.label for choice in CRITICAL_CHOICES},
}


def _client_choices() -> list[SelectChoice]:
    clients = db.session.scalars(
        select(Client).where(client_scope(current_user), Client.active).order_by(Client.name)
    )
    return [SelectChoice(c.id, f"{c.name} ({c.code})") for c in clients]


def _new_forms() -> tuple[NewChecklistForm, StarterForm]:
    choices = _client_choices()
    new, starter = NewChecklistForm(prefix="new"), StarterForm(prefix="starter")
    new.client_id.choices = starter.client_id.choices = choices
    starter.starter.choices = [SelectChoice(s.key, s.title) for s in checklists.list_starters()]
    return new, starter


def render_builder(
    version: ChecklistVersion, status: int = 200, **forms: Any
) -> ResponseReturnValue:
    """The builder page of a draft (or the read-only page of a published version)."""
    document = checklists.version_document(version)
    issues = checklists.lint(version)
    if version.is_draft:
        issues += reliability_warnings(version.checklist, document)
    context: dict[str, Any] = {
        "version": version,
        "checklist": version.checklist,
        "document": document,
        "errors": [i for i in issues if i.level == "error"],
        "warnings": [i for i in issues if i.level == "warning"],
        "type_labels": TYPE_LABELS,
        "tag_labels": TAG_LABELS,
        "setting_labels": SETTING_LABELS,
    }
    if version.is_draft:
        settings = forms.get("settings")
        if settings is None:
            settings = SettingsForm(formdata=None, prefix="settings")
            settings.fill(document)
        context["settings"] = settings
        context["section_form"] = forms.get("section_form") or SectionForm(
            formdata=None, prefix="section"
        )
        context["blocked"] = forms.get("blocked")
    return render_template("checklists/builder.html", **context), status


def reliability_warnings(checklist: Checklist, document: dict[str, Any]) -> list[LintIssue]:
    """A warning on each question of the draft whose key was too vague to trust in the
    calibration visits of earlier versions (services/reporting/reliability.py), while its text
    is still the one measured: once reworded, it has yet to be tried."""
    vague = reliability.too_vague_keys(checklist, current_user)
    warnings = []
    for i, section in enumerate(document.get("sections", [])):
        for j, question in enumerate(section.get("questions", [])):
            found = vague.get(question.get("key"))
            if found is None or question.get("text") != found.text:
                continue
            message = _(
                "Shoppers disagreed on this question in calibration visits"
                " (α = %(alpha)s, n = %(n)d): consider rewording",
                alpha=f"{found.alpha:.2f}",
                n=found.n,
            )
            warnings.append(LintIssue("warning", f"sections[{i}].questions[{j}]", message))
    return warnings


# --- the list and new checklists ----------------------------------------------------------


@bp.route("/")
@roles_required(*EDITORS)
def index() -> ResponseReturnValue:
    # Eager loads named here: the list shows each checklist's client and versions.
    rows = db.session.scalars(
        select(Checklist)
        .where(checklist_scope(current_user))
        .options(selectinload(Checklist.client), selectinload(Checklist.versions))
        .order_by(Checklist.client_id, Checklist.title)
    ).all()
    new, starter = _new_forms()
    return render_template(
        "checklists/index.html", checklists=rows, new=new, starter=starter,
        starters=checklists.list_starters(),
    )  # fmt: skip


@bp.route("/new", methods=["POST"])
@roles_required(*EDITORS)
def create() -> ResponseReturnValue:
    new, starter = _new_forms()
    if not new.validate_on_submit():
        return _index_again(new, starter)
    client = get_client_or_404(current_user, new.client_id.data)
    with transaction(new.title) as saved:
        checklist = checklists.create_checklist(client, new.title.data or "", current_user)
    if saved:
        flash(_("Checklist created. Add sections and questions below."), "success")
        return redirect(_draft_url(checklist))
    return _index_again(new, starter, saved.status)


@bp.route("/starter", methods=["POST"])
@roles_required(*EDITORS)
def copy_starter() -> ResponseReturnValue:
    new, starter = _new_forms()
    if not starter.validate_on_submit():
        return _index_again(new, starter)
    client = get_client_or_404(current_user, starter.client_id.data)
    with transaction(starter.starter) as saved:
        checklist = checklists.copy_starter(starter.starter.data, client, current_user)
    if saved:
        flash(_("Starter copied. It is a draft: adapt it, then publish."), "success")
        return redirect(_draft_url(checklist))
    return _index_again(new, starter, saved.status)


def _draft_url(checklist: Checklist) -> str:
    draft = checklists.draft_of(checklist)
    assert draft is not None  # a checklist made, copied or imported starts as a draft
    return builder_url(draft)


def _index_again(
    new: NewChecklistForm, starter: StarterForm, status: int = 400
) -> ResponseReturnValue:
    rows = db.session.scalars(
        select(Checklist)
        .where(checklist_scope(current_user))
        .options(selectinload(Checklist.client), selectinload(Checklist.versions))
    ).all()
    return render_template(
        "checklists/index.html", checklists=rows, new=new, starter=starter,
        starters=checklists.list_starters(),
    ), status  # fmt: skip


@bp.route("/import", methods=["GET", "POST"])
@roles_required(*EDITORS)
def import_file() -> ResponseReturnValue:
    """Upload a JSON, YAML or XLSX checklist; every problem is listed, nothing saved."""
    form = ChecklistImportForm()
    form.client_id.choices = _client_choices()
    problems: list[str] = []
    if form.validate_on_submit():
        client = get_client_or_404(current_user, form.client_id.data)
        upload = form.file.data
        data = upload.read(current_app.config["IMPORT_MAX_BYTES"] + 1)
        if len(data) > current_app.config["IMPORT_MAX_BYTES"]:
            add_error(form.file, _("The file is too large."))
        else:
            with transaction(show=False) as saved:  # every problem listed, below
                document = checklist_files.import_document(data, upload.filename or "")
                checklist = checklists.create_checklist(
                    client, form.title.data or "", current_user, document
                )
                db.session.flush()
            if saved:
                flash(_("Checklist imported as a draft."), "success")
                return redirect(_draft_url(checklist))
            found = [str(p) for p in getattr(saved.error, "problems", [saved.message])]
            if isinstance(saved.error, checklist_files.UnreadableFile):
                add_error(form.file, *found)  # about the file: shown at its field
            else:
                problems = found
    status = 400 if problems or form.errors else 200
    return render_template("checklists/import.html", form=form, problems=problems), status


# --- one checklist: versions, diff, exports ----------------------------------------------


@bp.route("/<int:checklist_id>")
@roles_required(*EDITORS)
def show(checklist_id: int) -> ResponseReturnValue:
    checklist = get_checklist_or_404(current_user, checklist_id)
    versions = sorted(checklist.versions, key=lambda v: v.number, reverse=True)
    return render_template(
        "checklists/show.html", checklist=checklist, versions=versions,
        draft=checklists.draft_of(checklist), exports=EXPORTS,
        reliability=reliability.question_reliability(checklist, current_user),
        too_vague_below=reliability.TOO_VAGUE_BELOW, min_units=reliability.MIN_PAIRED_UNITS,
    )  # fmt: skip


@bp.route("/<int:checklist_id>/new-version", methods=["POST"])
@roles_required(*EDITORS)
def new_version(checklist_id: int) -> ResponseReturnValue:
    checklist = get_checklist_or_404(current_user, checklist_id)
    had_draft = checklists.draft_of(checklist) is not None
    with transaction() as saved:
        version = checklists.start_new_version(checklist, current_user)
    if saved:
        if had_draft:
            flash(_("There is already a draft; carry on editing it."), "info")
        else:
            flash(_("Version %(n)d started as a copy of the latest one.", n=version.number),
                  "success")  # fmt: skip
        return redirect(builder_url(version))
    return redirect(url_for("checklists.show", checklist_id=checklist_id))


@bp.route("/<int:checklist_id>/diff")
@roles_required(*EDITORS)
def diff(checklist_id: int) -> ResponseReturnValue:
    checklist = get_checklist_or_404(current_user, checklist_id)
    versions = sorted(checklist.versions, key=lambda v: v.number)
    by_id = {v.id: v for v in versions}
    new = by_id.get(id_arg("new") or 0) or versions[-1]
    earlier = [v for v in versions if v.number < new.number]
    old = by_id.get(id_arg("old") or 0) or (earlier[-1] if earlier else new)
    changes = checklists.diff_versions(old, new)
    return render_template(
        "checklists/diff.html", checklist=checklist, versions=versions, old=old, new=new,
        changes=changes, show=show_value,
    )  # fmt: skip


def show_value(value: Any) -> str:
    """A document value as a coordinator reads it in the diff."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, dict):
        for name in ("text", "title", "label"):
            if name in value:
                return str(value[name])
        return ", ".join(f"{k}: {show_value(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(show_value(v) for v in value)
    return str(value)


@bp.route("/versions/<int:version_id>/export.<fmt>")
@roles_required(*EDITORS)
def export(version_id: int, fmt: str) -> ResponseReturnValue:
    version = get_version_or_404(current_user, version_id)
    if fmt not in EXPORTS:
        abort(404)
    make, mimetype = EXPORTS[fmt]
    slug = re.sub(r"[^A-Za-z0-9]+", "-", version.checklist.title).strip("-").lower()
    name = f"{slug or 'checklist'}-v{version.number}.{fmt}"
    return Response(
        make(version),
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- a version: builder page, settings, publish ------------------------------------------


@bp.route("/versions/<int:version_id>")
@roles_required(*EDITORS)
def version(version_id: int) -> ResponseReturnValue:
    return render_builder(get_version_or_404(current_user, version_id))


@bp.route("/versions/<int:version_id>/settings", methods=["POST"])
@roles_required(*EDITORS)
def settings(version_id: int) -> ResponseReturnValue:
    version = get_version_or_404(current_user, version_id)
    draft_only(version)
    form = SettingsForm(prefix="settings")
    if form.validate():
        document = checklists.version_document(version)
        with transaction(form) as saved:
            checklists.update_settings(version, form.to_data(document))
        if saved:
            flash(_("Scoring settings saved."), "success")
            return redirect(builder_url(version, "settings"))
    return render_builder(version, 400, settings=form)


@bp.route("/versions/<int:version_id>/sections", methods=["POST"])
@roles_required(*EDITORS)
def add_section(version_id: int) -> ResponseReturnValue:
    version = get_version_or_404(current_user, version_id)
    draft_only(version)
    form = SectionForm(prefix="section")
    if form.validate():
        with transaction(form) as saved:
            section = checklists.add_section(version, form.to_data())
        if saved:
            return redirect(builder_url(version, f"section-{section.id}"))
    return render_builder(version, 400, section_form=form)


@bp.route("/versions/<int:version_id>/publish", methods=["POST"])
@roles_required(*EDITORS)
def publish(version_id: int) -> ResponseReturnValue:
    version = get_version_or_404(current_user, version_id)
    draft_only(version)
    with transaction(show=False) as saved:  # the panel lists what blocks publishing
        checklists.publish(version, current_user)
    if saved:
        flash(_("Version %(n)d is published.", n=version.number), "success")
        return redirect(url_for("checklists.show", checklist_id=version.checklist_id))
    return render_builder(version, saved.status, blocked=saved.error)
