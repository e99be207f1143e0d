"""The preview of a checklist version: the form exactly as a shopper will see it (built
by forms/builder.py), scored as answers are chosen. builder.js posts the form to
``preview_score`` (JSON); without JavaScript, "Calculate score" posts to ``preview``,
which renders the page again with the result. Nothing is saved."""

from decimal import Decimal
from fractions import Fraction
from typing import Any

from flask import jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

import scoring
from forms.builder import build_form_class, field_name, na_name

from ...models import ChecklistVersion
from ...permissions import get_version_or_404, roles_required
from ...services.checklists import versions as checklists
from .blueprint import EDITORS, bp


class _PreviewBase(FlaskForm):
    pass


def _preview_form(version: ChecklistVersion, language: str | None) -> Any:
    checklist = checklists.scoring_checklist(version)
    form_class = build_form_class(checklist, base=_PreviewBase, language=language, gettext=_)
    form = form_class()
    form.require_answers = False  # the preview scores partial answers
    return checklist, form


def _language() -> str | None:
    return "zh" if request.args.get("lang") == "zh" else None


def preview_result(checklist: scoring.Checklist, form: Any) -> dict[str, Any]:
    """Validate the answers and score them: the JSON the preview panel shows."""
    form.validate()
    answers = form.answers()
    keys = {q.key for q in checklist.questions()}
    errors: dict[str, str] = {}
    for key in keys:
        for name in (field_name(key), na_name(key)):
            if name in form._fields and form._fields[name].errors:
                errors[key] = " ".join(str(e) for e in form._fields[name].errors)
    if "csrf_token" in form.errors:
        errors["csrf_token"] = " ".join(form.errors["csrf_token"])
    validated = scoring.validate_answers(checklist, answers)
    errors.update({k: v for k, v in validated.errors.items() if k not in errors})
    usable = {k: v for k, v in answers.items() if k not in errors}
    result = scoring.score_visit(checklist, usable)
    titles = {s.key: s.title for s in checklist.sections}
    return {
        "score": _text(result.display_score()),
        "result": result.result,
        "grade": result.grade,
        "critical_failures": list(result.critical_failures),
        "sections": [
            {
                "key": s.key,
                "title": titles.get(s.key, s.key),
                "score": None
                if s.score is None
                else _text(scoring.round_half_up(s.score, result.decimals)),
                "applicable": s.applicable,
            }
            for s in result.sections
        ],
        "visible": sorted(scoring.visible_keys(checklist, usable)),
        "missing": scoring.missing_required(checklist, usable),
        "errors": errors,
    }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _rounded(value: Fraction | None, places: int) -> str | None:
    return None if value is None else str(scoring.round_half_up(value, places))


@bp.route("/versions/<int:version_id>/preview", methods=["GET", "POST"])
@roles_required(*EDITORS)
def preview(version_id: int) -> ResponseReturnValue:
    """The form as a shopper sees it; POST (no JavaScript) re-renders with the score."""
    version = get_version_or_404(current_user, version_id)
    language = _language()
    checklist, form = _preview_form(version, language)
    outcome = preview_result(checklist, form) if request.method == "POST" else None
    visible = set(outcome["visible"]) if outcome else scoring.visible_keys(checklist, {})
    return render_template(
        "checklists/preview.html", version=version, checklist=version.checklist, form=form,
        outcome=outcome, visible=visible, language=language,
    )  # fmt: skip


@bp.route("/versions/<int:version_id>/preview/score", methods=["POST"])
@roles_required(*EDITORS)
def preview_score(version_id: int) -> ResponseReturnValue:
    version = get_version_or_404(current_user, version_id)
    checklist, form = _preview_form(version, _language())
    return jsonify(preview_result(checklist, form))
