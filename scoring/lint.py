"""Checks on a loaded checklist before it is published.

Errors block publishing; warnings are advice. Paths use the same index style as
load_checklist (``sections[1].questions[3].options``); messages name the keys.

Rules decided here where SCORING.md is silent (beyond the checks the contract lists):

- Errors also for: an option value "na" (reserved for N/A); yes_no ``options`` that are
  not exactly "yes" and "no"; a condition on a photo question, or gte/lte on a question
  that is not numeric; a number question with ``min`` above ``max``; an ``in`` that
  lists no values. A number question's bands need no catch-all when the last band's
  ``max`` reaches the question's own ``max``.
- ``in`` is an error when ANY listed value cannot occur (it is almost always a typo).
- Warnings also for fields the question type ignores (options, bands, min/max).
- The best-score search runs only when there are no errors, and is skipped when too
  large to try exhaustively (see best_score.py).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from scoring.answers import Answer, clean_answer, condition_holds
from scoring.best_score import SearchTooLarge, best_achievable_score
from scoring.exact import round_half_up, show_number
from scoring.model import NA, NUMERIC_TYPES, Checklist, Condition, Question, Section
from scoring.points import raw_max

Level = Literal["error", "warning"]
_RANGE_LIMIT = 1000  # beyond this many scale steps, assume some answer fails a condition


@dataclass(frozen=True)
class LintIssue:
    level: Level
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.level}: {self.path}: {self.message}"


def lint_checklist(checklist: Checklist) -> list[LintIssue]:
    """Every error and warning for ``checklist``: per-item checks in document order, then
    the per-section warnings, then the best-score check."""
    linter = _Linter(checklist)
    linter.run()
    return linter.issues


class _Linter:
    def __init__(self, checklist: Checklist) -> None:
        self.checklist = checklist
        self.issues: list[LintIssue] = []
        # question key -> (position, path) of its first occurrence
        self.positions: dict[str, tuple[int, str]] = {}
        for position, (path, question) in enumerate(self.question_paths()):
            self.positions.setdefault(question.key, (position, path))
        self.by_key = {q.key: q for q in reversed(checklist.questions())}

    def error(self, path: str, message: str) -> None:
        self.issues.append(LintIssue("error", path, message))

    def warning(self, path: str, message: str) -> None:
        self.issues.append(LintIssue("warning", path, message))

    def question_paths(self) -> list[tuple[str, Question]]:
        return [
            (f"sections[{i}].questions[{j}]", q)
            for i, s in enumerate(self.checklist.sections)
            for j, q in enumerate(s.questions)
        ]

    def run(self) -> None:
        rules = self.checklist.scoring
        self.check_pass_mark("scoring.pass_mark", rules.pass_mark)
        seen_sections: dict[str, str] = {}
        for i, section in enumerate(self.checklist.sections):
            path = f"sections[{i}]"
            if section.key in seen_sections:
                self.error(f"{path}.key", f"duplicate section key {section.key!r}")
            seen_sections.setdefault(section.key, path)
            if rules.method == "weighted_sections" and section.weight is None:
                self.error(f"{path}.weight", f"section {section.key!r} needs a weight")
            self.check_pass_mark(f"{path}.pass_mark", section.pass_mark)
        for position, (path, question) in enumerate(self.question_paths()):
            first_position, first_path = self.positions[question.key]
            if first_position != position:
                self.error(
                    f"{path}.key",
                    f"duplicate question key {question.key!r} (first used at {first_path})",
                )
            self.check_question(path, question)
            if question.show_if is not None:
                self.check_condition(f"{path}.show_if", question, position)
        for i, section in enumerate(self.checklist.sections):
            self.check_section_warnings(f"sections[{i}]", section)
        if not any(issue.level == "error" for issue in self.issues):
            self.check_best_score()

    def check_pass_mark(self, path: str, mark: Fraction | None) -> None:
        if mark is not None and not 0 <= mark <= 100:
            self.error(path, "a pass mark must be between 0 and 100")

    # -- one question ---------------------------------------------------------------

    def check_question(self, path: str, q: Question) -> None:
        kind, label = q.type, f"question {q.key!r}"
        if q.options and kind not in ("yes_no", "choice", "multi"):
            self.warning(f"{path}.options", f"options are ignored on a {kind} question")
        if q.bands and kind != "number":
            self.warning(f"{path}.bands", f"bands are ignored on a {kind} question")
        if (q.min is not None or q.max is not None) and kind not in ("scale", "number"):
            self.warning(path, f"min/max are ignored on a {kind} question")
        values = [o.value for o in q.options]
        for value in sorted({v for v in values if values.count(v) > 1}):
            self.error(f"{path}.options", f"{label} lists option {value!r} more than once")
        if NA in values:
            self.error(f"{path}.options", f'{label}: "na" is reserved for N/A answers')
        if kind == "yes_no" and q.options and sorted(set(values)) != ["no", "yes"]:
            self.error(f"{path}.options", f'{label}: yes/no options must be "yes" and "no"')
        if kind in ("choice", "multi") and not q.options:
            self.error(f"{path}.options", f"{label} has no options to choose from")
        if kind == "scale" and q.min is not None and q.max is not None and q.min >= q.max:
            self.error(path, f"{label}: the scale's min must be below its max")
        if kind == "number":
            self.check_bands(path, q)
        if q.critical and not q.scored:
            self.warning(
                f"{path}.critical",
                f"{label} is marked critical but a {kind} question is not scored",
            )

    def check_bands(self, path: str, q: Question) -> None:
        label = f"question {q.key!r}"
        if q.min is not None and q.max is not None and q.min > q.max:
            self.error(path, f"{label}: min is above max")
        if not q.bands:
            self.error(f"{path}.bands", f"{label} needs bands to turn its value into points")
            return
        for i, band in enumerate(q.bands[:-1]):
            if band.max is None:
                self.error(f"{path}.bands[{i}]", f"{label}: only the last band may leave out max")
        maxes = [b.max for b in q.bands if b.max is not None]
        if any(a >= b for a, b in itertools.pairwise(maxes)):
            self.error(f"{path}.bands", f"{label}: band maxes must rise from band to band")
        last = q.bands[-1].max
        if last is not None and (q.max is None or last < q.max):
            self.error(
                f"{path}.bands",
                f"{label}: values above {show_number(last)} fall in no band;"
                " end with a band without max",
            )

    # -- conditions -----------------------------------------------------------------

    def check_condition(self, path: str, question: Question, position: int) -> None:
        condition = question.show_if
        assert condition is not None
        target_key = condition.question
        where = f"the condition of question {question.key!r}"
        if target_key == question.key:
            self.error(path, f"{where} refers to the question itself")
            return
        if target_key not in self.positions:
            self.error(path, f"{where} refers to unknown question {target_key!r}")
            return
        if self.positions[target_key][0] > position:
            self.error(path, f"{where} refers to {target_key!r}, which comes later")
            return
        target = self.by_key[target_key]
        problem = _impossible(condition, target)
        if problem:
            self.error(path, f"{where} can never hold: {problem}")

    # -- warnings -------------------------------------------------------------------

    def check_section_warnings(self, path: str, section: Section) -> None:
        scored = [q for q in section.questions if q.scored]
        if scored and all(q.weight == 0 for q in scored):
            self.warning(path, f"every scored question in section {section.key!r} has weight 0")
            return
        counting = [q for q in scored if q.weight > 0 and not q.bonus and raw_max(q) > 0]
        if counting and all(self.can_drop_out(q) for q in counting):
            self.warning(
                path,
                f"Just so you know: every scored question in section {section.key!r} can end"
                " up N/A (marked N/A, hidden, or left unanswered), so on some visits this"
                " section will have no score and will not count. If that is not intended,"
                " make one of its questions required and not N/A-able.",
            )

    def can_drop_out(self, q: Question) -> bool:
        if q.na_allowed:
            return True
        if q.show_if is not None and self.can_be_false(q.show_if):
            return True
        return self.checklist.scoring.unanswered == "exclude" and not q.required

    def can_be_false(self, condition: Condition) -> bool:
        target = self.by_key.get(condition.question)
        if target is None or not target.required or target.na_allowed or target.show_if is not None:
            return True  # unknown, unanswered, N/A or hidden targets make it false
        domain = _domain(target)
        if domain is None:
            return True
        return any(not condition_holds(condition, {target.key: v}, self.by_key) for v in domain)

    def check_best_score(self) -> None:
        try:
            best = best_achievable_score(self.checklist)
        except SearchTooLarge:
            return  # too many combinations to be sure; say nothing rather than guess
        if best is None:
            self.warning("sections", "no combination of answers gives this checklist a score")
            return
        shown = round_half_up(best, self.checklist.scoring.decimals)
        if shown < 100:
            self.warning(
                "sections",
                f"no combination of answers reaches 100; the best possible score is {shown}",
            )


def _domain(target: Question) -> list[Answer] | None:
    """Every answer a required, always-answered ``target`` can have, or None if open."""
    if target.type == "yes_no":
        return ["yes", "no"]
    if target.type == "choice":
        return [o.value for o in target.options]
    if target.type == "multi":
        return [()]  # the empty answer is valid and matches nothing
    low, high = target.min, target.max
    if target.type == "nps":
        low, high = Fraction(0), Fraction(10)
    if target.type in ("scale", "nps") and low is not None and high is not None:
        if high - low > _RANGE_LIMIT:
            return None
        return [low + i for i in range(int(high - low) + 1)]
    return None


def _impossible(condition: Condition, target: Question) -> str:
    """Why ``condition`` can never hold on ``target``, or "" when it can."""
    if target.type == "photo":
        return "photo answers cannot be compared"
    value = condition.value
    if condition.op in ("gte", "lte"):
        if target.type not in NUMERIC_TYPES:
            return f"{condition.op} needs a scale, number or nps question"
        low, high = _bounds(target)
        assert isinstance(value, Fraction)
        if condition.op == "gte" and high is not None and value > high:
            return f"{target.key!r} is never above {high}"
        if condition.op == "lte" and low is not None and value < low:
            return f"{target.key!r} is never below {low}"
        return ""
    values = value if isinstance(value, tuple) else (value,)
    if not values:
        return "it lists no values"
    bad = [v for v in values if not _can_occur(target, v)]
    if bad:
        return f"{target.key!r} can never be " + ", ".join(_show(v) for v in bad)
    return ""


def _can_occur(target: Question, value: object) -> bool:
    raw = [value] if target.type == "multi" else value
    cleaned, error = clean_answer(target, raw)
    return error is None and cleaned is not None and cleaned != NA


def _bounds(target: Question) -> tuple[Fraction | None, Fraction | None]:
    if target.type == "nps":
        return Fraction(0), Fraction(10)
    return target.min, target.max


def _show(value: object) -> str:
    return show_number(value) if isinstance(value, Fraction) else repr(value)
