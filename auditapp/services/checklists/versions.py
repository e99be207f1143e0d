"""Checklists: creating them, their versions, documents, lint and publishing.

The builder's edits live in ``checklists_editing``, the version comparison in
``checklists_diff`` and the conversion between rows and documents in
``checklists_rows``; everything is importable from here.

Rules decided here:

- A checklist always has at least one version; the newest draft is where edits go, and
  there is at most one draft (a partial unique index guarantees it).
- ``create_checklist``'s ``title``, when not blank, names both the checklist and its
  first version (it replaces the document's own title); the checklist's title follows
  the version when it is published.
- Publishing is refused while lint reports errors; warnings do not block.
"""

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

import scoring

from ... import starters
from ...errors import Conflict, DomainError, NotFound
from ...extensions import db
from ...models import (
    DRAFT,
    PUBLISHED,
    Checklist,
    ChecklistLocked,
    ChecklistVersion,
    Client,
    User,
    utcnow,
)
from .checks import ChecklistInvalid, validate_document
from .diff import Change, diff_versions
from .editing import (
    add_question,
    add_section,
    delete_question,
    delete_section,
    duplicate_question,
    duplicate_section,
    ensure_draft,
    move_question,
    move_section,
    replace_document,
    set_options,
    update_question,
    update_section,
    update_settings,
)
from .rows import fill_version, scoring_checklist, version_document

__all__ = [
    "Change",
    "ChecklistInvalid",
    "ChecklistLocked",
    "PublishBlocked",
    "Starter",
    "add_question",
    "add_section",
    "copy_starter",
    "create_checklist",
    "delete_checklist",
    "delete_question",
    "delete_section",
    "diff_versions",
    "discard_draft",
    "draft_of",
    "duplicate_question",
    "duplicate_section",
    "latest_published",
    "lint",
    "list_starters",
    "move_question",
    "move_section",
    "publish",
    "replace_document",
    "scoring_checklist",
    "set_options",
    "start_new_version",
    "update_question",
    "update_section",
    "update_settings",
    "version_document",
]


class PublishBlocked(DomainError):
    """Lint found errors; ``issues`` lists them (errors only)."""

    status_code = 409

    def __init__(self, issues: list[scoring.LintIssue]) -> None:
        self.issues = issues
        super().__init__(
            _(
                "This version cannot be published until %(n)d error(s) are fixed.",
                n=len(issues),
            )
        )


# --- checklists and versions ------------------------------------------------------


def _empty_document(title: str) -> dict[str, Any]:
    return {"title": title, "sections": [{"key": "general", "title": _("General")}]}


def create_checklist(
    client: Client, title: str, user: User | None, document: dict[str, Any] | None = None
) -> Checklist:
    """A new checklist with draft version 1, from ``document`` or with one empty section."""
    title = (title or "").strip()
    if document is None:
        if not title:
            raise DomainError(_("Give the checklist a title."))
        document = _empty_document(title)
    elif title:
        document = {**document, "title": title}
    checklist_data = validate_document(document)
    checklist = Checklist(client=client, title=checklist_data.title, created_by=user)
    version = ChecklistVersion(checklist=checklist, number=1, status=DRAFT)
    fill_version(version, checklist_data)
    db.session.add(checklist)
    return checklist


def draft_of(checklist: Checklist) -> ChecklistVersion | None:
    return next((v for v in checklist.versions if v.status == DRAFT), None)


def latest_published(checklist: Checklist) -> ChecklistVersion | None:
    published = [v for v in checklist.versions if v.status == PUBLISHED]
    return max(published, key=lambda v: v.number) if published else None


def start_new_version(checklist: Checklist, user: User | None) -> ChecklistVersion:
    """The checklist's draft: the existing one, or a copy of the latest published
    version numbered one higher."""
    draft = draft_of(checklist)
    if draft is not None:
        return draft
    source = latest_published(checklist)
    number = max((v.number for v in checklist.versions), default=0) + 1
    document = version_document(source) if source else _empty_document(checklist.title)
    version = ChecklistVersion(checklist=checklist, number=number, status=DRAFT)
    fill_version(version, validate_document(document))
    db.session.add(version)
    return version


def discard_draft(version: ChecklistVersion) -> None:
    """Throws a draft away; a checklist's only version cannot be discarded."""
    ensure_draft(version)
    if len(version.checklist.versions) == 1:
        raise DomainError(_("This is the checklist's only version; delete the checklist instead."))
    version.checklist.versions.remove(version)
    db.session.delete(version)


def delete_checklist(checklist: Checklist) -> None:
    """Only a checklist that was never published can be deleted (visits use the rest)."""
    if latest_published(checklist) is not None:
        raise Conflict(_("A checklist with a published version cannot be deleted."))
    db.session.delete(checklist)


# --- documents, lint, publishing ---------------------------------------------------


def lint(version: ChecklistVersion) -> list[scoring.LintIssue]:
    return scoring.lint_checklist(scoring_checklist(version))


def publish(version: ChecklistVersion, user: User | None) -> ChecklistVersion:
    """Freezes the draft. Raises PublishBlocked (with the errors) when lint finds errors."""
    ensure_draft(version)
    errors = [issue for issue in lint(version) if issue.level == "error"]
    if errors:
        raise PublishBlocked(errors)
    version.status = PUBLISHED
    version.published_at = utcnow()
    version.published_by = user
    version.checklist.title = version.title
    return version


# --- starters --------------------------------------------------------------------


@dataclass(frozen=True)
class Starter:
    key: str
    title: str
    title_zh: str
    description: str


def list_starters() -> list[Starter]:
    out = []
    for key, description in starters.catalogue():
        document = starters.document(key)
        title_zh = document.get("translations", {}).get("zh", {}).get("title", "")
        out.append(Starter(key, document["title"], title_zh, str(description)))
    return out


def copy_starter(key: str, client: Client, user: User | None) -> Checklist:
    """A new checklist (draft version 1) copied from the starter ``key``."""
    if key not in dict(starters.catalogue()):
        raise NotFound(_("There is no starter checklist called %(key)s.", key=key))
    return create_checklist(client, "", user, starters.document(key))
