"""``python -m scoring``: input errors exit 2 with the offending key on stderr."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.scoring.cli import run_cli

CHECKLIST: dict[str, Any] = {
    "title": "CLI",
    "scoring": {"pass_mark": 50, "bands": [{"min": 0, "label": "Any"}]},
    "sections": [
        {
            "key": "service",
            "title": "Service",
            "questions": [
                {
                    "key": "staff",
                    "text": "Staff",
                    "type": "choice",
                    "options": [
                        {"value": "warm", "label": "Warm", "points": 2},
                        {"value": "cold", "label": "Cold", "points": 0},
                    ],
                },
                {"key": "clean", "text": "Clean?", "type": "yes_no", "critical": True},
            ],
        }
    ],
}


def write(path: Path, content: object) -> str:
    path.write_text(content if isinstance(content, str) else json.dumps(content), "utf-8")
    return str(path)


def test_cli_prints_one_json_object_for_a_valid_visit(tmp_path: Path) -> None:
    completed = run_cli(
        write(tmp_path / "c.json", CHECKLIST),
        write(tmp_path / "a.json", {"staff": "warm", "clean": "no"}),
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == (
        '{"score": 0.0, "result": "FAIL", "grade": "Any", "critical_failures": ["clean"], '
        '"sections": {"service": {"earned": 2.0000, "possible": 3.0000, "score": 66.7}}}\n'
    )


def test_cli_help_describes_the_arguments() -> None:
    completed = run_cli("--help")

    assert completed.returncode == 0
    assert "CHECKLIST" in completed.stdout.upper()
    assert "ANSWERS" in completed.stdout.upper()


def duplicate_key_checklist() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(json.dumps(CHECKLIST))
    doc["sections"][0]["questions"][1]["key"] = "staff"
    return doc


@pytest.mark.parametrize(
    ("checklist", "answers", "named"),
    [
        (None, {"staff": "warm"}, "missing.json"),
        ("{not json", {"staff": "warm"}, "not valid JSON"),
        (CHECKLIST, '{"staff": "warm",}', "not valid JSON"),
        (duplicate_key_checklist(), {"staff": "warm"}, "duplicate question key 'staff'"),
        ({"title": "T", "sections": [{"key": "s"}]}, {}, "sections[0].title"),
        (CHECKLIST, {"staff": "grumpy"}, "staff: unknown option 'grumpy'"),
        (CHECKLIST, {"ghost": "yes"}, "ghost: unknown question"),
        (CHECKLIST, ["staff"], "must be a JSON object"),
    ],
    ids=[
        "missing file",
        "bad checklist JSON",
        "bad answers JSON",
        "checklist with a duplicate key",
        "checklist with a structural problem",
        "answer with an unknown option",
        "answer for an unknown question",
        "answers not an object",
    ],
)
def test_cli_rejects_invalid_input_with_exit_2_and_names_the_problem(
    tmp_path: Path, checklist: object, answers: object, named: str
) -> None:
    checklist_path = (
        str(tmp_path / "missing.json")
        if checklist is None
        else write(tmp_path / "c.json", checklist)
    )

    completed = run_cli(checklist_path, write(tmp_path / "a.json", answers))

    assert completed.returncode == 2
    assert named in completed.stderr
    assert "Traceback" not in completed.stderr
    assert completed.stdout == ""


def test_cli_reports_lint_warnings_but_still_scores(tmp_path: Path) -> None:
    doc = json.loads(json.dumps(CHECKLIST))
    doc["sections"][0]["questions"].append(
        {"key": "note", "text": "Note", "type": "text", "critical": True}
    )

    completed = run_cli(write(tmp_path / "c.json", doc), write(tmp_path / "a.json", {}))

    assert completed.returncode == 0
    assert "warning" in completed.stderr
    assert "'note' is marked critical" in completed.stderr
