"""Password hashes: argon2id at OWASP's minimum or stronger, and made again at sign-in when the parameters change."""
from __future__ import annotations

from argon2 import PasswordHasher, extract_parameters

from shelter_app.config import build_config
from shelter_app.extensions import db
from tests.conftest import PASSWORD, Client


def test_the_default_parameters_are_at_least_owasps_minimum(tmp_path):
    params = build_config(str(tmp_path))["ARGON2_PARAMS"]
    # OWASP Password Storage Cheat Sheet, argon2id: m=19 MiB, t=2, p=1 (or stronger).
    assert params["memory_cost"] >= 19 * 1024 and params["time_cost"] >= 2 and params["parallelism"] >= 1
    # …and within what a worker may spend on one sign-in (the old 64 MiB doubled its memory at each).
    assert params["memory_cost"] <= 32 * 1024
    stored = PasswordHasher(**params).hash("any password")
    assert stored.startswith("$argon2id$")


def test_a_hash_of_other_parameters_is_made_again_at_sign_in(app, make_user):
    user = make_user("night")
    old = PasswordHasher(time_cost=3, memory_cost=2048, parallelism=2).hash(PASSWORD)
    user.password_hash = old
    db.session.commit()
    assert Client(app).login(user.username, "not the password").status_code == 401
    db.session.refresh(user)
    assert user.password_hash == old, "a wrong password changes nothing"

    assert Client(app).login(user.username).status_code == 303
    db.session.refresh(user)
    configured = app.config["ARGON2_PARAMS"]
    now = extract_parameters(user.password_hash)
    assert (now.time_cost, now.memory_cost, now.parallelism) == (
        configured["time_cost"], configured["memory_cost"], configured["parallelism"])
    assert user.password_hash != old
    assert Client(app).login(user.username).status_code == 303, "the new hash checks the same password"
    db.session.refresh(user)
    assert extract_parameters(user.password_hash) == now
