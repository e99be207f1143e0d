"""Forms for waves: set-up, visits added by hand, rescheduling, cancelling, assigning.

Choices that depend on the signed-in user (clients, checklist versions, regions) are
filled by the view; rules that need the database (a version of the chosen client, a
store code of that client) are checked there too and reported on the field.
"""

from typing import Any, cast

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    Form,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from .answer_fields import Between, ExactNumberField
from .choices import STORE_FORMAT_CHOICES, TIER_CHOICES
from .org import MultiCheckboxField, _options
from .parsing import parse_list

CADENCE_CHOICES = [
    ("weekly", _l("Weekly")),
    ("monthly", _l("Monthly")),
    ("quarterly", _l("Quarterly")),
    ("half_yearly", _l("Half-yearly")),
]
SLOT_CHOICES = [
    ("opening", _l("First hour after opening")),
    ("midday", _l("Midday")),
    ("peak", _l("Peak")),
    ("closing", _l("Last hour before closing")),
]
SLOT_KEYS = tuple(key for key, _label in SLOT_CHOICES)
TIER_KEYS = tuple(key for key, _label in TIER_CHOICES)


MAX_MONEY = 1_000_000  # per visit: far above any fee, far below the money column's limit


def _money(label: Any) -> ExactNumberField:
    """An amount in the wave's currency: a plain number from 0 to MAX_MONEY with at most
    two decimal places, read by the bounded parser (no exponent, NaN or huge number
    reaches the database)."""
    return ExactNumberField(
        label,
        default=0,
        validators=[
            InputRequired(),
            Between(0, MAX_MONEY, _l("Between 0 and %(n)s.", n=f"{MAX_MONEY:,}")),
            _cents,
        ],
        invalid_message=_l("Not a valid number."),
        exponent_message=_l("Write a plain number, without an exponent (1000, not 1e3)."),
        too_long_message=_l(
            "Write a plain number with at most %(whole)d digits before the decimal point"
            " and %(places)d after it."
        ),
    )


def _cents(form: Any, field: Any) -> None:
    if field.data is not None and field.data != round(field.data, 2):
        raise ValidationError(_("Use at most two decimal places."))


def _count(label: Any, default: int) -> IntegerField:
    return IntegerField(label, default=default, validators=[InputRequired(), NumberRange(0, 31)])


def _share(label: Any, default: int) -> IntegerField:
    return IntegerField(label, default=default, validators=[InputRequired(), NumberRange(0, 100)])


