"""The public worked example of SCORING.md §3, through the API and the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from scoring import SectionResult, load_checklist, score_visit

REPO_ROOT = Path(__file__).resolve().parents[2]

POINTS = [
    {"value": "full", "label": "Full", "points": 5},
    {"value": "partial", "label": "Partial", "points": 2},
    {"value": "none", "label": "None", "points": 0},
]


def worked_example(method: str) -> dict[str, Any]:
    """Section A (weight 40): yes, no, N/A. Section B (weight 60): 5/5, 2/5, bonus 1."""
    return {
        "title": "Worked example",
        "scoring": {"method": method},
        "sections": [
            {
                "key": "A",
                "title": "Section A",
                "weight": 40,
                "questions": [
                    {"key": "a_yes", "text": "First", "type": "yes_no"},
                    {"key": "a_no", "text": "Second", "type": "yes_no"},
                    {"key": "a_na", "text": "Third", "type": "yes_no", "na_allowed": True},
                ],
            },
            {
                "key": "B",
                "title": "Section B",
                "weight": 60,
                "questions": [
                    {"key": "b_full", "text": "First", "type": "choice", "options": POINTS},
                    {"key": "b_partial", "text": "Second", "type": "choice", "options": POINTS},
                    {"key": "b_bonus", "text": "Extra", "type": "yes_no", "bonus": True},
                ],
            },
        ],
    }


ANSWERS = {
    "a_yes": "yes",
    "a_no": "no",
    "a_na": "na",
    "b_full": "full",
    "b_partial": "partial",
    "b_bonus": "yes",
}

EXPECTED_SECTIONS = (
    SectionResult("A", Fraction(1), Fraction(2), Fraction(50), applicable=True, passed=None),
    SectionResult("B", Fraction(8), Fraction(10), Fraction(80), applicable=True, passed=None),
)


@pytest.mark.parametrize(
    ("method", "score"),
    [("pooled", Fraction(75)), ("weighted_sections", Fraction(68))],
)
def test_worked_example_scores_through_the_api(method: str, score: Fraction) -> None:
    result = score_visit(load_checklist(worked_example(method)), ANSWERS)

    assert result.score == score
    assert result.display_score() == Decimal(f"{score}.0")
    assert result.result == "PASS"
    assert result.grade is None
    assert result.critical_failures == ()
    assert result.sections == EXPECTED_SECTIONS


@pytest.mark.parametrize(
    ("method", "printed_score"),
    [("pooled", "75.0"), ("weighted_sections", "68.0")],
)
def test_worked_example_scores_through_the_command_line(
    tmp_path: Path, method: str, printed_score: str
) -> None:
    checklist = tmp_path / "checklist.json"
    answers = tmp_path / "answers.json"
    checklist.write_text(json.dumps(worked_example(method)), encoding="utf-8")
    answers.write_text(json.dumps(ANSWERS), encoding="utf-8")

    completed = subprocess.run(
        [sys.executable, "-m", "scoring", str(checklist), str(answers)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert "Traceback" not in completed.stderr
    assert completed.stdout.strip() == (
        f'{{"score": {printed_score}, "result": "PASS", "grade": null, "critical_failures": [], '
        '"sections": {"A": {"earned": 1.0000, "possible": 2.0000, "score": 50.0}, '
        '"B": {"earned": 8.0000, "possible": 10.0000, "score": 80.0}}}'
    )
    assert json.loads(completed.stdout, parse_float=Decimal) == {
        "score": Decimal(printed_score),
        "result": "PASS",
        "grade": None,
        "critical_failures": [],
        "sections": {
            "A": {"earned": Decimal("1.0000"), "possible": Decimal("2.0000"), "score": 50},
            "B": {"earned": Decimal("8.0000"), "possible": Decimal("10.0000"), "score": 80},
        },
    }
