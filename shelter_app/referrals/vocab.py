"""Values and limits of referrals: statuses, needs, reasons for declining."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..vocab import Vocab


class ReferralStatus(Vocab):
    """Stored statuses. "Lapsed" and "overdue" are worked out when read, from the clock."""

    PENDING = "pending", _l("Waiting for an answer")
    ACCEPTED = "accepted", _l("Accepted: a bed is held")
    DECLINED = "declined", _l("Declined")
    CANCELLED = "cancelled", _l("Withdrawn")
    ARRIVED = "arrived", _l("Arrived and checked in")


class ShownStatus(Vocab):
    """What a case manager reads: the stored status refined by the clock."""

    PENDING = "pending", _l("Waiting for an answer")
    LAPSED = "lapsed", _l("Not answered before the arrival window ended")
    ACCEPTED = "accepted", _l("Accepted: a bed is held")
    HOLD_ENDED = "hold_ended", _l("Accepted, but the held bed is no longer held")
    DECLINED = "declined", _l("Declined")
    CANCELLED = "cancelled", _l("Withdrawn")
    ARRIVED = "arrived", _l("Arrived and checked in")


class Need(Vocab):
    """Short choices a case manager ticks; the free-text note carries the rest (no names)."""

    URGENT_MEDICAL = "urgent_medical", _l("Urgent medical care")
    MEDICATION = "medication", _l("Takes medication")
    PREGNANCY = "pregnancy", _l("Pregnancy")
    REDUCED_MOBILITY = "reduced_mobility", _l("Reduced mobility")
    MENTAL_HEALTH = "mental_health", _l("Acute psychological distress")
    HIGH_RISK = "high_risk", _l("High safety risk (perpetrators searching)")
    ISOLATION = "isolation", _l("Needs an isolation room")


class DeclineReason(Vocab):
    NO_BED = "no_bed", _l("No suitable bed free")
    NEEDS_NOT_MET = "needs_not_met", _l("We cannot meet the needs described")
    NOT_SUITABLE = "not_suitable", _l("This shelter is not safe or suitable for this person")
    OTHER = "other", _l("Other (explain below)")


MAX_PEOPLE = 10
CODE_MAX = 40
ORGANISATION_MAX = 120
LANGUAGES_MAX = 200
NOTE_MAX = 500
DECLINE_NOTE_MAX = 300
# A referral's address in every URL: random, so that nobody can count or guess another's (20 hex digits).
PUBLIC_ID_LENGTH = 20
