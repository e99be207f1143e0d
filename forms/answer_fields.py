"""Answer fields the checklist form builder uses beyond WTForms' own."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from wtforms import Field, Form, SelectMultipleField, StringField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget, NumberInput

from scoring import (
    EXPONENT,
    MAX_PLACES,
    MAX_WHOLE_DIGITS,
    TOO_LONG,
    NumberError,
    parse_number,
    to_fraction,
)


class CheckboxListField(SelectMultipleField):
    """Several choices as a list of checkboxes (a multi question)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ExactNumberField(StringField):
    """A number input read as an exact Decimal by scoring's bounded parser (a decimal
    comma is taken too); blank is None. Exponents, NaN, infinity and numbers with too
    many digits are errors, each with its own message (``invalid_message``,
    ``exponent_message``, and ``too_long_message`` with %(whole)d and %(places)d; the
    builder passes translated ones)."""

    widget = NumberInput(step="any")
    data: Any  # a Decimal or None, where StringField's data is text

    def __init__(self, label: Any = None, validators: Any = None, **kw: Any) -> None:
        self.invalid_message = kw.pop("invalid_message", "Not a valid number.")
        self.messages = {
            EXPONENT: kw.pop(
                "exponent_message",
                "Write a plain number, without an exponent (1000, not 1e3).",
            ),
            TOO_LONG: kw.pop(
                "too_long_message",
                "Write a plain number with at most %(whole)d digits before the decimal point"
                " and %(places)d after it.",
            ),
        }
        super().__init__(label, validators, **kw)

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else str(self.data)

    def process_formdata(self, valuelist: list[Any]) -> None:
        text = str(valuelist[0]).strip() if valuelist else ""
        if not text:
            self.data = None
            return
        try:
            self.data = parse_number(text, decimal_comma=True)
        except NumberError as error:
            self.data = None
            message = self.messages.get(error.reason, self.invalid_message)
            if error.reason == TOO_LONG:
                message = message % {"whole": MAX_WHOLE_DIGITS, "places": MAX_PLACES}
            raise ValueError(message) from None


class Between:
    """Exact bounds check for ExactNumberField (either bound may be None). The value goes
    through scoring's bounded to_fraction, so no Decimal, however it was made, turns
    into a huge integer here."""

    def __init__(
        self, low: Fraction | int | None, high: Fraction | int | None, message: str
    ) -> None:
        self.low, self.high, self.message = low, high, message

    def __call__(self, form: Form, field: Field) -> None:
        if field.data is None:
            return
        value = to_fraction(field.data)
        if (
            value is None
            or (self.low is not None and value < self.low)
            or (self.high is not None and value > self.high)
        ):
            raise ValidationError(self.message)
