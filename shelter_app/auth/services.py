"""Accounts, sign-in with throttling, and sessions that end on the server."""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import case, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from ..audit.services import record
from ..errors import DomainError, NotFound, TooManyRequests, Unauthorized
from ..extensions import db
from ..validation import clean_text
from .models import LoginFailure, LoginLock, User, UserSession
from .common_passwords import is_common
from .passwords import dummy_verify, hash_password, needs_rehash, verify_password
from .vocab import DISPLAY_NAME_MAX, ORGANISATION_MAX, OWN_PASSWORD_MIN, PASSWORD_MAX, Locale, Role

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
MIN_PASSWORD = 10
MAX_PASSWORD = PASSWORD_MAX


class LoginRefused(Unauthorized):
    """Wrong or missing credentials."""


class LockedOut(TooManyRequests):
    """Too many failures for one username."""


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def validate_username(username: str) -> str:
    name = normalise_username(username)
    if not USERNAME_RE.match(name):
        raise DomainError(
            _("Use 2–40 characters: lower-case letters, digits, dot, dash or underscore."),
            field="username",
        )
    return name


def validate_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise DomainError(_("The password needs at least %(n)d characters.", n=MIN_PASSWORD), field="password")
    if len(password) > MAX_PASSWORD:
        raise DomainError(_("The password may have at most %(n)d characters.", n=MAX_PASSWORD), field="password")
    return password


def validate_role(role: str) -> str:
    if role not in Role.values():
        raise DomainError(_("Choose one of the listed roles."), field="role")
    return role


def create_user(username: str, password: str, role: str, *, display_name: str = "",
                organisation: str | None = None, locale: str = "pl", shelter_ids=(), actor=None,
                at: datetime) -> User:
    """A new active account, belonging to shelter_ids (staff); refuses a taken username."""
    name = validate_username(username)
    validate_password(password)
    validate_role(role)
    # Too long, or holding control or text-direction characters: the field's error, never cut.
    display_name = clean_text(display_name, "display_name", max_len=DISPLAY_NAME_MAX, multiline=False) or name
    organisation = clean_text(organisation, "organisation", max_len=ORGANISATION_MAX, multiline=False) or None
    if locale not in Locale.values():
        raise DomainError(_("Choose a listed language."), field="locale")
    if db.session.scalar(select(User.id).where(User.username == name)) is not None:
        raise DomainError(_("This username is taken."), field="username")
    user = User(username=name, display_name=display_name, role=role, locale=locale,
                organisation=organisation,
                password_hash=hash_password(password), active=True, created_at=at)
    db.session.add(user)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise DomainError(_("This username is taken."), field="username") from None
    record("user.create", actor=actor, at=at, target=user, username=name, role=role)
    if shelter_ids:
        from ..shelters.services import set_staff_shelters

        set_staff_shelters(user, shelter_ids, actor=actor, at=at)
    return user


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("No such user."))
    return user


def set_user_active(user: User, active: bool, *, actor, at: datetime) -> None:
    """Enable or disable an account; disabling ends its sessions at once."""
    if actor is not None and actor.id == user.id and not active:
        raise DomainError(_("You cannot disable your own account."), field="active")
    user.active = active
    if not active:
        end_all_sessions(user, reason="disabled", at=at)
    record("user.enable" if active else "user.disable", actor=actor, at=at, target=user)


def reset_password(user: User, password: str, *, actor, at: datetime) -> None:
    """Set a new password and end the user's sessions."""
    validate_password(password)
    user.password_hash = hash_password(password)
    end_all_sessions(user, reason="password", at=at)
    record("user.password_reset", actor=actor, at=at, target=user)


def change_own_password(user: User, current: str, new: str, repeated: str, *, at: datetime, keep_token: str | None,
                        max_failures: int, lockout: timedelta) -> None:
    """Replace user's password, given the current one; every other session of theirs ends.

    The new one has at least OWN_PASSWORD_MIN characters, is not on the list of common passwords and
    is typed twice alike. A wrong current password counts as a failed sign-in of the account (it is
    how someone holding an unlocked phone would try to take the account over).
    """
    new = new or ""
    if len(new) < OWN_PASSWORD_MIN:
        raise DomainError(_("The new password needs at least %(n)d characters.", n=OWN_PASSWORD_MIN),
                          field="new_password")
    if len(new) > MAX_PASSWORD:
        raise DomainError(_("The password may have at most %(n)d characters.", n=MAX_PASSWORD), field="new_password")
    if is_common(new):
        raise DomainError(_("This password is one of the most common ones, which are tried first. Choose another."),
                          field="new_password")
    if new != (repeated or ""):
        raise DomainError(_("The two new passwords differ. Type the same one twice."), field="new_password_again")
    begin_attempt(user.username, at=at, max_failures=max_failures, lockout=lockout)
    if not verify_password(user.password_hash, current or ""):
        # Counted like a failed sign-in, but answered as what it is to the person: a field typed wrong (422).
        refusal = attempt_failed(user.username, at=at, message=_("This is not your current password."),
                                 reason="password_change")
        raise DomainError(refusal.message, field="current_password")
    attempt_succeeded(user.username)
    user.password_hash = hash_password(new)
    end_all_sessions(user, reason="password", at=at, keep_token=keep_token)
    record("user.password_change", actor=user, at=at, target=user)


def set_locale(user: User, locale: str, *, at: datetime) -> None:
    """The language the user reads the app in."""
    if locale not in Locale.values():
        raise DomainError(_("Choose a listed language."), field="locale")
    user.locale = locale
    record("user.locale", actor=user, at=at, target=user, locale=locale)


