"""Number fields read through scoring's one bounded parser: the visit form's number,
scale and NPS fields, and the admin forms' coordinates and whole numbers. Hostile text
(``1e999999999``, thousands of digits, other scripts' digits) gets a message for its
field at once and never becomes a huge integer."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from werkzeug.datastructures import MultiDict

from forms.builder import build_form_class
from forms.parsing import parse_int, parse_latitude
from scoring import MAX_WHOLE_DIGITS, load_checklist
from tests.scoring.hostile_numbers import NUMBER_TEXT, outcome, quick

CHECKLIST = load_checklist(
    {
        "title": "Numbers",
        "sections": [
            {
                "key": "s",
                "title": "S",
                "questions": [
                    {"key": "wait", "text": "Wait (s)", "type": "number", "min": 0, "max": 600},
                    {"key": "clean", "text": "Clean", "type": "scale", "min": 1, "max": 5},
                    {"key": "nps", "text": "Recommend?", "type": "nps"},
                    # a condition on the number makes every check compare it, too
                    {"key": "why", "text": "Why so long?", "type": "text",
                     "show_if": {"question": "wait", "gte": 300}},
                ],
            }
        ],
    }
)  # fmt: skip
EXPONENT_MESSAGE = "Write a plain number, without an exponent (1000, not 1e3)."
TOO_LONG_MESSAGE = (
    "Write a plain number with at most 15 digits before the decimal point and 20 after it."
)
FIELD_MESSAGES = {
    EXPONENT_MESSAGE,
    TOO_LONG_MESSAGE,
    "Not a valid number.",
    "The number is outside the allowed range.",
    "Not a valid choice.",
}


def make_form(gettext=None, **fields):
    form_class = build_form_class(CHECKLIST, **({"gettext": gettext} if gettext else {}))
    return form_class(formdata=MultiDict({f"q_{k}": v for k, v in fields.items()}))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1e3", EXPONENT_MESSAGE),
        ("1E+999", EXPONENT_MESSAGE),
        ("-2.5e-1", EXPONENT_MESSAGE),
        ("9" * 5000, TOO_LONG_MESSAGE),
        ("1" * (MAX_WHOLE_DIGITS + 1), TOO_LONG_MESSAGE),
        ("nan", "Not a valid number."),
        ("١٢", "Not a valid number."),
    ],
)
def test_a_number_answer_gets_the_message_of_its_mistake(text, message):
    form = make_form(wait=text)
    with quick():
        assert not form.validate()
    assert form.q_wait.errors == [message]
    assert form.q_wait._value() == text  # what was typed is shown again


def test_a_billion_digit_exponent_is_refused_at_once():
    form = make_form(wait="1e999999999")
    with quick():
        assert not form.validate()
        assert form.answers() == {}
    assert form.q_wait.errors == [EXPONENT_MESSAGE]


@pytest.mark.parametrize(("text", "value"), [("３,５", Decimal("3.5")), (" 12 ", Decimal(12))])
def test_full_width_digits_and_a_decimal_comma_are_read(text, value):
    form = make_form(wait=text)
    assert form.validate(), form.errors
    assert form.answers()["wait"] == value


def test_the_messages_come_through_the_builders_gettext():
    form = make_form(gettext=str.upper, wait="1e3")
    form.validate()
    assert form.q_wait.errors == [EXPONENT_MESSAGE.upper()]


@pytest.mark.parametrize("text", ["9" * 5000, "²", "١"])
def test_a_scale_radio_with_hostile_digits_is_an_error_not_a_crash(text):
    form = make_form(clean=text, nps=text)
    with quick():
        assert form.submitted() == {"clean": text, "nps": text}
        assert not form.validate()
    assert form.q_clean.errors and form.q_nps.errors


@settings(max_examples=200, deadline=None)
@given(NUMBER_TEXT)
def test_every_number_field_is_quick_and_sane_whatever_it_is_given(text):
    form = make_form(wait=text, clean=text, nps=text)
    with quick():
        valid = form.validate()
        answers = form.answers()
    for field in (form.q_wait, form.q_clean, form.q_nps):
        for error in field.errors:  # a field's own message, or scoring's domain check
            assert error in FIELD_MESSAGES or error.startswith("This answer is not allowed")
    if valid:
        assert 0 <= answers.get("wait", 0) <= 600


# --- the admin forms' parsers (store and shopper forms and imports) -----------------------


def parse_share(text):
    return parse_int(text, 0, 100, "Female share")


@pytest.fixture
def request_context(app):
    with app.test_request_context():
        yield


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (parse_latitude, "1e1", "Latitude: write a plain number, without an exponent"),
        (parse_latitude, "9" * 5000, "Latitude: write a plain number with at most 15 digits"),
        (parse_share, "9" * 5000, "Female share: write a plain number with at most"),
        (parse_share, "١٢", "must be a whole number"),
    ],
)
def test_admin_number_parsers_explain_the_mistake(request_context, parse, text, message):
    with quick(), pytest.raises(ValueError, match=message):
        parse(text)


@settings(max_examples=100, deadline=None)
@given(NUMBER_TEXT)
def test_admin_number_parsers_are_quick_and_sane(app, text):
    with app.test_request_context():
        with quick():
            kind, latitude = outcome(lambda: parse_latitude(text), ValueError)
        assert kind == "error" or latitude is None or -90 <= latitude <= 90
        with quick():
            kind, share = outcome(lambda: parse_int(text, 0, 100, "Share"), ValueError)
        assert kind == "error" or share is None or 0 <= share <= 100
