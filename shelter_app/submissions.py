"""One-time form tokens: a form sent twice (double tap, retry after a time-out) is done once."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db
from .outcome import Outcome
from .timeutil import utcnow

TOKEN_MAX = 64


class FormSubmission(db.Model):
    """A form's one-time token, claimed in the transaction of the action it sent, with its answer."""

    __tablename__ = "form_submissions"
    __table_args__ = (UniqueConstraint("user_id", "token", name="uq_form_submissions_user_token"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token: Mapped[str] = mapped_column(String(TOKEN_MAX))
    path: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    message: Mapped[str] = mapped_column(String(500), default="")
    location: Mapped[str] = mapped_column(String(500), default="")


def claim(user, token: str, path: str):
    """(the new claim, None), or (None, the earlier Outcome) if this token was already used.

    The claim is a row in the action's own transaction: if the action is refused, the claim goes
    with it and the form can be sent again. A second request with the same token waits for the
    first (unique index) and then answers what the first one answered.
    """
    token = token[:TOKEN_MAX]
    row = FormSubmission(user_id=user.id, token=token, path=path[:200], created_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        earlier = db.session.scalar(select(FormSubmission).where(
            FormSubmission.user_id == user.id, FormSubmission.token == token))
        if earlier is None:  # the first one was refused meanwhile: this one may go ahead
            return claim(user, token, path)
        return None, Outcome(earlier.message, earlier.location)
    return row, None


def complete(row: FormSubmission, outcome) -> None:
    """Remember what the action answered, for a repeat of the same form."""
    row.message = (outcome.message or "")[:500]
    row.location = (outcome.location or "")[:500]
