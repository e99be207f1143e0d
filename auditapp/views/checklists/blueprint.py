"""The checklists blueprint and what its pages share (pages.py, builder.py,
preview.py)."""

from flask import Blueprint, url_for

from forms.checklists import QUESTION_TYPE_CHOICES

from ...models import ADMIN, COORDINATOR, ChecklistLocked, ChecklistVersion

bp = Blueprint("checklists", __name__, url_prefix="/checklists")
EDITORS = (ADMIN, COORDINATOR)
TYPE_LABELS = {choice.value: choice.label for choice in QUESTION_TYPE_CHOICES}


def draft_only(version: ChecklistVersion) -> None:
    """Editing routes refuse a published version before reading any form."""
    if not version.is_draft:
        raise ChecklistLocked()


def builder_url(version: ChecklistVersion, anchor: str | None = None) -> str:
    return url_for("checklists.version", version_id=version.id, _anchor=anchor)
