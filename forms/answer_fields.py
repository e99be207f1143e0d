"""Answer fields the checklist form builder uses beyond WTForms' own."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from wtforms import Field, Form, SelectMultipleField, StringField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget, NumberInput


class CheckboxListField(SelectMultipleField):
    """Several choices as a list of checkboxes (a multi question)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ExactNumberField(StringField):
    """A number input read as an exact Decimal; blank is None, NaN and infinity are errors."""

    widget = NumberInput(step="any")

    def __init__(self, label: Any = None, validators: Any = None, **kw: Any) -> None:
        self.invalid_message = kw.pop("invalid_message", "Not a valid number.")
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
            number = Decimal(text.replace(",", "."))
        except InvalidOperation:
            self.data = None
            raise ValueError(self.invalid_message) from None
        if not number.is_finite():
            self.data = None
            raise ValueError(self.invalid_message)
        self.data = number


class Between:
    """Exact bounds check for ExactNumberField (either bound may be None)."""

    def __init__(self, low: Fraction | None, high: Fraction | None, message: str) -> None:
        self.low, self.high, self.message = low, high, message

    def __call__(self, form: Form, field: Field) -> None:
        if field.data is None:
            return
        value = Fraction(field.data)
        if (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        ):
            raise ValidationError(self.message)
