"""A checklist as an XLSX workbook, for coordinators who work in spreadsheets.

Sheet "Questions": one row per question, in checklist order.

- ``section_key``, ``section_title``, ``section_weight``, ``section_pass_mark``: the
  question's section, repeated on every row (on reading, a blank cell takes the value
  from the section's other rows; two different values are a problem). A section
  without questions is one row with only these cells filled.
- ``key``, ``text``, ``type``, ``weight``, ``na_allowed``, ``critical``, ``required``,
  ``bonus``, ``client_visible``, ``tag``, ``guidance``, ``min``, ``max``: as in the
  document; a blank cell (or a missing column, in a workbook made before the column
  existed) means the default; yes/no cells are TRUE/FALSE (also read: yes/no, 1/0, 是/否).
- ``options``: ``value=label:points`` items separated by ``|`` (``:points`` may be left
  out for 0); a ``\\`` escapes a literal ``| = : \\`` in a value or label.
- ``bands``: ``max:points`` items separated by ``|``; ``*`` for the last band without
  a max, e.g. ``30:2|120:1|*:0``.
- ``show_if``: the condition as JSON, e.g. ``{"question": "staff", "in": ["rude"]}``.
- Translations, one set of columns per language (``zh`` always offered):
  ``section_title_zh``, ``text_zh``, ``guidance_zh``, ``options_zh`` (``value=label|…``).

Sheet "Checklist": ``field`` / ``value`` rows for the checklist-level settings:
``title``, ``language``, ``method``, ``pass_mark``, ``decimals``, ``unanswered``,
``critical_failure``, ``cap_at_100``, ``bands`` (grade bands ``min=label|…``) and, per
language, ``title_zh`` and ``bands_zh`` (``min=label|…``).

Text cells that a spreadsheet would run as a formula are neutralised on export
(``reports.tabular.safe_cell``) and restored on import. An empty translation cell means
"not translated".
"""

import io
import re
from typing import Any

from openpyxl import Workbook

import scoring
from reports.tabular import safe_cell

QUESTIONS, SETTINGS = "Questions", "Checklist"
SECTION_COLUMNS = ("section_key", "section_title", "section_weight", "section_pass_mark")
QUESTION_COLUMNS = (
    "key", "text", "type", "weight", "na_allowed", "critical", "required", "bonus",
    "client_visible", "tag", "guidance", "min", "max", "options", "bands", "show_if",
)  # fmt: skip
TRANSLATED = ("section_title", "text", "guidance", "options")
SETTING_FIELDS = (
    "title", "language", "method", "pass_mark", "decimals", "unanswered",
    "critical_failure", "cap_at_100", "bands",
)  # fmt: skip
FLAGS = ("na_allowed", "critical", "required", "bonus", "client_visible")
NUMBERS = ("weight", "min", "max")
_SCORING_DEFAULTS = {"method": "pooled", "decimals": 1, "unanswered": "exclude"}
_SCORING_DEFAULTS |= {"critical_failure": "zero_visit", "cap_at_100": True}


# --- writing ----------------------------------------------------------------------


def _escape(text: str) -> str:
    return re.sub(r"([\\|=:])", r"\\\1", text)


def _translation(obj: dict[str, Any], lang: str, field: str) -> str | None:
    text = obj.get("translations", {}).get(lang, {}).get(field)
    return str(text) if text is not None else None


def _languages(doc: dict[str, Any]) -> list[str]:
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            found.update(value.get("translations", {}))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(doc)
    return ["zh", *sorted(found - {"zh"})]


def _options_cell(options: list[dict[str, Any]], lang: str | None = None) -> str | None:
    items = []
    for option in options:
        value = _escape(option["value"])
        if lang is None:
            points = option.get("points", 0)
            items.append(f"{value}={_escape(option['label'])}:{points}")
        elif (label := _translation(option, lang, "label")) is not None:
            items.append(f"{value}={_escape(label)}")
    return "|".join(items) or None


def _bands_cell(bands: list[dict[str, Any]]) -> str | None:
    items = [f"{b.get('max', '*')}:{b['points']}" for b in bands]
    return "|".join(items) or None


def _grade_bands_cell(bands: list[dict[str, Any]], lang: str | None = None) -> str | None:
    items = []
    for band in bands:
        label = band["label"] if lang is None else _translation(band, lang, "label")
        if label is not None:
            items.append(f"{band['min']}={_escape(label)}")
    return "|".join(items) or None


def write(doc: dict[str, Any]) -> bytes:
    langs = _languages(doc)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = QUESTIONS
    header = [*SECTION_COLUMNS, *QUESTION_COLUMNS]
    header += [f"{field}_{lang}" for lang in langs for field in TRANSLATED]
    sheet.append(header)
    for section in doc["sections"]:
        head = [section["key"], section["title"], section.get("weight"), section.get("pass_mark")]
        section_langs = [_translation(section, lang, "title") for lang in langs]
        for question in section["questions"] or [None]:
            row: list[Any] = list(head)
            if question is None:
                row += [None] * len(QUESTION_COLUMNS)
            else:
                row += [
                    question["key"], question["text"], question["type"],
                    question.get("weight", 1), *(question.get(f, False) for f in FLAGS),
                    question.get("tag"), question.get("guidance"), question.get("min"),
                    question.get("max"), _options_cell(question.get("options", [])),
                    _bands_cell(question.get("bands", [])),
                    scoring.dumps_exact(question["show_if"]) if "show_if" in question else None,
                ]  # fmt: skip
            for lang, title in zip(langs, section_langs, strict=True):
                q = question or {}
                row += [
                    title,
                    _translation(q, lang, "text"),
                    _translation(q, lang, "guidance"),
                    _options_cell(q.get("options", []), lang),
                ]
            sheet.append([safe_cell(v) for v in row])
    sheet.freeze_panes = "A2"
    rules = {**_SCORING_DEFAULTS, **doc.get("scoring", {})}
    settings = book.create_sheet(SETTINGS)
    settings.append(["field", "value"])
    values: dict[str, Any] = {"title": doc["title"], "language": doc.get("language", "en")}
    values |= {f: rules.get(f) for f in SETTING_FIELDS[2:]}
    values["bands"] = _grade_bands_cell(rules.get("bands", []))
    for lang in langs:
        values[f"title_{lang}"] = _translation(doc, lang, "title")
        values[f"bands_{lang}"] = _grade_bands_cell(rules.get("bands", []), lang)
    for field, value in values.items():
        settings.append([field, safe_cell(value)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
