"""Read models of approved results for reports: rows, periods, visit details,
exports, adjusted scores and inter-rater reliability.

This module is the area's public surface: other areas import only what it names.
Areas sit in an order (pyproject.toml, [tool.importlinter]): an area imports only
areas below it.
"""

from .adjusted_scores import AdjustedScores, for_wave
from .rows import store_card, visit_rows, wave_chain
from .visits import load_checklist

__all__ = ["AdjustedScores", "for_wave", "load_checklist", "store_card", "visit_rows", "wave_chain"]
