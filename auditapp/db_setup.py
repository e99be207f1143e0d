"""Engine-level settings: real transactions, enforced foreign keys and writers that
wait their turn on SQLite."""

from typing import Any

from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db
from .models.base import UTCDateTime


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            _configure_sqlite(engine, int(app.config["SQLITE_BUSY_TIMEOUT_SECONDS"]))


READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A connection marked with this key in its ``info`` begins its transactions deferred
# whatever the context: the test suite's connection, which holds one transaction for
# a whole test while threads of the same test write through connections of their own.
DEFERRED_BEGIN = "auditapp_deferred_begin"


def takes_write_lock() -> bool:
    """Whether a new SQLite transaction takes the write lock as it begins.

    In WAL mode a transaction that has read and then writes fails at once ("database
    is locked": the busy timeout cannot help) when another writer committed in
    between, such as a mail job finishing during a sign-in. So every transaction that
    may write begins IMMEDIATE and waits its turn: those of a request that is not a
    plain read, of a background job and of a command. Page views stay concurrent:
    WAL readers never wait for a writer."""
    return not has_request_context() or request.method not in READ_ONLY_METHODS


def _configure_sqlite(engine: Engine, busy_timeout_seconds: int) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINTs and defers BEGIN;
    # take it over so SQLite behaves like PostgreSQL (SQLAlchemy's documented recipe).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_seconds * 1000}")
        cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = takes_write_lock() and not conn.info.get(DEFERRED_BEGIN)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def end_reading(keep_loaded: bool = False) -> None:
    """Commits a transaction that has only read, so that the next statement, a write,
    starts a transaction of its own. The services that must commit in steps call it:
    on SQLite a transaction that read and then writes fails at once when another
    writer committed in between, while one that begins by writing waits its turn; and
    a request that may write holds the write lock from its first statement, which must
    not last through a photo's decoding. ``keep_loaded`` spares reloading the loaded
    objects, for a caller whose writes check what matters in their own statements."""
    session = db.session()
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("nothing may be written before end_reading()")
    expire, session.expire_on_commit = session.expire_on_commit, not keep_loaded
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def render_migration_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Migrations spell our UTC column type as the plain DateTime it stores."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False
