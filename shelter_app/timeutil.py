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


class NonexistentLocalTime(ValueError):
    """A wall-clock time skipped by the change to summer time."""


def local_to_utc(naive: datetime) -> datetime:
    """A wall-clock time in Warsaw as UTC; the earlier of two when the clock goes back."""
    aware = naive.replace(tzinfo=LOCAL_TZ, fold=0)
    back = aware.astimezone(timezone.utc).astimezone(LOCAL_TZ).replace(tzinfo=None)
    if back != naive.replace(tzinfo=None):
        raise NonexistentLocalTime(naive.isoformat(timespec="minutes"))
    return aware.astimezone(timezone.utc)


def local_input_value(value: datetime | None) -> str:
    """A UTC datetime as the value of an <input type="datetime-local">."""
    return to_local(value).strftime("%Y-%m-%dT%H:%M") if value else ""
