"""auditapp: mystery-shopper and service-audit platform."""

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

from . import config
from .slow_clients import BoundedBodyReads


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    # The app factory is the composition root: the worker imports this package for
    # create_app, so the package imports the app's modules only when it builds an app.
    from . import cli, db_setup, errors, i18n, jobs, security, views  # noqa: F401 (jobs: listeners)
    from .extensions import compress, csrf, db, limiter, login_manager, migrate
    from .services.visits.photo_index import MAX_DISTANCE

    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(config.Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("AUDITAPP")
    if test_config:
        app.config.from_mapping(test_config)
    _finish_config(app, MAX_DISTANCE)
    db.init_app(app)
    db_setup.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(Path(__file__).parent / "migrations"),
        render_as_batch=True,
        render_item=db_setup.render_migration_item,
    )
    csrf.init_app(app)
    limiter.init_app(app)  # after CSRF: a forged post is refused before it is counted
    # limits' in-memory storage starts a non-daemon expiry timer as it is made; under a
    # frozen clock (faketime) it never fires and a command like `flask demo` never
    # exits. Cancelled, it ends at once; the first counted request starts it again.
    for name in ("_storage", "_fallback_storage"):  # Flask-Limiter's store and fallback
        if (timer := getattr(getattr(limiter, name, None), "timer", None)) is not None:
            timer.cancel()
    compress.init_app(app)
    login_manager.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    views.init_app(app)
    cli.init_app(app)
    app.wsgi_app = BoundedBodyReads(  # type: ignore[method-assign]
        app.wsgi_app, float(app.config["BODY_READ_TIMEOUT_SECONDS"])
    )
    return app


def _finish_config(app: Flask, max_photo_distance: int) -> None:
    """Derive what the plain settings leave open: database URL, secret key, the hosts
    the site answers to and where rate limits are counted."""
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    url = app.config.get("DATABASE_URL") or app.config["SQLALCHEMY_DATABASE_URI"]
    if not url:
        url = "sqlite:///" + os.path.join(app.instance_path, "auditapp.sqlite3")
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path) / "secret_key")
    app.config.setdefault("UPLOAD_FOLDER", os.path.join(app.instance_path, "uploads"))
    base = urlsplit(app.config["BASE_URL"])
    if base.scheme not in ("http", "https") or not base.hostname:
        raise ValueError(f"BASE_URL must be an http(s) address: {app.config['BASE_URL']!r}")
    # A bad distance would otherwise fail every later submission with a photo.
    similar = int(app.config["INTEGRITY_SIMILAR_PHOTO_DISTANCE"])
    if not 0 <= similar <= max_photo_distance:
        raise ValueError(
            f"INTEGRITY_SIMILAR_PHOTO_DISTANCE must lie in 0..{max_photo_distance}, not {similar}"
        )
    app.config["INTEGRITY_SIMILAR_PHOTO_DISTANCE"] = similar
    production = not (app.config.get("DEBUG") or app.config.get("TESTING"))
    if app.config.get("TRUSTED_HOSTS") is None and production:
        app.config["TRUSTED_HOSTS"] = [base.hostname, *_names(app.config["EXTRA_HOSTS"])]
    if not app.config["RATELIMIT_STORAGE_URI"]:
        app.config["RATELIMIT_STORAGE_URI"] = app.config.get("REDIS_URL") or "memory://"


def _names(value: str | list[str]) -> list[str]:
    """A list as given, or names separated by commas (as an environment variable)."""
    if isinstance(value, str):
        return [name.strip() for name in value.split(",") if name.strip()]
    return list(value)


def _instance_secret(path: Path) -> str:
    """A per-installation key, created once and never committed (instance/ is ignored)."""
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
