"""Reports for managers: store and region pages, scorecard PDFs and batches (pages.py),
with the charts they draw (charts.py)."""

from .pages import bp

__all__ = ["bp"]
