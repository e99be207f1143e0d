"""Checklist files: export a version as JSON, YAML or XLSX, and read any of them back.

JSON and YAML carry the document of SCORING.md §1 as it is. The XLSX layout, for
coordinators who work in spreadsheets, is described in ``checklists_xlsx``.

``import_document`` sniffs the content (an XLSX is a zip; JSON starts with ``{``;
anything else is read as YAML) and returns the document in its canonical form (the
shape ``version_document`` gives), or raises ChecklistFileError listing EVERY problem:
what could not be read, the structural problems of the document, and the lint errors
that would block publishing. It never saves anything.

Reading rules: numbers are read exactly (no binary floats) and only when written
plainly (scoring/numbers.py: no exponents, at most 15 digits before the point); YAML
booleans are only ``true``/``false`` (so an option value ``yes`` or ``no`` stays text)
and dates are not converted; duplicate keys in a JSON or YAML object are problems.

Hostile files are refused before they cost anything: JSON and YAML files larger than
MAX_TEXT_BYTES, nesting deeper than MAX_DEPTH, YAML aliases, and workbooks that
reports/workbooks.py refuses (DTDs, formulas, zip bombs). When no document can be read
at all the error is UnreadableFile, which the import form shows at its file field.
"""

import json
import re
from collections.abc import Hashable, Sequence
from decimal import Decimal
from typing import Any

import yaml
from flask_babel import gettext as _

import scoring

from ...errors import DomainError
from ...models import ChecklistVersion
from . import xlsx, xlsx_read
from .checks import storage_problems
from .rows import version_document

