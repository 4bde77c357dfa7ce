"""Writing to the audit log (append-only: nothing here updates or deletes)."""
from __future__ import annotations

from datetime import datetime

from ..extensions import db
from .models import AuditEvent


def record(action: str, *, actor, at: datetime, target=None, **details) -> AuditEvent:
    """Append one audit event; target is a model instance or None."""
    event = AuditEvent(
        at=at,
        actor_id=getattr(actor, "id", None),
        action=action,
        target_type=getattr(target, "__tablename__", None),
        target_id=getattr(target, "id", None),
        details=details,
    )
    db.session.add(event)
    return event
