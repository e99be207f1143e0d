"""The service worker of the shopper's pages (static/sw.js), served from /my/ so that
its scope covers the visit forms under /my/visits/. It keeps the forms a shopper
opened, so a reload with no signal still shows the form and the answers kept on the
phone (static/visit_form/).

Open to everyone: the script holds nothing private, and a browser checking for an
update after the session ended must get the script, not a redirect (a redirect
makes the update fail)."""

from pathlib import Path

from flask import Blueprint, Response, current_app, request
from flask.typing import ResponseReturnValue

bp = Blueprint("offline", __name__)


@bp.route("/my/sw.js")
def service_worker() -> ResponseReturnValue:
    assert current_app.static_folder is not None
    script = (Path(current_app.static_folder) / "sw.js").read_bytes()  # a few KB
    response = Response(script, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/my/"
    # Checked again on every load (a 304 while unchanged); a new version takes over
    # on the next visit.
    response.headers["Cache-Control"] = "no-cache"
    response.add_etag()
    return response.make_conditional(request)
