"""Parsers for the text shapes people type into forms and spreadsheets.
Each returns the parsed value or raises ValueError with a message for the user.
Numbers go through scoring's one bounded parser (scoring/numbers.py)."""

import re
from decimal import Decimal

from flask_babel import gettext as _

from scoring import (
    EXPONENT,
    MAX_PLACES,
    MAX_WHOLE_DIGITS,
    TOO_LONG,
    NumberError,
    parse_number,
    parse_whole_number,
)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")
CLOSED_WORDS = {"", "closed", "休息", "不营业"}


def parse_hours(text: str) -> list[str] | None:
    """'09:00-21:00' -> ['09:00', '21:00']; 'closed' or empty -> None (closed that day)."""
    text = text.strip().lower().replace("–", "-").replace(" ", "")
    if text in CLOSED_WORDS:
        return None
    parts = text.split("-")
    if len(parts) != 2 or not all(_TIME.match(p) for p in parts):
        raise ValueError(_("Write opening hours as 09:00-21:00, or 'closed'."))
    opens, closes = parts
    if opens == "24:00" or closes <= opens:
        raise ValueError(_("Closing time must be after opening time (%(hours)s).", hours=text))
    return [opens, closes]


def format_hours(hours: list[str] | None) -> str:
    return "closed" if not hours else f"{hours[0]}-{hours[1]}"


def number_message(error: NumberError, label: str) -> str:
    """What to tell a person whose ``label`` field scoring's number parser refused."""
    if error.reason == EXPONENT:
        return _(
            "%(label)s: write a plain number, without an exponent (1000, not 1e3).",
            label=label,
        )
    if error.reason == TOO_LONG:
        return _(
            "%(label)s: write a plain number with at most %(whole)d digits before the"
            " decimal point and %(places)d after it.",
            label=label,
            whole=MAX_WHOLE_DIGITS,
            places=MAX_PLACES,
        )
    return _("%(label)s must be a number.", label=label)


def parse_decimal(text: str, low: Decimal, high: Decimal, label: str) -> Decimal | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = parse_number(text)
    except NumberError as error:
        raise ValueError(number_message(error, label)) from None
    if not low <= value <= high:
        raise ValueError(
            _("%(label)s must be between %(low)s and %(high)s.", label=label, low=low, high=high)
        )
    return value.quantize(Decimal("0.000001"))


def parse_latitude(text: str) -> Decimal | None:
    return parse_decimal(text, Decimal(-90), Decimal(90), _("Latitude"))


def parse_longitude(text: str) -> Decimal | None:
    return parse_decimal(text, Decimal(-180), Decimal(180), _("Longitude"))


def parse_int(text: str, low: int, high: int, label: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = parse_whole_number(text)
    except NumberError as error:
        if error.reason != TOO_LONG:
            raise ValueError(_("%(label)s must be a whole number.", label=label)) from None
        raise ValueError(number_message(error, label)) from None
    if not low <= value <= high:
        raise ValueError(
            _("%(label)s must be between %(low)s and %(high)s.", label=label, low=low, high=high)
        )
    return value


def parse_list(text: str) -> list[str]:
    """'a|b, c' -> ['a', 'b', 'c']: spreadsheets use | or commas between items."""
    return [item.strip() for item in re.split(r"[|,，]", text) if item.strip()]


def parse_bool(text: str, default: bool = True) -> bool:
    text = text.strip().lower()
    if not text:
        return default
    if text in {"1", "yes", "y", "true", "active", "是"}:
        return True
    if text in {"0", "no", "n", "false", "inactive", "否"}:
        return False
    raise ValueError(_("Write yes or no."))
