"""SQLite, the default database, under concurrent writers: a request that reads and then
writes while a background job commits must wait its turn, not fail with "database is
locked" (db_setup.takes_write_lock). Page views still never wait for a writer.

These run on an app of their own with its own SQLite file: the suite's shared
connection holds a transaction for the length of each test."""

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from auditapp import create_app
from auditapp.extensions import db

WAIT = 0.5  # long enough for an unhindered commit to finish on a busy machine


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Iterator[tuple[object, Engine]]:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'writers.sqlite3'}",
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            "SQLITE_BUSY_TIMEOUT_SECONDS": 10,
        }
    )
    with app.app_context():
        engine = db.engine
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE mark (who TEXT NOT NULL)"))
    yield app, engine
    engine.dispose()


def _job_commits(app: object, engine: Engine, done: threading.Event) -> threading.Thread:
    """A background job (an app context, no request) that writes and commits."""

    def run() -> None:
        with app.app_context(), engine.begin() as conn:  # type: ignore[attr-defined]
            conn.execute(text("INSERT INTO mark (who) VALUES ('job')"))
        done.set()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _marks(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.scalars(text("SELECT who FROM mark")))


def test_a_post_that_reads_then_writes_waits_for_a_job_instead_of_failing(
    sqlite_app: tuple[object, Engine],
) -> None:
    app, engine = sqlite_app
    done = threading.Event()
    with app.test_request_context("/password/forgot", method="POST"):  # type: ignore[attr-defined]
        conn = engine.connect()
        conn.execute(text("SELECT count(*) FROM mark"))  # the request reads first
        job = _job_commits(app, engine, done)
        done.wait(WAIT)  # without the write lock taken at BEGIN, the job commits here
        conn.execute(text("INSERT INTO mark (who) VALUES ('request')"))
        conn.commit()
        conn.close()
    job.join(timeout=10)
    assert done.is_set()
    assert _marks(engine) == ["job", "request"]


def test_a_page_view_never_holds_up_a_writer(sqlite_app: tuple[object, Engine]) -> None:
    app, engine = sqlite_app
    done = threading.Event()
    page_view = app.test_request_context("/my/", method="GET")  # type: ignore[attr-defined]
    with page_view, engine.connect() as conn:
        conn.execute(text("SELECT count(*) FROM mark"))
        job = _job_commits(app, engine, done)
        assert done.wait(10), "a reader kept the job from writing"
        conn.rollback()
    job.join(timeout=10)
    assert _marks(engine) == ["job"]
