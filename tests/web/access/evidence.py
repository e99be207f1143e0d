"""Evidence files: only the visit's own shopper uploads (while the visit is in hand);
the shopper and the agency staff of the visit's client (admin, coordinator X,
reviewer X) see the files. Client staff do not: photos can show the shopper, and
only those of a client-visible photo question, in published results, are theirs to
see (tests/web/reporting/test_client_evidence.py); this one is neither. Everyone else who is
signed in gets 404.

The matrix posts without a file, so the owner's upload gets a 400 "choose a file"
answer: allowed, refused for the content. tests/web/visits/test_evidence.py covers real
uploads."""

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from flask import url_for

from auditapp.models import utcnow
from auditapp.models.waves import ACCEPTED
from auditapp.services.visits import evidence
from tests.web import evidence_images

from . import ADMIN, COORDINATOR_X, REVIEWER_X, SHOPPER_A, Route
from .my_visits import make_visit, make_wave


def _evidence(cast: Any) -> SimpleNamespace:
    """Shopper A's accepted visit at North one, with one stored photo."""
    if not hasattr(cast, "evidence"):
        wave = make_wave(cast.client_x, [cast.store_north], name="Evidence wave")
        start = utcnow().replace(microsecond=0) + timedelta(days=11)
        visit = make_visit(wave, cast.store_north, start, shopper=cast.shopper_a, status=ACCEPTED)
        photo = evidence.store_upload(
            visit,
            cast.users[SHOPPER_A],
            evidence_images.png(),
            "shelf.png",
            "matrix-photo",
            "photo",
        )
        cast.evidence = SimpleNamespace(visit=visit, photo=photo)
    return cast.evidence  # type: ignore[no-any-return]


VIEWERS = frozenset({SHOPPER_A, ADMIN, COORDINATOR_X, REVIEWER_X})

ACCESS = {
    "evidence.upload": Route(
        lambda c: url_for("evidence.upload", visit_id=_evidence(c).visit.id),
        frozenset({SHOPPER_A}),
        ("POST",),
        form=lambda c: {"kind": "photo", "client_upload_id": "matrix-upload"},
    ),
    "evidence.file": Route(
        lambda c: url_for("evidence.file", evidence_id=_evidence(c).photo.id), VIEWERS
    ),
    "evidence.thumb": Route(
        lambda c: url_for("evidence.thumb", evidence_id=_evidence(c).photo.id), VIEWERS
    ),
}
