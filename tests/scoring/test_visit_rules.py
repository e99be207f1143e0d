"""Visit-level rules: visibility, N/A, unanswered, bonus, sections, critical items,
pass marks and grades (SCORING.md §2-4)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from scoring import Checklist, VisitResult, load_checklist, score_visit, visible_keys

F = Fraction
BANDS = [
    {"min": 60, "label": "Fair"},
    {"min": 90, "label": "Excellent"},
    {"min": 0, "label": "Poor"},
    {"min": 75, "label": "Good"},
]


def checklist(*sections: dict[str, Any], **scoring: Any) -> Checklist:
    return load_checklist({"title": "Rules", "scoring": scoring, "sections": list(sections)})


def section(key: str, *questions: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"key": key, "title": key.upper(), "questions": list(questions), **fields}


def yes_no(key: str, **fields: Any) -> dict[str, Any]:
    return {"key": key, "text": key, "type": "yes_no", **fields}


def when(target: str, **test: Any) -> dict[str, Any]:
    return {"show_if": {"question": target, **test}}


def visit(sheet: Checklist, **answers: object) -> VisitResult:
    return score_visit(sheet, answers)


# -- visibility ---------------------------------------------------------------------


def test_hidden_question_counts_as_na_even_when_a_value_was_submitted() -> None:
    sheet = checklist(
        section(
            "s",
            yes_no("gate", weight=0),
            yes_no("kept"),
            yes_no("hidden", **when("gate", equals="yes")),
        )
    )

    result = visit(sheet, gate="no", kept="yes", hidden="no")

    assert result.score == 100
    hidden = result.questions[2]
    assert (hidden.applicable, hidden.answer, hidden.possible) == (False, None, F(0))


CHAIN = checklist(
    section(
        "s",
        yes_no("gate", weight=0, na_allowed=True),
        yes_no("middle", **when("gate", equals="yes")),
        yes_no("leaf", **when("middle", equals="yes")),
        yes_no("always"),
    )
)


@pytest.mark.parametrize(
    ("answers", "visible"),
    [
        ({"gate": "yes", "middle": "yes"}, {"gate", "middle", "leaf", "always"}),
        ({"gate": "no", "middle": "yes"}, {"gate", "always"}),
        ({"middle": "yes"}, {"gate", "always"}),
        ({"gate": "na", "middle": "yes"}, {"gate", "always"}),
        ({"gate": "yes"}, {"gate", "middle", "always"}),
    ],
    ids=[
        "condition met",
        "condition on a hidden question is false",
        "condition on an unanswered question is false",
        "condition on an N/A question is false",
        "condition on an unanswered visible question is false",
    ],
)
def test_conditions_follow_the_chain_of_answers(answers: dict[str, str], visible: set[str]) -> None:
    assert visible_keys(CHAIN, answers) == visible


MULTI = {
    "key": "seen",
    "text": "Seen",
    "type": "multi",
    "options": [{"value": v, "label": v, "points": 1} for v in ("a", "b", "c")],
}
SCALE = {"key": "rating", "text": "Rating", "type": "scale", "min": 1, "max": 5}


@pytest.mark.parametrize(
    ("target", "test", "answer", "shown"),
    [
        (MULTI, {"equals": "b"}, ["a", "b"], True),
        (MULTI, {"equals": "b"}, ["a"], False),
        (MULTI, {"in": ["c", "b"]}, ["b"], True),
        (MULTI, {"in": ["c"]}, ["a", "b"], False),
        (SCALE, {"gte": 4}, 4, True),
        (SCALE, {"gte": 4}, 3, False),
        (SCALE, {"lte": 2}, 2, True),
        (SCALE, {"lte": 2}, 3, False),
        (SCALE, {"equals": 5}, 5, True),
    ],
    ids=[
        "multi equals any chosen",
        "multi equals none chosen",
        "multi in any chosen",
        "multi in none chosen",
        "gte at the threshold",
        "gte below",
        "lte at the threshold",
        "lte above",
        "equals a number",
    ],
)
def test_condition_operators(
    target: dict[str, Any], test: dict[str, Any], answer: object, shown: bool
) -> None:
    sheet = checklist(section("s", target, yes_no("follow_up", **when(target["key"], **test))))

    assert ("follow_up" in visible_keys(sheet, {target["key"]: answer})) is shown


# -- unanswered, bonus, cap -----------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "score"), [("exclude", F(100)), ("zero", F(50))], ids=["exclude", "zero"]
)
def test_unanswered_optional_question_follows_the_unanswered_rule(
    mode: str, score: Fraction
) -> None:
    sheet = checklist(section("s", yes_no("done"), yes_no("skipped")), unanswered=mode)

    assert visit(sheet, done="yes").score == score


@pytest.mark.parametrize(
    ("cap", "score"), [(True, F(100)), (False, F(150))], ids=["capped", "uncapped"]
)
def test_bonus_can_lift_a_score_over_100_unless_capped(cap: bool, score: Fraction) -> None:
    sheet = checklist(
        section("s", yes_no("base"), yes_no("extra", bonus=True, weight=Decimal("0.5"))),
        cap_at_100=cap,
    )

    result = visit(sheet, base="yes", extra="yes")

    assert result.score == score
    assert result.sections[0].score == score


# -- sections ---------------------------------------------------------------------------


def test_section_that_is_all_na_drops_out_and_weights_renormalise() -> None:
    sheet = checklist(
        section("empty", yes_no("x", na_allowed=True), weight=1),
        section("half", yes_no("y1"), yes_no("y2"), weight=3),
        section("full", yes_no("z"), weight=1),
        method="weighted_sections",
    )

    result = visit(sheet, x="na", y1="yes", y2="no", z="yes")

    assert result.score == F(3 * 50 + 1 * 100, 4)
    assert result.sections[0].applicable is False
    assert result.sections[0].score is None


@pytest.mark.parametrize("method", ["pooled", "weighted_sections"])
def test_visit_with_nothing_applicable_has_no_score_result_or_grade(method: str) -> None:
    sheet = checklist(
        section("s", yes_no("x", na_allowed=True), weight=1),
        method=method,
        bands=BANDS,
        pass_mark=50,
    )

    result = visit(sheet, x="na")

    assert (result.score, result.result, result.grade) == (None, None, None)
    assert result.display_score() is None


def test_visit_with_nothing_applicable_still_fails_on_a_critical_item() -> None:
    sheet = checklist(section("s", yes_no("knockout", weight=0, critical=True)), bands=BANDS)

    result = visit(sheet, knockout="no")

    assert (result.score, result.result, result.grade) == (None, "FAIL", None)
    assert result.critical_failures == ("knockout",)


# -- critical items -------------------------------------------------------------------

CRITICAL = [
    section("a", yes_no("knockout", critical=True), yes_no("other")),
    section("b", yes_no("fine")),
]
FAILED_KNOCKOUT = {"knockout": "no", "other": "yes", "fine": "yes"}


@pytest.mark.parametrize(
    ("mode", "score", "section_a"),
    [
        ("zero_visit", F(0), (F(1), F(2), F(50))),
        ("zero_section", F(1, 3) * 100, (F(0), F(2), F(0))),
        ("flag", F(2, 3) * 100, (F(1), F(2), F(50))),
    ],
    ids=[
        "zero_visit zeroes the visit and keeps section scores",
        "zero_section zeroes that section's earned points and keeps possible",
        "flag keeps every score",
    ],
)
def test_failed_critical_item_by_mode(
    mode: str, score: Fraction, section_a: tuple[Fraction, Fraction, Fraction]
) -> None:
    sheet = checklist(*CRITICAL, critical_failure=mode, bands=BANDS)

    result = score_visit(sheet, FAILED_KNOCKOUT)

    assert (result.score, result.result) == (score, "FAIL")
    assert result.critical_failures == ("knockout",)
    first = result.sections[0]
    assert (first.earned, first.possible, first.score) == section_a
    assert result.sections[1].score == 100


def test_zero_visit_grades_the_zeroed_score() -> None:
    result = score_visit(checklist(*CRITICAL, bands=BANDS), FAILED_KNOCKOUT)

    assert result.grade == "Poor"


@pytest.mark.parametrize(
    ("answers", "unanswered", "failed"),
    [
        ({"knockout": "yes"}, "exclude", ()),
        ({"knockout": "na"}, "exclude", ()),
        ({"gate": "no", "knockout": "no"}, "exclude", ()),
        ({}, "exclude", ()),
        ({}, "zero", ("knockout",)),
    ],
    ids=[
        "full points pass",
        "N/A is not a failure",
        "hidden is not a failure",
        "unanswered and excluded is not a failure",
        "unanswered and scored zero is a failure",
    ],
)
def test_critical_item_fails_only_when_applicable_and_short_of_full_points(
    answers: dict[str, str], unanswered: str, failed: tuple[str, ...]
) -> None:
    sheet = checklist(
        section(
            "s",
            yes_no("gate", weight=0, required=True),
            yes_no("knockout", critical=True, na_allowed=True, **when("gate", equals="yes")),
            yes_no("other"),
        ),
        unanswered=unanswered,
    )

    result = score_visit(sheet, {"gate": "yes", "other": "yes", **answers})

    assert result.critical_failures == failed
    assert result.result == ("FAIL" if failed else "PASS")


# -- pass marks, grades, rounding ---------------------------------------------------------


def section_at(score_percent: int, **fields: Any) -> dict[str, Any]:
    """A section of one yes (weight score_percent) and one no (weight the rest)."""
    return section(
        "s",
        yes_no("hit", weight=score_percent),
        yes_no("miss", weight=100 - score_percent),
        **fields,
    )


HIT = {"hit": "yes", "miss": "no"}


@pytest.mark.parametrize(
    ("section_mark", "outcome", "passed"),
    [(None, "PASS", None), (75, "PASS", True), (80, "FAIL", False)],
    ids=["no section pass mark", "section meets its pass mark", "section misses its pass mark"],
)
def test_section_pass_mark(section_mark: int | None, outcome: str, passed: bool | None) -> None:
    result = score_visit(checklist(section_at(75, pass_mark=section_mark)), HIT)

    assert (result.result, result.sections[0].passed) == (outcome, passed)


def test_section_pass_mark_does_not_judge_a_section_that_did_not_apply() -> None:
    sheet = checklist(
        section("skipped", yes_no("x", na_allowed=True), pass_mark=90), section("done", yes_no("y"))
    )

    result = visit(sheet, x="na", y="yes")

    assert (result.result, result.sections[0].passed) == ("PASS", None)


@pytest.mark.parametrize(
    ("decimals", "shown", "outcome"),
    [(1, Decimal("80.0"), "PASS"), (2, Decimal("79.96"), "FAIL"), (0, Decimal("80"), "PASS")],
    ids=["shown as 80.0 passes 80", "shown as 79.96 fails 80", "shown as 80 passes 80"],
)
def test_visit_pass_mark_compares_the_rounded_score(
    decimals: int, shown: Decimal, outcome: str
) -> None:
    sheet = checklist(
        section("s", yes_no("hit", weight=7996), yes_no("miss", weight=2004)),
        pass_mark=80,
        decimals=decimals,
    )

    result = score_visit(sheet, HIT)

    assert result.score == F(7996, 100)
    assert (result.display_score(), result.result) == (shown, outcome)


def test_no_pass_mark_anywhere_passes_without_a_critical_failure() -> None:
    assert score_visit(checklist(section_at(10)), HIT).result == "PASS"


@pytest.mark.parametrize(
    ("weights", "grade"),
    [
        ((95, 5), "Excellent"),
        ((9000, 1), "Excellent"),
        ((7496, 2504), "Good"),
        ((60, 40), "Fair"),
        ((1, 99), "Poor"),
    ],
    ids=["95", "99.99 (shown as 100.0)", "74.96 shown as 75.0", "exactly 60", "1"],
)
def test_grade_is_the_band_with_the_highest_min_reached(
    weights: tuple[int, int], grade: str
) -> None:
    sheet = checklist(
        section("s", yes_no("hit", weight=weights[0]), yes_no("miss", weight=weights[1])),
        bands=BANDS,
    )

    assert score_visit(sheet, HIT).grade == grade


def test_score_below_every_band_has_no_grade() -> None:
    sheet = checklist(section_at(40), bands=[{"min": 50, "label": "Half"}])

    assert score_visit(sheet, HIT).grade is None


def test_sections_and_visit_scores_round_half_up_for_display() -> None:
    sheet = checklist(section("s", yes_no("a"), yes_no("b"), yes_no("c")))

    result = score_visit(sheet, {"a": "yes", "b": "yes", "c": "no"})

    assert result.score == F(200, 3)
    assert result.to_json()["score"] == Decimal("66.7")
    assert result.to_json()["sections"]["s"] == {
        "earned": Decimal("2.0000"),
        "possible": Decimal("3.0000"),
        "score": Decimal("66.7"),
    }
