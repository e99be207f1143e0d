"""Reading a checklist document (SCORING.md §1) into frozen data, reporting every problem.

Rules decided here where SCORING.md is silent:

- A field set to ``null`` means the same as an absent field (its default applies).
- Unknown fields are problems: a typo such as ``"wieght"`` must not silently fall back to
  the default, and nothing may be lost on export.
- ``title`` (checklist and section), ``key`` and ``text`` are required non-empty strings;
  ``language`` defaults to ``"en"``; an option needs ``value`` and ``label``, its
  ``points`` default to 0; a number band needs ``points``.
- Weights are numbers >= 0 and ``decimals`` a whole number from 0 to 10.
- ``scale`` needs whole-number ``min`` and ``max``; its answers are whole steps.
- Only structure is checked here; meaning (duplicates, bad conditions...) is for the lint.

Paths use indexes, e.g. ``sections[1].questions[3].options[0].value``, because keys may
themselves be missing or duplicated in a broken document.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from scoring.document_fields import (
    ROOT_PATH,
    ChecklistError,
    FieldReader,
    join_path,
)
from scoring.exact import to_fraction
from scoring.model import (
    CONDITION_OPS,
    CRITICAL_FAILURE_MODES,
    METHODS,
    QUESTION_TYPES,
    TAGS,
    UNANSWERED_MODES,
    Checklist,
    Condition,
    ConditionScalar,
    GradeBand,
    Option,
    PointBand,
    Question,
    ScoringRules,
    Section,
    Translations,
)

_CHECKLIST_FIELDS = {"title", "language", "scoring", "sections", "translations"}
_SCORING_FIELDS = {
    "method",
    "pass_mark",
    "decimals",
    "unanswered",
    "critical_failure",
    "cap_at_100",
    "bands",
}
_GRADE_BAND_FIELDS = {"min", "label", "translations"}
_SECTION_FIELDS = {"key", "title", "weight", "pass_mark", "questions", "translations"}
_QUESTION_FIELDS = {
    "key",
    "text",
    "type",
    "weight",
    "na_allowed",
    "critical",
    "required",
    "bonus",
    "client_visible",
    "guidance",
    "options",
    "bands",
    "min",
    "max",
    "show_if",
    "tag",
    "translations",
}
_OPTION_FIELDS = {"value", "label", "points", "translations"}
_POINT_BAND_FIELDS = {"max", "points"}
# Which fields each kind of object may translate.
_TRANSLATABLE = {
    "checklist": {"title"},
    "section": {"title"},
    "question": {"text", "guidance"},
    "option": {"label"},
    "grade band": {"label"},
}


def load_checklist(doc: Mapping[str, Any]) -> Checklist:
    """Read a checklist document; raise ChecklistError listing every structural problem."""
    reader = _Reader()
    checklist = reader.checklist(doc)
    if reader.problems:
        raise ChecklistError(reader.problems)
    return checklist


class _Reader(FieldReader):
    """Walks the whole document, collecting problems instead of stopping at the first."""

    def translated(self, obj: Mapping[str, Any], path: str, kind: str) -> Translations:
        return self.translations(obj, path, kind, _TRANSLATABLE[kind])

    def checklist(self, doc: object) -> Checklist:
        obj = self.mapping(doc, ROOT_PATH, _CHECKLIST_FIELDS)
        title = self.text(obj, "title", ROOT_PATH, required=True) or ""
        language = self.text(obj, "language", ROOT_PATH, required=False) or "en"
        scoring = self.scoring({} if obj.get("scoring") is None else obj["scoring"], "scoring")
        sections = tuple(
            self.section(item, p) for p, item in self.items(obj, "sections", ROOT_PATH)
        )
        translations = self.translated(obj, ROOT_PATH, "checklist")
        return Checklist(title, language, scoring, sections, translations)

    def scoring(self, value: object, path: str) -> ScoringRules:
        obj = self.mapping(value, path, _SCORING_FIELDS)
        decimals = 1 if obj.get("decimals") is None else obj["decimals"]
        if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 10:
            self.problem(join_path(path, "decimals"), "must be a whole number from 0 to 10")
            decimals = 1
        return ScoringRules(
            method=self.one_of(obj, "method", path, METHODS, "pooled"),
            pass_mark=self.number(obj, "pass_mark", path),
            decimals=decimals,
            unanswered=self.one_of(obj, "unanswered", path, UNANSWERED_MODES, "exclude"),
            critical_failure=self.one_of(
                obj, "critical_failure", path, CRITICAL_FAILURE_MODES, "zero_visit"
            ),
            cap_at_100=self.flag(obj, "cap_at_100", path, True),
            bands=tuple(self.grade_band(item, p) for p, item in self.items(obj, "bands", path)),
        )

    def grade_band(self, value: object, path: str) -> GradeBand:
        obj = self.mapping(value, path, _GRADE_BAND_FIELDS)
        minimum = self.number(obj, "min", path)
        if obj.get("min") is None:
            self.problem(join_path(path, "min"), "is required")
        label = self.text(obj, "label", path, required=True) or ""
        return GradeBand(minimum or Fraction(0), label, self.translated(obj, path, "grade band"))

    def section(self, value: object, path: str) -> Section:
        obj = self.mapping(value, path, _SECTION_FIELDS)
        return Section(
            key=self.text(obj, "key", path, required=True) or "",
            title=self.text(obj, "title", path, required=True) or "",
            weight=self.number(obj, "weight", path, at_least=Fraction(0)),
            pass_mark=self.number(obj, "pass_mark", path),
            questions=tuple(
                self.question(item, p) for p, item in self.items(obj, "questions", path)
            ),
            translations=self.translated(obj, path, "section"),
        )

    def question(self, value: object, path: str) -> Question:
        obj = self.mapping(value, path, _QUESTION_FIELDS)
        kind = self.one_of(obj, "type", path, QUESTION_TYPES, "text")
        if obj.get("type") is None:
            self.problem(join_path(path, "type"), "is required")
        weight = self.number(obj, "weight", path, at_least=Fraction(0))
        minimum, maximum = self.number(obj, "min", path), self.number(obj, "max", path)
        if kind == "scale":
            for field, bound in (("min", minimum), ("max", maximum)):
                if bound is None and obj.get(field) is None:
                    self.problem(join_path(path, field), "is required for a scale question")
                elif bound is not None and bound.denominator != 1:
                    self.problem(join_path(path, field), "must be a whole number for a scale")
        show_if = None
        if obj.get("show_if") is not None:
            show_if = self.condition(obj["show_if"], join_path(path, "show_if"))
        return Question(
            key=self.text(obj, "key", path, required=True) or "",
            text=self.text(obj, "text", path, required=True) or "",
            type=kind,
            weight=Fraction(1) if weight is None else weight,
            na_allowed=self.flag(obj, "na_allowed", path, False),
            critical=self.flag(obj, "critical", path, False),
            required=self.flag(obj, "required", path, False),
            bonus=self.flag(obj, "bonus", path, False),
            guidance=self.text(obj, "guidance", path, required=False),
            options=tuple(self.option(item, p) for p, item in self.items(obj, "options", path)),
            bands=tuple(self.point_band(item, p) for p, item in self.items(obj, "bands", path)),
            min=minimum,
            max=maximum,
            show_if=show_if,
            tag=self.one_of(obj, "tag", path, TAGS, None),
            translations=self.translated(obj, path, "question"),
            client_visible=self.flag(obj, "client_visible", path, False),
        )

    def option(self, value: object, path: str) -> Option:
        obj = self.mapping(value, path, _OPTION_FIELDS)
        return Option(
            value=self.text(obj, "value", path, required=True) or "",
            label=self.text(obj, "label", path, required=True) or "",
            points=self.number(obj, "points", path) or Fraction(0),
            translations=self.translated(obj, path, "option"),
        )

    def point_band(self, value: object, path: str) -> PointBand:
        obj = self.mapping(value, path, _POINT_BAND_FIELDS)
        points = self.number(obj, "points", path)
        if obj.get("points") is None:
            self.problem(join_path(path, "points"), "is required")
        return PointBand(self.number(obj, "max", path), points or Fraction(0))

    def condition(self, value: object, path: str) -> Condition:
        obj = self.mapping(value, path, {"question", *CONDITION_OPS})
        question = self.text(obj, "question", path, required=True) or ""
        ops = [op for op in CONDITION_OPS if op in obj]
        if len(ops) != 1:
            self.problem(path, "needs exactly one of equals, in, gte, lte")
            return Condition(question, "equals", "")
        op = ops[0]
        here = join_path(path, op)
        raw = obj[op]
        if op == "in":
            if not isinstance(raw, list | tuple):
                self.problem(here, "must be a list of values")
                return Condition(question, op, ())
            return Condition(question, op, tuple(self.condition_scalar(v, here) for v in raw))
        if op == "equals":
            return Condition(question, op, self.condition_scalar(raw, here))
        number = to_fraction(raw)
        if number is None:
            self.problem(here, "must be a number")
        return Condition(question, op, number or Fraction(0))

    def condition_scalar(self, value: object, path: str) -> ConditionScalar:
        if isinstance(value, str):
            return value
        number = to_fraction(value)
        if number is None:
            self.problem(path, "must be a string or a number")
            return ""
        return number
