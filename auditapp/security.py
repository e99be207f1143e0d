"""Response headers and the login manager hooks."""

from collections.abc import Iterable
from typing import Any

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from flask.wrappers import Response
from flask_babel import lazy_gettext as _l
from flask_login import login_remembered, login_user
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wsgi import get_host

from .extensions import db, login_manager
from .models import User

CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"

    login_manager.user_loader(load_session_user)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.is_secure:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=31536000; includeSubDomains"
            )
        return response

    app.session_interface = _SessionInterface()
    app.wsgi_app = _TrustedHostsOnly(app)  # type: ignore[method-assign]
    if app.config.get("PROXY_HOPS"):
        # Behind a reverse proxy, trust its X-Forwarded-* so HTTPS is recognised.
        hops = int(app.config["PROXY_HOPS"])
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )


def load_session_user(session_id: str) -> User | None:
    """The user of a session or remember cookie, checked on every request: its id is
    "user id:session version" (User.get_id), and a version the user has moved past
    (sign-out, new password, deactivation, "sign out everywhere") is refused. A bare
    id, from a session made before versions existed, counts as version 0."""
    user_id, _, version = session_id.partition(":")
    try:
        user = db.session.get(User, int(user_id))
        wanted = int(version or 0)
    except ValueError:
        return None
    if user is None or (user.session_version or 0) != wanted:
        return None
    return user


def keep_signed_in(user: User) -> None:
    """After the user's session version moved on (a new password, "sign out everywhere
    else"), this browser signs in again under the new one, and keeps being remembered
    if it was: its remember cookie is issued anew, as the old one no longer works."""
    login_user(user, remember=login_remembered())


class _TrustedHostsOnly:
    """Refuses a request for a host outside TRUSTED_HOSTS (when set) before Flask sees
    it. Flask would refuse it too, but only after its request hooks ran without a way
    to build URLs, so even its error page failed. Runs inside ProxyFix, so behind a
    proxy the forwarded host is the one checked."""

    def __init__(self, app: Flask) -> None:
        self.app, self.wsgi_app = app, app.wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        trusted = self.app.config.get("TRUSTED_HOSTS")
        if trusted is not None:
            try:
                get_host(environ, trusted)
            except SecurityError:
                refused = Response("This site is not served at that address.\n", 400)
                refused.mimetype = "text/plain"
                return refused(environ, start_response)
        return self.wsgi_app(environ, start_response)


class _SessionInterface(SecureCookieSessionInterface):
    """The session cookie carries Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        configured = bool(app.config["SESSION_COOKIE_SECURE"])
        return configured or (has_request_context() and request.is_secure)
