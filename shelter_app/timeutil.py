"""The one clock of the app (tests move it) and conversions at the edges."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Europe/Warsaw")

# Moved only by tests (idle timeout, lockout, expiring holds); always zero in production.
offset = timedelta(0)


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(timezone.utc) + offset


def to_local(value: datetime) -> datetime:
    """A stored UTC datetime in the shelter's local time."""
    return value.astimezone(LOCAL_TZ)
