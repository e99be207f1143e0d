"""The checklist-to-form builder: a scoring.Checklist in, a WTForms form class out.

A registry maps each question type to the field that asks it, the way its submitted
data becomes an answer (SCORING.md §1 answer shapes) and the way a stored answer goes
back into the field. The coordinator's preview and the shopper's visit form both use
it, so what the coordinator previews is exactly what the shopper sees.

Pure: imports scoring and wtforms only (and markupsafe, which wtforms renders with).
Translations come in as a ``gettext`` callable (the web layer passes flask_babel's);
the literal strings below are still found by ``pybabel extract`` because they are
written as ``gettext("...")`` calls.

Rules decided here:

- Field names are ``q_<key>``, and ``na_<key>`` for the N/A box of a question whose
  field cannot offer N/A as one of its choices (number, text, photo, date, time), so a
  question key can never clash with a form attribute such as ``data`` or ``errors``.
- N/A is the last choice of a yes_no, choice, scale or nps question that allows it;
  for a multi question it is one more box that may not be combined with others.
- A multi question has a "None of these" box: ticking nothing leaves the question
  unanswered, ticking "None of these" answers it with no option (which earns 0).
- No HTML ``required`` attribute is rendered: a required question may be hidden by
  its condition, and the browser would then refuse to submit. Required is checked on
  the server for visible questions only, and only when ``require_answers`` is true.
- Values of hidden questions are ignored, errors included, as scoring ignores them.
- Whatever the fields accept is checked once more by ``scoring.validate_answers``, so
  a crafted value outside a question's domain is rejected even if a field let it by.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, TypedDict, cast

from markupsafe import Markup
from wtforms import (
    BooleanField,
    DateField,
    Field,
    FileField,
    Form,
    RadioField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import (  # type: ignore[attr-defined]  # WTForms 3.3's SelectChoice: types-WTForms 3.2 lacks it
    SelectChoice,
    SelectFieldBase,
)
from wtforms.validators import Optional, ValidationError
from wtforms.widgets import ListWidget, html_params

from scoring import NA, Checklist, Question, Section, localized, validate_answers, visible_keys

from .answer_fields import Between, CheckboxListField, ExactNumberField

Gettext = Callable[[str], str]
SCALE_RADIO_LIMIT = 11  # wider scales are typed as a number instead of a radio row
NONE_OF_THESE = ""  # option values are never empty, so this cannot clash
_WHOLE_CHOICE = re.compile(r"-?[0-9]{1,15}")  # a scale or nps radio's value


def _identity(text: str) -> str:
    return text


def field_name(key: str) -> str:
    return f"q_{key}"


def na_name(key: str) -> str:
    return f"na_{key}"


# --- the registry -----------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """What a field maker needs besides the question: language and translations."""

    language: str | None
    gettext: Gettext

    def text(self, question: Question) -> str:
        return self._local(question.translations, "text", question.text)

    def guidance(self, question: Question) -> str:
        return self._local(question.translations, "guidance", question.guidance or "")

    def option_label(self, question: Question, value: str) -> str:
        for option in question.options:
            if option.value == value:
                return self._local(option.translations, "label", option.label)
        return value

    def _local(self, translations: Any, name: str, fallback: str) -> str:
        if not self.language:
            return fallback
        return localized(translations, self.language, name, fallback)

    def na_choice(self, question: Question) -> list[SelectChoice]:
        return [SelectChoice(NA, self.gettext("Not applicable"))] if question.na_allowed else []


class _Reading(TypedDict):
    """How a question type's field is read back and filled in again."""

    answer: Callable[[Field], object]
    fill: Callable[[object], object]
    na_in_choices: bool  # N/A is one of the field's own choices; else an extra box


@dataclass(frozen=True)
class FieldType:
    """How one question type is asked, read back and filled in again."""

    # A field made outside a form is unbound (an UnboundField) until a form class takes
    # it; WTForms' stubs type it as the field it will become.
    make: Callable[[Question, Context], Field]
    answer: Callable[[Field], object]
    fill: Callable[[object], object]
    na_in_choices: bool  # N/A is one of the field's own choices; else an extra box