def claim_attempt(username: str, *, at: datetime, max_failures: int, lockout: timedelta) -> bool:
    """Count a sign-in attempt for username as a failure, unless it is paused; True if it may be checked.

    The count and the decision are one statement (an upsert whose update is conditional), so any
    number of concurrent attempts, in any number of workers and threads, check at most max_failures
    passwords: PostgreSQL keeps the username's row locked until this transaction ends, and a
    concurrent attempt waits for it and sees its count; SQLite runs one writer at a time. A pause
    lasts `lockout` after the last counted failure. A successful sign-in removes the row.
    """
    table = LoginLock.__table__
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    stale = table.c.last_failure_at <= at - lockout
    statement = (
        insert(table)
        .values(username=username, failures=1, last_failure_at=at)
        .on_conflict_do_update(
            index_elements=[table.c.username],
            set_={"failures": case((stale, 1), else_=table.c.failures + 1), "last_failure_at": at},
            where=or_(table.c.failures < max_failures, stale),
        )
        .returning(table.c.failures)
    )
    return db.session.execute(statement).first() is not None


def authenticate(username: str, password: str, *, at: datetime, max_failures: int,
                 lockout: timedelta) -> User:
    """The user for these credentials, or LoginRefused; locks a username after max_failures.

    The same answers come for unknown usernames, so the form does not tell who exists; a paused
    username, known or not, is refused without checking any password.
    """
    name = normalise_username(username)[:80]
    if not name or not password:
        raise LoginRefused(_("Enter your username and password."),
                           field="username" if not name else "password")
    begin_attempt(name, at=at, max_failures=max_failures, lockout=lockout)
    user = db.session.scalar(select(User).where(User.username == name))
    if user is None:
        dummy_verify(password)
        ok = False
    else:
        ok = verify_password(user.password_hash, password) and user.active
    if not ok:
        raise attempt_failed(name, at=at, message=_("Wrong username or password."))
    attempt_succeeded(name)
    if needs_rehash(user.password_hash):
        # Made with older (or stronger, costlier) parameters: the password is at hand only now.
        user.password_hash = hash_password(password)
    return user


def begin_attempt(name: str, *, at: datetime, max_failures: int, lockout: timedelta) -> None:
    """Count a sign-in attempt for name (a password, a passkey, the current password); LockedOut if paused."""
    if not claim_attempt(name, at=at, max_failures=max_failures, lockout=lockout):
        raise LockedOut(_("Too many failed attempts. Sign-in for this username is paused for %(m)d minutes.",
                          m=int(lockout.total_seconds() // 60)))


def attempt_failed(name: str, *, at: datetime, message: str, field: str | None = None,
                   **details) -> LoginRefused:
    """Record a failed attempt for name (it stays counted) and return the refusal to raise."""
    db.session.add(LoginFailure(username=name, at=at))
    record("auth.login_failed", actor=None, at=at, username=name, **details)
    return LoginRefused(message, field=field)


def attempt_succeeded(name: str) -> None:
    """The attempt was right: name's count of failures starts again from nothing."""
    db.session.execute(delete(LoginLock).where(LoginLock.username == name))
    db.session.execute(delete(LoginFailure).where(LoginFailure.username == name))


def start_session(user: User, *, at: datetime, passkey=None) -> str:
    """Open a server-side session for user (started with passkey, if given) and return its token for the cookie."""
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(token_hash=_token_hash(token), user_id=user.id, created_at=at, last_seen_at=at,
                               passkey_id=passkey.id if passkey is not None else None))
    user.session_token = token
    record("auth.login", actor=user, at=at, target=user,
           **({"method": "passkey", "passkey_id": passkey.id} if passkey is not None else {}))
    return token


def load_session(token: str, *, at: datetime, idle: timedelta) -> User | None:
    """The user of an open, recent session with this token, or None (ending an idle one)."""
    if not token:
        return None
    row = db.session.execute(
        select(UserSession, User).join(User).where(UserSession.token_hash == _token_hash(token))
    ).first()
    if row is None:
        return None
    sess, user = row
    if sess.ended_at is not None or not user.active:
        return None
    if at - sess.last_seen_at > idle:
        sess.ended_at = at
        sess.end_reason = "idle"
        return None
    # Writing last_seen on every request would serialise a busy night on one row.
    if at - sess.last_seen_at > timedelta(seconds=30):
        sess.last_seen_at = at
    user.session_token = token
    return user


def end_session(token: str, *, reason: str, at: datetime, actor=None) -> None:
    """End the session with this token (logout; audited when actor is the one signing out)."""
    if actor is not None:
        record("auth.logout", actor=actor, at=at, target=actor)
    db.session.execute(
        update(UserSession)
        .where(UserSession.token_hash == _token_hash(token), UserSession.ended_at.is_(None))
        .values(ended_at=at, end_reason=reason)
    )


def end_all_sessions(user: User, *, reason: str, at: datetime, keep_token: str | None = None) -> None:
    """End every open session of user (but the one with keep_token, if given)."""
    statement = update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    if keep_token:
        statement = statement.where(UserSession.token_hash != _token_hash(keep_token))
    db.session.execute(statement.values(ended_at=at, end_reason=reason))


def end_passkey_sessions(passkey_id: int, *, at: datetime, current_token: str | None = None) -> bool:
    """End the open sessions started with this passkey; True if the one with current_token was among them."""
    ended = db.session.scalars(
        update(UserSession)
        .where(UserSession.passkey_id == passkey_id, UserSession.ended_at.is_(None))
        .values(ended_at=at, end_reason="passkey")
        .returning(UserSession.token_hash)
    ).all()
    return current_token is not None and _token_hash(current_token) in ended


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.role, User.username)))
