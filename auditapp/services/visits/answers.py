"""The answers of a visit form: built by forms/builder.py from the posted fields,
checked against the pinned checklist version, and written as plain JSON.

Rules decided here (see services/form.py for the rest):

- Hidden questions' values are discarded; values outside a question's domain are
  errors; required visible questions left unanswered are errors.
- A ``number`` field is a plain decimal (no exponent, at most 15 digits before the point
  and 20 after it), read by scoring's one bounded parser inside the field itself
  (forms/answer_fields.py), so that it is stored exactly in a JSON number and cannot be
  made huge on purpose.
- A ``photo`` question is answered by the evidence uploaded for it (the ids of the
  visit's Evidence rows with that question key, as strings), never by a posted value;
  its N/A box still counts.
- Comments are ``comment_<section key>`` per section and ``comment_overall`` for the
  visit (stored with section key ""). A section keyed "overall" (the starters have one)
  has no comment box of its own: the overall comment is its comment.
"""

from collections.abc import Mapping
from datetime import date, time
from decimal import Decimal
from fractions import Fraction
from typing import Any

from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms import Form

import scoring
from forms.builder import ChecklistFormMixin, build_form_class, form_data
from scoring.exact import show_number

from ...extensions import db
from ...models import ChecklistQuestion
from ...models.answers import Evidence, VisitAnswer
from ...models.waves import Visit
from ..checklists import derived, json_number

OVERALL = "overall"  # comment_overall is the visit's overall comment (section_key "")
MAX_COMMENT_CHARS = 5000

Fields = Mapping[str, str | list[str]]


class _PlainBase(Form):
    """No CSRF here: the request was checked by CSRFProtect before the view ran."""


def form_for(
    checklist: scoring.Checklist, fields: Fields | None, language: str | None
) -> ChecklistFormMixin:
    """The built form, filled from raw fields (a draft or a POST)."""
    form_class = form_class_for(checklist, language)
    formdata: MultiDict[str, str] = MultiDict()
    for name, value in (fields or {}).items():
        for item in value if isinstance(value, list) else [value]:
            formdata.add(name, item)
    form = form_class(formdata=formdata)
    form.require_answers = False  # required is checked below, with our own message
    return form


def form_class_for(checklist: scoring.Checklist, language: str | None) -> type[ChecklistFormMixin]:
    """The form class of the checklist, made once per published version, checklist
    language and page locale (the builder's own words are translated as it builds)."""
    locale = str(get_locale())
    return derived(
        checklist,
        ("visit form", language, locale),
        lambda: build_form_class(checklist, base=_PlainBase, language=language, gettext=_),
    )


def photo_answers(visit: Visit) -> dict[str, list[str]]:
    """Evidence uploaded for each photo question: {question key: [evidence ids]}."""
    rows = db.session.execute(
        select(Evidence.question_key, Evidence.id)
        .where(Evidence.visit_id == visit.id, Evidence.question_key.is_not(None))
        .order_by(Evidence.id)
    ).all()
    found: dict[str, list[str]] = {}
    for key, evidence_id in rows:
        found.setdefault(str(key), []).append(str(evidence_id))
    return found


def uploaded(visit: Visit) -> tuple[dict[str, list[str]], list[int]]:
    """(``photo_answers``, the ids of the visit's receipts), in one query."""
    rows = db.session.execute(
        select(Evidence.kind, Evidence.question_key, Evidence.id)
        .where(Evidence.visit_id == visit.id)
        .order_by(Evidence.id)
    ).all()
    found: dict[str, list[str]] = {}
    for _kind, key, evidence_id in rows:
        if key is not None:
            found.setdefault(str(key), []).append(str(evidence_id))
    return found, [evidence_id for kind, _key, evidence_id in rows if kind == "receipt"]