class ChoiceList(ListWidget):
    """WTForms' list of radios or checkboxes, with the same markup, that keeps each
    option's ``<li>`` once made (checked and not), as it depends on nothing else: a
    form class kept per checklist version then renders its choices by joining strings
    instead of formatting every attribute of every option again."""

    def __init__(self) -> None:
        super().__init__(prefix_label=False)
        self._made: dict[Hashable, Markup] = {}

    def __call__(self, field: Field, **kwargs: Any) -> Markup:
        key = (field.name, field.id, tuple(sorted(kwargs.items())))
        try:
            hash(key)
        except TypeError:  # an unhashable attribute value: nothing to keep it by
            return super().__call__(field, **kwargs)
        if not isinstance(field, SelectFieldBase) or field.has_groups():
            return super().__call__(field, **kwargs)
        made: dict[Hashable, Markup] = self._made
        options: list[Field] | None = None
        parts = [made.get(key) or made.setdefault(key, self._head(field, kwargs))]
        for index, (value, label, selected, _render_kw) in enumerate(field.iter_choices()):
            shown = (key, index, value, label, selected)
            item = made.get(shown)
            if item is None:
                options = options or list(field)
                item = made[shown] = self._item(options[index])
            parts.append(item)
        parts.append(Markup("</ul>"))
        return Markup("").join(parts)

    @staticmethod
    def _head(field: Field, kwargs: dict[str, Any]) -> Markup:
        return Markup("<ul {}>").format(html_params(**{"id": field.id, **kwargs}))

    @staticmethod
    def _item(option: Field) -> Markup:
        return Markup("<li>{} {}</li>").format(option(), option.label)  # as ListWidget


def _kw(question: Question, ctx: Context, **extra: Any) -> dict[str, Any]:
    return {"label": ctx.text(question), "description": ctx.guidance(question), **extra}


def _radio(question: Question, ctx: Context, choices: list[SelectChoice], css: str) -> RadioField:
    return RadioField(
        choices=choices + ctx.na_choice(question),
        validators=[Optional()],
        widget=ChoiceList(),
        render_kw={"class": css},
        **_kw(question, ctx),
    )


def _make_yes_no(question: Question, ctx: Context) -> Field:
    yes = ctx.option_label(question, "yes") if question.options else ctx.gettext("Yes")
    no = ctx.option_label(question, "no") if question.options else ctx.gettext("No")
    return _radio(question, ctx, [SelectChoice("yes", yes), SelectChoice("no", no)], "choices row")


def _make_choice(question: Question, ctx: Context) -> Field:
    choices = [SelectChoice(o.value, ctx.option_label(question, o.value)) for o in question.options]
    return _radio(question, ctx, choices, "choices")


def _make_multi(question: Question, ctx: Context) -> Field:
    choices = [SelectChoice(o.value, ctx.option_label(question, o.value)) for o in question.options]
    choices.append(SelectChoice(NONE_OF_THESE, ctx.gettext("None of these")))
    alone = ctx.gettext("“None of these” and “Not applicable” cannot be combined with others.")

    def exclusive(form: Form, field: Field) -> None:
        chosen = set(field.data or ())
        if len(chosen) > 1 and chosen & {NA, NONE_OF_THESE}:
            raise ValidationError(alone)

    return CheckboxListField(
        choices=choices + ctx.na_choice(question),
        validators=[exclusive],
        widget=ChoiceList(),
        render_kw={"class": "choices"},
        **_kw(question, ctx),
    )


def _whole_range(question: Question) -> range | None:
    low, high = question.min, question.max
    if low is None or high is None or low.denominator != 1 or high.denominator != 1:
        return None
    if not 0 < high - low < SCALE_RADIO_LIMIT:
        return None
    return range(int(low), int(high) + 1)


def _make_scale(question: Question, ctx: Context) -> Field:
    steps = _whole_range(question) or ()
    return _radio(question, ctx, [SelectChoice(str(i)) for i in steps], "choices row scale")


def _make_nps(question: Question, ctx: Context) -> Field:
    return _radio(question, ctx, [SelectChoice(str(i)) for i in range(11)], "choices row nps")


def _make_number(question: Question, ctx: Context) -> Field:
    low, high = question.min, question.max
    render: dict[str, Any] = {"inputmode": "decimal"}
    if low is not None:
        render["min"] = str(Decimal(low.numerator) / low.denominator)
    if high is not None:
        render["max"] = str(Decimal(high.numerator) / high.denominator)
    message = ctx.gettext("The number is outside the allowed range.")
    return ExactNumberField(
        validators=[Optional(), Between(low, high, message)],
        render_kw=render,
        invalid_message=ctx.gettext("Not a valid number."),
        exponent_message=ctx.gettext("Write a plain number, without an exponent (1000, not 1e3)."),
        too_long_message=ctx.gettext(
            "Write a plain number with at most %(whole)d digits before the decimal point"
            " and %(places)d after it."
        ),
        **_kw(question, ctx),
    )


