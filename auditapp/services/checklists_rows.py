"""Between the checklist rows in the database and the document of SCORING.md §1.

Everything that enters the database is checked first (``checklists_checks``), so the
rows of every version, draft or published, always make a document that loads. Numbers
come out of the rows as the document writes them: int, or an exact Decimal.
"""

from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

import scoring
from scoring.exact import exact_decimal

from ..models import ChecklistOption, ChecklistQuestion, ChecklistSection, ChecklistVersion
from .checklists_checks import validate_document

# --- numbers ------------------------------------------------------------------------


def doc_number(value: Any) -> int | Decimal | None:
    """A number read from a column or a JSON column, as the document writes it."""
    if value is None:
        return None
    if isinstance(value, float):
        value = Decimal(repr(value))
    fraction = scoring.to_fraction(value)
    assert fraction is not None, value
    return exact_decimal(fraction)


def column_number(value: Fraction | None) -> Decimal | None:
    return None if value is None else Decimal(exact_decimal(value))


def json_number(value: Fraction) -> int | float:
    """JSON columns hold plain JSON numbers; with at most 4 decimals a float is exact."""
    exact = exact_decimal(value)
    return exact if isinstance(exact, int) else float(exact)


# --- rows -> document -------------------------------------------------------------


def _put(doc: dict[str, Any], field: str, value: Any, default: Any = None) -> None:
    if value is not None and value != default:
        doc[field] = value


def _translations(doc: dict[str, Any], value: Mapping[str, Any] | None) -> None:
    if value:
        doc["translations"] = {lang: dict(texts) for lang, texts in value.items()}


def _json_numbers(items: list[dict[str, Any]] | None, fields: tuple[str, ...]) -> list[Any]:
    out = []
    for item in items or []:
        copy = dict(item)
        for field in fields:
            if copy.get(field) is not None:
                copy[field] = doc_number(copy[field])
        out.append(copy)
    return out


def _condition_doc(condition: Mapping[str, Any]) -> dict[str, Any]:
    def scalar(v: Any) -> Any:
        return v if isinstance(v, str) else doc_number(v)

    out: dict[str, Any] = {}
    for field, value in condition.items():
        if field == "question":
            out[field] = value
        elif isinstance(value, list):
            out[field] = [scalar(v) for v in value]
        else:
            out[field] = scalar(value)
    return out


def settings_doc(version: ChecklistVersion) -> dict[str, Any]:
    """The checklist-level fields (everything but the sections)."""
    doc: dict[str, Any] = {"title": version.title, "language": version.language}
    rules: dict[str, Any] = {"method": version.method}
    _put(rules, "pass_mark", doc_number(version.pass_mark))
    rules.update(
        decimals=version.decimals,
        unanswered=version.unanswered,
        critical_failure=version.critical_failure,
        cap_at_100=version.cap_at_100,
    )
    if version.bands:
        rules["bands"] = _json_numbers(version.bands, ("min",))
    doc["scoring"] = rules
    _translations(doc, version.translations)
    return doc


def section_doc(section: ChecklistSection, questions: bool = True) -> dict[str, Any]:
    doc: dict[str, Any] = {"key": section.key, "title": section.title}
    _put(doc, "weight", doc_number(section.weight))
    _put(doc, "pass_mark", doc_number(section.pass_mark))
    if questions:
        doc["questions"] = [question_doc(q) for q in section.questions]
    _translations(doc, section.translations)
    return doc


def question_doc(question: ChecklistQuestion) -> dict[str, Any]:
    doc: dict[str, Any] = {"key": question.key, "text": question.text, "type": question.type}
    _put(doc, "weight", doc_number(question.weight), 1)
    for flag in ("na_allowed", "critical", "required", "bonus", "client_visible"):
        if getattr(question, flag):
            doc[flag] = True
    _put(doc, "guidance", question.guidance)
    if question.options:
        doc["options"] = [option_doc(o) for o in question.options]
    if question.bands:
        doc["bands"] = _json_numbers(question.bands, ("max", "points"))
    _put(doc, "min", doc_number(question.min))
    _put(doc, "max", doc_number(question.max))
    if question.show_if:
        doc["show_if"] = _condition_doc(question.show_if)
    _put(doc, "tag", question.tag)
    _translations(doc, question.translations)
    return doc


def option_doc(option: ChecklistOption) -> dict[str, Any]:
    doc: dict[str, Any] = {"value": option.value, "label": option.label}
    _put(doc, "points", doc_number(option.points), 0)
    _translations(doc, option.translations)
    return doc


