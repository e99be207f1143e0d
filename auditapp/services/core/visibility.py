"""Whose eyes a wave's results are open to.

The client's managers (regional and store) read a wave's results only once it is
published (``Wave.published_at`` set); the agency reads approved results at once.
These predicates are read by every area that shows results; publishing itself (the
operation that sets ``published_at``) lives in follow_up.
"""

from sqlalchemy import ColumnElement, true

from ...models import ADMIN, AGENCY_ROLES, User
from ...models.waves import Wave


def is_published(wave: Wave) -> bool:
    return wave.published_at is not None


def sees_unpublished(user: User) -> bool:
    """The agency reads results before they are published; the client does not."""
    return user.role == ADMIN or user.role in AGENCY_ROLES


def published_waves(user: User) -> ColumnElement[bool]:
    """The waves whose results ``user`` may read (with the scope filters)."""
    return true() if sees_unpublished(user) else Wave.published_at.is_not(None)
