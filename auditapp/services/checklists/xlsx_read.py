"""Reading a checklist workbook back into a document (layout: ``checklists_xlsx``).

Every problem is collected, with the sheet, row and column it is in; the document is
built from what could be read so that the loader and the lint can report theirs too.
The workbook is opened by reports/workbooks.py, which refuses DTDs, formulas (type the
value instead) and oversized files; numbers go through scoring's bounded parser.
"""

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

import scoring
from reports.tabular import unsafe_cell
from reports.workbooks import WorkbookRefused, open_workbook, sheet_rows

from ..core import workbook_problem
from .xlsx import (
    FLAGS,
    NUMBERS,
    QUESTION_COLUMNS,
    QUESTIONS,
    SECTION_COLUMNS,
    SETTINGS,
)

_TRUE = {"true", "yes", "y", "1", "x", "是"}
_FALSE = {"false", "no", "n", "0", "否"}

Where = Callable[[str], str]


def _split(text: str, sep: str, limit: int = -1) -> list[str]:
    """Splits on ``sep`` where it is not escaped; escapes stay in the parts."""
    parts, current, i = [], "", 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            current += text[i : i + 2]
            i += 2
            continue
        if text[i] == sep and limit != 0:
            parts.append(current)
            current, limit = "", limit - 1
        else:
            current += text[i]
        i += 1
    return [*parts, current]


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text).strip()


def _plain(value: int | Decimal) -> int | Decimal:
    if isinstance(value, int) or value != value.to_integral_value():
        return value
    return int(value)


def _number_problem(error: scoring.NumberError) -> str:
    if error.reason == scoring.EXPONENT:
        return _("write a plain number, without an exponent (1000, not 1e3)")
    if error.reason == scoring.TOO_LONG:
        return _(
            "write a plain number with at most %(whole)d digits before the decimal point"
            " and %(places)d after it",
            whole=scoring.MAX_WHOLE_DIGITS,
            places=scoring.MAX_PLACES,
        )
    return _("must be a number")


def _number(text: str) -> int | Decimal | None:
    """A number written in a cell's text, through scoring's bounded parser."""
    try:
        value = scoring.parse_number(text)
    except scoring.NumberError:
        return None
    return _plain(value)


