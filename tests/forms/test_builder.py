"""The checklist-to-form builder: one field per question type, N/A, required, and
values outside a question's domain refused (SCORING.md §1-2)."""

from decimal import Decimal
from fractions import Fraction

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    DateField,
    FileField,
    RadioField,
    TextAreaField,
    TimeField,
)

from forms.builder import (
    FIELD_TYPES,
    CheckboxListField,
    ExactNumberField,
    build_form_class,
    form_data,
)
from scoring import QUESTION_TYPES, load_checklist, score_visit

DOCUMENT = {
    "title": "Every type",
    "sections": [
        {
            "key": "s1",
            "title": "First",
            "translations": {"zh": {"title": "第一部分"}},
            "questions": [
                {"key": "greeted", "text": "Greeted?", "type": "yes_no", "na_allowed": True,
                 "required": True, "guidance": "Within 30 seconds.",
                 "translations": {"zh": {"text": "是否问候？", "guidance": "三十秒内。"}}},
                {"key": "staff", "text": "Staff", "type": "choice", "options": [
                    {"value": "warm", "label": "Warm", "points": 2,
                     "translations": {"zh": {"label": "热情"}}},
                    {"value": "rude", "label": "Rude", "points": 0}]},
                {"key": "seen", "text": "Seen", "type": "multi", "na_allowed": True, "options": [
                    {"value": "sign", "label": "Sign", "points": 1},
                    {"value": "tag", "label": "Price tag", "points": 1}]},
                {"key": "clean", "text": "Clean", "type": "scale", "min": 1, "max": 5},
                {"key": "wait", "text": "Wait (s)", "type": "number", "na_allowed": True,
                 "min": 0, "max": 600, "bands": [{"max": 30, "points": 2}, {"points": 0}]},
            ],
        },
        {
            "key": "s2",
            "title": "Second",
            "questions": [
                {"key": "nps", "text": "Recommend?", "type": "nps"},
                {"key": "why", "text": "Why?", "type": "text", "required": True,
                 "show_if": {"question": "staff", "equals": "rude"}},
                {"key": "photo", "text": "Shelf photo", "type": "photo"},
                {"key": "day", "text": "Date", "type": "date"},
                {"key": "at", "text": "Time", "type": "time"},
                # a key that is also a form attribute must not break the form
                {"key": "data", "text": "Notes", "type": "text"},
            ],
        },
    ],
}  # fmt: skip

CHECKLIST = load_checklist(DOCUMENT)


def make_form(pairs=(), **kw):
    form_class = build_form_class(CHECKLIST, **kw)
    return form_class(formdata=MultiDict(list(pairs)))


def test_every_question_type_has_a_field():
    assert set(FIELD_TYPES) == set(QUESTION_TYPES)


@pytest.mark.parametrize(
    ("key", "field_class"),
    [
        ("greeted", RadioField),
        ("staff", RadioField),
        ("seen", CheckboxListField),
        ("clean", RadioField),
        ("wait", ExactNumberField),
        ("nps", RadioField),
        ("why", TextAreaField),
        ("photo", FileField),
        ("day", DateField),
        ("at", TimeField),
        ("data", TextAreaField),
    ],
)
def test_each_type_is_asked_with_its_field(key, field_class):
    assert isinstance(make_form()[f"q_{key}"], field_class)


def values(field):
    return [choice.value for choice in field.choices]


def labels(field):
    return {choice.value: choice.label for choice in field.choices}


def test_choices_follow_the_question():
    form = make_form()
    assert values(form.q_greeted) == ["yes", "no", "na"]
    assert values(form.q_staff) == ["warm", "rude"]
    assert values(form.q_seen) == ["sign", "tag", "", "na"]
    assert values(form.q_clean) == ["1", "2", "3", "4", "5"]
    assert values(form.q_nps) == [str(i) for i in range(11)]


def test_scale_and_nps_render_as_a_row_of_radios():
    html = make_form().q_clean()
    assert 'class="choices row scale"' in html
    assert html.count('type="radio"') == 5
    assert make_form().q_nps().count('type="radio"') == 11


def test_photo_date_time_and_number_inputs():
    form = make_form()
    assert 'type="file"' in form.q_photo() and 'accept="image/*"' in form.q_photo()
    assert 'type="date"' in form.q_day()
    assert 'type="time"' in form.q_at()
    assert 'type="number"' in form.q_wait() and 'max="600"' in form.q_wait()


def test_guidance_is_the_description_and_translations_apply():
    form = make_form(language="zh")
    assert form.q_greeted.description == "三十秒内。"
    assert form.q_greeted.label.text == "是否问候？"
    assert labels(form.q_staff)["warm"] == "热情"
    assert form.sections()[0][1] == "第一部分"
    assert make_form().q_greeted.description == "Within 30 seconds."


def test_builder_words_go_through_gettext():
    form = make_form(gettext=lambda text: f"«{text}»")
    assert labels(form.q_greeted)["na"] == "«Not applicable»"
    assert form.na_wait.label.text == "«Not applicable»"


