"""The one bounded number parser: every number a person or a file gives us goes through it.

A number is written plainly: an optional sign, digits, at most one decimal point
(``12``, ``-3.5``, ``.25``, ``7.``). Whitespace around it is ignored, and full-width
digits, point and signs (typed with a Chinese input method) count as their ASCII
twins. Refused, before anything is converted:

- exponent notation (``1e3``): ``1e999999999`` would become a billion-digit integer
  the moment it is turned into a Fraction or an int;
- NaN and infinity, digit group separators, digits of other scripts;
- more than MAX_WHOLE_DIGITS digits before the point or MAX_PLACES after it.

So whatever is sent, turning the result into a Fraction and computing with it stays
cheap. Numbers that arrive already parsed (a JSON or YAML value, a spreadsheet cell, a
Decimal from a form or the database) meet the same bounds through
:func:`exact_number`. Standard library only, so forms, the web layer, the command line
and a future API all share it.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction

MAX_WHOLE_DIGITS = 15
MAX_PLACES = 20  # room for a coordinate or a float written out in full
# Longer text is refused without being looked at any further.
_MAX_TEXT = 4 * (MAX_WHOLE_DIGITS + MAX_PLACES)
_LIMIT = 10**MAX_WHOLE_DIGITS

INVALID = "invalid"
EXPONENT = "exponent"
TOO_LONG = "too_long"

_EXPLANATIONS = {
    INVALID: "is not a number",
    EXPONENT: "is written with an exponent; write the number out in full (1000, not 1e3)",
    TOO_LONG: (
        f"has too many digits: at most {MAX_WHOLE_DIGITS} before the decimal point"
        f" and {MAX_PLACES} after it"
    ),
}
_PLAIN = re.compile(r"[+-]?([0-9]*)(?:\.([0-9]*))?")
_WITH_EXPONENT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]+")
_FULL_WIDTH = str.maketrans("０１２３４５６７８９．，＋－", "0123456789.,+-")


class NumberError(ValueError):
    """Not a number we accept. ``reason`` is INVALID, EXPONENT or TOO_LONG, for callers
    that word their own message; ``explanation`` is the English one ("is not a
    number"), and ``str()`` starts with (the beginning of) what was given."""

    def __init__(self, reason: str, given: object) -> None:
        self.reason = reason
        self.explanation = _EXPLANATIONS[reason]
        super().__init__(f"{_shown(given)} {self.explanation}")


def _shown(given: object) -> str:
    """The beginning of what was given, for a message; a huge int is not even written
    out (Python refuses to for more than 4300 digits)."""
    if isinstance(given, int) and not isinstance(given, bool) and abs(given) >= _LIMIT**2:
        return "a number of more than 30 digits"
    text = given if isinstance(given, str) else repr(given)
    return text if len(text) <= 24 else text[:20] + "..."


def parse_number(text: str, *, decimal_comma: bool = False) -> Decimal:
    """The Decimal ``text`` writes, or NumberError. ``decimal_comma`` also takes
    ``3,5`` for 3.5 (what forms accept); files and the command line use a point."""
    if len(text) > _MAX_TEXT:
        raise NumberError(TOO_LONG, text)
    clean = text.strip().translate(_FULL_WIDTH)
    if decimal_comma:
        clean = clean.replace(",", ".")
    match = _PLAIN.fullmatch(clean)
    if match is None or not (match.group(1) or match.group(2)):
        raise NumberError(EXPONENT if _WITH_EXPONENT.fullmatch(clean) else INVALID, text)
    whole, places = match.group(1).lstrip("0"), match.group(2) or ""
    if len(whole) > MAX_WHOLE_DIGITS or len(places) > MAX_PLACES:
        raise NumberError(TOO_LONG, text)
    return Decimal(clean)


def parse_whole_number(text: str) -> int:
    """The int ``text`` writes (``12``, ``-3``, no point), or NumberError."""
    number = parse_number(text)
    if "." in text or "．" in text:
        raise NumberError(INVALID, text)
    return int(number)


def exact_number(value: object) -> Fraction:
    """The exact value of an already parsed number, within the same bounds, or
    NumberError. Booleans are not numbers (JSON ``true`` must never count as 1); a
    float is read through its shortest repr, so 0.1 is one tenth, as typed; text is
    not a number here (parse it first)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | Fraction):
        raise NumberError(INVALID, value)
    if isinstance(value, Fraction):
        return value  # the result of exact arithmetic, not something typed
    if isinstance(value, int):
        if -_LIMIT < value < _LIMIT:
            return Fraction(value)
        raise NumberError(TOO_LONG, value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NumberError(INVALID, value)
        if not -_LIMIT < value < _LIMIT:
            raise NumberError(TOO_LONG, value)
        value = Decimal(repr(value))
    return Fraction(_bounded(value))


def _bounded(value: Decimal) -> Decimal:
    """``value`` when it is finite and has at most MAX_WHOLE_DIGITS digits before the
    point and MAX_PLACES after it (trailing zeros do not count); checked on the
    Decimal's parts, without building the number."""
    if not value.is_finite():
        raise NumberError(INVALID, value)
    if value.is_zero():
        return Decimal(0)
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    if value.adjusted() >= MAX_WHOLE_DIGITS:
        raise NumberError(TOO_LONG, value)
    if exponent < -MAX_PLACES:
        zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
        if exponent + zeros < -MAX_PLACES:
            raise NumberError(TOO_LONG, value)
    return value
