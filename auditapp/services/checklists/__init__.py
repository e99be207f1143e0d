"""Checklists and their versions: drafting, checking, comparing, publishing, and the
XLSX/JSON files they travel in.

This module is the area's public surface: other areas import only what it names.
Areas sit in an order (pyproject.toml, [tool.importlinter]): an area imports only
areas below it.
"""

from .rows import derived, json_number, question_ids, scoring_checklist

__all__ = ["derived", "json_number", "question_ids", "scoring_checklist"]
