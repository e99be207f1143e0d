"""The builder's edits to a draft version: sections, questions, options, settings.

Every edit is first applied to the version's document and checked there (the scoring
engine's structural checks, the storage limits, unique keys and option values, and
conditions that only look at earlier questions); only then are the rows changed. So a
refused edit leaves nothing half-done in the session. ``data`` dicts use the document's
field names (SCORING.md §1); a field set to None is cleared.

Rules decided here:

- A new section or question without a key gets one from its title or text (or
  "section"/"question"), made unique in the version with a _2, _3… suffix; duplicates
  get the original's key with the next free suffix.
- Renaming a question's key renames it in the conditions that refer to it.
- Moving a question past the top or bottom of its section moves it to the end of the
  previous section or the start of the next one; past the checklist's ends it stays.
- A duplicated section is placed right after the original, titled "… (copy)", and the
  conditions between its own questions point at the copies.
- A question (or section) that another question's condition refers to cannot be deleted.
"""

import re
from collections.abc import Iterable, Mapping
from typing import Any

from flask_babel import gettext as _

import scoring

from ...errors import DomainError
from ...extensions import db
from ...models import (
    DRAFT,
    PUBLISHED,
    ChecklistLocked,
    ChecklistQuestion,
    ChecklistSection,
    ChecklistVersion,
)
from .checks import ChecklistInvalid, structure_problems, validate_document
from .rows import (
    apply_question,
    apply_section,
    apply_settings,
    fill_version,
    new_question,
    new_section,
    question_doc,
    renumber,
    section_doc,
    settings_doc,
)

Item = ChecklistSection | ChecklistQuestion | dict[str, Any]
Layout = list[tuple[Item, list[Item]]]
SETTINGS_FIELDS = ("title", "language", "scoring", "translations")


def ensure_draft(version: ChecklistVersion) -> None:
    if version.status != DRAFT:
        raise ChecklistLocked()


# --- checking a prospective document ------------------------------------------------


def _check(doc: dict[str, Any]) -> scoring.Checklist:
    """The checklist of an edited document, or a DomainError with the first problem."""
    checklist = validate_document(doc)
    problems = structure_problems(checklist)
    if problems:
        raise DomainError(problems[0].split(": ", 1)[1])
    return checklist


def _layout(version: ChecklistVersion) -> Layout:
    return [(s, list(s.questions)) for s in version.sections]


