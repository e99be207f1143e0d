"""Report dashboards and their PDFs: admins, coordinators (their clients), regional
managers (their regions' subtrees) and store managers (their stores). Reviewers and
shoppers get 404 everywhere; so does anyone asking for a region or store outside their
scope: the pages below ask for North (and the North-area store), so coordinator Y and
the South manager get 404, and the store manager only reaches their own store.

/reports/ itself opens for every reader (it shows what their scope holds; a store
manager is sent on to their store). A batch's progress page and ZIP belong to the user
who started the batch (here the admin, over an empty region, so it is done at once).
The wave is the one the waves matrix makes (access/waves.py), kept on the cast, and
published, since the client's managers read published waves only."""

from typing import Any

from flask import url_for

from auditapp.extensions import db
from auditapp.services.org import records as org
from auditapp.services.scorecards import pdfs as scorecards

from . import (
    ADMIN,
    COORDINATOR_X,
    COORDINATOR_Y,
    REGIONAL_NORTH,
    REGIONAL_SOUTH,
    STORE_MANAGER,
    Route,
)
from .waves import published_wave

READERS = frozenset({ADMIN, COORDINATOR_X, COORDINATOR_Y, REGIONAL_NORTH, REGIONAL_SOUTH})
NORTH = frozenset({ADMIN, COORDINATOR_X, REGIONAL_NORTH})


def _wave_id(cast: Any) -> int:
    wave_id: int = published_wave(cast).id
    return wave_id


def _batch(cast: Any) -> str:
    """A finished batch of the admin's, over a region of client X without stores."""
    found: str | None = getattr(cast, "_report_batch", None)
    if found is None:
        empty = org.save_region(None, cast.client_x, {"code": "EMPTY", "name": "Empty"})
        wave = published_wave(cast)
        found = scorecards.start_region_batch(empty, wave, cast.users[ADMIN], "en")
        db.session.commit()
        cast._report_batch = found
    return found


ACCESS = {
    "reports.index": Route(lambda c: url_for("reports.index"), READERS | {STORE_MANAGER}),
    "reports.questions": Route(
        lambda c: url_for("reports.questions", region=c.north.id, wave=_wave_id(c)), NORTH
    ),
    "reports.store": Route(
        lambda c: url_for("reports.store", store_id=c.store_north_area.id, wave=_wave_id(c)),
        NORTH | {STORE_MANAGER},
    ),
    "reports.store_pdf": Route(
        lambda c: url_for("reports.store_pdf", store_id=c.store_north_area.id, wave=_wave_id(c)),
        NORTH | {STORE_MANAGER},
    ),
    "reports.region_pdf": Route(
        lambda c: url_for("reports.region_pdf", region_id=c.north.id, wave=_wave_id(c)), NORTH
    ),
    "reports.start_batch": Route(
        lambda c: url_for("reports.start_batch", region_id=c.north.id),
        NORTH,
        ("POST",),
        lambda c: {"wave": str(_wave_id(c))},
    ),
    "reports.batch": Route(
        lambda c: url_for("reports.batch", batch_id=_batch(c)), frozenset({ADMIN})
    ),
    "reports.batch_download": Route(
        lambda c: url_for("reports.batch_download", batch_id=_batch(c)), frozenset({ADMIN})
    ),
}
