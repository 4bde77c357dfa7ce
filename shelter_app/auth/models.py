"""Users, their server-side sessions and failed login attempts."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .vocab import DISPLAY_NAME_MAX, ORGANISATION_MAX, USERNAME_MAX, Locale, Role


class User(db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(Role.check("role"), name="role_known"),
        CheckConstraint(Locale.check("locale"), name="locale_known"),
        CheckConstraint(f"length(username) BETWEEN 2 AND {USERNAME_MAX}", name="username_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-case so that "Night" and "night" are one account.
    username: Mapped[str] = mapped_column(String(USERNAME_MAX), unique=True)
    display_name: Mapped[str] = mapped_column(String(DISPLAY_NAME_MAX))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str] = mapped_column(String(5), default=Locale.PL)
    organisation: Mapped[str | None] = mapped_column(String(ORGANISATION_MAX))
    created_at: Mapped[datetime]

    sessions: Mapped[list["UserSession"]] = relationship(back_populates="user", passive_deletes=True)

    # Set by the session loader: the server-side session this request belongs to.
    session_token = None  # type: str | None

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def is_authenticated(self) -> bool:  # Flask-Login
        return True

    @property
    def is_anonymous(self) -> bool:  # Flask-Login
        return False

    def get_id(self) -> str | None:
        """The session token, not the user id: ending the session row ends the login."""
        return self.session_token


class UserSession(db.Model):
    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user_open", "user_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # sha256 of the token in the cookie; a copy of the table does not let anyone in.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(20))
    # The passkey this session was started with (none for a password): removing it ends the session.
    passkey_id: Mapped[int | None] = mapped_column(ForeignKey("passkeys.id", ondelete="SET NULL"), index=True)

    user: Mapped[User] = relationship(back_populates="sessions")


class LoginFailure(db.Model):
    """One row per failed password check: the history of failures (the decision is LoginLock's)."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime]


class LoginLock(db.Model):
    """Per username (known or not): failed sign-ins in a row, and when the last one came.

    One conditional upsert counts an attempt and decides whether it may be checked
    (auth.services.claim_attempt), so concurrent attempts never check more than the limit.
    """

    __tablename__ = "login_locks"
    __table_args__ = (CheckConstraint("failures >= 0", name="failures_not_negative"),)

    username: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int]
    last_failure_at: Mapped[datetime]
