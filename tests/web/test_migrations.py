"""The migrations and the models must describe the same schema."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from auditapp.extensions import db


def test_models_and_migrations_agree():
    # The session's database was built by running the migrations (see conftest).
    connection = db.session.connection()
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_foreign_keys_are_enforced():
    import pytest
    from sqlalchemy.exc import IntegrityError

    from auditapp.models import Store

    with pytest.raises(IntegrityError):
        db.session.add(Store(client_id=9999, region_id=9999, code="X", name="Nowhere"))
        db.session.flush()
