"""Argon2 password hashing."""
from __future__ import annotations

import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

_hashers: dict[tuple, PasswordHasher] = {}
_dummy: dict[str, str] = {}
_dummy_lock = threading.Lock()


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


def needs_rehash(password_hash: str) -> bool:
    """True if password_hash was made with other parameters than the configured ones (rehash at sign-in)."""
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def dummy_verify(password: str) -> None:
    """Spend the time of one verification so unknown usernames answer as slowly as known ones."""
    # Made once per process under a lock: threads of one worker asking at the same moment all
    # wait for the one hash (before, all but the first failed with a KeyError: a 500 that told
    # the username did not exist).
    with _dummy_lock:
        if "dummy_hash" not in _dummy:
            _dummy["dummy_hash"] = _hasher().hash("not a password")
    verify_password(_dummy["dummy_hash"], password)
