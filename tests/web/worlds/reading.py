"""Reading what the app answers: the rows of a table on a page, the words a reader
sees, CSV and XLSX downloads."""

import csv
import io
import re

from openpyxl import load_workbook

from tests.conftest import page_text


def rows(html: str, table: str) -> list[str]:
    """The <tr> elements of the table with this id."""
    body = re.search(rf'<table[^>]*id="{table}".*?</table>', html, re.S)
    assert body, f"no table #{table}"
    return re.findall(r"<tr\b.*?</tr>", body.group(0), re.S)


def text(html: str) -> str:
    return " ".join(page_text(html).split())


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, for Excel"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def read_xlsx(data: bytes) -> list[list[object]]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    rows = [list(r) for sheet in book.worksheets for r in sheet.iter_rows(values_only=True)]
    book.close()
    width = len(rows[0])
    return [r + [None] * (width - len(r)) for r in rows]  # trailing empty cells are not kept
