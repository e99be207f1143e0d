"""Today's demo, built once for the tests of a module that ask for it (``demo``).

A build of the whole demo takes a while, and the tests that only look at what it made
share one. It is built on a connection of its own, inside a transaction that is rolled
back after the module's last test; each test runs inside a savepoint of it, rolled
back after the test, so no test sees what another wrote. While that transaction lives
it holds SQLite's write lock (and the demo's unique keys on PostgreSQL), so the tests
that share the build have a module of their own (test_demo_today.py); the tests that
build the demo on other days (test_demo_review.py) build it in their own transaction."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy.engine import Connection
from sqlalchemy.orm import sessionmaker

from auditapp import demo as demo_data
from auditapp.db_setup import DEFERRED_BEGIN
from auditapp.extensions import db
from tests.conftest import _TestSession

Logins = list[tuple[str, str, str]]


@dataclass(frozen=True)
class Build:
    connection: Connection
    logins: Logins  # (role, e-mail, password), as `flask demo` prints them


def _session_on(connection: Connection) -> _TestSession:
    return _TestSession(sessionmaker(bind=connection, join_transaction_mode="create_savepoint"))


@pytest.fixture(scope="module")
def _demo_build(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Build]:
    with app.app_context():
        engine = db.engine
    connection = engine.connect()
    connection.info[DEFERRED_BEGIN] = True  # as the per-test transaction's connection
    outer = connection.begin()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(demo_data, "hash_password", lambda _password: "not-a-real-hash")
            uploads = tmp_path_factory.mktemp("demo-uploads")
            patch.setitem(app.config, "UPLOAD_FOLDER", str(uploads))
            saved, db.session = db.session, _session_on(connection)  # type: ignore[misc]
            try:
                with app.test_request_context():
                    logins = demo_data.build_demo()
                    db.session.commit()
            finally:
                db.session.registry().close()
                db.session = saved  # type: ignore[misc]
            yield Build(connection, logins)
    finally:
        outer.rollback()
        connection.close()


@pytest.fixture
def demo(_demo_build: Build) -> Iterator[Logins]:
    """The shared build of today's demo, for one test: `db.session` and the requests
    of the test's client work on it, and whatever the test writes is rolled back."""
    savepoint = _demo_build.connection.begin_nested()
    replaced, db.session = db.session, _session_on(_demo_build.connection)  # type: ignore[misc]
    try:
        yield _demo_build.logins
    finally:
        db.session.registry().close()
        db.session = replaced  # type: ignore[misc]
        savepoint.rollback()
