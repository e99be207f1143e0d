"""Forms of the checklist builder: new/starter/import, scoring settings, sections,
questions (with their options, number bands and condition).

Each editing form reads a piece of the checklist document (SCORING.md §1) with
``fill`` and gives one back with ``to_data``, in the shape the checklist services take.
Chinese texts are the ``zh`` translations; other languages already in the document are
kept untouched. Blank option, band and grade-band rows are ignored, so a form can offer
a few empty rows without JavaScript.
"""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; types-WTForms 3.2 lacks it
from wtforms.validators import (
    DataRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from .answer_fields import ExactNumberField

ZH = "zh"
KEY_RULE = Regexp(r"^[A-Za-z0-9_-]*$", message=_l("Use letters, digits, _ and - only."))
EXTRA_ROWS = 3  # empty rows offered for new options, bands and grade bands
NUMERIC_TYPES = ("scale", "number", "nps")
OPTION_TYPES = ("yes_no", "choice", "multi")

QUESTION_TYPE_CHOICES = [
    SelectChoice("yes_no", _l("Yes / No")),
    SelectChoice("choice", _l("One choice")),
    SelectChoice("multi", _l("Several choices")),
    SelectChoice("scale", _l("Scale (e.g. 1–5)")),
    SelectChoice("number", _l("Number (points by bands)")),
    SelectChoice("nps", _l("Recommendation 0–10 (NPS)")),
    SelectChoice("text", _l("Text")),
    SelectChoice("photo", _l("Photo")),
    SelectChoice("date", _l("Date")),
    SelectChoice("time", _l("Time")),
]
METHOD_CHOICES = [
    SelectChoice("pooled", _l("Pooled: all points together")),
    SelectChoice("weighted_sections", _l("Weighted sections")),
]
UNANSWERED_CHOICES = [
    SelectChoice("exclude", _l("Leave out of the score (like N/A)")),
    SelectChoice("zero", _l("Score as zero")),
]
CRITICAL_CHOICES = [
    SelectChoice("zero_visit", _l("Visit scores 0 and fails")),
    SelectChoice("zero_section", _l("Its section scores 0; the visit fails")),
    SelectChoice("flag", _l("Scores kept; the visit fails")),
]
TAG_CHOICES = [
    SelectChoice("", _l("No tag")),
    SelectChoice("compliance", _l("Compliance (was the standard followed)")),
    SelectChoice("effectiveness", _l("Effectiveness (did it work)")),
]
OPERATOR_CHOICES = [
    SelectChoice("equals", _l("equals")),
    SelectChoice("in", _l("is one of (separate with commas)")),
    SelectChoice("gte", _l("is at least")),
    SelectChoice("lte", _l("is at most")),
]
LANGUAGE_CHOICES = [SelectChoice("en", "English"), SelectChoice("zh", "中文")]


def _number(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _zh(doc: Mapping[str, Any], field: str) -> str:
    return str((doc.get("translations") or {}).get(ZH, {}).get(field, ""))


def _translations(
    existing: Mapping[str, Any] | None, zh: Mapping[str, str | None]
) -> dict[str, Any]:
    """The existing translations with the Chinese texts replaced (blank ones dropped)."""
    merged = {lang: dict(texts) for lang, texts in (existing or {}).items()}
    texts = {**merged.get(ZH, {}), **{k: (v or "").strip() for k, v in zh.items()}}
    texts = {k: v for k, v in texts.items() if v}
    if texts:
        merged[ZH] = texts
    else:
        merged.pop(ZH, None)
    return merged


RowT = TypeVar("RowT", bound="_Row")


def _pad(rows: "FieldList[FormField[RowT]]", extra: int = EXTRA_ROWS) -> None:
    filled = sum(1 for row in rows if not row.form.is_blank())
    while len(rows) < filled + extra:
        rows.append_entry()


class _Row(Form):
    def is_blank(self) -> bool:
        # 0 is a value (a band worth 0 points), so compare with None and blank text only.
        return all(f.data is None or (isinstance(f.data, str) and not f.data.strip()) for f in self)


# --- creating a checklist ---------------------------------------------------------------


class NewChecklistForm(FlaskForm):
    client_id = SelectField(_l("Client"), coerce=int, choices=[])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])


