"""Writing to the audit log (append-only: nothing here updates or deletes)."""
from __future__ import annotations

from datetime import datetime

from ..extensions import db
from . import chain
from .models import AuditEvent


def record(action: str, *, actor, at: datetime, target=None, **details) -> AuditEvent:
    """Queue one audit event, chained in when the transaction commits; target is a model instance or None."""
    if at.tzinfo is None:
        raise ValueError("naive datetime given; use an aware UTC datetime")
    if target is not None and getattr(target, "id", None) is None:
        db.session.flush()  # the target's id is part of what the hash covers
    event = AuditEvent(
        at=at,
        actor_id=getattr(actor, "id", None),
        action=action,
        target_type=getattr(target, "__tablename__", None),
        target_id=getattr(target, "id", None),
        details=chain.plain_json(details),
    )
    chain.queue(db.session(), event)
    return event
