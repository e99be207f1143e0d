"""Domain errors raised by services, and the one place that turns errors into pages.

Requests made by the pages' scripts (uploads, autosave, submit: they send JSON or
ask for it) get every error as JSON, ``{"ok": false, "error": message}``, a 500
included, so the script can show it next to the answer it concerns. A 500 says
whether the request had already saved something: a failure after a commit that
wrote (a page that failed to draw) must not tell a shopper that what they sent was
lost, or they would send it again. A database that cannot be reached answers 503
with Retry-After: a moment later the same request succeeds."""

import logging
from typing import Any

from flask import (
    Flask,
    Response,
    g,
    has_request_context,
    jsonify,
    make_response,
    render_template,
    request,
)
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import ORMExecuteState, Session
from werkzeug.exceptions import HTTPException

from .extensions import db

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
# Endpoints that answer only JSON, whatever the request's Accept header says.
JSON_ENDPOINTS = frozenset({"evidence.upload"})


class DomainError(Exception):
    """A rule of the domain was broken; the message is safe to show the user."""

    status_code = 400


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


def wants_json() -> bool:
    return (
        request.is_json
        or request.endpoint in JSON_ENDPOINTS
        or request.accept_mimetypes.best == "application/json"
    )


_WROTE = "auditapp_wrote"


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _context: object) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_commit")
def _note_saved(session: Session) -> None:
    """A commit that wrote something (not one that only ended a reading transaction)."""
    if session.info.pop(_WROTE, False) and has_request_context():
        g.saved_something = True


@event.listens_for(Session, "after_rollback")
def _nothing_saved(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_WROTE, None)


def _answer(message: str, code: int, *, title_code: int | None = None) -> Any:
    if wants_json():
        return jsonify(ok=False, error=message), code
    return render_template("errors/error.html", code=title_code, message=message), code


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError) -> Any:
        db.session.rollback()
        return _answer(str(error), error.status_code)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        code = error.code or 500
        messages = {
            400: _("The request could not be understood. Please go back and try again."),
            403: _("You do not have permission to do that."),
            404: _("We could not find that page."),
            405: _("That action is not allowed here."),
            408: _("The connection was too slow to receive what you sent. Please try again."),
            413: _("The file is too large."),
            429: _("Too many attempts. Please wait a little and try again."),
        }
        message = messages.get(code, error.description or "")
        if isinstance(error, CSRFError) and wants_json():  # the scripts say what to do
            message = _("Your session has expired. Reload the page and try again.")
        return _answer(message, code, title_code=code)

    @app.errorhandler(OperationalError)
    def _database_unavailable(error: OperationalError) -> Any:
        """The database restarting or too busy: a moment later the same request
        succeeds, so say so (the pages' scripts send it again on their own)."""
        log.warning("database unavailable: %s", error.orig)
        response = _failure(503)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(500)
    def _server_error(_error: Exception) -> Any:
        return _failure(500)


# Said when even the translated page cannot be made: finding the reader's language
# may need the database, which may be what failed.
_PLAIN = {
    "saved": "Something went wrong on our side after your changes were saved. "
    "Reload the page to see them.",
    500: "Something went wrong on our side. Nothing you entered was saved.",
    503: "The service is briefly unavailable. Nothing you entered was saved; "
    "please try again in a moment.",
}


def _failure_message(code: int, saved: bool) -> str:
    if saved:
        return _(
            "Something went wrong on our side after your changes were saved. "
            "Reload the page to see them."
        )
    if code == 503:
        return _(
            "The service is briefly unavailable. Nothing you entered was saved; "
            "please try again in a moment."
        )
    return _("Something went wrong on our side. Nothing you entered was saved.")


def _failure(code: int) -> Response:
    """The answer to a request our side failed, saying whether it saved anything."""
    _discard_session()
    saved = bool(g.get("saved_something"))
    try:
        body, status = _answer(_failure_message(code, saved), code, title_code=code)
        return make_response(body, status)
    except Exception:
        log.exception("the error page could not be drawn")
        message = _PLAIN["saved" if saved else code]
        if wants_json():
            return make_response(jsonify(ok=False, error=message), code)
        return Response(message, status=code, mimetype="text/plain")


def _discard_session() -> None:
    """Throws away the failed request's transaction. This may fail as well (the
    session may be mid-commit, or the database gone), and must not hide the page."""
    try:
        db.session.rollback()
    except Exception:
        log.warning("rolling back after an error failed", exc_info=True)
        db.session.remove()
