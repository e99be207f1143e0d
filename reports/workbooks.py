"""Reading an uploaded XLSX workbook safely; every import (stores, shoppers, checklists)
opens its workbooks here.

openpyxl parses a workbook's XML with the standard library's expat (defusedxml is not
installed), which expands the entities a DTD declares: a small "billion laughs" file
makes the server build gigabytes, and an external entity ends in a ParseError. So before
openpyxl sees the file, :func:`open_workbook` checks the zip's directory and every part:

- it may unpack to at most MAX_UNPACKED_BYTES in at most MAX_PARTS parts (a zip bomb is
  refused from its directory, without unpacking anything);
- no part may contain a DTD (``<!DOCTYPE``, which is where entities are declared), in
  UTF-8 or UTF-16, nor declare an encoding other than those, in which the scan could
  not see one.

Then :func:`sheet_rows` reads a sheet cell by cell:

- at most MAX_ROWS rows and MAX_COLUMNS columns: openpyxl pads the rows a sheet skips,
  so a sheet with a cell in row 1,000,000 would otherwise become a million rows;
- formulas are refused, naming their cell: an import takes values only, and openpyxl
  could give no more than the value Excel last cached (or nothing). People type the
  value itself instead.

A damaged workbook makes openpyxl raise many kinds of exceptions; all of them become
WorkbookRefused with the reason UNREADABLE.
"""

import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook

MAX_UNPACKED_BYTES = 32 * 2**20
MAX_PARTS = 500
MAX_ROWS = 20_000
MAX_COLUMNS = 100

UNREADABLE = "unreadable"
TOO_BIG = "too_big"
UNSAFE_XML = "unsafe_xml"
FORMULA = "formula"
TOO_MANY_ROWS = "too_many_rows"
TOO_MANY_COLUMNS = "too_many_columns"

# What openpyxl and zipfile raise on damaged or unusual files (ParseError is a
# SyntaxError; an encrypted part raises RuntimeError, an unknown compression
# NotImplementedError).
READ_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    OSError,
    KeyError,
    IndexError,
    ValueError,
    TypeError,
    AttributeError,
    SyntaxError,
    RuntimeError,
    NotImplementedError,
)
_CHUNK = 2**20
_DOCTYPE = b"<!doctype"
_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"']([^\"']*)[\"']")
_ENCODINGS = {b"utf-8", b"utf8", b"utf-16", b"utf16", b"us-ascii", b"ascii"}


class WorkbookRefused(ValueError):
    """The workbook cannot be imported; ``reason`` is one of the constants above and
    ``cell`` names the sheet and cell (``Questions!B7``) where that helps."""

    def __init__(self, reason: str, cell: str = "") -> None:
        super().__init__(f"{reason} {cell}".strip())
        self.reason, self.cell = reason, cell


def open_workbook(data: bytes) -> Workbook:
    """The workbook in ``data``, opened read-only with formulas kept as formulas (so
    that sheet_rows can refuse them), or WorkbookRefused. Close it after use."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_parts(archive)
        return load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except READ_ERRORS as error:
        if isinstance(error, WorkbookRefused):
            raise
        raise WorkbookRefused(UNREADABLE) from error


def _check_parts(archive: zipfile.ZipFile) -> None:
    parts = archive.infolist()
    if len(parts) > MAX_PARTS or sum(p.file_size for p in parts) > MAX_UNPACKED_BYTES:
        raise WorkbookRefused(TOO_BIG)
    for part in parts:
        with archive.open(part) as stream:
            start, tail = True, b""
            while chunk := stream.read(_CHUNK):
                # UTF-16 (or UTF-32) XML is ASCII with NULs between: drop them to see it.
                text = (tail + chunk).replace(b"\x00", b"").lower()
                if start:
                    declared = _ENCODING.match(text.lstrip(b"\xef\xbb\xbf\xff\xfe")[:256])
                    if declared and declared.group(1) not in _ENCODINGS:
                        raise WorkbookRefused(UNSAFE_XML, part.filename)
                    start = False
                if _DOCTYPE in text:
                    raise WorkbookRefused(UNSAFE_XML, part.filename)
                tail = text[-len(_DOCTYPE) :]


def sheet_rows(sheet: Any) -> Iterator[tuple[Any, ...]]:
    """The sheet's rows as tuples of values (trailing empty cells dropped), or
    WorkbookRefused at the first formula, or when the sheet is too large."""
    rows = sheet.iter_rows(max_row=MAX_ROWS + 1, max_col=MAX_COLUMNS + 1)
    try:
        for number, cells in enumerate(rows, start=1):
            values = []
            for column, cell in enumerate(cells, start=1):
                if cell.data_type == "f":
                    raise WorkbookRefused(FORMULA, _where(sheet, column, number))
                values.append(cell.value)
            while values and values[-1] is None:
                values.pop()
            if len(values) > MAX_COLUMNS:
                raise WorkbookRefused(TOO_MANY_COLUMNS, _where(sheet, MAX_COLUMNS + 1, number))
            if number > MAX_ROWS and values:
                raise WorkbookRefused(TOO_MANY_ROWS, _where(sheet, 1, number))
            yield tuple(values)
    except READ_ERRORS as error:
        if isinstance(error, WorkbookRefused):
            raise
        raise WorkbookRefused(UNREADABLE) from error


def _where(sheet: Any, column: int, row: int) -> str:
    return f"{sheet.title}!{get_column_letter(column)}{row}"
