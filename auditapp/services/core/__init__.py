"""Accounts, mail, links, pseudonyms, the visit lifecycle and who sees published results:
what every other area builds on.

This module is the area's public surface: other areas import only what it names.
Areas sit in an order (pyproject.toml, [tool.importlinter]): an area imports only
areas below it.
"""

from .accounts import normalise_email
from .lifecycle import STATUS_LABELS, log, move
from .links import absolute, external_url
from .mail import retry_due, send_mail
from .upload_problems import workbook_problem
from .visibility import is_published, published_waves, sees_unpublished

__all__ = [
    "STATUS_LABELS",
    "absolute",
    "external_url",
    "is_published",
    "log",
    "move",
    "normalise_email",
    "published_waves",
    "retry_due",
    "sees_unpublished",
    "send_mail",
    "workbook_problem",
]
