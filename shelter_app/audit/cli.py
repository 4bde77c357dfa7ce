"""`shelter-app audit verify` and `shelter-app db create-app-role`."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

audit_cli = AppGroup("audit", help="The append-only, hash-chained audit log.")


def _anchor(value: str) -> tuple[int, str]:
    event_id, sep, digest = value.partition(":")
    if not sep or not event_id.strip().isdigit() or len(digest.strip()) != 64:
        raise click.BadParameter(f"{value!r}: give ID:HASH, the id of an event and its 64-character hash")
    return int(event_id), digest.strip().lower()


@audit_cli.command("verify")
@click.option("--anchor", "anchors", multiple=True, metavar="ID:HASH",
              help="An event's hash noted earlier outside the database (from an earlier run); may be repeated.")
def verify_command(anchors: tuple[str, ...]):
    """Walk the chain in id order; exit 1 naming the first broken event."""
    from ..extensions import db
    from .chain import verify_chain

    check = verify_chain(db.session, anchors=dict(_anchor(a) for a in anchors))
    db.session.rollback()
    if not check.intact:
        click.echo(f"Audit log broken at event {check.broken_id}: {check.problem}.", err=True)
        click.echo(f"{check.count} event(s) before it are intact.", err=True)
        raise click.exceptions.Exit(1)
    click.echo(f"{check.count} audit event(s), chain intact.")
    if check.last_id is not None:
        # Noted elsewhere, it lets a later run tell a rewritten chain from an intact one (--anchor).
        click.echo(f"Last event: {check.last_id}:{check.head}")


@click.command("create-app-role")
@click.argument("name")
@click.option("--password", default=None,
              help="The role's password. Absent: a new role gets a random one; an existing role keeps its own.")
@with_appcontext
def create_app_role_command(name: str, password: str | None):
    """Create or update the PostgreSQL role the app runs as (run as the tables' owner); prints its DATABASE_URL."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from ..config import migrations_database_url
    from .roles import RoleRefused, create_app_role

    engine = create_engine(migrations_database_url(current_app.config["SQLALCHEMY_DATABASE_URI"]),
                           poolclass=NullPool, hide_parameters=True)
    try:
        role = create_app_role(engine, name, password)
    except RoleRefused as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()
    click.echo(f"Role {role.name} {'created' if role.created else 'updated'}: it reads and writes the app's tables "
               f"and only reads and appends to the audit log.")
    if not role.password_set:
        click.echo("Its password was left as it was: put it into the URL below.")
    click.echo("Run the web and clock processes with:")
    click.echo(f"DATABASE_URL={role.url}")


def register_audit_cli(app: Flask) -> None:
    """Add `audit verify` to the app's CLI and `create-app-role` to Flask-Migrate's `db` group."""
    app.cli.add_command(audit_cli)
    db_group = app.cli.commands.get("db")
    if db_group is not None:
        db_group.add_command(create_app_role_command)
