"""Access tokens of partner systems for the JSON API."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class ApiToken(db.Model):
    """One partner organisation's key to the API; only its sha256 is kept, the token is shown once."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        CheckConstraint("length(organisation) >= 1", name="organisation_given"),
        CheckConstraint("length(label) >= 1", name="label_given"),
        CheckConstraint("revoked_at IS NULL OR revoked_at >= created_at", name="revoked_after_created"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation: Mapped[str] = mapped_column(String(120), index=True)
    # What the token is for, e.g. "Police case system".
    label: Mapped[str] = mapped_column(String(80))
    # The first characters of the token, so an administrator can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    @property
    def active(self) -> bool:
        return self.revoked_at is None