def test_na_is_a_choice_or_a_box_only_where_allowed():
    form = make_form()
    assert "na" not in labels(form.q_staff)
    assert isinstance(form.na_wait, BooleanField)
    assert "na_why" not in form._fields


def test_answers_come_out_in_scorings_shape():
    form = make_form(
        [("q_greeted", "yes"), ("q_staff", "rude"), ("q_seen", "sign"), ("q_seen", "tag"),
         ("q_clean", "4"), ("q_wait", "12.5"), ("q_nps", "9"), ("q_why", "Ignored me"),
         ("q_day", "2026-03-01"), ("q_at", "18:05"), ("q_data", "ok")]
    )  # fmt: skip
    assert form.validate(), form.errors
    assert form.answers() == {
        "greeted": "yes", "staff": "rude", "seen": ["sign", "tag"], "clean": 4,
        "wait": Decimal("12.5"), "nps": 9, "why": "Ignored me", "day": "2026-03-01",
        "at": "18:05", "data": "ok",
    }  # fmt: skip
    score_visit(CHECKLIST, form.answers())  # scoring accepts every value


def test_na_answers():
    form = make_form(
        [("q_greeted", "na"), ("q_seen", "na"), ("na_wait", "y"), ("q_wait", ""), ("q_why", "x")]
    )
    form.require_answers = False
    assert form.validate(), form.errors
    assert form.answers() == {"greeted": "na", "seen": "na", "wait": "na"}


def test_na_refused_where_not_allowed():
    form = make_form([("q_greeted", "yes"), ("q_staff", "na")])
    form.require_answers = False
    assert not form.validate()
    assert form.q_staff.errors


def test_multi_none_of_these_is_an_answer_and_exclusive():
    form = make_form([("q_greeted", "yes"), ("q_seen", "")])
    assert form.validate(), form.errors
    assert form.answers()["seen"] == []
    form = make_form([("q_greeted", "yes"), ("q_seen", ""), ("q_seen", "sign")])
    assert not form.validate()
    assert form.q_seen.errors
    assert "seen" not in make_form([("q_greeted", "yes")]).answers()


def test_required_visible_questions_must_be_answered():
    form = make_form([("q_staff", "rude")])
    assert not form.validate()
    assert form.q_greeted.errors  # required
    assert form.q_why.errors  # required and visible, because staff is rude
    form.require_answers = False
    assert form.validate(), form.errors


def test_required_hidden_question_is_not_asked_for_and_its_value_is_dropped():
    form = make_form([("q_greeted", "no"), ("q_staff", "warm"), ("q_why", "should vanish")])
    assert form.validate(), form.errors
    assert "why" not in form.visible
    assert score_visit(CHECKLIST, form.answers()).questions[6].answer is None


def test_hidden_questions_errors_are_ignored():
    form = make_form([("q_greeted", "yes"), ("q_staff", "warm")])
    assert form.validate()
    assert not form.q_why.errors


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("q_greeted", "maybe"),
        ("q_staff", "friendly"),
        ("q_seen", "smile"),
        ("q_clean", "6"),
        ("q_clean", "0"),
        ("q_wait", "601"),
        ("q_wait", "-1"),
        ("q_wait", "NaN"),
        ("q_wait", "Infinity"),
        ("q_wait", "ten"),
        ("q_nps", "11"),
        ("q_nps", "7.5"),
        ("q_day", "2026-02-30"),
        ("q_at", "25:00"),
    ],
)
def test_crafted_value_outside_the_domain_is_rejected(name, value):
    form = make_form([(name, value)])
    form.require_answers = False
    assert not form.validate()
    assert form[name].errors


def test_scoring_double_checks_what_a_field_let_through():
    # The field has no bounds on a draft's odd scale; scoring still refuses 9 on 1..5.5.
    doc = {"title": "t", "sections": [{"key": "s", "title": "S", "questions": [
        {"key": "n", "text": "N", "type": "number", "max": 5}]}]}  # fmt: skip
    checklist = load_checklist(doc)
    form = build_form_class(checklist)(formdata=MultiDict([("q_n", "9")]))
    assert not form.validate()
    assert form.q_n.errors


def test_stored_answers_fill_the_form_again():
    answers = {"greeted": "na", "staff": "warm", "seen": [], "clean": 3,
               "wait": Fraction(25, 2), "day": "2026-03-01", "at": "09:30"}  # fmt: skip
    data = form_data(CHECKLIST, answers)
    form = build_form_class(CHECKLIST)(data=data)
    assert form.answers() == {**answers, "wait": Decimal("12.5")}
    form = build_form_class(CHECKLIST)(data=form_data(CHECKLIST, {"wait": "na"}))
    assert form.na_wait.data is True
    assert form.answers() == {"wait": "na"}


def test_sections_and_slots_number_questions_in_order():
    form = make_form()
    sections = form.sections()
    assert [s.key for s, _title, _slots in sections] == ["s1", "s2"]
    assert [slot.number for slot in form.slots()] == list(range(1, 12))
    assert sections[0][2][4].na_field is form.na_wait
