"""Least privilege on PostgreSQL: the app's role can read and append to the audit log, nothing more.

The tests connect as a role made by `shelter-app db create-app-role` (a new name each run, dropped
at the end) to the run's scratch database.
"""
from __future__ import annotations

import os
import re
import secrets

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from shelter_app import create_app, timeutil
from shelter_app.audit import chain
from shelter_app.audit.models import AuditEvent
from shelter_app.audit.services import record
from shelter_app.config import migrations_database_url
from shelter_app.extensions import db
from tests.conftest import Client, beds_of

# Each refused for the app's role: not the owner, no such privilege, not a superuser.
FORBIDDEN = [
    "TRUNCATE audit_events",
    "TRUNCATE users CASCADE",
    "UPDATE audit_events SET action = 'forged'",
    "DELETE FROM audit_events",
    "ALTER TABLE audit_events DISABLE TRIGGER ALL",
    "ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change",
    "SET session_replication_role = replica",
    "DROP TRIGGER audit_events_no_change ON audit_events",
    "DROP TABLE audit_events",
    "DROP FUNCTION audit_events_append_only() CASCADE",
    "ALTER TABLE audit_events OWNER TO CURRENT_USER",
    "SELECT id FROM audit_events FOR UPDATE",
    'SET ROLE "{owner}"',
]


def _postgresql_only():
    if db.engine.dialect.name != "postgresql":
        pytest.skip("database roles are PostgreSQL's; SQLite has one user and keeps its triggers")


def _owner_scalar(sql: str, **params):
    return db.session.scalar(text(sql), params)


def _drop_role(name: str) -> None:
    db.session.rollback()
    with db.engine.connect() as conn:
        if conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}):
            conn.execute(text(f'DROP OWNED BY "{name}"'))  # its grants and default privileges here
            conn.execute(text(f'DROP ROLE "{name}"'))
        conn.commit()


@pytest.fixture
def app_role(app):
    """(name, password, DATABASE_URL) of an app role made by the command."""
    _postgresql_only()
    name = f"shelter_app_test_{os.getpid()}_{secrets.token_hex(3)}"
    password = secrets.token_urlsafe(16) + "%'\""  # quoting is the command's job
    db.session.commit()
    try:
        result = app.test_cli_runner().invoke(args=["db", "create-app-role", name, "--password", password])
        assert result.exit_code == 0, result.output
        assert f"Role {name} created" in result.output
        url = re.search(r"^DATABASE_URL=(\S+)$", result.output, re.M).group(1)
        yield name, password, url
    finally:
        _drop_role(name)


@pytest.fixture
def role_app(app, app_role):
    """The app as the web process runs it: connected as the app role."""
    _name, _password, url = app_role
    role_app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://", 1),
        "ARGON2_PARAMS": app.config["ARGON2_PARAMS"],
    })
    yield role_app
    with role_app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_printed_url_names_the_role_and_the_same_database(app, app_role):
    name, password, url = app_role
    printed, scratch = make_url(url), make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    assert printed.drivername == "postgresql" and (printed.username, printed.password) == (name, password)
    assert (printed.host, printed.port, printed.database) == (scratch.host, scratch.port, scratch.database)
    role = db.session.execute(text(
        "SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls "
        "FROM pg_roles WHERE rolname = :n"), {"n": name}).one()
    assert tuple(role) == (True, False, False, False, False, False)
    owner = _owner_scalar("SELECT tableowner FROM pg_tables WHERE tablename = 'audit_events'")
    assert owner != name and not _owner_scalar("SELECT pg_has_role(:n, :o, 'MEMBER')", n=name, o=owner)


def test_grants_are_exactly_the_apps(app_role):
    name = app_role[0]

    def has(table, privilege):
        return _owner_scalar("SELECT has_table_privilege(:n, :t, :p)", n=name, t=table, p=privilege)

    assert has("audit_events", "SELECT") and has("audit_events", "INSERT")
    for privilege in ("UPDATE", "DELETE", "TRUNCATE", "TRIGGER", "REFERENCES"):
        assert not has("audit_events", privilege), privilege
    for table in ("users", "beds", "stays", "residents", "user_sessions", "form_submissions"):
        assert all(has(table, p) for p in ("SELECT", "INSERT", "UPDATE", "DELETE")), table
        assert not has(table, "TRUNCATE") and not has(table, "TRIGGER"), table
    assert not has("alembic_version", "SELECT")
    assert _owner_scalar("SELECT has_sequence_privilege(:n, 'audit_events_id_seq', 'USAGE')", n=name)
    assert not _owner_scalar("SELECT has_sequence_privilege(:n, 'audit_events_id_seq', 'UPDATE')", n=name)


def test_the_app_role_cannot_erase_or_silence_the_audit_log(app_role, make_user):
    name, _password, url = app_role
    make_user("night")
    db.session.commit()
    before = chain.verify_chain(db.session)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT current_user")) == name
            assert conn.scalar(select(func.count()).select_from(AuditEvent)) == before.count  # it may read
        owner = _owner_scalar("SELECT tableowner FROM pg_tables WHERE tablename = 'audit_events'")
        for statement in (s.format(owner=owner) for s in FORBIDDEN):
            with engine.connect() as conn:
                with pytest.raises(DBAPIError) as refused:
                    conn.execute(text(statement))
                assert re.search(r"permission denied|must be owner|must be superuser", str(refused.value)), statement
                conn.rollback()
    finally:
        engine.dispose()
    after = chain.verify_chain(db.session)
    assert after.intact and (after.count, after.head) == (before.count, before.head)


