"""The one bounded number parser (scoring/numbers.py) and everything in scoring that reads
numbers through it: to_fraction, loads_exact, the checklist loader and the command line.
A hostile number (``1e999999999``, thousands of digits) is refused at once, never
turned into a huge integer."""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import (
    EXPONENT,
    INVALID,
    MAX_PLACES,
    MAX_WHOLE_DIGITS,
    TOO_LONG,
    ChecklistError,
    NumberError,
    exact_number,
    load_checklist,
    loads_exact,
    parse_number,
    parse_whole_number,
    to_fraction,
)
from scoring.cli import main

from .cli import run_cli
from .hostile_numbers import JSON_NUMBER, NUMBER_TEXT, NUMBER_VALUE, outcome, quick

HUGE = Decimal("1e999999999")
FUZZ = settings(max_examples=200, deadline=None)
LIMIT = Fraction(10**MAX_WHOLE_DIGITS)


# --- the parser --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", Decimal(12)),
        ("-3.5", Decimal("-3.5")),
        ("+7", Decimal(7)),
        (".25", Decimal("0.25")),
        ("5.", Decimal(5)),
        ("  42\n", Decimal(42)),
        ("007", Decimal(7)),
        ("１２．５", Decimal("12.5")),  # full-width, from a Chinese input method
        ("9" * MAX_WHOLE_DIGITS, Decimal("9" * MAX_WHOLE_DIGITS)),
        ("0." + "1" * MAX_PLACES, Decimal("0." + "1" * MAX_PLACES)),
    ],
)
def test_plain_numbers_are_read_exactly(text: str, expected: Decimal) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1e999999999", EXPONENT),
        ("1E+3", EXPONENT),
        ("-2.5e-7", EXPONENT),
        ("9" * (MAX_WHOLE_DIGITS + 1), TOO_LONG),
        ("0." + "1" * (MAX_PLACES + 1), TOO_LONG),
        ("9" * 5000, TOO_LONG),
        ("nan", INVALID),
        ("-Infinity", INVALID),
        ("1_000", INVALID),
        ("1,5", INVALID),  # a decimal comma only where asked for
        ("١٢٣", INVALID),  # other scripts' digits
        ("²", INVALID),
        ("", INVALID),
        (".", INVALID),
        ("1.2.3", INVALID),
    ],
)
def test_other_writings_are_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(NumberError) as caught:
        parse_number(text)
    assert caught.value.reason == reason


def test_a_decimal_comma_is_taken_when_asked_for() -> None:
    assert parse_number("3,5", decimal_comma=True) == Decimal("3.5")


def test_whole_numbers_refuse_a_point() -> None:
    assert parse_whole_number("-12") == -12
    with pytest.raises(NumberError):
        parse_whole_number("12.0")


def test_the_message_names_the_number_and_the_rule() -> None:
    with pytest.raises(NumberError) as caught:
        parse_number("1e999999999")
    assert str(caught.value).startswith("1e999999999 is written with an exponent")


# --- values that are already numbers --------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        HUGE,
        Decimal("-1e16"),
        Decimal("1e-30"),
        10**16,
        pytest.param(10**10_000, id="10**10000"),
        1e300,
        1e-300,
    ],
)
def test_to_fraction_refuses_values_beyond_the_bounds(value: object) -> None:
    with quick():
        assert to_fraction(value) is None


def test_trailing_zeros_do_not_count_as_places() -> None:
    assert exact_number(Decimal("1." + "0" * 40)) == 1
    with quick():
        assert to_fraction(Decimal("0e999999999")) == 0
    assert to_fraction(0.1) == Fraction(1, 10)


# --- JSON ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"pass_mark": 1e999999999}', "exponent"),
        ('{"weight": ' + "9" * 5000 + "}", "too many digits"),
        ("[" * 100_000, "nest more than 32 levels"),
        ('{"a": ' * 50_000, "nest more than 32 levels"),
        ('"\\' * 200_000, "Unterminated string"),  # the depth check scans it once
    ],
)
def test_loads_exact_refuses_hostile_json_at_once(text: str, message: str) -> None:
    with quick(), pytest.raises(ValueError, match=message):
        loads_exact(text)


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = json.dumps({"title": "[" * 1000 + "{" * 1000})
    assert loads_exact(text) == {"title": "[" * 1000 + "{" * 1000}


def test_a_checklist_with_a_huge_pass_mark_is_a_problem_not_a_hang() -> None:
    doc = {"title": "T", "scoring": {"pass_mark": HUGE}, "sections": []}
    with quick(), pytest.raises(ChecklistError) as caught:
        load_checklist(doc)
    assert str(caught.value.problems[0]).startswith("scoring.pass_mark: has too many digits")


