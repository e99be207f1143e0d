"""The migrations and the models must describe the same schema, and every migration
since 2681d46e655b must undo itself: downgrading to it gives the schema that upgrading
to it gives, and upgrading again the schema the models describe."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from auditapp import create_app
from auditapp.extensions import db
from auditapp.models import Store

ROUND_TRIP_BASE = "2681d46e655b"


def test_models_and_migrations_agree():
    # The session's database was built by running the migrations (see conftest).
    connection = db.session.connection()
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_foreign_keys_are_enforced():
    with pytest.raises(IntegrityError):
        db.session.add(Store(client_id=9999, region_id=9999, code="X", name="Nowhere"))
        db.session.flush()


# --- downgrades ------------------------------------------------------------------------


def test_downgrading_to_2681d46e655b_and_upgrading_again_round_trips(app, tmp_path):
    with _scratch_app(app, tmp_path, "upgraded") as scratch, scratch.app_context():
        upgrade(revision=ROUND_TRIP_BASE)
        expected = _schema(db.engine)
    with _scratch_app(app, tmp_path, "round-trip") as scratch, scratch.app_context():
        upgrade()
        head = _revision(db.engine)
        downgrade(revision=ROUND_TRIP_BASE)
        assert _revision(db.engine) == ROUND_TRIP_BASE
        assert _schema(db.engine) == expected
        upgrade()
        assert _revision(db.engine) == head != ROUND_TRIP_BASE
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []


@contextmanager
def _scratch_app(app: Flask, folder: Path, name: str) -> Iterator[Flask]:
    """An app on an empty database of its own, beside the session's schema (which the
    other tests share and never see changed): a SQLite file in ``folder``, or on
    PostgreSQL a schema of its own in the test database, dropped afterwards."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    settings: dict[str, Any] = {}
    schema = None
    if url.startswith("postgresql"):
        schema = f"migrations_{name.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
        _admin(url, f'CREATE SCHEMA "{schema}"')
        options = {"connect_args": {"options": f"-csearch_path={schema}"}}
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = options
    else:
        url = "sqlite:///" + str(folder / f"{name}.sqlite3")
    scratch = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "migrations-test",
            "DATABASE_URL": url,
            "SQLALCHEMY_DATABASE_URI": url,
            "UPLOAD_FOLDER": str(folder / "uploads"),
            "BASE_URL": "http://auditapp.test",
            **settings,
        }
    )
    try:
        yield scratch
    finally:
        with scratch.app_context():
            db.engine.dispose()
        if schema is not None:
            _admin(url, f'DROP SCHEMA "{schema}" CASCADE')


def _admin(url: str, statement: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def _revision(engine: Any) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _schema(engine: Any) -> dict[str, Any]:
    """Tables with their columns, keys, indexes and checks, and the triggers: what a
    downgrade must put back as the upgrade had it."""
    with engine.connect() as connection:
        found = inspect(connection)
        tables = {
            table: {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                    for c in found.get_columns(table)
                ],
                "primary key": found.get_pk_constraint(table)["constrained_columns"],
                "foreign keys": sorted(
                    (
                        str(k["name"]),
                        k["constrained_columns"],
                        k["referred_table"],
                        k["referred_columns"],
                        str(k.get("options")),
                    )
                    for k in found.get_foreign_keys(table)
                ),
                "indexes": sorted(
                    (str(i["name"]), i["column_names"], bool(i["unique"]))
                    for i in found.get_indexes(table)
                ),
                "unique": sorted(
                    (str(u["name"]), u["column_names"]) for u in found.get_unique_constraints(table)
                ),
                "checks": sorted(
                    (str(c["name"]), " ".join(c["sqltext"].split()))
                    for c in found.get_check_constraints(table)
                ),
            }
            for table in found.get_table_names()
            if table != "alembic_version"
        }
        return {"tables": tables, "triggers": _triggers(connection)}


def _triggers(connection: Connection) -> list[tuple[str, ...]]:
    if connection.dialect.name == "postgresql":
        rows = connection.execute(
            text(
                "SELECT DISTINCT event_object_table, trigger_name FROM information_schema.triggers"
                " WHERE trigger_schema = current_schema()"
            )
        )
    else:
        rows = connection.execute(
            text("SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'trigger'")
        )
    return sorted(tuple(" ".join(str(part).split()) for part in row) for row in rows)
