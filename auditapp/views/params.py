"""Numbers from the URL: row ids in paths, ids and page numbers in query strings and
forms, read so that no number a user types can reach the database unchecked.

Row ids are 32-bit integers on PostgreSQL and 64-bit on SQLite; a number past either
made the database driver fail (a 500). Ids run from 1 to MAX_ID on both, so:

- a path id outside that range is not found (404), like any id nobody has;
- a query or form value that is not such an id reads as "not given", which is how the
  pages already treat a value that is not a number (the filter is ignored);
- a page number that is not a whole number from 1 to MAX_ID is the first page.

Text with a NUL character is refused with a 400 wherever it comes in: PostgreSQL
cannot store it (another 500), and no browser form sends it.
"""

from collections.abc import Mapping

from flask import Flask, abort, request
from werkzeug.datastructures import MultiDict
from werkzeug.routing import IntegerConverter, Map

from ..models.base import MAX_ID


class IdConverter(IntegerConverter):
    """Flask's `int` converter, bounded to the ids a row can have: 1 to MAX_ID."""

    def __init__(
        self,
        map: Map,  # noqa: A002 (werkzeug's name)
        fixed_digits: int = 0,
        min: int | None = 1,  # noqa: A002
        max: int | None = MAX_ID,  # noqa: A002
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def parse_id(text: str | None) -> int | None:
    """The row id the text spells (ASCII digits, at most MAX_ID), or None."""
    text = (text or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > len(str(MAX_ID)):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def id_arg(name: str, values: Mapping[str, str] | None = None) -> int | None:
    """The query value `name` (or the one in `values`, say request.form) as a row id;
    None when it is missing or no id at all."""
    return parse_id((request.args if values is None else values).get(name))


def id_list(name: str, values: MultiDict[str, str] | None = None) -> list[int]:
    """Every value of `name` that is a row id; the others are left out."""
    found = (request.args if values is None else values).getlist(name)
    return [value for text in found if (value := parse_id(text)) is not None]


def page_arg() -> int:
    """The page number of a paged list: 1 unless the query names a sensible one."""
    return parse_id(request.args.get("page")) or 1


def init_app(app: Flask) -> None:
    """Before any route is added: `<int:...>` in a rule then means a bounded id."""
    app.url_map.converters["int"] = IdConverter

    @app.before_request
    def _refuse_nul_characters() -> None:
        parts = [*(request.view_args or {}).values()]
        sent = [request.args, request.form] if request.method == "POST" else [request.args]
        for values in sent:
            for name, value in values.items(multi=True):
                parts += (name, value)
        if any(isinstance(part, str) and "\x00" in part for part in parts):
            abort(400)