class StarterForm(FlaskForm):
    starter = SelectField(_l("Starter checklist"), choices=[])
    client_id = SelectField(_l("Client"), coerce=int, choices=[])


class ChecklistImportForm(FlaskForm):
    client_id = SelectField(_l("Client"), coerce=int, choices=[])
    file = FileField(
        _l("Checklist file (JSON, YAML or XLSX)"),
        validators=[
            FileRequired(),
            FileAllowed(
                ["json", "yaml", "yml", "xlsx"], _l("Choose a .json, .yaml or .xlsx file.")
            ),
        ],
    )
    title = StringField(
        _l("Title"),
        validators=[Optional(), Length(max=200)],
        description=_l("Leave blank to use the title in the file."),
    )


# --- scoring settings ----------------------------------------------------------------


class GradeBandRow(_Row):
    min = ExactNumberField(_l("From score"), validators=[Optional()])
    label = StringField(_l("Grade"), validators=[Optional(), Length(max=200)])
    label_zh = StringField(_l("Grade (Chinese)"), validators=[Optional(), Length(max=200)])


class SettingsForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    title_zh = StringField(_l("Title (Chinese)"), validators=[Optional(), Length(max=200)])
    language = SelectField(_l("Language of the texts"), choices=LANGUAGE_CHOICES)
    method = SelectField(_l("Scoring method"), choices=METHOD_CHOICES)
    pass_mark = ExactNumberField(
        _l("Pass mark"), validators=[Optional()], description=_l("Leave blank for none.")
    )
    decimals = IntegerField(_l("Decimals shown"), default=1, validators=[NumberRange(min=0, max=4)])
    unanswered = SelectField(_l("Unanswered optional questions"), choices=UNANSWERED_CHOICES)
    critical_failure = SelectField(_l("When a critical item fails"), choices=CRITICAL_CHOICES)
    cap_at_100 = BooleanField(_l("Cap scores at 100"), default=True)
    bands = FieldList(FormField(GradeBandRow), label=_l("Grade bands"))

    def fill(self, doc: Mapping[str, Any]) -> None:
        rules = doc.get("scoring") or {}
        self.title.data = doc.get("title", "")
        self.title_zh.data = _zh(doc, "title")
        self.language.data = doc.get("language", "en")
        self.method.data = rules.get("method", "pooled")
        self.pass_mark.data = _number(rules.get("pass_mark"))
        self.decimals.data = rules.get("decimals", 1)
        self.unanswered.data = rules.get("unanswered", "exclude")
        self.critical_failure.data = rules.get("critical_failure", "zero_visit")
        self.cap_at_100.data = rules.get("cap_at_100", True)
        while len(self.bands):
            self.bands.pop_entry()
        for band in rules.get("bands") or []:
            self.bands.append_entry(
                {
                    "min": _number(band.get("min")),
                    "label": band.get("label", ""),
                    "label_zh": _zh(band, "label"),
                }
            )
        _pad(self.bands)

    def to_data(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        old_bands = (doc.get("scoring") or {}).get("bands") or []
        bands = []
        for i, row in enumerate(r.form for r in self.bands):
            if row.is_blank():
                continue
            old = old_bands[i] if i < len(old_bands) else {}
            band: dict[str, Any] = {"min": row.min.data, "label": row.label.data or ""}
            translations = _translations(old.get("translations"), {"label": row.label_zh.data})
            if translations:
                band["translations"] = translations
            bands.append(band)
        return {
            "title": (self.title.data or "").strip(),
            "language": self.language.data,
            "translations": _translations(doc.get("translations"), {"title": self.title_zh.data}),
            "scoring": {
                "method": self.method.data,
                "pass_mark": self.pass_mark.data,
                "decimals": self.decimals.data,
                "unanswered": self.unanswered.data,
                "critical_failure": self.critical_failure.data,
                "cap_at_100": self.cap_at_100.data,
                "bands": bands or None,
            },
        }


# --- sections ----------------------------------------------------------------------


class SectionForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=300)])
    title_zh = StringField(_l("Title (Chinese)"), validators=[Optional(), Length(max=300)])
    key = StringField(
        _l("Key"),
        validators=[Optional(), Length(max=64), KEY_RULE],
        description=_l("A short name used in exports; made from the title when left blank."),
    )
    weight = ExactNumberField(
        _l("Weight"),
        validators=[Optional()],
        description=_l("Used by the weighted-sections method; blank counts as 1."),
    )
    pass_mark = ExactNumberField(
        _l("Section pass mark"), validators=[Optional()], description=_l("Leave blank for none.")
    )

    def fill(self, doc: Mapping[str, Any]) -> None:
        self.title.data = doc.get("title", "")
        self.title_zh.data = _zh(doc, "title")
        self.key.data = doc.get("key", "")
        self.weight.data = _number(doc.get("weight"))
        self.pass_mark.data = _number(doc.get("pass_mark"))

    def to_data(self, doc: Mapping[str, Any] | None = None) -> dict[str, Any]:
        doc = doc or {}
        return {
            "key": (self.key.data or "").strip() or doc.get("key") or None,
            "title": (self.title.data or "").strip(),
            "weight": self.weight.data,
            "pass_mark": self.pass_mark.data,
            "translations": _translations(doc.get("translations"), {"title": self.title_zh.data}),
        }


