"""Checks on free text shared by every domain."""
from __future__ import annotations

from flask_babel import gettext as _

from .errors import DomainError


def clean_text(value: str | None, field: str, *, max_len: int, required: bool = False,
               multiline: bool = True) -> str:
    """value stripped; DomainError naming field if it is missing, too long or has control characters."""
    value = (value or "").strip()
    if required and not value:
        raise DomainError(_("This field is required."), field=field)
    if len(value) > max_len:
        raise DomainError(_("Use at most %(n)d characters.", n=max_len), field=field)
    allowed = "\n\r\t" if multiline else ""
    if any(ord(ch) < 32 and ch not in allowed for ch in value):
        raise DomainError(_("Remove the control characters."), field=field)
    return value
