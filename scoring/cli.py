"""``python -m scoring CHECKLIST.json ANSWERS.json``: score one visit, print one JSON object.

Exit status 0 with the result on stdout; 2 with the reasons on stderr when a file is
missing, unreadable or larger than 10 MB, is not JSON (or nests more than 32 levels
deep, or writes a number with an exponent or too many digits: scoring/numbers.py), or
the checklist has structural or lint errors, or an answer is invalid. Lint warnings go
to stderr and do not stop scoring.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from scoring.checklist_load import load_checklist
from scoring.document_fields import ChecklistError
from scoring.exact import dumps_exact, loads_exact
from scoring.lint import lint_checklist
from scoring.model import Checklist
from scoring.numbers import NumberError
from scoring.visit import AnswerError, score_visit

USAGE_ERROR = 2
MAX_INPUT_BYTES = 10 * 2**20  # a checklist or answers file is far smaller


class _InputError(Exception):
    """Bad input; ``lines`` say what and where, one problem per line."""

    def __init__(self, lines: Sequence[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = list(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scoring",
        description="Score one mystery-shopper visit against a checklist (docs/SCORING.md).",
        epilog="Prints {score, result, grade, critical_failures, sections} as one JSON object."
        " Exit status 2 means invalid input; the reasons are on stderr.",
    )
    parser.add_argument("checklist", help="checklist document (JSON, SCORING.md section 1)")
    parser.add_argument("answers", help="answers (JSON object: question key -> value)")
    args = parser.parse_args(argv)
    try:
        checklist = _read_checklist(args.checklist)
        answers = _read_json(args.answers)
        if not isinstance(answers, Mapping):
            raise _InputError([f"{args.answers}: must be a JSON object of question key -> value"])
        result = score_visit(checklist, answers)
    except AnswerError as error:
        for key, message in error.errors.items():
            print(f"{args.answers}: {key}: {message}", file=sys.stderr)
        return USAGE_ERROR
    except _InputError as error:
        for line in error.lines:
            print(line, file=sys.stderr)
        return USAGE_ERROR
    print(dumps_exact(result.to_json()))
    return 0


def _read_json(path: str) -> Any:
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_INPUT_BYTES + 1)  # never more than the limit into memory
    except OSError as error:
        raise _InputError([f"{path}: cannot read file: {error.strerror or error}"]) from None
    if len(data) > MAX_INPUT_BYTES:
        raise _InputError([f"{path}: larger than {MAX_INPUT_BYTES // 2**20} MB"])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _InputError([f"{path}: not UTF-8 text: {error.reason}"]) from None
    try:
        return loads_exact(text)
    except NumberError as error:
        raise _InputError([f"{path}: {error}"]) from None
    except ValueError as error:
        raise _InputError([f"{path}: not valid JSON: {error}"]) from None


def _read_checklist(path: str) -> Checklist:
    doc = _read_json(path)
    if not isinstance(doc, Mapping):
        raise _InputError([f"{path}: a checklist must be a JSON object"])
    try:
        checklist = load_checklist(doc)
    except ChecklistError as error:
        raise _InputError([f"{path}: {problem}" for problem in error.problems]) from None
    issues = lint_checklist(checklist)
    for issue in issues:
        if issue.level == "warning":
            print(f"{path}: {issue}", file=sys.stderr)
    errors = [f"{path}: {issue}" for issue in issues if issue.level == "error"]
    if errors:
        raise _InputError(errors)
    return checklist
