"""Exact numbers in and out: parsing, half-up rounding and JSON without binary floats."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from itertools import accumulate
from typing import Any

from scoring.numbers import NumberError, exact_number, parse_number, parse_whole_number

# A checklist document nests about ten levels deep; far deeper is an attack on the
# recursive parser and on everything that walks the result.
MAX_JSON_DEPTH = 32
# A string, or an unterminated one up to the end of the text: from an opening quote it
# always matches, and possessively, so the text is scanned once whatever it holds.
_JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")
_DEPTH_CHANGE = {"[": 1, "{": 1, "]": -1, "}": -1}


def to_fraction(value: object) -> Fraction | None:
    """The exact value of a JSON-ish number, or None when ``value`` is not a finite number
    within the bounds of scoring/numbers.py (MAX_WHOLE_DIGITS before the point,
    MAX_PLACES after it), so that no value, however it got here, makes arithmetic
    expensive.

    Booleans are not numbers here (JSON ``true`` must never count as 1). A ``float`` is read
    through its shortest repr, so ``0.1`` means one tenth, which is what the person typed;
    documents parsed with :func:`loads_exact` never contain floats at all.
    """
    try:
        return exact_number(value)
    except NumberError:
        return None


def round_half_up(value: Fraction, places: int) -> Decimal:
    """``value`` rounded to ``places`` decimals, halves away from zero (2/3*100 -> 66.7)."""
    scaled = abs(value) * 10**places
    units = math.floor(scaled + Fraction(1, 2))
    if value < 0:
        units = -units
    return Decimal(units).scaleb(-places)


def exact_decimal(value: Fraction) -> int | Decimal:
    """``value`` as an int or a Decimal with exactly the same value, for writing out.

    Raises ValueError for values such as 1/3 that have no finite decimal form: a
    checklist document can only hold decimal numbers.
    """
    if value.denominator == 1:
        return value.numerator
    denominator = value.denominator
    places = 0
    while 10**places % denominator:
        places += 1
        if places > 60:  # only 2s and 5s in the denominator ever terminate
            raise ValueError(f"{value} has no exact decimal form")
    units = value.numerator * (10**places // denominator)
    return Decimal(units).scaleb(-places)


def show_number(value: Fraction) -> str:
    """A number for messages: exact decimal text when it has one (2.5), else 1/3."""
    try:
        return str(exact_decimal(value))
    except ValueError:
        return str(value)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r} in a JSON object")
        result[key] = value
    return result


def loads_exact(text: str) -> Any:
    """Parse JSON with non-integers as Decimal; reject NaN/Infinity and duplicate keys.

    Every number goes through scoring/numbers.py (no exponents, bounded digits) and the
    nesting is bounded by MAX_JSON_DEPTH, both checked before anything big is built.
    Raises ValueError (json.JSONDecodeError and NumberError are ones) with a readable
    message.
    """
    _check_depth(text)
    return json.loads(
        text,
        parse_float=parse_number,
        parse_int=parse_whole_number,
        parse_constant=_reject_constant,
        object_pairs_hook=_unique_keys,
    )


def _check_depth(text: str) -> None:
    """ValueError when arrays and objects nest more than MAX_JSON_DEPTH levels deep
    (brackets inside strings do not count). Linear in the text, whatever it is."""
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    depths = accumulate(map(_DEPTH_CHANGE.__getitem__, brackets))
    if max(depths, default=0) > MAX_JSON_DEPTH:
        raise ValueError(f"arrays and objects nest more than {MAX_JSON_DEPTH} levels deep")


def dumps_exact(value: object) -> str:
    """JSON text in which Decimals and Fractions appear as plain numbers, digit for digit.

    Decimals are written exactly as they are (``Decimal("75.0")`` -> ``75.0``), so
    rounding is decided by whoever rounded, never by float formatting.
    """
    return "".join(_encode(value))


def _encode(value: object) -> list[str]:
    if value is None or isinstance(value, bool | str):
        return [json.dumps(value)]
    if isinstance(value, int):
        return [str(value)]
    if isinstance(value, Fraction):
        value = exact_decimal(value)
        return [str(value) if isinstance(value, int) else _decimal_text(value)]
    if isinstance(value, Decimal):
        return [_decimal_text(value)]
    if isinstance(value, Mapping):
        parts = ["{"]
        for index, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, not {key!r}")
            parts.append(", " if index else "")
            parts.append(json.dumps(key) + ": ")
            parts.extend(_encode(item))
        return [*parts, "}"]
    if isinstance(value, list | tuple):
        parts = ["["]
        for index, item in enumerate(value):
            parts.append(", " if index else "")
            parts.extend(_encode(item))
        return [*parts, "]"]
    raise TypeError(f"cannot write {type(value).__name__} as exact JSON")


def _decimal_text(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError(f"{value} is not a number JSON allows")
    # Fixed-point notation keeps trailing zeros (75.0) and never uses an exponent.
    return format(value, "f")