class _Reader:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    # -- cells --------------------------------------------------------------------

    def text(self, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, float):
            value = Decimal(repr(value))
        text = unsafe_cell(str(value)) if isinstance(value, str) else str(value)
        return text if text.strip() else None

    def number(self, value: Any, where: str) -> int | Decimal | None:
        if value is None or isinstance(value, bool):
            if isinstance(value, bool):
                self.problem(where, _("must be a number"))
            return None
        try:
            if isinstance(value, int | float):  # a number cell: only its bounds to check
                scoring.exact_number(value)
                return _plain(Decimal(repr(value)) if isinstance(value, float) else value)
            text = str(value)
            return _plain(scoring.parse_number(text)) if text.strip() else None
        except scoring.NumberError as error:
            self.problem(where, _number_problem(error))
            return None

    def flag(self, value: Any, where: str) -> bool | None:
        if value is None or isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE or text in _FALSE:
            return text in _TRUE
        if text:
            self.problem(where, _("must be TRUE or FALSE"))
        return None

    def options(self, text: str, where: str) -> list[dict[str, Any]]:
        options = []
        for item in _split(text, "|"):
            if not item.strip():
                continue
            value, *rest = _split(item, "=", 1)
            option: dict[str, Any] = {"value": _unescape(value)}
            label = rest[0] if rest else ""
            *before, last = _split(label, ":")
            if before and _number(_unescape(last)) is not None:
                label, option["points"] = ":".join(before), _number(_unescape(last))
            option["label"] = _unescape(label)
            if not rest or not option["label"]:
                self.problem(where, _("%(item)s needs the form value=label:points", item=item))
            options.append(option)
        return options

    def pairs(self, text: str, where: str) -> list[tuple[str, str]]:
        """``a=b|c=d`` -> [(a, b), (c, d)], unescaped."""
        pairs = []
        for item in _split(text, "|"):
            if item.strip():
                key, *rest = _split(item, "=", 1)
                if not rest:
                    self.problem(where, _("%(item)s needs the form value=label", item=item))
                    continue
                pairs.append((_unescape(key), _unescape(rest[0])))
        return pairs

    def bands(self, text: str, where: str) -> list[dict[str, Any]]:
        bands = []
        for item in _split(text, "|"):
            if not item.strip():
                continue
            top, *rest = item.split(":", 1)
            points = _number(rest[0]) if rest else None
            band: dict[str, Any] = {}
            if top.strip() not in ("*", ""):
                band["max"] = _number(top)
            if points is None or band.get("max", 0) is None:
                self.problem(where, _("%(item)s needs the form max:points", item=item))
                continue
            bands.append({**band, "points": points})
        return bands

    # -- sheets -------------------------------------------------------------------

    def settings(self, rows: list[tuple[Any, ...]]) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        rules: dict[str, Any] = {}
        translations: dict[str, dict[str, str]] = {}
        band_texts: dict[str, list[tuple[str, str]]] = {}
        for number, row in enumerate(rows[1:], start=2):
            field = self.text(row[0] if row else None)
            value = row[1] if len(row) > 1 else None
            where = f"{SETTINGS} " + _("row %(n)d", n=number)
            if field is None:
                continue
            field = field.strip().lower()
            lang_match = re.fullmatch(r"(title|bands)_([a-z]{2,3}(?:[-_][a-z0-9]+)*)", field)
            if field in ("title", "language", "method", "unanswered", "critical_failure"):
                target = doc if field in ("title", "language") else rules
                if (text := self.text(value)) is not None:
                    target[field] = text
            elif field in ("pass_mark", "decimals"):
                if (number_ := self.number(value, f"{where} ({field})")) is not None:
                    rules[field] = number_
            elif field == "cap_at_100":
                if (flag := self.flag(value, f"{where} ({field})")) is not None:
                    rules[field] = flag
            elif field == "bands":
                band_texts[""] = self.pairs(self.text(value) or "", f"{where} (bands)")
            elif lang_match and lang_match.group(1) == "title":
                if (text := self.text(value)) is not None:
                    translations.setdefault(lang_match.group(2), {})["title"] = text
            elif lang_match:
                band_texts[lang_match.group(2)] = self.pairs(self.text(value) or "", where)
            else:
                self.problem(where, _("unknown field %(field)s", field=field))
        if band_texts.get(""):
            rules["bands"] = self.grade_bands(band_texts, f"{SETTINGS} (bands)")
        if rules:
            doc["scoring"] = rules
        if translations:
            doc["translations"] = translations
        return doc

    def grade_bands(self, texts: dict[str, list[tuple[str, str]]], where: str) -> list[Any]:
        bands = []
        for low, label in texts[""]:
            minimum = _number(low)
            if minimum is None:
                self.problem(where, _("%(item)s needs the form min=label", item=low))
                continue
            band: dict[str, Any] = {"min": minimum, "label": label}
            for lang, pairs in texts.items():
                found = [text for key, text in pairs if lang and _number(key) == minimum]
                if found:
                    band.setdefault("translations", {})[lang] = {"label": found[0]}
            bands.append(band)
        return bands

    def questions(self, rows: list[tuple[Any, ...]], rows_of: dict[str, int]) -> list[Any]:
        header = [str(h).strip().lower() if h is not None else "" for h in rows[0]]
        known = {*SECTION_COLUMNS, *QUESTION_COLUMNS}
        translated: dict[str, tuple[str, str]] = {}
        for name in header:
            match = re.fullmatch(r"(section_title|text|guidance|options)_([a-z0-9_-]+)", name)
            if match and name not in known:
                translated[name] = (match.group(1), match.group(2))
            elif name and name not in known:
                self.problem(QUESTIONS, _("unknown column %(name)s", name=name))
        sections: dict[str, dict[str, Any]] = {}
        for number, cells in enumerate(rows[1:], start=2):
            row = dict(zip(header, cells, strict=False))
            if all(self.text(v) is None for v in row.values()):
                continue
            where = f"{QUESTIONS} " + _("row %(n)d", n=number)
            key = self.text(row.get("section_key"))
            if key is None:
                self.problem(where, _("section_key is required"))
                continue
            if key not in sections:
                sections[key] = {"key": key, "questions": []}
                rows_of[f"s{len(sections) - 1}"] = number
            section = sections[key]
            self.section_cells(section, row, translated, where)
            question = self.question(row, translated, where)
            if question:
                index = list(sections).index(key)
                rows_of[f"s{index}q{len(section['questions'])}"] = number
                section["questions"].append(question)
        return list(sections.values())

    def section_cells(
        self, section: dict[str, Any], row: dict[str, Any], translated: Any, where: str
    ) -> None:
        values: dict[str, Any] = {"title": self.text(row.get("section_title"))}
        for field in ("weight", "pass_mark"):
            values[field] = self.number(row.get(f"section_{field}"), f"{where} (section_{field})")
        for name, (field, lang) in translated.items():
            if field == "section_title":
                values[f"title_{lang}"] = self.text(row.get(name))
        for field, value in values.items():
            if value is None:
                continue
            previous = section.setdefault(field, value)
            if previous != value:
                self.problem(
                    where,
                    _(
                        "section %(key)s has another %(field)s on an earlier row",
                        key=section["key"],
                        field=field,
                    ),
                )

    def question(self, row: dict[str, Any], translated: Any, where: str) -> dict[str, Any]:
        question: dict[str, Any] = {}
        for field in ("key", "text", "type", "tag", "guidance"):
            if (text := self.text(row.get(field))) is not None:
                question[field] = text
        for field in NUMBERS:
            if (number := self.number(row.get(field), f"{where} ({field})")) is not None:
                question[field] = number
        for field in FLAGS:
            if self.flag(row.get(field), f"{where} ({field})"):
                question[field] = True
        if options := self.text(row.get("options")):
            question["options"] = self.options(options, f"{where} (options)")
        if bands := self.text(row.get("bands")):
            question["bands"] = self.bands(bands, f"{where} (bands)")
        if condition := self.text(row.get("show_if")):
            try:
                question["show_if"] = scoring.loads_exact(condition)
            except ValueError:
                self.problem(f"{where} (show_if)", _("must be a condition written as JSON"))
        if not question:
            return question
        for name, (field, lang) in translated.items():
            text = self.text(row.get(name))
            if text is None or field == "section_title":
                continue
            if field != "options":
                question.setdefault("translations", {}).setdefault(lang, {})[field] = text
                continue
            labels = dict(self.pairs(text, f"{where} ({name})"))
            for option in question.get("options", []):
                if option["value"] in labels:
                    option.setdefault("translations", {})[lang] = {
                        "label": labels.pop(option["value"])
                    }
            for value in labels:
                self.problem(f"{where} ({name})", _("no option %(value)s", value=value))
        return question


