"""Result exports: the page is open to every role that sees results (without the
export permission it only says so); shoppers get 404. Downloading needs the export
permission and the wave in scope: admins, coordinator X (client X, may export) and
the North regional manager (may export; the wave visits North stores). Everyone else,
including coordinator Y (another client) and the South manager (no permission), gets
404. The wave is the one the waves matrix makes (access/waves.py), kept on the cast,
published: unpublished, it is a 404 for the client's managers too."""

from flask import url_for

from . import (
    ADMIN,
    COORDINATOR_X,
    COORDINATOR_Y,
    REGIONAL_NORTH,
    REGIONAL_SOUTH,
    REVIEWER_X,
    REVIEWER_Y,
    STORE_MANAGER,
    Route,
)
from .waves import published_wave

READERS = frozenset(
    {ADMIN, COORDINATOR_X, COORDINATOR_Y, REVIEWER_X, REVIEWER_Y, REGIONAL_NORTH, REGIONAL_SOUTH}
    | {STORE_MANAGER}
)
EXPORTERS = frozenset({ADMIN, COORDINATOR_X, REGIONAL_NORTH})

ACCESS = {
    "results.exports": Route(lambda c: url_for("results.exports"), READERS),
    "results.export": Route(
        lambda c: url_for("results.export", wave=published_wave(c).id, shape="long", format="csv"),
        EXPORTERS,
    ),
}