def _make_text(question: Question, ctx: Context) -> Field:
    return TextAreaField(validators=[Optional()], render_kw={"rows": 3}, **_kw(question, ctx))


def _make_photo(question: Question, ctx: Context) -> Field:
    return FileField(
        validators=[Optional()],
        render_kw={"accept": "image/*", "capture": "environment"},
        **_kw(question, ctx),
    )


def _make_date(question: Question, ctx: Context) -> Field:
    return DateField(validators=[Optional()], **_kw(question, ctx))


def _make_time(question: Question, ctx: Context) -> Field:
    return TimeField(validators=[Optional()], format="%H:%M", **_kw(question, ctx))


def _choice_answer(field: Field) -> object:
    return field.data or None


def _multi_answer(field: Field) -> object:
    chosen = list(field.data or ())
    if not chosen:
        return None
    if NA in chosen:
        return NA if len(chosen) == 1 else chosen
    return [v for v in chosen if v != NONE_OF_THESE]


def _number_answer(field: Field) -> object:
    data = field.data
    if data in (None, ""):
        return None
    if isinstance(data, str):  # a scale or nps radio
        if data == NA:
            return NA
        # Bounded, ASCII digits only: int() of 5,000 digits or of "²" raises.
        return int(data) if _WHOLE_CHOICE.fullmatch(data) else data
    return data


def _text_answer(field: Field) -> object:
    return field.data if isinstance(field.data, str) and field.data.strip() else None


def _photo_answer(field: Field) -> object:
    data = field.data
    name = getattr(data, "filename", data)
    return name if isinstance(name, str) and name.strip() else None


def _date_answer(field: Field) -> object:
    return field.data.isoformat() if isinstance(field.data, date) else None


def _time_answer(field: Field) -> object:
    return field.data.strftime("%H:%M") if isinstance(field.data, time) else None


def _fill_choice(value: object) -> object:
    return None if value is None else str(value)


def _fill_multi(value: object) -> object:
    if value is None:
        return []
    if value == NA:
        return [NA]
    values = list(value) if isinstance(value, list | tuple) else [value]
    return values or [NONE_OF_THESE]


def _fill_number(value: object) -> object:
    if isinstance(value, Fraction):
        return Decimal(value.numerator) / Decimal(value.denominator)
    return value


def _fill_date(value: object) -> object:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _fill_time(value: object) -> object:
    return time.fromisoformat(value) if isinstance(value, str) else value


def _keep(value: object) -> object:
    return value


_CHOICE: _Reading = {"answer": _choice_answer, "fill": _fill_choice, "na_in_choices": True}
_NUMBER_RADIO: _Reading = {"answer": _number_answer, "fill": _fill_choice, "na_in_choices": True}

FIELD_TYPES: dict[str, FieldType] = {
    "yes_no": FieldType(_make_yes_no, **_CHOICE),
    "choice": FieldType(_make_choice, **_CHOICE),
    "multi": FieldType(_make_multi, _multi_answer, _fill_multi, na_in_choices=True),
    "scale": FieldType(_make_scale, **_NUMBER_RADIO),
    "nps": FieldType(_make_nps, **_NUMBER_RADIO),
    "number": FieldType(_make_number, _number_answer, _fill_number, na_in_choices=False),
    "text": FieldType(_make_text, _text_answer, _keep, na_in_choices=False),
    "photo": FieldType(_make_photo, _photo_answer, _keep, na_in_choices=False),
    "date": FieldType(_make_date, _date_answer, _fill_date, na_in_choices=False),
    "time": FieldType(_make_time, _time_answer, _fill_time, na_in_choices=False),
}


def _has_na_box(question: Question) -> bool:
    return question.na_allowed and not _field_type(question).na_in_choices


def _field_type(question: Question) -> FieldType:
    if question.type == "scale" and _whole_range(question) is None:
        return FIELD_TYPES["number"]  # a wide or odd scale is typed; scoring judges it
    return FIELD_TYPES[question.type]


# --- the form ---------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionSlot:
    """One question as rendered: its definition, its field and its N/A box (if any)."""

    question: Question
    field: Field
    na_field: Field | None
    number: int  # 1-based position in the whole checklist


# A mixin of WTForms forms: type checkers see it as one, to know the form it is mixed into.
if TYPE_CHECKING:
    _FormBase = Form
else:
    _FormBase = object


