"""Least privilege on PostgreSQL: the role the app connects as reads and writes its tables but only
reads and appends to the audit log; it is not the owner, so it cannot disable triggers, truncate,
or change the session_replication_role that would silence them.

Migrations run as the owner (MIGRATIONS_DATABASE_URL); `shelter-app db create-app-role` is run as
the owner too, after them.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import URL, Engine

# Tables whose name starts with this are append-only: the app role may only SELECT and INSERT.
APPEND_ONLY_PREFIX = "audit_"
APP_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
APPEND_ONLY_PRIVILEGES = "SELECT, INSERT"
# What the app role must not hold on an append-only table, by any grant (its own, a group's, PUBLIC's).
FORBIDDEN_ON_APPEND_ONLY = ("UPDATE", "DELETE", "TRUNCATE", "TRIGGER", "REFERENCES")
SCHEMA_TABLES = "alembic_version"  # the migrations' own bookkeeping: the app has no business there


class RoleRefused(Exception):
    """The role cannot be made the app's role; the message says why and what to do."""


@dataclass
class AppRole:
    name: str
    created: bool
    password_set: bool
    url: str  # the DATABASE_URL for the web and clock processes (no password if it was left as it was)


def create_app_role(engine: Engine, name: str, password: str | None = None) -> AppRole:
    """Create or update the LOGIN role name with exactly the app's privileges; engine connects as the owner.

    A new role without password gets a random one; an existing role keeps its own unless one is given.
    """
    from psycopg import sql

    if engine.dialect.name != "postgresql":
        raise RoleRefused("Database roles are for PostgreSQL; SQLite has one user and keeps its triggers.")
    if not name or len(name.encode()) > 63 or "\x00" in name:
        raise RoleRefused("A role name has 1 to 63 bytes.")
    with engine.begin() as conn:
        raw = conn.connection.driver_connection

        def run(template: str, *args, **kwargs) -> None:
            conn.exec_driver_sql(sql.SQL(template).format(*args, **kwargs).as_string(raw),
                                 execution_options={"no_parameters": True})  # a literal % stays itself

        owner, database, schema = conn.execute(text(
            "SELECT current_user, current_database(), current_schema()")).one()
        tables = conn.execute(text(
            "SELECT tablename, tableowner FROM pg_tables WHERE schemaname = :schema ORDER BY tablename"),
            {"schema": schema}).all()
        names = [t for t, _o in tables if t != SCHEMA_TABLES]
        if "audit_events" not in names:
            raise RoleRefused(f"No audit_events table in {database}.{schema}: run `shelter-app db upgrade` first.")
        if name == owner or name in {o for _t, o in tables}:
            raise RoleRefused(f"{name} owns the app's tables; the app's role must be another one.")
        role = sql.Identifier(name)
        existing = conn.execute(text(
            "SELECT rolsuper, rolreplication, rolbypassrls FROM pg_roles WHERE rolname = :name"),
            {"name": name}).first()
        if existing is None:
            run("CREATE ROLE {} LOGIN NOCREATEDB NOCREATEROLE", role)
            password = password or secrets.token_urlsafe(24)
        else:
            # Naming an attribute the role already lacks would need a superuser: name only what changes.
            lifted = [flag for flag, held in (("NOSUPERUSER", existing.rolsuper),
                                              ("NOREPLICATION", existing.rolreplication),
                                              ("NOBYPASSRLS", existing.rolbypassrls)) if held]
            run("ALTER ROLE {} LOGIN NOCREATEDB NOCREATEROLE " + " ".join(lifted), role)
        for table_owner in sorted({o for _t, o in tables} | {owner}):
            if conn.scalar(text("SELECT pg_has_role(:name, :owner, 'MEMBER')"), {"name": name, "owner": table_owner}):
                raise RoleRefused(f"{name} is a member of {table_owner}, who owns the app's tables, so it could act "
                                  f"as the owner: revoke that membership or choose another name.")
        if password:
            # Only the SCRAM verifier travels: the password never reaches the server's logs.
            verifier = raw.pgconn.encrypt_password(password.encode(), name.encode()).decode()
            run("ALTER ROLE {} PASSWORD {}", role, sql.Literal(verifier))

        where = {"schema": sql.Identifier(schema), "role": role}
        run("GRANT CONNECT ON DATABASE {} TO {}", sql.Identifier(database), role)
        run("GRANT USAGE ON SCHEMA {schema} TO {role}", **where)
        # From a clean slate, so that running it again after a release leaves exactly these grants.
        run("REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}", **where)
        run("REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role}", **where)
        for table in names:
            append_only = table.startswith(APPEND_ONLY_PREFIX)
            if append_only:
                run("REVOKE " + ", ".join(FORBIDDEN_ON_APPEND_ONLY) + " ON {schema}.{table} FROM PUBLIC",
                    table=sql.Identifier(table), **where)
            run("GRANT " + (APPEND_ONLY_PRIVILEGES if append_only else APP_PRIVILEGES) + " ON {schema}.{table} TO {role}",
                table=sql.Identifier(table), **where)
        run("GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}", **where)
        # Tables a later migration creates (as this owner) are the app's to use at once; an append-only
        # one is narrowed by running this command again after that release.
        run("ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT " + APP_PRIVILEGES + " ON TABLES TO {role}", **where)
        run("ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE ON SEQUENCES TO {role}", **where)

        for table in names:
            if not table.startswith(APPEND_ONLY_PREFIX):
                continue
            for privilege in FORBIDDEN_ON_APPEND_ONLY:
                if conn.scalar(text("SELECT has_table_privilege(:name, :table, :privilege)"),
                               {"name": name, "table": f'"{schema}"."{table}"', "privilege": privilege}):
                    raise RoleRefused(f"{name} still holds {privilege} on {table} through another grant "
                                      f"(a group it belongs to?): revoke it, then run this again.")
    owner_url = engine.url  # URL.set() would keep the owner's password where None is given: build anew
    url = URL.create("postgresql", username=name, password=password or None, host=owner_url.host,
                     port=owner_url.port, database=owner_url.database, query=owner_url.query)
    return AppRole(name=name, created=existing is None, password_set=bool(password),
                   url=url.render_as_string(hide_password=False))