def raw_document(version: ChecklistVersion) -> dict[str, Any]:
    """The version's rows as a document (defaults written out where the rows hold them)."""
    return {**settings_doc(version), "sections": [section_doc(s) for s in version.sections]}


def scoring_checklist(version: ChecklistVersion) -> scoring.Checklist:
    """The version as the scoring engine's frozen checklist."""
    return validate_document(raw_document(version))


def version_document(version: ChecklistVersion) -> dict[str, Any]:
    """The version as a SCORING.md §1 document (defaults left out, numbers as int or
    Decimal; write it with ``scoring.dumps_exact``)."""
    return scoring.dump_checklist(scoring_checklist(version))


# --- typed checklist -> rows ------------------------------------------------------------


def _translation_dict(translations: scoring.model.Translations) -> dict[str, dict[str, str]]:
    return {lang: dict(fields) for lang, fields in translations}


def _condition_json(condition: scoring.Condition | None) -> dict[str, Any] | None:
    if condition is None:
        return None

    def scalar(v: Any) -> Any:
        return v if isinstance(v, str) else json_number(v)

    value = condition.value
    written = [scalar(v) for v in value] if isinstance(value, tuple) else scalar(value)
    return {"question": condition.question, condition.op: written}


def apply_settings(version: ChecklistVersion, checklist: scoring.Checklist) -> None:
    rules = checklist.scoring
    version.title = checklist.title
    version.language = checklist.language
    version.method = rules.method
    version.pass_mark = column_number(rules.pass_mark)
    version.decimals = rules.decimals
    version.unanswered = rules.unanswered
    version.critical_failure = rules.critical_failure
    version.cap_at_100 = rules.cap_at_100
    bands = []
    for band in rules.bands:
        item: dict[str, Any] = {"min": json_number(band.min), "label": band.label}
        if band.translations:
            item["translations"] = _translation_dict(band.translations)
        bands.append(item)
    version.bands = bands
    version.translations = _translation_dict(checklist.translations)


def apply_section(row: ChecklistSection, section: scoring.Section) -> None:
    """Sets the section's own fields (not its questions)."""
    row.key = section.key
    row.title = section.title
    row.weight = column_number(section.weight)
    row.pass_mark = column_number(section.pass_mark)
    row.translations = _translation_dict(section.translations)


def apply_question(row: ChecklistQuestion, question: scoring.Question) -> None:
    """Sets the question's fields and options; options are matched by value, so an
    edit updates rows in place instead of deleting and re-adding them."""
    row.key = question.key
    row.text = question.text
    row.type = question.type
    row.weight = Decimal(exact_decimal(question.weight))
    row.na_allowed = question.na_allowed
    row.critical = question.critical
    row.required = question.required
    row.bonus = question.bonus
    row.client_visible = question.client_visible
    row.guidance = question.guidance
    row.min = column_number(question.min)
    row.max = column_number(question.max)
    row.bands = [
        {"max": json_number(b.max), "points": json_number(b.points)}
        if b.max is not None
        else {"points": json_number(b.points)}
        for b in question.bands
    ]
    row.show_if = _condition_json(question.show_if)
    row.tag = question.tag
    row.translations = _translation_dict(question.translations)
    apply_options(row, question.options)


def apply_options(row: ChecklistQuestion, options: Sequence[scoring.Option]) -> None:
    existing = {o.value: o for o in row.options}
    kept = []
    for position, option in enumerate(options):
        item = existing.pop(option.value, None) or ChecklistOption(value=option.value)
        item.position = position
        item.label = option.label
        item.points = Decimal(exact_decimal(option.points))
        item.translations = _translation_dict(option.translations)
        kept.append(item)
    row.options = kept


def new_section(version: ChecklistVersion, section: scoring.Section) -> ChecklistSection:
    row = ChecklistSection()
    version.sections.append(row)  # appending (not a backref) puts it in the session
    apply_section(row, section)
    for question in section.questions:
        new_question(row, question)
    return row


def new_question(section: ChecklistSection, question: scoring.Question) -> ChecklistQuestion:
    row = ChecklistQuestion(version=section.version, options=[])
    apply_question(row, question)
    section.questions.append(row)
    renumber(section.questions)
    return row


def fill_version(version: ChecklistVersion, checklist: scoring.Checklist) -> None:
    """Gives an empty version the settings and sections of ``checklist``."""
    apply_settings(version, checklist)
    for section in checklist.sections:
        new_section(version, section)
    renumber(version.sections)


def renumber(rows: Sequence[ChecklistSection] | Sequence[ChecklistQuestion]) -> None:
    for position, row in enumerate(rows):
        if row.position != position:
            row.position = position