class WaveForm(FlaskForm):
    client_id = SelectField(_l("Client"), coerce=int, choices=[])
    checklist_version_id = SelectField(
        _l("Checklist version"),
        coerce=int,
        choices=[],
        validate_choice=False,  # the view says why a version cannot be used
        description=_l("Only published versions of the client's checklists."),
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    cadence = SelectField(_l("Cadence"), choices=_options(CADENCE_CHOICES), default="monthly")
    starts_on = DateField(_l("First day"), validators=[InputRequired()])
    ends_on = DateField(_l("Last day"), validators=[InputRequired()])

    regions = SelectMultipleField(
        _l("Regions"),
        coerce=int,
        choices=[],
        description=_l("Each region includes everything below it. None chosen: all regions."),
    )
    tiers = MultiCheckboxField(_l("Tiers"), choices=_options(TIER_CHOICES))
    formats = MultiCheckboxField(_l("Formats"), choices=_options(STORE_FORMAT_CHOICES))
    store_codes = TextAreaField(
        _l("Also these stores (codes)"),
        description=_l("Separate codes with commas. With no other filter, exactly these stores."),
    )

    visits_a = _count(_l("Visits per tier A store"), 4)
    visits_b = _count(_l("Visits per tier B store"), 2)
    visits_c = _count(_l("Visits per tier C store"), 1)

    share_opening = _share(_l("First hour after opening (%)"), 25)
    share_midday = _share(_l("Midday (%)"), 25)
    share_peak = _share(_l("Peak (%)"), 30)
    share_closing = _share(_l("Last hour before closing (%)"), 20)
    weekend_share = _share(_l("Weekend share (%)"), 30)
    calibration_share = IntegerField(
        _l("Calibration visits: share of stores (%)"),
        default=0,
        validators=[Optional(), NumberRange(0, 50)],  # left empty: none
        description=_l(
            "Share of stores visited twice in the same slot by two different shoppers,"
            " to test whether questions are clear."
        ),
    )

    fee = _money(_l("Shopper fee"))
    expense_cap = _money(_l("Expense cap"))
    currency = StringField(
        _l("Currency"),
        default="CNY",
        validators=[DataRequired(), Regexp(r"^[A-Z]{3}$", message=_l("Three capital letters."))],
    )
    required_level = IntegerField(
        _l("Required shopper level"), default=1, validators=[InputRequired(), NumberRange(0, 5)]
    )
    max_travel_km = IntegerField(
        _l("Longest trip from home (km)"),
        default=30,
        validators=[InputRequired(), NumberRange(1, 1000)],
    )
    claim_limit = IntegerField(
        _l("Visits one shopper may claim"),
        default=3,
        validators=[InputRequired(), NumberRange(0, 100)],
    )
    min_duration_minutes = IntegerField(
        _l("Shortest visit (minutes)"),
        default=10,
        validators=[InputRequired(), NumberRange(0, 600)],
    )
    allow_audio = BooleanField(_l("Audio recording allowed"))
    scenario = TextAreaField(_l("Scenario"))
    purchase = TextAreaField(_l("What to buy"))
    questions_to_ask = TextAreaField(_l("What to ask"))

    def share_fields(self) -> list[Any]:
        return [getattr(self, f"share_{slot}") for slot in SLOT_KEYS]

    def tier_fields(self) -> list[Any]:
        return [getattr(self, f"visits_{tier.lower()}") for tier in TIER_KEYS]

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        shares = [f.data for f in self.share_fields()]
        self.shares_error = ""
        if all(isinstance(s, int) for s in shares) and sum(shares) != 100:
            self.shares_error = _(
                "The slot shares add up to %(total)d%%; they must add up to 100%%.",
                total=sum(shares),
            )
            valid = False
        if self.starts_on.data and self.ends_on.data and self.ends_on.data < self.starts_on.data:
            errors = cast(list[str], self.ends_on.errors)  # a list once the form validates
            errors.append(_l("The wave must end on or after the day it starts."))
            valid = False
        return valid

    def codes(self) -> list[str]:
        return parse_list(self.store_codes.data or "")

    def slot_quotas(self) -> dict[str, int]:
        return {slot: getattr(self, f"share_{slot}").data for slot in SLOT_KEYS}

    def visits_per_tier(self) -> dict[str, int]:
        return {tier: getattr(self, f"visits_{tier.lower()}").data for tier in TIER_KEYS}

    def fill(self, wave: Any, codes: list[str]) -> None:
        """Puts a saved wave's set-up into the fields that are not plain columns."""
        scope = wave.scope or {}
        self.client_id.data = wave.client_id
        self.checklist_version_id.data = wave.checklist_version_id
        self.regions.data = list(scope.get("regions") or [])
        self.tiers.data = list(scope.get("tiers") or [])
        self.formats.data = list(scope.get("formats") or [])
        self.store_codes.data = ", ".join(codes)
        for slot in SLOT_KEYS:
            getattr(self, f"share_{slot}").data = (wave.slot_quotas or {}).get(slot, 0)
        for tier in TIER_KEYS:
            getattr(self, f"visits_{tier.lower()}").data = (wave.visits_per_tier or {}).get(tier, 0)


class AddVisitForm(FlaskForm):
    store_id = SelectField(_l("Store"), coerce=int, choices=[])
    day = DateField(_l("Day"), validators=[InputRequired()])
    slot = SelectField(_l("Time slot"), choices=_options(SLOT_CHOICES))


class PrecisionForm(Form):
    """The planner's targets on the wave page (query string, so no CSRF): the ± a
    store's score should have and the change between two waves it should detect."""

    half = IntegerField(
        _l("Precision wanted (± points)"),
        validators=[Optional(), NumberRange(1, 50)],
        render_kw={"inputmode": "numeric", "min": "1", "max": "50"},
    )
    drop = IntegerField(
        _l("Change to detect (points)"),
        validators=[Optional(), NumberRange(1, 100)],
        render_kw={"inputmode": "numeric", "min": "1", "max": "100"},
    )


class RescheduleForm(FlaskForm):
    day = DateField(_l("Day"), validators=[InputRequired()])
    start = TimeField(_l("From"), validators=[InputRequired()])
    end = TimeField(_l("To"), validators=[InputRequired()])

    def validate_end(self, field: Any) -> None:
        if self.start.data and field.data and field.data <= self.start.data:
            raise ValidationError(_l("The visit must end after it starts."))


class CancelForm(FlaskForm):
    note = TextAreaField(
        _l("Why is the visit cancelled?"), validators=[DataRequired(), Length(max=1000)]
    )


class AssignForm(FlaskForm):
    shopper_id = HiddenField(validators=[DataRequired()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class ReleaseForm(FlaskForm):
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


VISIT_STATUS_CHOICES = [
    ("planned", _l("Open")),
    ("assigned", _l("Assigned")),
    ("accepted", _l("Accepted")),
    ("in_progress", _l("In progress")),
    ("submitted", _l("Submitted")),
    ("in_review", _l("In review")),
    ("returned", _l("Returned")),
    ("approved", _l("Approved")),
    ("cancelled", _l("Cancelled")),
    ("missed", _l("Missed")),
]
WAVE_STATUS_CHOICES = [("draft", _l("Draft")), ("open", _l("Open")), ("closed", _l("Finished"))]
WAVE_VOCABULARIES = {
    "cadence": CADENCE_CHOICES,
    "slot": SLOT_CHOICES,
    "visit_status": VISIT_STATUS_CHOICES,
    "wave_status": WAVE_STATUS_CHOICES,
}


def wave_label(vocabulary: str, value: str | None) -> str:
    for known, text in WAVE_VOCABULARIES[vocabulary]:
        if known == value:
            return str(text)
    return value or ""


class PublishForm(FlaskForm):
    """When to publish, in the time zone of the wave's stores."""

    day = DateField(_l("Date"), validators=[InputRequired()])
    at = TimeField(_l("Time"), validators=[InputRequired()])