def test_the_app_works_as_its_role(app, role_app, make_user, make_shelter, make_resident):
    role_url = make_url(role_app.config["SQLALCHEMY_DATABASE_URI"])
    manager = make_user("manager", locale="en")
    shelter = make_shelter(beds=2)
    ala = make_resident("Ala")
    with role_app.app_context():
        assert db.session.scalar(text("SELECT current_user")) == role_url.username
        record("test.as_app_role", actor=None, at=timeutil.utcnow(), note="appended by the app's role")
        db.session.commit()
    c = Client(role_app)
    assert c.login(manager.username).status_code == 303
    assert c.get(f"/board/{shelter.id}").status_code == 200
    bed = beds_of(shelter)[0]
    assert c.post(f"/beds/{bed.id}/check-in", {"ci-resident_id": ala.id}).status_code == 303
    assert c.get(f"/residents/{ala.id}").status_code == 200
    assert c.get("/healthz").status_code == 200
    db.session.commit()
    check = chain.verify_chain(db.session)
    assert check.intact, check.problem
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    since = actions[actions.index("test.as_app_role"):]
    assert {"auth.login", "board.view", "stay.check_in", "resident.view"} <= set(since), since


def test_running_it_again_keeps_the_password_and_the_grants(app, app_role, monkeypatch):
    name, password, _url = app_role
    db.session.commit()
    # As the owner through MIGRATIONS_DATABASE_URL (the local server trusts it: the password is never checked).
    owner = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(password="owners-secret")
    monkeypatch.setenv("MIGRATIONS_DATABASE_URL", owner.render_as_string(hide_password=False))
    again = app.test_cli_runner().invoke(args=["db", "create-app-role", name])
    assert again.exit_code == 0, again.output
    assert f"Role {name} updated" in again.output and "password was left as it was" in again.output
    assert "owners-secret" not in again.output
    url = make_url(re.search(r"^DATABASE_URL=(\S+)$", again.output, re.M).group(1))
    assert url.username == name and url.password is None
    engine = create_engine(url.set(drivername="postgresql+psycopg", password=password), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT current_user")) == name
    finally:
        engine.dispose()
    assert not _owner_scalar("SELECT has_table_privilege(:n, 'audit_events', 'UPDATE')", n=name)


def test_a_table_added_later_is_the_apps_to_use(app_role):
    name, _password, url = app_role
    db.session.execute(text("CREATE TABLE zz_added_later (id serial PRIMARY KEY, note text)"))
    db.session.commit()
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO zz_added_later (note) VALUES ('x')"))
            conn.execute(text("UPDATE zz_added_later SET note = 'y'"))
    finally:
        engine.dispose()
        db.session.execute(text("DROP TABLE zz_added_later"))
        db.session.commit()


def test_migrations_run_as_the_owner_when_the_app_runs_as_its_role(app, role_app, monkeypatch):
    def upgrade():
        with role_app.app_context():  # the CLI runs in the current app context: make it the role's
            return role_app.test_cli_runner().invoke(args=["db", "upgrade"])

    monkeypatch.delenv("MIGRATIONS_DATABASE_URL", raising=False)
    db.session.commit()
    as_role = upgrade()
    assert as_role.exit_code != 0 and "permission denied for table alembic_version" in str(as_role.exception)
    monkeypatch.setenv("MIGRATIONS_DATABASE_URL",
                       app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgres://", 1))
    as_owner = upgrade()
    assert as_owner.exit_code == 0, (as_owner.output, as_owner.exception)


def test_the_owner_cannot_truncate_the_audit_log_either(make_user):
    _postgresql_only()
    make_user("night")
    before = chain.verify_chain(db.session).count
    for statement in ("TRUNCATE audit_events", "TRUNCATE users CASCADE"):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert before > 0 and chain.verify_chain(db.session).count == before


def test_the_command_refuses_the_owner_and_sqlite(app):
    db.session.commit()
    runner = app.test_cli_runner()
    if db.engine.dialect.name != "postgresql":
        result = runner.invoke(args=["db", "create-app-role", "shelter_app"])
        assert result.exit_code == 1 and "Database roles are for PostgreSQL" in result.output
        return
    owner = db.session.scalar(text("SELECT current_user"))
    result = runner.invoke(args=["db", "create-app-role", owner])
    assert result.exit_code == 1 and "owns the app's tables" in result.output


def test_migrations_url_must_name_the_apps_database(monkeypatch):
    app_url = "postgresql+psycopg://shelter_app:pw@db.internal:5432/shelter"
    monkeypatch.delenv("MIGRATIONS_DATABASE_URL", raising=False)
    assert migrations_database_url(app_url) == app_url
    monkeypatch.setenv("MIGRATIONS_DATABASE_URL", "postgres://owner:secret@db.internal/shelter")
    assert migrations_database_url(app_url) == "postgresql+psycopg://owner:secret@db.internal/shelter"
    for elsewhere in ("postgres://owner:secret@db.internal/other", "postgres://owner:secret@elsewhere/shelter"):
        monkeypatch.setenv("MIGRATIONS_DATABASE_URL", elsewhere)
        with pytest.raises(RuntimeError, match="same PostgreSQL database"):
            migrations_database_url(app_url)
    with pytest.raises(RuntimeError):
        migrations_database_url("sqlite:////tmp/shelter.db")
