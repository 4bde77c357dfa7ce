"""Values, limits and rules of shifts, handovers, tasks, night rounds and presence."""
from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l

from ..vocab import Vocab


class ShiftKind(Vocab):
    DAY = "day", _l("Day shift")
    NIGHT = "night", _l("Night shift")


class EntryKind(Vocab):
    """What a handover entry is: about one resident, an incident, or a short timed observation."""

    RESIDENT = "resident", _l("About a resident")
    INCIDENT = "incident", _l("Incident")
    OBSERVATION = "observation", _l("Observation")


class IncidentKind(Vocab):
    HEALTH = "health", _l("Health")
    CONFLICT = "conflict", _l("Conflict")
    # E.g. an attempted contact by a suspected perpetrator, or a resident gone without notice.
    SAFETY = "safety", _l("Safety or security")
    OTHER = "other", _l("Other")


class RoomStatus(Vocab):
    QUIET = "quiet", _l("All quiet")
    NOTE = "note", _l("Something to note")


class HistoryKind(Vocab):
    """What the history lists (its kind filter)."""

    HANDOVER = "handover", _l("Handovers")
    INCIDENT = "incident", _l("Incidents")
    RESIDENT = "resident", _l("Entries about residents")
    OBSERVATION = "observation", _l("Observations")
    ROUND = "round", _l("Night rounds")
    PRESENCE = "presence", _l("Going out and coming back")


class FlagKind(Vocab):
    """What needs someone's attention now (handovers.services.flags)."""

    UNACKNOWLEDGED = "unacknowledged", _l("Handover not read")
    ROUND_LATE = "round_late", _l("Night round late")
    HEADCOUNT = "headcount", _l("Headcount does not match")
    WITHOUT_NOTICE = "without_notice", _l("Gone without notice")
    CURFEW = "curfew", _l("Not back by the curfew")
    LATE_BACK = "late_back", _l("Not back when expected")
    TASK_OVERDUE = "task_overdue", _l("Task overdue")


# Text limits.
NOTE_MAX = 5000          # the general note of a handover
ENTRY_TEXT_MAX = 2000    # what happened / the entry or observation
ACTION_MAX = 1000        # what was done about an incident
TASK_TEXT_MAX = 300
ROOM_NOTE_MAX = 300
ROUND_TIMES_MAX = 12     # round times a shelter may set
ROUND_TIMES_TEXT_MAX = 100
HEADCOUNT_MAX = 1000
# The longest client key (Idempotency-Key / form token) a row keeps: shelter_app.submissions.TOKEN_MAX.
CLIENT_KEY_MAX = 64

# Default times of a shelter that has set none, as minutes after local midnight.
DEFAULT_DAY_STARTS = 7 * 60
DEFAULT_NIGHT_STARTS = 19 * 60
DEFAULT_CURFEW = 22 * 60
MINUTES_PER_DAY = 24 * 60

# The rules.
# An unacknowledged handover is flagged for the manager after this long.
ACK_FLAG_AFTER = timedelta(minutes=30)
# A night round not complete this long after its time is flagged.
ROUND_LATE_AFTER = timedelta(minutes=20)
# A round may be started this long before its time, and recorded until this long after it.
ROUND_EARLY = timedelta(minutes=30)
ROUND_RECORDABLE = timedelta(hours=3)
# Rounds (and their flags) looked at this far back.
ROUND_LOOKBACK = timedelta(hours=12)
# A handover entry can be edited (by its author, before acknowledgement) for this long.
EDIT_WINDOW = timedelta(hours=24)
# A time written into an entry may lie this far back, and (a clock running fast) this little ahead.
PAST_LIMIT = timedelta(days=2)
FUTURE_TOLERANCE = timedelta(minutes=5)
# How far ahead a task may be due, and a duty planned.
TASK_DUE_MAX = timedelta(days=60)
ROTA_DAYS = 14
# Most rows a history page lists of each kind.
HISTORY_LIMIT = 200
HISTORY_DEFAULT_DAYS = 7
HISTORY_MAX_DAYS = 366
