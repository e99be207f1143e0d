"""Shared fixtures: one app and one migrated schema per test session; every test runs
inside a transaction that is rolled back. CSRF stays on. Set
AUDITAPP_TEST_DATABASE_URL to run the suite against PostgreSQL, and AUDITAPP_TEST_NOW
(an ISO moment such as 2027-12-31T23:45:00+08:00) to run it on another day: the app's
clock starts there, and so do the browser tests' servers (through faketime)."""

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import scoped_session, sessionmaker

from auditapp import clock, create_app
from auditapp.db_setup import DEFERRED_BEGIN
from auditapp.extensions import db, limiter
from auditapp.models import Client, Region, ShopperProfile, Store, User
from auditapp.services.checklists import rows as checklists_rows
from auditapp.services.core.passwords import hash_password
from auditapp.services.org import records as org

PASSWORD = "correct horse battery"
_HASH_CACHE: dict[str, str] = {}


def test_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("AUDITAPP_TEST_DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")


def _reset_database(url: str) -> None:
    if url.startswith("postgresql"):
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def _the_day() -> Iterator[None]:
    """The whole suite on the day AUDITAPP_TEST_NOW names, when it is set."""
    moment = os.environ.get("AUDITAPP_TEST_NOW")
    if not moment:
        yield
        return
    with clock.travel_to(datetime.fromisoformat(moment)):
        yield


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    from flask_migrate import upgrade

    url = test_database_url(tmp_path_factory)
    _reset_database(url)
    instance = tmp_path_factory.mktemp("instance")
    app = create_app(
        {
            "TESTING": True,
            "JOBS_MODE": "inline",
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "test-secret",
            "UPLOAD_FOLDER": str(instance / "uploads"),
            "SERVER_NAME": "auditapp.test",
            "BASE_URL": "http://auditapp.test",  # links in mail
        }
    )
    with app.app_context():
        upgrade()  # the schema comes from the migrations, so they are tested too
    yield app
    with app.app_context():
        db.engine.dispose()


class _TestSession(scoped_session):  # type: ignore[type-arg]
    """Stays open across requests, as the test's objects must stay usable; `remove`,
    which Flask-SQLAlchemy calls after every request, only expires what it loaded so
    the next read comes from the database, as in a fresh request."""

    def remove(self) -> None:
        self.registry().expire_all()


@pytest.fixture(autouse=True)
def _transaction(app: Flask) -> Iterator[None]:
    """Each test sees a clean database: everything it writes is rolled back, and no
    rate limit used (they count in memory across requests). No app context is held
    during the test, so each request gets its own, as in production (Flask-Login
    keeps the signed-in user on it)."""
    limiter.reset()
    with app.app_context():
        engine = db.engine
    connection = engine.connect()
    connection.info[DEFERRED_BEGIN] = True  # threads of committing tests write meanwhile
    outer = connection.begin()
    original = db.session
    db.session = _TestSession(  # type: ignore[misc]
        sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
    )
    try:
        yield
    finally:
        db.session.registry().close()
        db.session = original  # type: ignore[misc]
        outer.rollback()
        connection.close()


@pytest.fixture(autouse=True)
def _no_cached_checklists() -> None:
    """Ids of rolled-back rows come round again in the next test: forget cached versions."""
    checklists_rows.clear_cache()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@contextmanager
def count_queries(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


# --- factories: each returns a callable that builds one object ----------------------


@pytest.fixture
def make_client() -> Callable[..., Client]:
    def make(code: str = "ACME", name: str | None = None, **kw: Any) -> Client:
        client = org.save_client(None, {"code": code, "name": name or f"{code} brand", **kw})
        db.session.flush()
        return client

    return make


@pytest.fixture
def make_region() -> Callable[..., Region]:
    def make(client: Client, code: str, parent: Region | None = None, **kw: Any) -> Region:
        data = {"code": code, "name": kw.pop("name", f"Region {code}"), "kind": "region"}
        return org.save_region(None, client, {**data, "parent": parent, **kw})

    return make


@pytest.fixture
def make_store() -> Callable[..., Store]:
    def make(client: Client, region: Region, code: str, **kw: Any) -> Store:
        data = {
            "code": code,
            "name": kw.pop("name", f"Store {code}"),
            "city": "Shanghai",
            "latitude": Decimal("31.230400"),
            "longitude": Decimal("121.473700"),
            "opening_hours": {
                d: ["09:00", "21:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
            },
        }
        store = org.save_store(None, client, region, {**data, **kw})
        db.session.flush()
        return store

    return make


def _password_hash() -> str:
    # argon2 is slow on purpose; hash the shared test password once per session.
    if PASSWORD not in _HASH_CACHE:
        _HASH_CACHE[PASSWORD] = hash_password(PASSWORD)
    return _HASH_CACHE[PASSWORD]


@pytest.fixture
def make_user() -> Callable[..., User]:
    def make(email: str, role: str = "admin", **kw: Any) -> User:
        user = org.save_user(
            None, {"email": email, "name": kw.pop("name", email.split("@")[0]), "role": role, **kw}
        )
        user.password_hash = _password_hash()
        db.session.flush()
        return user

    return make


@pytest.fixture
def make_shopper() -> Callable[..., ShopperProfile]:
    def make(email: str, **kw: Any) -> ShopperProfile:
        data = {"email": email, "name": kw.pop("name", email.split("@")[0]), **kw}
        profile = org.save_shopper(None, data)
        profile.user.password_hash = _password_hash()
        db.session.flush()
        return profile

    return make


# --- signing in and CSRF ------------------------------------------------------------


def login(client: FlaskClient, user: User) -> FlaskClient:
    """Signs the user in through the session, skipping the slow password check. The
    session names the user as the app does, with their session version (User.get_id)."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    return client


def csrf_token(client: FlaskClient) -> str:
    """The CSRF token of the client's session, read from a page like a browser would."""
    page = client.get("/login") if not _signed_in(client) else client.get("/account/")
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', page.text
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def _signed_in(client: FlaskClient) -> bool:
    with client.session_transaction() as session:
        return "_user_id" in session


def page_text(html: str) -> str:
    """What a reader sees on the page: text only, no tags or attribute values. Absence
    checks use it, since a random CSRF token in an attribute can spell any short word."""
    from html.parser import HTMLParser

    class _Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.parts: list[str] = []

        def handle_data(self, data: str) -> None:
            self.parts.append(data)

    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)
