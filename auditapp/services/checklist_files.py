"""Checklist files: export a version as JSON, YAML or XLSX, and read any of them back.

JSON and YAML carry the document of SCORING.md §1 as it is. The XLSX layout, for
coordinators who work in spreadsheets, is described in ``checklists_xlsx``.

``import_document`` sniffs the content (an XLSX is a zip; JSON starts with ``{``;
anything else is read as YAML) and returns the document in its canonical form (the
shape ``version_document`` gives), or raises ChecklistFileError listing EVERY problem:
what could not be read, the structural problems of the document, and the lint errors
that would block publishing. It never saves anything.

Reading rules: numbers are read exactly (no binary floats); YAML booleans are only
``true``/``false`` (so an option value ``yes`` or ``no`` stays text) and dates are not
converted; duplicate keys in a JSON or YAML object are problems.
"""

import json
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml
from flask_babel import gettext as _

import scoring

from ..errors import DomainError
from ..models import ChecklistVersion
from . import checklists_xlsx, checklists_xlsx_read
from .checklists_checks import storage_problems
from .checklists_rows import version_document

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
    return checklists_xlsx.write(version_document(version))


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
    """The canonical document in ``data`` (JSON, YAML or XLSX), or ChecklistFileError."""
    if not data.strip():
        raise ChecklistFileError([_("The file is empty.")])
    if data.startswith(b"PK\x03\x04"):
        document, problems, where = checklists_xlsx_read.read(data)
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ChecklistFileError(
            [_("This is an old .xls workbook; save it as .xlsx and upload it again.")]
        )
    else:
        document, problems = _read_text(data, filename)
        where = None
    if document is not None:
        problems += _document_problems(document)
    if where is not None:
        problems = [where(p) for p in problems]
    if problems or document is None:
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
            return scoring.loads_exact(text), []
        except ValueError as error:
            return None, [_("The file is not valid JSON: %(error)s", error=str(error))]
    try:
        document = yaml.load(text, Loader=_YamlLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        return None, [_("The file is not valid YAML: %(error)s", error=str(error))]
    if not isinstance(document, dict):
        return None, [_("The file does not contain a checklist (an object with a title).")]
    return document, []


class _YamlLoader(yaml.SafeLoader):
    """Safe YAML with exact numbers, YAML 1.2 booleans, no dates, no duplicate keys."""


_BOOL = "tag:yaml.org,2002:bool"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL, _TIMESTAMP)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_YamlLoader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise yaml.constructor.ConstructorError(
            None, None, f"{text} is not a number a checklist allows", node.start_mark
        )
    return value


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
    return result


_YamlLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_YamlLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
