"""Argon2 password hashing."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

_hashers: dict[tuple, PasswordHasher] = {}


def _hasher() -> PasswordHasher:
    params = current_app.config.get("ARGON2_PARAMS") or {}
    key = tuple(sorted(params.items()))
    if key not in _hashers:
        _hashers[key] = PasswordHasher(**params)
    return _hashers[key]


def hash_password(password: str) -> str:
    """An argon2id hash of password."""
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True if password matches password_hash."""
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def dummy_verify(password: str) -> None:
    """Spend the time of one verification so unknown usernames answer as slowly as known ones."""
    if "dummy" not in _hashers:
        _hashers["dummy"] = _hasher()
        _hashers["dummy_hash"] = _hashers["dummy"].hash("not a password")  # type: ignore[assignment]
    verify_password(_hashers["dummy_hash"], password)  # type: ignore[arg-type]
