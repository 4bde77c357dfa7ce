"""Migrations: from empty to head and back, and they match the models."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from shelter_app.extensions import db


def _tables():
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_downgrade_upgrade(app):
    db.session.remove()
    assert "users" in _tables()
    downgrade(revision="base")
    db.engine.dispose()
    assert _tables() == set()
    upgrade()
    db.engine.dispose()
    assert _tables() == set(db.metadata.tables)


def test_models_match_migrations(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []
