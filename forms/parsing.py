"""Parsers for the text shapes people type into forms and spreadsheets.
Each returns the parsed value or raises ValueError with a message for the user."""

import re
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _

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


def parse_decimal(text: str, low: Decimal, high: Decimal, label: str) -> Decimal | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(_("%(label)s must be a number.", label=label)) from None
    if not value.is_finite() or not low <= value <= high:
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
    if not re.fullmatch(r"-?\d+", text):
        raise ValueError(_("%(label)s must be a whole number.", label=label))
    value = int(text)
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
