"""Reading fields of a JSON-shaped document while collecting every problem on the way.

The checklist loader builds on this; it is kept apart so each file stays readable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, TypeVar

from scoring.model import Translations
from scoring.numbers import INVALID, NumberError, exact_number

ROOT_PATH = "(document)"
T = TypeVar("T")


@dataclass(frozen=True)
class Problem:
    """One structural problem in a checklist document, at ``path``."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ChecklistError(ValueError):
    """A checklist document that cannot be read; ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


def join_path(path: str, field: str) -> str:
    return field if path == ROOT_PATH else f"{path}.{field}"


class FieldReader:
    """Walks the whole document, collecting problems instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self._not_objects: list[str] = []

    def problem(self, path: str, message: str) -> None:
        # Below something that is not even an object, "x is required" would only be noise.
        if not any(path.startswith(f"{parent}.") for parent in self._not_objects):
            self.problems.append(Problem(path, message))

    # -- generic fields -------------------------------------------------------------

    def mapping(self, value: object, path: str, fields: set[str]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.problem(path, "must be an object")
            self._not_objects.append(path)
            return {}
        for name in value:
            if name not in fields:
                self.problem(join_path(path, str(name)), "unknown field")
        return value

    def items(self, obj: Mapping[str, Any], field: str, path: str) -> list[tuple[str, Any]]:
        """(path, item) for each element of an optional list field."""
        value = obj.get(field)
        if value is None:
            return []
        if not isinstance(value, list | tuple):
            self.problem(join_path(path, field), "must be a list")
            return []
        return [(f"{join_path(path, field)}[{i}]", item) for i, item in enumerate(value)]

    def text(self, obj: Mapping[str, Any], field: str, path: str, *, required: bool) -> str | None:
        value = obj.get(field)
        if value is None:
            if required:
                self.problem(join_path(path, field), "is required")
            return None
        if not isinstance(value, str) or (required and not value.strip()):
            self.problem(join_path(path, field), "must be a non-empty string")
            return None
        return value

    def number(
        self, obj: Mapping[str, Any], field: str, path: str, *, at_least: Fraction | None = None
    ) -> Fraction | None:
        value = obj.get(field)
        if value is None:
            return None
        try:
            number = exact_number(value)
        except NumberError as error:
            message = "must be a number" if error.reason == INVALID else error.explanation
            self.problem(join_path(path, field), message)
            return None
        if at_least is not None and number < at_least:
            self.problem(join_path(path, field), f"must be at least {at_least}")
            return None
        return number

    def flag(self, obj: Mapping[str, Any], field: str, path: str, default: bool) -> bool:
        value = obj.get(field)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problem(join_path(path, field), "must be true or false")
            return default
        return value

    def one_of(
        self, obj: Mapping[str, Any], field: str, path: str, allowed: Sequence[T], default: T
    ) -> T:
        value = obj.get(field)
        if value is None:
            return default
        for candidate in allowed:
            if value == candidate and isinstance(value, str):
                return candidate
        self.problem(join_path(path, field), "must be one of " + ", ".join(map(str, allowed)))
        return default

    def translations(
        self, obj: Mapping[str, Any], path: str, kind: str, allowed: set[str]
    ) -> Translations:
        path = join_path(path, "translations")
        value = obj.get("translations")
        if value is None:
            return ()
        if not isinstance(value, Mapping):
            self.problem(path, "must be an object of language -> {field: text}")
            return ()
        result = []
        for language, texts in value.items():
            here = f"{path}.{language}"
            if not isinstance(texts, Mapping):
                self.problem(here, "must be an object of field -> text")
                continue
            pairs = []
            for name, text in texts.items():
                if name not in allowed:
                    self.problem(f"{here}.{name}", f"a {kind} cannot translate this field")
                elif not isinstance(text, str):
                    self.problem(f"{here}.{name}", "must be a string")
                else:
                    pairs.append((name, text))
            result.append((language, tuple(pairs)))
        return tuple(result)
