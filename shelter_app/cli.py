"""The `shelter-app` command: Flask's CLI of create_app plus the app's own commands."""
from __future__ import annotations

import os
import secrets
import sys
import time

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext

from .auth.vocab import Locale, Role
from .errors import DomainError

users_cli = AppGroup("users", help="Manage accounts.")
# The option of `users create` that gives each field of an account.
USER_OPTIONS = {"username": "USERNAME", "display_name": "--name", "organisation": "--organisation", "role": "--role",
                "locale": "--locale", "password": "password", "shelters": "--shelter"}
reminders_cli = AppGroup("reminders", help="The clock process that sends due reminders.")


def migrate_database() -> None:
    """Bring the schema to the newest migration (creating the database file if new)."""
    from flask_migrate import upgrade

    upgrade()


def demo_password() -> str:
    """SHELTER_DEMO_PASSWORD, or a random one for this run."""
    return os.environ.get("SHELTER_DEMO_PASSWORD") or secrets.token_urlsafe(9)


def _seed(password: str) -> list[tuple[str, str]]:
    from .demo import seed_demo
    from .extensions import db
    from .timeutil import utcnow

    try:
        logins = seed_demo(password, at=utcnow())
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(f"SHELTER_DEMO_PASSWORD: {exc.message}") from None
    db.session.commit()
    return logins


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Add the demo data and users (idempotent); prints the logins."""
    password = demo_password()
    for username, role in _seed(password):
        click.echo(f"  {username:<15} ({role})")
    click.echo(f"Password for all demo users: {password}")


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, type=int, show_default=True)
@with_appcontext
def demo_command(host: str, port: int):
    """Migrate, seed the demo data once, print the URL and logins, and serve."""
    migrate_database()
    password = demo_password()
    logins = _seed(password)
    url = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}/"
    config = current_app.config
    if not (config["WEBAUTHN_RP_ID"] or config["WEBAUTHN_ORIGIN"] or config["TRUST_PROXY"]):
        # Passkeys need a relying party: the address printed below (localhost is a secure context).
        config["WEBAUTHN_ORIGIN"] = url.rstrip("/")
    click.echo("")
    click.echo(f"Shelter app demo: {url}")
    click.echo("Sign in as one of:")
    for username, role in logins:
        click.echo(f"  {username:<15} ({role})")
    click.echo(f"Password for all demo users: {password}")
    click.echo("")
    from werkzeug.serving import run_simple

    # Flask's app.run refuses to start from inside its own CLI; serve directly.
    run_simple(host, port, current_app._get_current_object(), threaded=True, use_reloader=False)


@users_cli.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(Role.values()))
@click.option("--name", "display_name", default="", help="Name shown to colleagues.")
@click.option("--organisation", default=None, help="Partner organisation of a case manager.")
@click.option("--locale", default=Locale.PL.value, type=click.Choice(Locale.values()))
@click.option("--shelter", "shelter_codes", multiple=True, metavar="CODE",
              help="Code name of a shelter the staff account belongs to (repeatable).")
def create_user_command(username, role, display_name, organisation, locale, shelter_codes):
    """Create an account; the password is asked for (or read from standard input), never an argument."""
    from sqlalchemy import select

    from .auth.services import create_user
    from .extensions import db
    from .shelters.models import Shelter
    from .timeutil import utcnow

    shelter_ids = []
    for code in shelter_codes:
        shelter_id = db.session.scalar(select(Shelter.id).where(Shelter.code_name == code))
        if shelter_id is None:
            raise click.ClickException(f"--shelter: no shelter has the code name {code!r}.")
        shelter_ids.append(shelter_id)

    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = create_user(username, password, role, display_name=display_name,
                           organisation=organisation, locale=locale, shelter_ids=shelter_ids, at=utcnow())
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(f"{USER_OPTIONS.get(exc.field, exc.field or 'input')}: {exc.message}") from None
    db.session.commit()
    where = f", shelters: {', '.join(shelter_codes)}" if shelter_codes else ""
    click.echo(f"Created {user.username} ({user.role}){where}.")
    from .auth.permissions import can

    if not shelter_codes and can(user, "shelters.member"):
        click.echo("It belongs to no shelter yet: give --shelter CODE, or tick its shelters on its page (Users).")


@reminders_cli.command("run")
@click.option("--once", is_flag=True, help="Send what is due now and stop.")
@click.option("--interval", default=30, type=int, show_default=True, help="Seconds between rounds.")
def reminders_run_command(once: bool, interval: int):
    """Send due reminders, every --interval seconds, until stopped."""
    from .reminders import send_due_reminders

    while True:
        sent = send_due_reminders()
        if once:
            click.echo(f"{sent} reminder(s) sent.")
            return
        time.sleep(max(1, interval))


def register_cli(app: Flask) -> None:
    for command in (seed_demo_command, demo_command, users_cli, reminders_cli):
        app.cli.add_command(command)
    from .audit.cli import register_audit_cli

    register_audit_cli(app)


def _create_app_for_cli():
    from . import create_app

    return create_app()


cli = FlaskGroup(create_app=_create_app_for_cli, add_version_option=False,
                 help="Shelter operations app. Run `shelter-app demo` to try it.")


def main() -> None:
    """Entry point of the `shelter-app` console script."""
    cli.main(prog_name="shelter-app")
