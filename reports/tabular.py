"""Reading and writing CSV and XLSX tables, with spreadsheet formula injection
neutralised on the way out and undone on the way back in."""

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from os import PathLike
from typing import IO

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from reports.workbooks import open_workbook, sheet_rows

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class TableError(ValueError):
    """The file is not a readable CSV or XLSX table."""


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def safe_cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _is_number(value):
        return "'" + value
    return value


def unsafe_cell(text: str) -> str:
    """The inverse of safe_cell, so an exported file imports back unchanged."""
    if text.startswith("'") and text[1:].startswith(FORMULA_PREFIXES):
        return text[1:]
    return text


def read_table(data: bytes) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and (line number, row) pairs. Line numbers are what a person sees in
    a spreadsheet: the header is line 1, the first data row line 2. Raises TableError,
    or WorkbookRefused for an XLSX workbook that reports/workbooks.py refuses."""
    if data.startswith(b"PK\x03\x04"):
        rows = _xlsx_rows(data)
    else:
        try:
            rows = list(csv.reader(io.StringIO(_decode(data))))
        except csv.Error as exc:  # e.g. a field beyond csv.field_size_limit()
            raise TableError("csv") from exc
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise TableError("empty")
    header = [cell.strip().lower() for cell in rows[0]]
    out = []
    for number, cells in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in cells):
            continue
        padded = list(cells) + [""] * (len(header) - len(cells))
        out.append(
            (number, {h: unsafe_cell(c.strip()) for h, c in zip(header, padded, strict=False)})
        )
    return header, out


def _decode(data: bytes) -> str:
    # Excel on Chinese Windows saves CSV as GB18030; everything else is UTF-8.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError("encoding")


def _xlsx_rows(data: bytes) -> list[list[str]]:
    """The first sheet's cells as text; WorkbookRefused (reports/workbooks.py) for a
    workbook that is damaged, too large, carries a DTD or holds a formula."""
    book = open_workbook(data)
    try:
        if not book.worksheets:
            raise TableError("xlsx")
        sheet = book.worksheets[0]
        return [["" if v is None else _cell_text(v) for v in row] for row in sheet_rows(sheet)]
    finally:
        book.close()


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """CSV text, one chunk per row, ready to stream; UTF-8 with BOM so Excel reads Chinese."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[object]], title: str) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(list(header))
    for row in rows:
        sheet.append([safe_cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- large exports: many rows, typed cells, flat memory ---------------------------------
#
# The helpers above build small tables (stores, shoppers) in one piece. The ones below
# are for result exports of millions of rows: the CSV comes out in chunks of about
# CHUNK_CHARS characters (one network write each, not one per row) and the XLSX is
# written by openpyxl's write-only mode straight to a file, so memory stays flat.
# Cells may be typed: numbers (int, Decimal, float), booleans, dates, times and
# datetimes go to XLSX as such and to CSV in a form spreadsheets read back. Text is
# neutralised exactly as safe_cell does, in both formats.

CHUNK_CHARS = 1 << 16
XLSX_MAX_ROWS = 1_048_576  # a worksheet's limit, header included
_FORMULA_CHARS = frozenset(FORMULA_PREFIXES)  # every prefix is a single character
_NUMBERS = frozenset({int, float, Decimal, type(None)})
_SHEET_TITLE_BAD = str.maketrans(dict.fromkeys("[]:*?/\\", " "))


def _export_cell(value: object) -> object:
    """A cell that is not a plain number, for CSV."""
    if isinstance(value, str):
        if value[:1] in _FORMULA_CHARS and not _is_number(value):
            return "'" + value
        return value
    if value is True:
        return "TRUE"
    if value is False:
        return "FALSE"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return value


def csv_row(row: Iterable[object]) -> list[object]:
    """A row as written to CSV: text neutralised (safe_cell), TRUE/FALSE, ISO dates,
    "HH:MM" times, None as an empty cell. Inlined, as exports run it millions of times."""
    return [v if v.__class__ in _NUMBERS else _export_cell(v) for v in row]


def csv_chunks(
    header: Sequence[str], rows: Iterable[Sequence[object]], chunk_chars: int = CHUNK_CHARS
) -> Iterator[str]:
    """CSV text in chunks of about ``chunk_chars``, ready to stream or write to a file;
    UTF-8 with BOM (when encoded) so Excel reads Chinese, like csv_lines."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(csv_row(header))
    write = writer.writerow
    for row in rows:
        # csv_row, inlined further: numbers and text that needs nothing skip the call
        # (a class test, not isinstance, so mypy cannot see that v is a str there).
        write(
            [
                v
                if (c := v.__class__) in _NUMBERS or (c is str and v[:1] not in _FORMULA_CHARS)  # type: ignore[index]
                else _export_cell(v)
                for v in row
            ]
        )
        if buffer.tell() >= chunk_chars:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _xlsx_cell(value: object) -> object:
    if isinstance(value, str):
        if value[:1] in _FORMULA_CHARS and not _is_number(value):
            value = "'" + value
        # Control characters are not allowed in the file format; openpyxl refuses them.
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def sheet_title(title: str, number: int = 1) -> str:
    """A valid worksheet name: no []:*?/\\, at most 31 characters, " (2)" on later sheets."""
    clean = title.translate(_SHEET_TITLE_BAD).strip() or "Sheet"
    suffix = f" ({number})" if number > 1 else ""
    return clean[: 31 - len(suffix)] + suffix


def write_xlsx(
    target: str | PathLike[str] | IO[bytes],
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    title: str,
    max_rows: int = XLSX_MAX_ROWS,
) -> int:
    """Write the table as XLSX in write-only mode (rows go to disk as they come) and
    return the number of data rows. A table longer than a worksheet continues on
    further sheets, each with the header."""
    book = Workbook(write_only=True)
    head = [_xlsx_cell(v) for v in header]
    number, used, count = 1, max_rows, 0
    sheet = None
    for row in rows:
        if used >= max_rows:
            sheet = book.create_sheet(sheet_title(title, number))
            sheet.append(head)
            number, used = number + 1, 1
        assert sheet is not None
        sheet.append([v if v.__class__ in _NUMBERS else _xlsx_cell(v) for v in row])
        used += 1
        count += 1
    if sheet is None:
        book.create_sheet(sheet_title(title)).append(head)
    book.save(target)
    return count