# --- questions ---------------------------------------------------------------------


class OptionRow(_Row):
    value = StringField(_l("Value"), validators=[Optional(), Length(max=64)])
    label = StringField(_l("Label"), validators=[Optional(), Length(max=300)])
    label_zh = StringField(_l("Label (Chinese)"), validators=[Optional(), Length(max=300)])
    points = ExactNumberField(_l("Points"), validators=[Optional()])


class BandRow(_Row):
    max = ExactNumberField(_l("Up to"), validators=[Optional()])
    points = ExactNumberField(_l("Points"), validators=[Optional()])


class QuestionForm(FlaskForm):
    text = TextAreaField(_l("Question"), validators=[DataRequired()], render_kw={"rows": 2})
    text_zh = TextAreaField(_l("Question (Chinese)"), render_kw={"rows": 2})
    key = StringField(
        _l("Key"),
        validators=[Optional(), Length(max=64), KEY_RULE],
        description=_l(
            "A short name used in exports and conditions; made from the text when blank."
        ),
    )
    type = SelectField(_l("Answer type"), choices=QUESTION_TYPE_CHOICES, default="yes_no")
    weight = ExactNumberField(
        _l("Weight"),
        validators=[Optional()],
        description=_l("Blank counts as 1; 0 is informational."),
    )
    na_allowed = BooleanField(_l("N/A allowed"))
    required = BooleanField(_l("Required"))
    critical = BooleanField(_l("Critical (knock-out) item"))
    bonus = BooleanField(_l("Bonus (adds points, never lost)"))
    client_visible = BooleanField(
        _l("Show the photos to the client"),
        description=_l(
            "The store's managers see these photos in their reports. Leave it off when a "
            "photo could show the shopper or other customers."
        ),
    )
    tag = SelectField(_l("Tag"), choices=TAG_CHOICES, default="")
    guidance = TextAreaField(_l("Guidance for the shopper"), render_kw={"rows": 2})
    guidance_zh = TextAreaField(_l("Guidance (Chinese)"), render_kw={"rows": 2})
    min = ExactNumberField(_l("Lowest value"), validators=[Optional()])
    max = ExactNumberField(_l("Highest value"), validators=[Optional()])
    options = FieldList(FormField(OptionRow), label=_l("Options"))
    bands = FieldList(FormField(BandRow), label=_l("Points by value"))
    show_if_question = SelectField(_l("Show only when question"), choices=[], default="")
    show_if_op = SelectField(_l("Condition"), choices=OPERATOR_CHOICES, default="equals")
    show_if_value = StringField(_l("Value"), validators=[Optional(), Length(max=500)])

    def set_earlier(self, earlier: list[tuple[str, str]]) -> None:
        """The questions a condition may look at: (key, label) of the earlier ones."""
        self.show_if_question.choices = [SelectChoice("", str(_l("Always show")))] + [
            SelectChoice(key, label) for key, label in earlier
        ]

    def fill(self, doc: Mapping[str, Any]) -> None:
        self.text.data = doc.get("text", "")
        self.text_zh.data = _zh(doc, "text")
        self.key.data = doc.get("key", "")
        self.type.data = doc.get("type", "yes_no")
        self.weight.data = _number(doc.get("weight", 1))
        for flag in ("na_allowed", "required", "critical", "bonus", "client_visible"):
            getattr(self, flag).data = bool(doc.get(flag))
        self.tag.data = doc.get("tag") or ""
        self.guidance.data = doc.get("guidance") or ""
        self.guidance_zh.data = _zh(doc, "guidance")
        self.min.data = _number(doc.get("min"))
        self.max.data = _number(doc.get("max"))
        while len(self.options):
            self.options.pop_entry()
        for option in doc.get("options") or []:
            self.options.append_entry(
                {
                    "value": option.get("value", ""),
                    "label": option.get("label", ""),
                    "label_zh": _zh(option, "label"),
                    "points": _number(option.get("points", 0)),
                }
            )
        while len(self.bands):
            self.bands.pop_entry()
        for band in doc.get("bands") or []:
            self.bands.append_entry(
                {"max": _number(band.get("max")), "points": _number(band.get("points"))}
            )
        condition = doc.get("show_if") or {}
        self.show_if_question.data = condition.get("question", "")
        for op in ("equals", "in", "gte", "lte"):
            if op in condition:
                self.show_if_op.data = op
                value = condition[op]
                values = value if isinstance(value, list) else [value]
                self.show_if_value.data = ", ".join(str(v) for v in values)
        self.pad()

    def pad(self) -> None:
        _pad(self.options)
        _pad(self.bands)

    def validate_show_if_value(self, field: Any) -> None:
        if self.show_if_question.data and not (field.data or "").strip():
            raise ValidationError(_l("Give the value the condition compares with."))

    def to_data(
        self, doc: Mapping[str, Any] | None = None, types: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """The question document; ``types`` maps question keys to their types, so a
        condition on a numeric question compares numbers."""
        doc = doc or {}
        kind = self.type.data
        old_options = {o.get("value"): o for o in doc.get("options") or []}
        options = []
        if kind in OPTION_TYPES:
            for row in (r.form for r in self.options):
                if row.is_blank():
                    continue
                value = (row.value.data or "").strip()
                option: dict[str, Any] = {
                    "value": value,
                    "label": (row.label.data or "").strip() or value,
                    "points": row.points.data or 0,
                }
                old = old_options.get(value, {})
                translations = _translations(old.get("translations"), {"label": row.label_zh.data})
                if translations:
                    option["translations"] = translations
                options.append(option)
        bands = []
        if kind == "number":
            for band_row in (r.form for r in self.bands):
                if band_row.is_blank():
                    continue
                band: dict[str, Any] = {"points": band_row.points.data}
                if band_row.max.data is not None:
                    band["max"] = band_row.max.data
                bands.append(band)
        ranged = kind in ("scale", "number")
        return {
            "key": (self.key.data or "").strip() or doc.get("key") or None,
            "text": (self.text.data or "").strip(),
            "type": kind,
            "weight": 1 if self.weight.data is None else self.weight.data,
            "na_allowed": self.na_allowed.data,
            "required": self.required.data,
            "critical": self.critical.data,
            "bonus": self.bonus.data,
            # Only a photo question has photos to show.
            "client_visible": kind == "photo" and self.client_visible.data,
            "tag": self.tag.data or None,
            "guidance": (self.guidance.data or "").strip() or None,
            "min": self.min.data if ranged else None,
            "max": self.max.data if ranged else None,
            "options": options or None,
            "bands": bands or None,
            "show_if": self.condition(types or {}),
            "translations": _translations(
                doc.get("translations"),
                {"text": self.text_zh.data or "", "guidance": self.guidance_zh.data or ""},
            ),
        }

    def condition(self, types: Mapping[str, str]) -> dict[str, Any] | None:
        target = self.show_if_question.data
        if not target:
            return None
        op = self.show_if_op.data
        numeric = types.get(target) in NUMERIC_TYPES

        def scalar(text: str) -> Any:
            text = text.strip()
            if numeric or op in ("gte", "lte"):
                try:
                    return Decimal(text)
                except ArithmeticError:
                    return text  # the services report a non-number
            return text

        raw = self.show_if_value.data or ""
        if op == "in":
            return {"question": target, "in": [scalar(v) for v in raw.split(",") if v.strip()]}
        return {"question": target, op: scalar(raw)}
