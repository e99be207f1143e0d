"""Forms for clients, regions, stores, shoppers and users."""

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; types-WTForms 3.2 lacks it
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from .choices import (
    AGE_BAND_CHOICES,
    GENDER_CHOICES,
    OWNERSHIP_CHOICES,
    REGION_KIND_CHOICES,
    ROLE_CHOICES,
    STORE_FORMAT_CHOICES,
    STORE_STATUS_CHOICES,
    TIER_CHOICES,
    WEEKDAY_CHOICES,
)
from .parsing import format_hours, parse_hours, parse_latitude, parse_list, parse_longitude


def _options(pairs: list[tuple[str, Any]]) -> list[SelectChoice]:
    """The (value, label) vocabularies as WTForms options; tuples are deprecated there."""
    return [SelectChoice(value, label) for value, label in pairs]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ParsedField(StringField):
    """A text field whose value goes through one of forms.parsing's parsers."""

    data: Any  # the parsed value (a list, a mapping, a number), not the text

    def __init__(self, label: Any = None, parser: Any = None, formatter: Any = str, **kw: Any):
        super().__init__(label, **kw)
        self.parser, self.formatter = parser, formatter
        self.parsed: Any = None

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else str(self.formatter(self.data))

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return  # not sent: keep the stored value, which is already parsed
        super().process_formdata(valuelist)
        try:
            self.parsed = self.parser(self.data or "")
        except ValueError as exc:
            self.parsed = None
            raise ValueError(str(exc)) from None
        self.data = self.parsed


class ClientForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    rotation_days = IntegerField(
        _l("Rotation (days)"),
        default=90,
        validators=[NumberRange(min=0, max=730)],
        description=_l("A shopper may not visit the same store again within this many days."),
    )
    action_threshold = IntegerField(
        _l("Corrective action below (%)"),
        default=50,
        validators=[NumberRange(min=0, max=100)],
        description=_l(
            "A question earning less than this share of its points opens a corrective "
            "action for the store, as does every failed critical question."
        ),
    )
    critical_action_days = IntegerField(
        _l("Days to fix a critical finding"), default=7, validators=[NumberRange(min=1, max=365)]
    )
    action_days = IntegerField(
        _l("Days to fix other findings"), default=30, validators=[NumberRange(min=1, max=365)]
    )
    alert_threshold = IntegerField(
        _l("Alert when a visit scores below"),
        default=70,
        validators=[NumberRange(min=0, max=100)],
    )
    appeal_days = IntegerField(
        _l("Days a store may appeal after publication"),
        default=14,
        validators=[NumberRange(min=0, max=365)],
    )
    appeal_decision_days = IntegerField(
        _l("Days to decide an appeal"), default=7, validators=[NumberRange(min=1, max=365)]
    )
    adjusted_scores = BooleanField(
        _l("Show shopper-adjusted scores"),
        description=_l(
            "Reports show each store's score also with the shoppers' usual leniency "
            "taken out, beside the raw score."
        ),
    )
    active = BooleanField(_l("Active"), default=True)


class RegionForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Level"), choices=_options(REGION_KIND_CHOICES))
    parent_id = SelectField(_l("Part of"), coerce=int, choices=[])
    active = BooleanField(_l("Active"), default=True)


def _timezone(form: FlaskForm, field: Field) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(field.data or "")
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(_l("Unknown time zone.")) from None


# The longest text each store and shopper field takes (the columns' sizes). The forms
# below and the CSV/XLSX imports (services/org/imports.py) both apply them.
STORE_TEXT_LIMITS = {
    "code": 32,
    "name": 200,
    "address": 300,
    "city": 100,
    "manager_name": 120,
    "manager_phone": 40,
}
SHOPPER_TEXT_LIMITS = {"name": 120, "home_city": 100}


def _store_length(name: str) -> Length:
    return Length(max=STORE_TEXT_LIMITS[name])