MAX_TEXT_BYTES = 1 * 2**20  # a JSON or YAML checklist; reading YAML takes ~3 s per MB
MAX_DEPTH = 32  # a checklist document nests about ten levels deep
JSON_MIME = "application/json"
YAML_MIME = "application/yaml"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ChecklistFileError(DomainError):
    """The file cannot become a checklist; ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__(
            _(
                "The file has %(n)d problem(s); nothing was saved: %(problems)s",
                n=len(self.problems),
                problems="; ".join(self.problems),
            )
        )


class UnreadableFile(ChecklistFileError):
    """Not even a document could be read from the file (it is not JSON, YAML or XLSX,
    is too large or too deeply nested, is not an object...): the problems are about
    the file itself, so the form shows them next to its upload field."""


# --- export -------------------------------------------------------------------------


def export_json(version: ChecklistVersion) -> bytes:
    return (_json_text(version_document(version)) + "\n").encode("utf-8")


def export_yaml(version: ChecklistVersion) -> bytes:
    text = yaml.dump(
        version_document(version),
        Dumper=_YamlDumper,
        allow_unicode=True,
        sort_keys=False,
        width=100,
    )
    return text.encode("utf-8")


def export_xlsx(version: ChecklistVersion) -> bytes:
    return xlsx.write(version_document(version))


def _json_text(value: Any, depth: int = 0) -> str:
    """Indented JSON with exact numbers and readable (unescaped) Chinese."""
    pad, inner = "  " * depth, "  " * (depth + 1)
    if isinstance(value, dict) and value:
        items = [
            f"{inner}{json.dumps(k, ensure_ascii=False)}: {_json_text(v, depth + 1)}"
            for k, v in value.items()
        ]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and value:
        if all(not isinstance(v, dict | list) for v in value):
            return "[" + ", ".join(_json_text(v) for v in value) + "]"
        items = [inner + _json_text(v, depth + 1) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return scoring.dumps_exact(value)


class _YamlDumper(yaml.SafeDumper):
    pass


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:float", format(value, "f"))


_YamlDumper.add_representer(Decimal, _represent_decimal)


# --- import -------------------------------------------------------------------------


def import_document(data: bytes, filename: str = "") -> dict[str, Any]:
    """The canonical document in ``data`` (JSON, YAML or XLSX), or ChecklistFileError
    (UnreadableFile when no document could be read at all)."""
    if not data.strip():
        raise UnreadableFile([_("The file is empty.")])
    if data.startswith(b"PK\x03\x04"):
        document, problems, where = xlsx_read.read(data)
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFile(
            [_("This is an old .xls workbook; save it as .xlsx and upload it again.")]
        )
    elif len(data) > MAX_TEXT_BYTES:
        raise UnreadableFile(
            [
                _(
                    "The file is larger than %(kb)d KB; a checklist in JSON or YAML is far"
                    " smaller. Is it the right file?",
                    kb=MAX_TEXT_BYTES // 1024,
                )
            ]
        )
    else:
        document, problems = _read_text(data, filename)
        where = None
    if document is None:
        raise UnreadableFile(problems or [_("The file could not be read.")])
    problems += _document_problems(document)
    if where is not None:
        problems = [where(p) for p in problems]
    if problems:
        raise ChecklistFileError(problems)
    return scoring.dump_checklist(scoring.load_checklist(document))


def _document_problems(document: Any) -> list[str]:
    try:
        checklist = scoring.load_checklist(document)
    except scoring.ChecklistError as error:
        return [str(p) for p in error.problems]
    problems = list(storage_problems(checklist))
    if problems:
        return problems
    return [
        f"{issue.path}: {issue.message}"
        for issue in scoring.lint_checklist(checklist)
        if issue.level == "error"
    ]


def _read_text(data: bytes, filename: str) -> tuple[Any, list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, [_("The file is not UTF-8 text, JSON, YAML or an XLSX workbook.")]
    if text.lstrip().startswith(("{", "[")) or filename.lower().endswith(".json"):
        try:
            document = scoring.loads_exact(text)
        except scoring.NumberError as error:
            return None, [_("The file cannot be read: %(error)s", error=str(error))]
        except ValueError as error:
            return None, [_("The file is not valid JSON: %(error)s", error=str(error))]
    else:
        try:
            document = yaml.load(text, Loader=_YamlLoader)  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError as error:
            return None, [_("The file is not valid YAML: %(error)s", error=str(error))]
    if not isinstance(document, dict):
        return None, [_("The file does not contain a checklist (an object with a title).")]
    return document, []


class _YamlLoader(yaml.SafeLoader):
    """Safe YAML with exact, bounded numbers (scoring/numbers.py), YAML 1.2 booleans, no
    dates, no duplicate keys, no aliases and at most MAX_DEPTH levels of nesting.

    Aliases are refused because a few lines of them ("billion laughs") stand for a
    document too large to walk; the depth because composing is recursive.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(
                None,
                None,
                "aliases (*name) are not allowed",
                self.peek_event().start_mark,  # type: ignore[no-untyped-call]  # types-PyYAML: unannotated
            )
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"lists and mappings nest more than {MAX_DEPTH} levels deep",
                    self.peek_event().start_mark,  # type: ignore[no-untyped-call]  # types-PyYAML: unannotated
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL, _TIMESTAMP)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_YamlLoader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct_number(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int | Decimal:
    """What YAML resolved as a number (int or float), read by scoring's bounded parser;
    anything but a plain decimal number (1e3, .inf, 0x1f, 1_000, 1:30) is refused."""
    text = str(loader.construct_scalar(node))
    try:
        value = scoring.parse_number(text)
    except scoring.NumberError as error:
        message = str(error)
        if error.reason == scoring.INVALID:
            message = f"{text[:24]} is not a plain number (write 12 or 3.5, or quote text)"
        raise yaml.constructor.ConstructorError(None, None, message, node.start_mark) from None
    if node.tag == _INT:
        return int(value) if value == value.to_integral_value() else value
    return value


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be text or a number", key_node.start_mark
            )
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
    return result


_YamlLoader.add_constructor(_INT, _construct_number)
_YamlLoader.add_constructor("tag:yaml.org,2002:float", _construct_number)
_YamlLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