# --- every parser, fed adversarial text (hypothesis) -----------------------------------------


@FUZZ
@given(NUMBER_TEXT, st.booleans())
def test_parse_number_is_quick_and_sane_whatever_it_is_given(text: str, comma: bool) -> None:
    with quick():
        kind, result = outcome(lambda: parse_number(text, decimal_comma=comma), NumberError)
    if kind == "ok":
        assert result.is_finite() and abs(result) < LIMIT
        assert to_fraction(result) == Fraction(result)
    else:
        assert result.reason in (INVALID, EXPONENT, TOO_LONG)


@FUZZ
@given(NUMBER_VALUE)
def test_to_fraction_is_quick_and_bounded_whatever_it_is_given(value: Any) -> None:
    with quick():
        number = to_fraction(value)
    assert number is None or abs(number) < LIMIT


@FUZZ
@given(JSON_NUMBER, st.integers(0, 5000))
def test_loads_exact_is_quick_and_bounded(number: str, depth: int) -> None:
    text = "[" * depth + '{"pass_mark": ' + number + "}" + "]" * depth
    with quick():
        kind, result = outcome(lambda: loads_exact(text), ValueError)
    if kind == "ok":
        while isinstance(result, list):
            result = result[0]
        assert to_fraction(result["pass_mark"]) is not None


@FUZZ
@given(st.text(alphabet='"[]{}\\a,:1e', max_size=200), st.integers(1, 100))
def test_loads_exact_reads_any_text_in_one_pass(chunk: str, times: int) -> None:
    with quick():
        outcome(lambda: loads_exact(chunk * times), ValueError)


@FUZZ
@given(NUMBER_VALUE)
def test_the_checklist_loader_is_quick_whatever_number_it_meets(value: Any) -> None:
    doc = {
        "title": "T",
        "scoring": {"pass_mark": value},
        "sections": [
            {
                "key": "s",
                "title": "S",
                "weight": value,
                "questions": [
                    {"key": "q", "text": "Q", "type": "number", "bands": [{"max": value}]}
                ],
            }
        ],
    }
    with quick():
        outcome(lambda: load_checklist(doc), ChecklistError)


# --- the command line ---------------------------------------------------------------------


def checklist_text(pass_mark: str) -> str:
    return (
        '{"title": "T", "scoring": {"pass_mark": ' + pass_mark + '}, "sections": [{"key": "s",'
        ' "title": "S", "questions": [{"key": "wait", "text": "Wait", "type": "number",'
        ' "min": 0, "max": 600}]}]}'
    )


def _run_in_process(checklist: str, answers: str) -> tuple[int, str]:
    with tempfile.TemporaryDirectory() as folder:
        paths = [Path(folder, "c.json"), Path(folder, "a.json")]
        for path, text in zip(paths, (checklist, answers), strict=True):
            path.write_text(text, "utf-8")
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main([str(p) for p in paths])
    return status, err.getvalue()


@settings(max_examples=100, deadline=None)
@given(JSON_NUMBER, JSON_NUMBER)
def test_the_command_line_scores_or_exits_2_quickly(pass_mark: str, answer: str) -> None:
    with quick(2.0):  # two files read, a checklist linted and a visit scored (11 s before)
        status, errors = _run_in_process(checklist_text(pass_mark), '{"wait": ' + answer + "}")
    assert status in (0, 2)
    assert "Traceback" not in errors


@pytest.mark.parametrize(
    ("checklist", "message"),
    [
        ("[" * 100_000, "not valid JSON: arrays and objects nest more than 32 levels deep"),
        (checklist_text("1e999999999"), "1e999999999 is written with an exponent"),
        (checklist_text("9" * 5000), "has too many digits"),
        ("null", "a checklist must be a JSON object"),
    ],
)
def test_the_command_line_refuses_hostile_files_in_one_line(
    tmp_path: Path, checklist: str, message: str
) -> None:
    (tmp_path / "c.json").write_text(checklist, "utf-8")
    (tmp_path / "a.json").write_text("{}", "utf-8")
    completed = run_cli(str(tmp_path / "c.json"), str(tmp_path / "a.json"))
    assert completed.returncode == 2
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], completed.stderr


def test_the_command_line_refuses_a_file_over_its_size_limit() -> None:
    status, errors = _run_in_process(" " * (10 * 2**20 + 1), "{}")
    assert status == 2 and "larger than 10 MB" in errors
