"""The labels of every vocabulary for templates, translated once per request."""
from __future__ import annotations

from flask import g

from .auth.vocab import Role
from .beds.vocab import BedState, CheckoutReason, IsolationReason
from .handovers.vocab import EntryKind, FlagKind, HistoryKind, IncidentKind, RoomStatus, ShiftKind
from .referrals.vocab import DeclineReason, Need, ShownStatus
from .residents.vocab import AgeBand, ExploitationForm, Sex
from .shelters.vocab import BedCategory, RoomGroup, RoomKind

VOCABULARIES = {
    "role": Role, "category": BedCategory, "kind": RoomKind, "group": RoomGroup, "state": BedState,
    "checkout": CheckoutReason, "isolation": IsolationReason, "sex": Sex, "age": AgeBand,
    "exploitation": ExploitationForm, "needs": Need, "decline": DeclineReason, "status": ShownStatus,
    "shift": ShiftKind, "entry": EntryKind, "incident": IncidentKind, "room_status": RoomStatus, "flag": FlagKind,
    "history": HistoryKind,
}


class _Labels:
    """labels.category["woman"] → "Kobieta": a lazy string is translated once per page, not once per bed."""

    def __getattr__(self, name: str) -> dict[str, str]:
        cache = g.setdefault("labels", {})
        if name not in cache:
            try:
                cache[name] = VOCABULARIES[name].labels()
            except KeyError:
                raise AttributeError(name) from None
        return cache[name]


labels = _Labels()
