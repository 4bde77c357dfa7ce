"""The passkeys migration keeps every session (and the rest) on the way up and on the way down."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from shelter_app.auth.models import UserSession
from shelter_app.extensions import db
from tests.conftest import Client
from tests.passkeys.authenticator import add_passkey, sign_in_options


def _revision():
    path, = (Path(__file__).resolve().parents[2] / "migrations" / "versions").glob("*_passkeys.py")
    spec = importlib.util.spec_from_file_location("migration_passkeys", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sessions() -> list[tuple]:
    with db.engine.connect() as conn:
        return conn.execute(sa.text("SELECT id, user_id, token_hash, ended_at FROM user_sessions ORDER BY id")).all()


def test_sessions_survive_the_migration_both_ways(app, make_user):
    user = make_user("night")
    device = add_passkey(user)
    assert Client(app).login(user.username).status_code == 303
    assert Client(app).post("/login/passkey", {"credential": device.get(sign_in_options())}).status_code == 303
    before = _sessions()
    assert len(before) == 2 and db.session.scalar(select(UserSession.passkey_id).where(
        UserSession.passkey_id.is_not(None))) is not None, "one session of each kind"
    db.session.remove()
    downgrade(revision=_revision().down_revision)
    db.engine.dispose()
    names = set(sa.inspect(db.engine).get_table_names())
    assert "passkeys" not in names and "webauthn_challenges" not in names
    assert "passkey_id" not in {c["name"] for c in sa.inspect(db.engine).get_columns("user_sessions")}
    assert _sessions() == before
    upgrade()
    db.engine.dispose()
    assert _sessions() == before
    assert db.session.scalars(select(UserSession.passkey_id)).all() == [None, None]