def _finish_sections(sections: list[dict[str, Any]]) -> None:
    """Moves the collected ``title_<lang>`` cells into the sections' translations."""
    for section in sections:
        for field in [f for f in section if f.startswith("title_")]:
            lang = field.removeprefix("title_")
            section.setdefault("translations", {})[lang] = {"title": section.pop(field)}


def read(data: bytes) -> tuple[dict[str, Any] | None, list[str], Where]:
    """(document or None, problems, a function that turns document paths into rows)."""
    rows_of: dict[str, int] = {}

    def where(problem: str) -> str:
        match = re.fullmatch(
            r"sections\[(\d+)\](?:\.questions\[(\d+)\])?(\S*): (.*)", problem, re.DOTALL
        )
        if not match:
            return problem
        s, q, rest, message = match.groups()
        row = rows_of.get(f"s{s}q{q}" if q is not None else f"s{s}")
        if row is None:
            return problem
        place = f"{QUESTIONS} " + _("row %(n)d", n=row)
        field = rest.lstrip(".")
        if q is None and field.split(".")[0] in ("key", "title", "weight", "pass_mark"):
            field = "section_" + field
        return f"{place} ({field}): {message}" if field else f"{place}: {message}"

    try:
        book = open_workbook(data)
        try:
            missing = [name for name in (QUESTIONS, SETTINGS) if name not in book.sheetnames]
            if missing:
                message = _("The workbook needs the sheets %(names)s.", names=", ".join(missing))
                return None, [message], where
            settings_rows = list(sheet_rows(book[SETTINGS]))
            question_rows = list(sheet_rows(book[QUESTIONS]))
        finally:
            book.close()
    except WorkbookRefused as error:
        return None, [workbook_problem(error)], where
    reader = _Reader()
    doc = reader.settings(settings_rows) if settings_rows else {}
    sections = reader.questions(question_rows, rows_of) if question_rows else []
    _finish_sections(sections)
    doc["sections"] = sections
    return doc, reader.problems, where
