"""Earned and possible points of one question, per type (SCORING.md §2)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from scoring import Checklist, QuestionResult, load_checklist, score_visit

F = Fraction
PENALTY_OPTIONS = [
    {"value": "a", "label": "A", "points": 2},
    {"value": "b", "label": "B", "points": 1},
    {"value": "c", "label": "C", "points": -1},
]
SPEED_BANDS = [{"max": 30, "points": 2}, {"max": 120, "points": 1}, {"points": 0}]


def one_question(question: dict[str, Any], **scoring: Any) -> Checklist:
    doc = {
        "title": "One question",
        "scoring": scoring,
        "sections": [
            {"key": "s", "title": "S", "questions": [{"text": "?", "key": "q", **question}]}
        ],
    }
    return load_checklist(doc)


def scored(question: dict[str, Any], answer: object) -> QuestionResult:
    return score_visit(one_question(question), {"q": answer}).questions[0]


POINTS_CASES = [
    # (id, question, answer, earned, possible)
    ("yes_no yes earns its weight", {"type": "yes_no"}, "yes", F(1), F(1)),
    ("yes_no no earns nothing", {"type": "yes_no"}, "no", F(0), F(1)),
    ("yes_no weight multiplies", {"type": "yes_no", "weight": 3}, "yes", F(3), F(3)),
    (
        "yes_no options override points",
        {
            "type": "yes_no",
            "options": [
                {"value": "yes", "label": "Yes", "points": 2},
                {"value": "no", "label": "No", "points": 1},
            ],
        },
        "no",
        F(1),
        F(2),
    ),
    ("choice earns the chosen points", {"type": "choice", "options": PENALTY_OPTIONS}, "b", 1, 2),
    (
        "choice weight applies to earned and possible",
        {"type": "choice", "weight": 2, "options": PENALTY_OPTIONS},
        "b",
        F(2),
        F(4),
    ),
    (
        "choice negative option floors at 0",
        {"type": "choice", "options": PENALTY_OPTIONS},
        "c",
        0,
        2,
    ),
    ("multi sums chosen points", {"type": "multi", "options": PENALTY_OPTIONS}, ["a", "c"], 1, 3),
    (
        "multi possible sums positives",
        {"type": "multi", "options": PENALTY_OPTIONS},
        ["a", "b"],
        3,
        3,
    ),
    ("multi floors at 0", {"type": "multi", "options": PENALTY_OPTIONS}, ["c"], F(0), F(3)),
    ("multi empty list earns 0", {"type": "multi", "options": PENALTY_OPTIONS}, [], F(0), F(3)),
    ("scale is a fraction of the span", {"type": "scale", "min": 1, "max": 5}, 4, F(3, 4), 1),
    ("scale weight applies", {"type": "scale", "min": 1, "max": 5, "weight": 2}, 4, F(3, 2), 2),
    ("scale minimum earns 0", {"type": "scale", "min": 1, "max": 5}, 1, F(0), F(1)),
    ("number first band", {"type": "number", "bands": SPEED_BANDS}, 20, F(2), F(2)),
    ("number band max is inclusive", {"type": "number", "bands": SPEED_BANDS}, 30, F(2), F(2)),
    ("number next band", {"type": "number", "bands": SPEED_BANDS}, Decimal("30.5"), 1, 2),
    ("number catch-all band", {"type": "number", "bands": SPEED_BANDS}, 500, F(0), F(2)),
    ("weight 0 is informational", {"type": "yes_no", "weight": 0}, "yes", F(0), F(0)),
    ("bonus has no possible points", {"type": "yes_no", "bonus": True}, "yes", F(1), F(0)),
]


@pytest.mark.parametrize(
    ("question", "answer", "earned", "possible"),
    [case[1:] for case in POINTS_CASES],
    ids=[case[0] for case in POINTS_CASES],
)
def test_question_earns_points_by_type(
    question: dict[str, Any], answer: object, earned: Fraction, possible: Fraction
) -> None:
    result = scored(question, answer)

    assert (result.earned, result.possible) == (earned, possible)
    assert result.applicable is True


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ({"type": "nps"}, 9),
        ({"type": "text"}, "Friendly"),
        ({"type": "photo"}, ["upload-1"]),
        ({"type": "date"}, "2024-02-29"),
        ({"type": "time"}, "23:59"),
    ],
    ids=["nps", "text", "photo", "date", "time"],
)
def test_unscored_types_earn_nothing_but_keep_their_answer(
    question: dict[str, Any], answer: object
) -> None:
    result = scored(question, answer)

    assert (result.earned, result.possible, result.applicable) == (F(0), F(0), False)
    assert result.full_credit is None
    assert result.answer is not None


@pytest.mark.parametrize(
    ("question", "answer", "full_credit"),
    [
        ({"type": "yes_no"}, "yes", True),
        ({"type": "yes_no"}, "no", False),
        ({"type": "yes_no", "weight": 0}, "no", False),
        ({"type": "scale", "min": 0, "max": 10}, 10, True),
        ({"type": "multi", "options": PENALTY_OPTIONS}, ["a", "b", "c"], False),
    ],
    ids=["yes", "no", "no with weight 0", "top of scale", "multi with a penalty"],
)
def test_full_credit_compares_unweighted_points(
    question: dict[str, Any], answer: object, full_credit: bool
) -> None:
    assert scored(question, answer).full_credit is full_credit


def test_na_answer_takes_the_question_out_of_both_sums() -> None:
    result = scored({"type": "yes_no", "na_allowed": True}, "na")

    assert (result.earned, result.possible, result.applicable) == (F(0), F(0), False)
    assert result.answer == "na"