class ChecklistFormMixin(_FormBase):
    """Behaviour of every built form; the class also derives from a WTForms form."""

    checklist: Checklist
    language: str | None
    translate: Gettext
    require_answers: bool = True
    visible: frozenset[str] = frozenset()

    def answers(self) -> dict[str, object]:
        """The answers in scoring's shape (SCORING.md §1): unanswered and hidden questions
        left out, since a hidden question's value is never an answer."""
        submitted = self.submitted()
        shown = visible_keys(self.checklist, submitted)
        return {key: value for key, value in submitted.items() if key in shown}

    def submitted(self) -> dict[str, object]:
        """Every value the fields hold, hidden questions included."""
        result: dict[str, object] = {}
        for question in self.checklist.questions():
            value = self.answer_for(question)
            if value is not None:
                result.setdefault(question.key, value)
        return result

    def answer_for(self, question: Question) -> object:
        fields = self._fields
        box = fields.get(na_name(question.key))
        if box is not None and box.data:
            return NA
        field = fields[field_name(question.key)]
        if field.process_errors:
            return None
        return _field_type(question).answer(field)

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        gettext = self.translate
        valid = super().validate(extra_validators)
        validated = validate_answers(self.checklist, self.submitted())
        self.visible = validated.visible
        for slot in self.slots():
            key = slot.question.key
            errors = cast(list[str], slot.field.errors)  # a list once the form validates
            if key not in validated.visible:
                errors[:] = []  # hidden: the value is ignored, so are its errors
                if slot.na_field is not None:
                    cast(list[str], slot.na_field.errors)[:] = []
                continue
            if key in validated.errors and not errors:
                errors.append(self._domain_message(validated.errors[key]))
            if (
                self.require_answers
                and slot.question.required
                and key not in validated.answers
                and not errors
            ):
                errors.append(gettext("Please answer this question."))
        return valid and not any(self._problems())

    def _domain_message(self, message: str) -> str:
        gettext = self.translate
        return gettext("This answer is not allowed here (%(reason)s).") % {"reason": message}

    def _problems(self) -> Iterator[str]:
        for field in self._fields.values():
            yield from field.errors
        yield from getattr(self, "form_errors", ())

    def slots(self) -> list[QuestionSlot]:
        return [slot for _section, _title, slots in self.sections() for slot in slots]

    def sections(self) -> list[tuple[Section, str, list[QuestionSlot]]]:
        """(section, translated title, question slots) in checklist order."""
        fields = self._fields
        result: list[tuple[Section, str, list[QuestionSlot]]] = []
        number = 0
        for section in self.checklist.sections:
            title = section.title
            if self.language:
                title = localized(section.translations, self.language, "title", title)
            slots: list[QuestionSlot] = []
            for question in section.questions:
                number += 1
                field = fields[field_name(question.key)]
                slots.append(
                    QuestionSlot(question, field, fields.get(na_name(question.key)), number)
                )
            result.append((section, title, slots))
        return result


def build_form_class(
    checklist: Checklist,
    *,
    base: type[Form] = Form,
    language: str | None = None,
    gettext: Gettext = _identity,
) -> type[ChecklistFormMixin]:
    """A form class with one field per question (and an N/A box where needed).

    ``base`` is the WTForms base (``FlaskForm`` in the web layer, for CSRF); ``language``
    picks the checklist's translations; ``gettext`` translates the builder's own words.
    Duplicate question keys (a broken draft) keep their first question only.
    """
    ctx = Context(language, gettext)
    attrs: dict[str, Any] = {
        "checklist": checklist,
        "language": language,
        "translate": staticmethod(gettext),
    }
    for question in checklist.questions():
        name = field_name(question.key)
        if name in attrs:
            continue
        attrs[name] = _field_type(question).make(question, ctx)
        if _has_na_box(question):
            attrs[na_name(question.key)] = BooleanField(gettext("Not applicable"))
    return cast(type[ChecklistFormMixin], type("ChecklistForm", (ChecklistFormMixin, base), attrs))


def form_data(checklist: Checklist, answers: Mapping[str, object]) -> dict[str, object]:
    """Stored answers as the built form's ``data=`` argument, for editing them again."""
    data: dict[str, object] = {}
    for question in checklist.questions():
        if question.key not in answers:
            continue
        value = answers[question.key]
        if value == NA and _has_na_box(question):
            data[na_name(question.key)] = True
            continue
        data[field_name(question.key)] = _field_type(question).fill(value)
    return data
