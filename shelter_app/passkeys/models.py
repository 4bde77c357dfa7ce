"""Passkeys of accounts, and the challenges of ceremonies under way (single-use, short-lived)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..extensions import db
from .vocab import CREDENTIAL_ID_MAX, NAME_MAX, PUBLIC_KEY_MAX, SIGN_COUNT_MAX, USER_HANDLE_BYTES, Ceremony


class Passkey(db.Model):
    """A WebAuthn credential of one account: its public key and the authenticator's sign counter."""

    __tablename__ = "passkeys"
    __table_args__ = (
        UniqueConstraint("user_id", "name", name="uq_passkeys_user_id_name"),
        CheckConstraint(f"length(name) BETWEEN 1 AND {NAME_MAX}", name="name_length"),
        CheckConstraint(f"sign_count BETWEEN 0 AND {SIGN_COUNT_MAX}", name="sign_count_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(CREDENTIAL_ID_MAX), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(PUBLIC_KEY_MAX))
    # The authenticator's count of its uses; 0 for passkeys that never count (synced ones).
    sign_count: Mapped[int] = mapped_column(BigInteger)
    # The account's WebAuthn user handle (random, not the id), which the authenticator returns.
    user_handle: Mapped[bytes] = mapped_column(LargeBinary(USER_HANDLE_BYTES))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class WebAuthnChallenge(db.Model):
    """A challenge handed to a browser for one ceremony; taken (deleted) by the answer, whatever it is."""

    __tablename__ = "webauthn_challenges"
    __table_args__ = (
        CheckConstraint(Ceremony.check("ceremony"), name="ceremony_known"),
        # Adding a passkey is done by someone signed in: the challenge names the account.
        CheckConstraint("ceremony = 'sign_in' OR (user_id IS NOT NULL AND user_handle IS NOT NULL)",
                        name="register_names_user"),
        Index("ix_webauthn_challenges_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # sha256 of the challenge: looked up by what the browser's clientDataJSON says it answered.
    challenge_hash: Mapped[str] = mapped_column(String(64), unique=True)
    ceremony: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    user_handle: Mapped[bytes | None] = mapped_column(LargeBinary(USER_HANDLE_BYTES))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
