"""The one clock of the app (tests move it) and conversions at the edges."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Europe/Warsaw")


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(timezone.utc)


def to_local(value: datetime) -> datetime:
    """A stored UTC datetime in the shelter's local time."""
    return value.astimezone(LOCAL_TZ)
