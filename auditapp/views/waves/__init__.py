"""Waves for coordinators: the list, set-up, generating and scheduling visits and
publishing (pages.py); the board, progress and visit pages (board.py). One blueprint."""

from . import board  # noqa: F401 (its routes are on the blueprint)
from .pages import bp

__all__ = ["bp"]