def _document(
    version: ChecklistVersion,
    layout: Layout,
    replaced: Mapping[int, dict[str, Any]] | None = None,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The document of ``layout``; ``replaced`` maps id(row) to its edited document."""
    replaced = replaced or {}

    def doc_of(item: Item, convert: Any) -> dict[str, Any]:
        if isinstance(item, dict):
            return dict(item)
        return dict(replaced.get(id(item)) or convert(item))

    sections = []
    for section, questions in layout:
        sdoc = doc_of(section, lambda s: section_doc(s, questions=False))
        sdoc["questions"] = [doc_of(q, question_doc) for q in questions]
        sections.append(sdoc)
    return {**(settings or settings_doc(version)), "sections": sections}


def _slug(text: Any, fallback: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", str(text or "").lower()).strip("_")[:40].strip("_")
    return slug or fallback


def unique_key(base: str, taken: Iterable[str]) -> str:
    taken = set(taken)
    if base not in taken:
        return base
    stem = re.sub(r"_\d+$", "", base)[:58] or base
    n = 2
    while f"{stem}_{n}" in taken:
        n += 1
    return f"{stem}_{n}"


def _question_keys(version: ChecklistVersion) -> list[str]:
    return [q.key for q in version.questions()]


def _dependents(version: ChecklistVersion, keys: set[str]) -> list[ChecklistQuestion]:
    return [
        q
        for q in version.questions()
        if q.show_if and q.show_if.get("question") in keys and q.key not in keys
    ]


# --- the whole document and the settings -----------------------------------------------


def replace_document(version: ChecklistVersion, document: Any) -> ChecklistVersion:
    """Replaces everything in the draft with ``document``. Raises ChecklistInvalid with
    every problem (structure, storage limits, duplicate keys, conditions)."""
    ensure_draft(version)
    checklist = validate_document(document)
    problems = structure_problems(checklist)
    if problems:
        raise ChecklistInvalid(problems)
    version.sections.clear()
    db.session.flush()  # the old rows go first, so their keys are free again
    fill_version(version, checklist)
    _sync_title(version)
    return version


def update_settings(version: ChecklistVersion, data: Mapping[str, Any]) -> ChecklistVersion:
    """Checklist-level fields: title, language, scoring (merged field by field) and
    translations."""
    ensure_draft(version)
    settings = settings_doc(version)
    for field, value in data.items():
        if field == "scoring" and isinstance(value, Mapping):
            settings["scoring"] = {**settings["scoring"], **value}
        else:
            settings[field] = value
    checklist = _check(_document(version, _layout(version), settings=settings))
    apply_settings(version, checklist)
    _sync_title(version)
    return version


def _sync_title(version: ChecklistVersion) -> None:
    """Until something is published, the checklist is called what its draft is called."""
    if not any(v.status == PUBLISHED for v in version.checklist.versions):
        version.checklist.title = version.title


# --- sections ---------------------------------------------------------------------


def add_section(version: ChecklistVersion, data: Mapping[str, Any]) -> ChecklistSection:
    ensure_draft(version)
    data = dict(data)
    if not data.get("key"):
        data["key"] = unique_key(
            _slug(data.get("title"), "section"), [s.key for s in version.sections]
        )
    questions = list(data.pop("questions", None) or [])
    checklist = _check(_document(version, [*_layout(version), (data, questions)]))
    row = new_section(version, checklist.sections[-1])
    renumber(version.sections)
    return row


def update_section(section: ChecklistSection, data: Mapping[str, Any]) -> ChecklistSection:
    version = section.version
    ensure_draft(version)
    edited = {**section_doc(section, questions=False), **data}
    edited.pop("questions", None)
    checklist = _check(_document(version, _layout(version), {id(section): edited}))
    apply_section(section, checklist.sections[version.sections.index(section)])
    return section


def move_section(section: ChecklistSection, delta: int) -> ChecklistSection:
    version = section.version
    ensure_draft(version)
    sections = list(version.sections)
    old = sections.index(section)
    new = min(max(old + delta, 0), len(sections) - 1)
    if new == old:
        return section
    sections.insert(new, sections.pop(old))
    _check(_document(version, [(s, list(s.questions)) for s in sections]))
    version.sections = sections
    renumber(version.sections)
    return section


def duplicate_section(section: ChecklistSection) -> ChecklistSection:
    version = section.version
    ensure_draft(version)
    copy = section_doc(section)
    copy["key"] = unique_key(section.key, [s.key for s in version.sections])
    copy["title"] = _("%(title)s (copy)", title=section.title)
    taken = _question_keys(version)
    renamed: dict[str, str] = {}
    for question in copy["questions"]:
        renamed[question["key"]] = question["key"] = unique_key(question["key"], taken)
        taken.append(question["key"])
    for question in copy["questions"]:
        condition = question.get("show_if")
        if condition and condition.get("question") in renamed:
            question["show_if"] = {**condition, "question": renamed[condition["question"]]}
    layout = _layout(version)
    index = version.sections.index(section) + 1
    layout.insert(index, (copy, copy.pop("questions")))
    checklist = _check(_document(version, layout))
    row = new_section(version, checklist.sections[index])
    sections = [s for s in version.sections if s is not row]
    sections.insert(index, row)
    version.sections = sections
    renumber(version.sections)
    return row


def delete_section(section: ChecklistSection) -> None:
    version = section.version
    ensure_draft(version)
    users = _dependents(version, {q.key for q in section.questions})
    if users:
        raise DomainError(
            _(
                "Questions of this section are used by the conditions of %(others)s;"
                " change or remove those conditions first.",
                others=", ".join(q.key for q in users),
            )
        )
    version.sections.remove(section)
    renumber(version.sections)


# --- questions --------------------------------------------------------------------


def add_question(section: ChecklistSection, data: Mapping[str, Any]) -> ChecklistQuestion:
    version = section.version
    ensure_draft(version)
    data = dict(data)
    data.setdefault("type", "yes_no")
    if not data.get("key"):
        data["key"] = unique_key(_slug(data.get("text"), "question"), _question_keys(version))
    layout = _layout(version)
    index = version.sections.index(section)
    layout[index][1].append(data)
    checklist = _check(_document(version, layout))
    return new_question(section, checklist.sections[index].questions[-1])


def update_question(question: ChecklistQuestion, data: Mapping[str, Any]) -> ChecklistQuestion:
    section, version = question.section, question.version
    ensure_draft(version)
    edited = {**question_doc(question), **data}
    replaced = {id(question): edited}
    dependents = []
    if edited.get("key") != question.key:
        dependents = _dependents(version, {question.key})
        for other in dependents:
            doc = question_doc(other)
            doc["show_if"] = {**doc["show_if"], "question": edited.get("key")}
            replaced[id(other)] = doc
    checklist = _check(_document(version, _layout(version), replaced))
    typed = checklist.sections[version.sections.index(section)]
    apply_question(question, typed.questions[section.questions.index(question)])
    for other in dependents:
        other.show_if = {**(other.show_if or {}), "question": question.key}
    return question


def set_options(question: ChecklistQuestion, options: list[dict[str, Any]]) -> ChecklistQuestion:
    """Replaces the question's options (value, label, points, translations)."""
    return update_question(question, {"options": list(options)})


def move_question(question: ChecklistQuestion, delta: int) -> ChecklistQuestion:
    version = question.version
    ensure_draft(version)
    layout = _layout(version)
    for _step in range(abs(delta)):
        if not _step_question(layout, question, 1 if delta > 0 else -1):
            break
    _check(_document(version, layout))
    source = question.section
    for section, questions in layout:
        assert isinstance(section, ChecklistSection)
        if question not in questions:
            continue
        if section is source:
            section.questions = [q for q in questions if isinstance(q, ChecklistQuestion)]
        else:
            source.questions.remove(question)
            renumber(source.questions)
            section.questions.insert(questions.index(question), question)
        renumber(section.questions)
    return question


def _step_question(layout: Layout, question: ChecklistQuestion, step: int) -> bool:
    """Moves ``question`` one place up (-1) or down (+1); False at the checklist's ends."""
    s = next(i for i, (_s, qs) in enumerate(layout) if question in qs)
    questions = layout[s][1]
    q = questions.index(question)
    if 0 <= q + step < len(questions):
        questions[q], questions[q + step] = questions[q + step], questions[q]
        return True
    if not 0 <= s + step < len(layout):
        return False
    questions.pop(q)
    target = layout[s + step][1]
    if step < 0:
        target.append(question)
    else:
        target.insert(0, question)
    return True


def duplicate_question(question: ChecklistQuestion) -> ChecklistQuestion:
    section, version = question.section, question.version
    ensure_draft(version)
    copy = {**question_doc(question), "key": unique_key(question.key, _question_keys(version))}
    layout = _layout(version)
    s, q = version.sections.index(section), section.questions.index(question)
    layout[s][1].insert(q + 1, copy)
    checklist = _check(_document(version, layout))
    row = new_question(section, checklist.sections[s].questions[q + 1])
    questions = [x for x in section.questions if x is not row]
    questions.insert(q + 1, row)
    section.questions = questions
    renumber(section.questions)
    return row


def delete_question(question: ChecklistQuestion) -> None:
    section, version = question.section, question.version
    ensure_draft(version)
    users = _dependents(version, {question.key})
    if users:
        raise DomainError(
            _(
                "Question %(key)s is used by the condition of %(others)s;"
                " change or remove that condition first.",
                key=question.key,
                others=", ".join(q.key for q in users),
            )
        )
    section.questions.remove(question)
    renumber(section.questions)
