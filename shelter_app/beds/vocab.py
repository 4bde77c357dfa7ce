"""Values, limits and rules of bed occupancy: states, reasons, time bounds, which bed fits whom."""
from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l

from ..residents.vocab import AgeBand, Sex
from ..shelters.vocab import BedCategory
from ..vocab import Vocab


class BedState(Vocab):
    """A bed is exactly one of these at any moment."""

    FREE = "free", _l("free")
    HELD = "held", _l("held")
    OCCUPIED = "occupied", _l("occupied")
    OUT = "out", _l("out of service")
    # Free, but its room is isolated in place: nobody else is put there until the isolation ends.
    BLOCKED = "blocked", _l("blocked (room isolated)")


class CheckoutReason(Vocab):
    OWN_ACCOMMODATION = "own_accommodation", _l("Own accommodation")
    OTHER_SHELTER = "other_shelter", _l("Another shelter or programme")
    RETURNED_HOME = "returned_home", _l("Returned to country of origin")
    LEFT = "left", _l("Left without notice")
    OTHER = "other", _l("Other")


class StayEnd(Vocab):
    MOVED = "moved", _l("Moved")
    CHECKED_OUT = "checked_out", _l("Checked out")


class IsolationReason(Vocab):
    HEALTH = "health", _l("Health")
    SAFETY = "safety", _l("Safety")


class HoldRelease(Vocab):
    RELEASED = "released", _l("Released")
    USED = "used", _l("Used at check-in")
    EXPIRED = "expired", _l("Expired")
    REFERRAL_CANCELLED = "referral_cancelled", _l("Referral withdrawn")


# Who fits a bed of each category without a manager's or night worker's override.
FITS: dict[BedCategory, tuple[frozenset[Sex], frozenset[AgeBand]]] = {
    BedCategory.WOMAN: (frozenset({Sex.FEMALE, Sex.OTHER}), frozenset({AgeBand.ADULT})),
    BedCategory.MAN: (frozenset({Sex.MALE, Sex.OTHER}), frozenset({AgeBand.ADULT})),
    BedCategory.CHILD_COT: (frozenset(Sex), frozenset({AgeBand.CHILD})),
    BedCategory.FAMILY: (frozenset(Sex), frozenset(AgeBand)),
}


def fits(category: str, sex: str, age_band: str) -> bool:
    """True if a resident of this sex and age band fits a bed of category."""
    sexes, ages = FITS[BedCategory(category)]
    return sex in sexes and age_band in ages


HOLD_NOTE_MAX = 200
OUT_REASON_MAX = 200
DESTINATION_MAX = 200
ISOLATION_NOTE_MAX = 300
OVERRIDE_REASON_MAX = 300
REFERRAL_CODE_MAX = 40

MAX_HOLD = timedelta(days=7)
# A record made a little late is fine; one dated tomorrow is a typo.
FUTURE_TOLERANCE = timedelta(minutes=5)
# A check-in dated further back than this needs a manager and a confirmation.
BACKDATE_LIMIT = timedelta(hours=48)
# The person who checked out or ended an isolation can take it back for this long.
UNDO_WINDOW = timedelta(minutes=5)
