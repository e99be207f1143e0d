"""The visit form: only the visit's own shopper reaches it (briefing confirmation,
check-in, the form, drafts, check-out, submit); every other signed-in user gets 404,
anonymous visitors are sent to sign in. tests/web/visits/test_visit_form.py and
tests/web/visits/test_submission.py cover what the routes do."""

from datetime import timedelta
from typing import Any

from flask import url_for

from auditapp.models import utcnow
from auditapp.models.waves import ACCEPTED, Visit

from . import SHOPPER_A, Route
from .my_visits import make_visit, make_wave

OWNER = frozenset({SHOPPER_A})


def _visit(cast: Any) -> Visit:
    """Shopper A's accepted visit at North one, made once per cast."""
    if not hasattr(cast, "visit_form"):
        wave = make_wave(cast.client_x, [cast.store_north], name="Form wave")
        start = utcnow().replace(microsecond=0) + timedelta(days=13)
        cast.visit_form = make_visit(
            wave, cast.store_north, start, shopper=cast.shopper_a, status=ACCEPTED
        )
    return cast.visit_form  # type: ignore[no-any-return]


def _route(endpoint: str, method: str = "POST", **form: str) -> Route:
    return Route(
        lambda c: url_for(endpoint, visit_id=_visit(c).id),
        OWNER,
        (method,),
        form=lambda c: form,
    )


ACCESS = {
    "visit_form.briefing": _route("visit_form.briefing"),
    "visit_form.start": _route("visit_form.start", consent="1", latitude="31.2", longitude="121.4"),
    "visit_form.form": _route("visit_form.form", "GET"),
    "visit_form.draft": _route("visit_form.draft", action="save"),
    "visit_form.finish": _route("visit_form.finish"),
    "visit_form.submit": _route("visit_form.submit", submission_id="matrix-submission-1"),
}
