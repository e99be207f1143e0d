"""Checklists: the list and a checklist's versions (pages.py), the builder's sections and
questions (builder.py) and the preview (preview.py), all on one blueprint."""

from . import builder, pages, preview  # noqa: F401 (their routes are on the blueprint)
from .blueprint import bp

__all__ = ["bp"]
