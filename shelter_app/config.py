"""Configuration read from the environment, with safe defaults for a single machine."""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def database_url(instance_path: str) -> str:
    """The SQLAlchemy URL: DATABASE_URL (postgres:// accepted) or a SQLite file in the instance folder."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return "sqlite:///" + str(Path(instance_path) / "shelter.db")
    return psycopg_url(url)


def psycopg_url(url: str) -> str:
    """url for SQLAlchemy with psycopg 3 (postgres:// and postgresql:// accepted); other URLs as they are."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def migrations_database_url(app_url: str) -> str:
    """Where migrations connect: MIGRATIONS_DATABASE_URL (the tables' owner) if set, else app_url.

    It lets the web and clock processes connect as a role that cannot alter or erase the audit
    log. It must name the app's own database (host, port, name): only the user may differ.
    """
    owner = os.environ.get("MIGRATIONS_DATABASE_URL", "").strip()
    if not owner:
        return app_url
    from sqlalchemy.engine import make_url

    owner = psycopg_url(owner)
    mine, theirs = make_url(app_url), make_url(owner)
    if mine.get_backend_name() != "postgresql" or (
            (mine.host, mine.port or 5432, mine.database) != (theirs.host, theirs.port or 5432, theirs.database)):
        raise RuntimeError("MIGRATIONS_DATABASE_URL must name the same PostgreSQL database as DATABASE_URL "
                           "(only the user may differ)")
    return owner


def secret_key(instance_path: str) -> str:
    """SECRET_KEY from the environment, else one generated once into the instance folder."""
    key = os.environ.get("SECRET_KEY")
    if key:
        return key
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Created with 0600 so other local users cannot forge sessions.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a whole number, got {raw!r}") from exc


def build_config(instance_path: str) -> dict:
    """The default configuration for an app whose instance folder is instance_path."""
    return {
        "SECRET_KEY": secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url(instance_path),
        # hide_parameters: no statement's values (password hashes, usernames) in any error or log.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Secure is decided per request (HTTPS or not) in security.py.
        "SESSION_COOKIE_NAME": "shelter_session",
        "MAX_CONTENT_LENGTH": 1 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,  # the server-side session bounds the token's life
        "WTF_CSRF_HEADERS": ["X-CSRFToken"],
        "SESSION_IDLE_MINUTES": _int_env("SESSION_IDLE_MINUTES", 30),
        # A referral unanswered this long is flagged to the staff on duty.
        "REFERRAL_ANSWER_MINUTES": _int_env("REFERRAL_ANSWER_MINUTES", 30),
        # How often a case manager's page of a waiting referral asks for the answer.
        "REFERRAL_POLL_SECONDS": 15,
        "LOGIN_MAX_FAILURES": 6,
        "LOGIN_LOCKOUT_MINUTES": 15,
        "BABEL_DEFAULT_LOCALE": "pl",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Warsaw",
        "LANGUAGES": {"pl": "Polski", "en": "English"},
        # argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): a worker signing someone in
        # needs 19 MiB more, not 64. Hashes made with other parameters are made again at sign-in.
        "ARGON2_PARAMS": {"time_cost": 2, "memory_cost": 19 * 1024, "parallelism": 1},
        "PREFERRED_URL_SCHEME": os.environ.get("PREFERRED_URL_SCHEME", "http"),
        # Brotli for browsers that take it (all current ones), else gzip; small answers are sent as they are.
        "COMPRESS_ALGORITHM": ["br", "gzip"],
        "COMPRESS_MIN_SIZE": 500,
        # Behind a reverse proxy: its X-Forwarded-* headers are believed (and passkeys may follow its host).
        "TRUST_PROXY": bool(os.environ.get("TRUST_PROXY", "").strip()),
        # Passkeys (WebAuthn): the relying party id (the domain) and the origin(s) pages are served from.
        "WEBAUTHN_RP_ID": os.environ.get("WEBAUTHN_RP_ID", "").strip() or None,
        "WEBAUTHN_ORIGIN": os.environ.get("WEBAUTHN_ORIGIN", "").strip() or None,
    }
