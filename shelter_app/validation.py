"""Checks on input shared by every domain: free text, and numbers the database must hold."""
from __future__ import annotations

import re

from flask_babel import gettext as _

from .errors import DomainError

# A database INTEGER (PostgreSQL's int4; SQLite's is wider): every id and every stored whole number fits.
INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
ID_MAX = INT_MAX

# Control characters (Unicode Cc: C0, DEL, C1). Multi-line text may hold newlines and tabs.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Bidirectional embeddings, overrides and isolates: they make a name or code show as something else
# ("Ala\u202eevil" reads "Alalive"). Marks (U+200E/U+200F) stay allowed.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def has_control_characters(value: str, *, multiline: bool) -> bool:
    """True if value holds a control character (other than newline, carriage return and tab if multiline)."""
    return bool((_CONTROL_MULTILINE if multiline else _CONTROL).search(value))


def has_bidi_controls(value: str) -> bool:
    """True if value holds a bidi embedding, override or isolate character."""
    return bool(_BIDI_CONTROLS.search(value))


def clean_text(value: str | None, field: str, *, max_len: int, required: bool = False,
               multiline: bool = True) -> str:
    """value stripped; DomainError naming field if it is missing, too long or has control characters.

    One-line text (names, aliases, codes: multiline=False) may not hold bidi controls either.
    """
    value = (value or "").strip()
    if required and not value:
        raise DomainError(_("This field is required."), field=field)
    if len(value) > max_len:
        raise DomainError(_("Use at most %(n)d characters.", n=max_len), field=field)
    if has_control_characters(value, multiline=multiline):
        raise DomainError(_("Remove the control characters."), field=field)
    if not multiline and has_bidi_controls(value):
        raise DomainError(_("Remove the invisible text-direction characters: they make text look like "
                            "something else."), field=field)
    return value