class StoreForm(FlaskForm):
    code = StringField(_l("Store code"), validators=[DataRequired(), _store_length("code")])
    name = StringField(_l("Name"), validators=[DataRequired(), _store_length("name")])
    region_id = SelectField(_l("Region"), coerce=int, choices=[])
    address = StringField(_l("Address"), validators=[_store_length("address")])
    city = StringField(_l("City"), validators=[_store_length("city")])
    latitude = ParsedField(_l("Latitude"), parser=parse_latitude)
    longitude = ParsedField(_l("Longitude"), parser=parse_longitude)
    timezone = StringField(_l("Time zone"), default="Asia/Shanghai", validators=[_timezone])
    format = SelectField(_l("Format"), choices=_options(STORE_FORMAT_CHOICES))
    ownership = SelectField(_l("Ownership"), choices=_options(OWNERSHIP_CHOICES))
    tier = SelectField(_l("Tier"), choices=_options(TIER_CHOICES), default="B")
    target_female_pct = IntegerField(
        _l("Target customers: share of women (%)"),
        validators=[Optional(), NumberRange(min=0, max=100)],
    )
    target_age_bands = MultiCheckboxField(
        _l("Target customers: age bands"), choices=_options(AGE_BAND_CHOICES)
    )
    manager_name = StringField(_l("Store manager"), validators=[_store_length("manager_name")])
    manager_phone = StringField(_l("Manager phone"), validators=[_store_length("manager_phone")])
    manager_email = EmailField(_l("Manager e-mail"), validators=[Optional(), Email()])
    notes = TextAreaField(_l("Notes"))
    status = SelectField(_l("Status"), choices=_options(STORE_STATUS_CHOICES))

    # One field per weekday, named hours_mon .. hours_sun, added below.
    def hours_fields(self) -> list[tuple[str, Field]]:
        return [(day, getattr(self, f"hours_{day}")) for day, _label in WEEKDAY_CHOICES]

    def opening_hours(self) -> dict[str, list[str] | None]:
        return {day: f.data for day, f in self.hours_fields()}

    def fill_hours(self, hours: dict[str, list[str] | None]) -> None:
        for day, f in self.hours_fields():
            f.data = hours.get(day)


for _day, _label in WEEKDAY_CHOICES:
    setattr(
        StoreForm,
        f"hours_{_day}",
        ParsedField(_label, parser=parse_hours, formatter=format_hours, description="09:00-21:00"),
    )


class ShopperForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])
    name = StringField(
        _l("Name"), validators=[DataRequired(), Length(max=SHOPPER_TEXT_LIMITS["name"])]
    )
    gender = SelectField(_l("Gender"), choices=_options(GENDER_CHOICES), default="undisclosed")
    birth_year = IntegerField(_l("Birth year"), validators=[Optional(), NumberRange(1900, 2100)])
    home_city = StringField(
        _l("Home city"), validators=[Length(max=SHOPPER_TEXT_LIMITS["home_city"])]
    )
    home_latitude = ParsedField(_l("Home latitude"), parser=parse_latitude)
    home_longitude = ParsedField(_l("Home longitude"), parser=parse_longitude)
    languages = ParsedField(
        _l("Languages"), parser=parse_list, formatter=", ".join, description=_l("e.g. zh, en")
    )
    qualifications = ParsedField(
        _l("Qualifications"), parser=parse_list, formatter=", ".join,
        description=_l("Separate with commas, e.g. banking, restaurant"),
    )  # fmt: skip
    certification_level = IntegerField(
        _l("Certification level"), default=1, validators=[NumberRange(0, 5)]
    )
    reliability = IntegerField(
        _l("Reliability (0–100)"), default=80, validators=[NumberRange(0, 100)]
    )
    active = BooleanField(_l("Active"), default=True)
    conflict_clients = MultiCheckboxField(
        _l("Never send to these clients"), coerce=int, choices=[],
        description=_l("Clients the shopper or their family work for."),
    )  # fmt: skip
    conflict_stores = ParsedField(
        _l("Never send to these stores"), parser=parse_list, formatter=", ".join,
        description=_l("Store codes written CLIENT/STORE, separated by commas."),
    )  # fmt: skip
    notes = TextAreaField(_l("Notes"))


class UserForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email()])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    role = SelectField(_l("Role"), choices=_options(ROLE_CHOICES))
    locale = SelectField(_l("Language"), choices=[])
    client_id = SelectField(
        _l("Client (regional and store managers)"), coerce=int, choices=[], validate_choice=False
    )
    clients = MultiCheckboxField(_l("Clients (coordinators and reviewers)"), coerce=int, choices=[])
    regions = MultiCheckboxField(_l("Regions in scope"), coerce=int, choices=[])
    stores = ParsedField(
        _l("Stores in scope"), parser=parse_list, formatter=", ".join,
        description=_l("Store codes of the user's client, separated by commas."),
    )  # fmt: skip
    can_export = BooleanField(_l("May export data"))
    active = BooleanField(_l("Active"), default=True)


class ImportForm(FlaskForm):
    file = FileField(
        _l("CSV or XLSX file"),
        validators=[
            FileRequired(),
            FileAllowed(["csv", "xlsx"], _l("Choose a .csv or .xlsx file.")),
        ],
    )


class ConfirmImportForm(FlaskForm):
    """Carries the previewed file back, so the server keeps no state between steps."""

    payload = StringField(validators=[DataRequired()])
