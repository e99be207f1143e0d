"""Reviewing submitted visits: the queue, the screen, integrity flags and the decisions
(approve, return, edit).

This module is the area's public surface: other areas import only what it names.
Areas sit in an order (pyproject.toml, [tool.importlinter]): an area imports only
areas below it.
"""

from .decisions import lock_visit, posted_change, record_edits, write_answers
from .screen import points

__all__ = ["lock_visit", "points", "posted_change", "record_edits", "write_answers"]