def check_answers(
    visit: Visit, checklist: scoring.Checklist, form: ChecklistFormMixin, fields: Fields
) -> tuple[dict[str, scoring.Answer], dict[str, str]]:
    """(cleaned answers of the visible questions, errors by question key)."""
    form.validate()
    raw = form.submitted()
    photos = photo_answers(visit)
    for question in checklist.questions():
        if question.type == "photo" and raw.get(question.key) != scoring.NA:
            raw.pop(question.key, None)
            if photos.get(question.key):
                raw[question.key] = photos[question.key]
    validated = scoring.validate_answers(checklist, raw)
    errors: dict[str, str] = {}
    for slot in form.slots():
        key = slot.question.key
        if key not in validated.visible:
            continue
        messages = list(slot.field.errors) + list(slot.na_field.errors if slot.na_field else [])
        if messages:
            errors[key] = " ".join(str(m) for m in messages)
        elif key in validated.errors:
            errors[key] = _("This answer is not allowed here (%(reason)s).") % {
                "reason": validated.errors[key]
            }
    answers = {k: v for k, v in validated.answers.items() if k not in errors}
    for key in scoring.missing_required(checklist, answers):
        errors.setdefault(key, _("This question needs an answer."))
    return answers, errors


def comments_from(
    checklist: scoring.Checklist, fields: Fields
) -> tuple[dict[str, str], dict[str, str]]:
    """({section key or "" for overall: text}, errors keyed by field name)."""
    comments: dict[str, str] = {}
    errors: dict[str, str] = {}
    for key in [s.key for s in checklist.sections if s.key != OVERALL] + [""]:
        name = f"comment_{key or OVERALL}"
        value = fields.get(name)
        text = (value[0] if isinstance(value, list) and value else value) or ""
        text = str(text).strip()
        if len(text) > MAX_COMMENT_CHARS:
            errors[name] = _("Please keep comments under %(n)d characters.", n=MAX_COMMENT_CHARS)
        elif text:
            comments[key] = text
    return comments, errors


def plain(value: Any) -> Any:
    """Answers and results as plain JSON: exact numbers as JSON numbers."""
    if isinstance(value, Fraction):
        return json_number(value)
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


# --- stored answers as form fields ---------------------------------------------------


def stored_answers(visit: Visit) -> dict[str, VisitAnswer]:
    """{question key: the visit's answer row}."""
    rows = db.session.execute(
        select(ChecklistQuestion.key, VisitAnswer)
        .join(VisitAnswer, VisitAnswer.question_id == ChecklistQuestion.id)
        .where(VisitAnswer.visit_id == visit.id)
    ).all()
    return dict(rows)


def _field_text(value: object) -> str | list[str]:
    """A stored answer as the form's raw field text (as a draft holds it)."""
    if value is True:
        return "y"
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def answer_fields(
    checklist: scoring.Checklist, answers: Mapping[str, object]
) -> dict[str, str | list[str]]:
    """Cleaned answers as the raw fields of the built form, for filling it in."""
    return {name: _field_text(v) for name, v in form_data(checklist, answers).items()}


def local_text(translations: Any, language: str | None, name: str, fallback: str) -> str:
    return scoring.localized(translations, language, name, fallback) if language else fallback


def answer_text(question: scoring.Question, value: object, language: str | None) -> str:
    """A cleaned answer in words: option labels, not keys."""
    if value is None:
        return _("Not answered")
    if value == scoring.NA and question.na_allowed:
        return _("Not applicable")
    labels = {
        o.value: local_text(o.translations, language, "label", o.label) for o in question.options
    }
    if question.type == "yes_no" and not labels:
        labels = {"yes": _("Yes"), "no": _("No")}
    if question.type in ("yes_no", "choice"):
        return labels.get(str(value), str(value))
    if question.type == "multi":
        chosen = value if isinstance(value, tuple | list) else (value,)
        return ", ".join(labels.get(str(v), str(v)) for v in chosen) or _("None of these")
    if question.type == "photo":
        count = len(value) if isinstance(value, tuple | list) else 1
        return ngettext("%(num)d photo", "%(num)d photos", count)
    if isinstance(value, Fraction | int):
        return show_number(Fraction(value))
    return str(value)
