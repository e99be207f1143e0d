"""Writing a checklist back to its document shape: the exact inverse of load_checklist.

Rule: a field at its default is left out (``null``/absent and the default mean the same
on the way in), so exports stay as short as the hand-written example in SCORING.md. The
one exception is a section's ``weight``: an explicit 1 is written, because "absent" is
something the lint must still see (weighted_sections requires every weight).

Numbers come out as ``int`` or exact ``Decimal``; write the result with
``scoring.dumps_exact`` (plain ``json.dumps`` cannot write Decimal).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

from scoring.exact import exact_decimal
from scoring.model import (
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

_DEFAULT_RULES = ScoringRules()


def dump_checklist(checklist: Checklist) -> dict[str, Any]:
    """The checklist as a JSON-ready document (numbers as int/Decimal, see module doc)."""
    doc: dict[str, Any] = {"title": checklist.title}
    if checklist.language != "en":
        doc["language"] = checklist.language
    scoring = _dump_scoring(checklist.scoring)
    if scoring:
        doc["scoring"] = scoring
    doc["sections"] = [_dump_section(s) for s in checklist.sections]
    _put_translations(doc, checklist.translations)
    return doc


def _number(value: Fraction) -> int | Decimal:
    return exact_decimal(value)


def _put_translations(doc: dict[str, Any], translations: Translations) -> None:
    if translations:
        doc["translations"] = {lang: dict(fields) for lang, fields in translations}


def _dump_scoring(rules: ScoringRules) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    if rules.method != _DEFAULT_RULES.method:
        doc["method"] = rules.method
    if rules.pass_mark is not None:
        doc["pass_mark"] = _number(rules.pass_mark)
    for field in ("decimals", "unanswered", "critical_failure", "cap_at_100"):
        value = getattr(rules, field)
        if value != getattr(_DEFAULT_RULES, field):
            doc[field] = value
    if rules.bands:
        doc["bands"] = [_dump_grade_band(b) for b in rules.bands]
    return doc


def _dump_grade_band(band: GradeBand) -> dict[str, Any]:
    doc: dict[str, Any] = {"min": _number(band.min), "label": band.label}
    _put_translations(doc, band.translations)
    return doc


def _dump_section(section: Section) -> dict[str, Any]:
    doc: dict[str, Any] = {"key": section.key, "title": section.title}
    if section.weight is not None:
        doc["weight"] = _number(section.weight)
    if section.pass_mark is not None:
        doc["pass_mark"] = _number(section.pass_mark)
    doc["questions"] = [_dump_question(q) for q in section.questions]
    _put_translations(doc, section.translations)
    return doc


def _dump_question(question: Question) -> dict[str, Any]:
    doc: dict[str, Any] = {"key": question.key, "text": question.text, "type": question.type}
    if question.weight != 1:
        doc["weight"] = _number(question.weight)
    for flag in ("na_allowed", "critical", "required", "bonus", "client_visible"):
        if getattr(question, flag):
            doc[flag] = True
    if question.guidance is not None:
        doc["guidance"] = question.guidance
    if question.options:
        doc["options"] = [_dump_option(o) for o in question.options]
    if question.bands:
        doc["bands"] = [_dump_point_band(b) for b in question.bands]
    if question.min is not None:
        doc["min"] = _number(question.min)
    if question.max is not None:
        doc["max"] = _number(question.max)
    if question.show_if is not None:
        doc["show_if"] = _dump_condition(question.show_if)
    if question.tag is not None:
        doc["tag"] = question.tag
    _put_translations(doc, question.translations)
    return doc


def _dump_option(option: Option) -> dict[str, Any]:
    doc: dict[str, Any] = {"value": option.value, "label": option.label}
    if option.points != 0:
        doc["points"] = _number(option.points)
    _put_translations(doc, option.translations)
    return doc


def _dump_point_band(band: PointBand) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    if band.max is not None:
        doc["max"] = _number(band.max)
    doc["points"] = _number(band.points)
    return doc


def _dump_condition(condition: Condition) -> dict[str, Any]:
    value = condition.value
    written = [_dump_scalar(v) for v in value] if isinstance(value, tuple) else _dump_scalar(value)
    return {"question": condition.question, condition.op: written}


def _dump_scalar(value: ConditionScalar) -> str | int | Decimal:
    return value if isinstance(value, str) else _number(value)
