"""What changed between two versions of a checklist, in words a coordinator reads.

Sections and questions are matched by key (a question that moved to another section is
one change of its ``section``), options by value within a matched question. Values are
shown as in the document: numbers as int/Decimal, conditions and bands as their dicts;
an absent field is shown as its default (a question's weight 1, flags False, None).
"""

from dataclasses import dataclass
from typing import Any, Literal

from flask_babel import gettext as _

from ...models import ChecklistVersion
from .rows import version_document

Kind = Literal["added", "removed", "changed"]
SEPARATOR = " › "
_SHORT = 60

_SETTINGS = ("title", "language")
_SCORING_DEFAULTS: dict[str, Any] = {
    "method": "pooled",
    "pass_mark": None,
    "decimals": 1,
    "unanswered": "exclude",
    "critical_failure": "zero_visit",
    "cap_at_100": True,
    "bands": None,
}
_SECTION_DEFAULTS: dict[str, Any] = {
    "title": None,
    "weight": None,
    "pass_mark": None,
    "translations": None,
}
_QUESTION_DEFAULTS: dict[str, Any] = {
    "text": None,
    "type": None,
    "weight": 1,
    "na_allowed": False,
    "critical": False,
    "required": False,
    "bonus": False,
    "client_visible": False,
    "guidance": None,
    "min": None,
    "max": None,
    "bands": None,
    "show_if": None,
    "tag": None,
    "translations": None,
}
_OPTION_DEFAULTS: dict[str, Any] = {"label": None, "points": 0, "translations": None}


@dataclass(frozen=True)
class Change:
    kind: Kind
    path: str  # e.g. "Greeting › Were you greeted within 30 seconds?"
    field: str | None  # None for a whole item added or removed
    before: Any = None
    after: Any = None


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SHORT else text[: _SHORT - 1].rstrip() + "…"


def _fields(
    path: str, old: dict[str, Any], new: dict[str, Any], defaults: dict[str, Any]
) -> list[Change]:
    changes = []
    for field, default in defaults.items():
        before, after = old.get(field, default), new.get(field, default)
        if before != after:
            changes.append(Change("changed", path, field, before, after))
    return changes


def diff_versions(old: ChecklistVersion, new: ChecklistVersion) -> list[Change]:
    """Every difference from ``old`` to ``new``: settings first, then section by
    section in the new order (removed items after the items of their section)."""
    before, after = version_document(old), version_document(new)
    checklist_path = _("Checklist")
    changes = _fields(checklist_path, before, after, dict.fromkeys(_SETTINGS))
    if before.get("translations") != after.get("translations"):
        changes.append(
            Change(
                "changed",
                checklist_path,
                "translations",
                before.get("translations"),
                after.get("translations"),
            )
        )
    changes += _fields(
        _("Scoring"), before.get("scoring", {}), after.get("scoring", {}), _SCORING_DEFAULTS
    )

    old_sections = {s["key"]: s for s in before["sections"]}
    new_sections = {s["key"]: s for s in after["sections"]}
    old_questions = {q["key"]: (s, q) for s in before["sections"] for q in s["questions"]}
    new_questions = {q["key"]: (s, q) for s in after["sections"] for q in s["questions"]}
    old_order = [s["key"] for s in before["sections"] if s["key"] in new_sections]
    new_order = [s["key"] for s in after["sections"] if s["key"] in old_sections]

    for section in after["sections"]:
        path = section["title"]
        previous = old_sections.get(section["key"])
        if previous is None:
            changes.append(Change("added", path, None, None, section))
        else:
            changes += _fields(path, previous, section, _SECTION_DEFAULTS)
            if old_order.index(section["key"]) != new_order.index(section["key"]):
                changes.append(
                    Change(
                        "changed",
                        path,
                        "position",
                        old_order.index(section["key"]) + 1,
                        new_order.index(section["key"]) + 1,
                    )
                )
        for question in section["questions"]:
            changes += _question_changes(path, section, question, old_questions)
        for question in (previous or {}).get("questions", []):
            if question["key"] not in new_questions:
                qpath = path + SEPARATOR + _short(question["text"])
                changes.append(Change("removed", qpath, None, question, None))
    for section in before["sections"]:
        if section["key"] not in new_sections:
            # Its questions go with it; any that moved elsewhere show as a section change.
            changes.append(Change("removed", section["title"], None, section, None))
    return changes


def _question_changes(
    section_path: str,
    section: dict[str, Any],
    question: dict[str, Any],
    old_questions: dict[str, tuple[dict[str, Any], dict[str, Any]]],
) -> list[Change]:
    path = section_path + SEPARATOR + _short(question["text"])
    if question["key"] not in old_questions:
        return [Change("added", path, None, None, question)]
    old_section, previous = old_questions[question["key"]]
    changes = []
    if old_section["key"] != section["key"]:
        changes.append(Change("changed", path, "section", old_section["title"], section["title"]))
    changes += _fields(path, previous, question, _QUESTION_DEFAULTS)
    old_options = {o["value"]: o for o in previous.get("options", [])}
    new_values = {o["value"] for o in question.get("options", [])}
    for option in question.get("options", []):
        opath = path + SEPARATOR + option["label"]
        if option["value"] not in old_options:
            changes.append(Change("added", opath, None, None, option))
        else:
            changes += _fields(opath, old_options[option["value"]], option, _OPTION_DEFAULTS)
    for value, option in old_options.items():
        if value not in new_values:
            changes.append(Change("removed", path + SEPARATOR + option["label"], None, option))
    return changes
