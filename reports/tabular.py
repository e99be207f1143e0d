"""Reading and writing CSV and XLSX tables, with spreadsheet formula injection
neutralised on the way out and undone on the way back in."""

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence

from openpyxl import Workbook, load_workbook

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
    a spreadsheet: the header is line 1, the first data row line 2."""
    if data.startswith(b"PK\x03\x04"):
        rows = _xlsx_rows(data)
    else:
        rows = list(csv.reader(io.StringIO(_decode(data))))
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
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise TableError("xlsx") from exc
    sheet = book.worksheets[0]
    rows = [
        ["" if v is None else _cell_text(v) for v in row]
        for row in sheet.iter_rows(values_only=True)
    ]
    book.close()
    return rows


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
