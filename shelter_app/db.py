"""Declarative base with a constraint naming convention and UTC-aware datetimes."""
from __future__ import annotations

import contextvars
from datetime import datetime, timezone

from sqlalchemy import DateTime, MetaData, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, registry
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """A datetime stored in UTC and always returned timezone-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


# True while serving a request: SQLite then takes the write lock at BEGIN, so requests queue
# (busy_timeout) instead of failing. Elsewhere (CLI, tests' own reads) a plain BEGIN.
write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """Foreign keys, WAL and a busy timeout on every SQLite connection."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    # We emit BEGIN ourselves (below); pysqlite's own transaction handling would defer it.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    """On SQLite a request's transaction takes the write lock at once (BEGIN IMMEDIATE).

    A deferred transaction that reads and then writes fails at once with "database is locked"
    when another writer committed in between; taking the lock first makes concurrent requests
    queue behind busy_timeout instead, so the second of two check-ins sees the first. Readers
    outside requests never block them (WAL). PostgreSQL is unaffected.
    """
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")


def render_item(type_, obj, autogen_context):
    """Alembic autogenerate: write UTCDateTime as a plain timezone-aware DateTime."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def reachable(session) -> bool:
    """True if the database of session answers a trivial query now (for /healthz); never raises."""
    try:
        session.execute(text("SELECT 1"))
    except Exception:  # any failure to reach the database is "down"
        session.rollback()
        return False
    return True
