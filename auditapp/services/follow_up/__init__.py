"""What publication sets off: publishing waves, corrective actions, alerts and the
follow-up photos.

This module is the area's public surface: other areas import only what it names.
Areas sit in an order (pyproject.toml, [tool.importlinter]): an area imports only
areas below it.
"""

from .actions import finding_changed, open_action_lines
from .alerts import appeal_decided, appeal_filed
from .files import MAX_FILES, check_photos, photo_path, store_photo
from .publishing import visit_published

__all__ = [
    "MAX_FILES",
    "appeal_decided",
    "appeal_filed",
    "check_photos",
    "finding_changed",
    "open_action_lines",
    "photo_path",
    "store_photo",
    "visit_published",
]
