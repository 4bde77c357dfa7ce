"""API tokens: made by an administrator for one partner organisation, shown once, kept only as a hash."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from ..audit.services import record
from ..errors import Conflict, NotFound
from ..extensions import db
from ..validation import clean_text
from ..auth.models import User
from ..auth.permissions import roles_with
from .models import ApiToken

TOKEN_MARK = "shk_"
PREFIX_LENGTH = len(TOKEN_MARK) + 6
# last_used_at is written at most this often: a partner polling every few seconds is not a write each time.
USE_RECORD_INTERVAL = timedelta(minutes=5)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(organisation: str, label: str, *, actor, at: datetime) -> tuple[ApiToken, str]:
    """A new token for organisation; returns the row and the plaintext, which is never stored."""
    organisation = clean_text(organisation, "organisation", max_len=120, required=True, multiline=False)
    label = clean_text(label, "label", max_len=80, required=True, multiline=False)
    plaintext = TOKEN_MARK + secrets.token_urlsafe(32)
    token = ApiToken(organisation=organisation, label=label, prefix=plaintext[:PREFIX_LENGTH],
                     token_hash=token_hash(plaintext), created_at=at, created_by_id=getattr(actor, "id", None))
    db.session.add(token)
    db.session.flush()
    record("api_token.create", actor=actor, at=at, target=token, organisation=organisation, prefix=token.prefix)
    return token, plaintext


def revoke_token(token: ApiToken, *, actor, at: datetime) -> None:
    if token.revoked_at is not None:
        raise Conflict(_("This token was already revoked."))
    token.revoked_at = max(at, token.created_at)
    token.revoked_by_id = getattr(actor, "id", None)
    record("api_token.revoke", actor=actor, at=at, target=token, organisation=token.organisation)


def get_token(token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(_("No such token."))
    return token


def list_tokens() -> list[ApiToken]:
    return list(db.session.scalars(
        select(ApiToken).order_by(ApiToken.revoked_at.is_not(None), ApiToken.organisation, ApiToken.created_at)))


def authenticate_token(plaintext: str, *, at: datetime) -> ApiToken | None:
    """The active token matching plaintext, or None. Notes when it was used (coarsely)."""
    if not plaintext or len(plaintext) > 200:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(plaintext)))
    if token is None or token.revoked_at is not None:
        return None
    if token.last_used_at is None or at - token.last_used_at >= USE_RECORD_INTERVAL:
        token.last_used_at = at
    return token


def organisations() -> list[str]:
    """Organisations of the accounts that read availability through the API: suggestions for a new token."""
    return list(db.session.scalars(
        select(User.organisation).where(User.role.in_(roles_with("api.read")), User.organisation.is_not(None))
        .distinct().order_by(User.organisation)))
