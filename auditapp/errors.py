"""Domain errors raised by services, and the one place that turns errors into pages."""

from flask import Flask, render_template
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from .extensions import db


class DomainError(Exception):
    """A rule of the domain was broken; the message is safe to show the user."""

    status_code = 400


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError) -> tuple[str, int]:
        db.session.rollback()
        return render_template("errors/error.html", message=str(error)), error.status_code

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> tuple[str, int]:
        code = error.code or 500
        messages = {
            400: _("The request could not be understood. Please go back and try again."),
            403: _("You do not have permission to do that."),
            404: _("We could not find that page."),
            405: _("That action is not allowed here."),
            413: _("The file is too large."),
            429: _("Too many attempts. Please wait a little and try again."),
        }
        message = messages.get(code, error.description or "")
        return render_template("errors/error.html", code=code, message=message), code

    @app.errorhandler(500)
    def _server_error(_error: Exception) -> tuple[str, int]:
        db.session.rollback()
        message = _("Something went wrong on our side. Nothing you entered was saved.")
        return render_template("errors/error.html", code=500, message=message), 500
