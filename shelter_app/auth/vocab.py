"""Roles and account limits."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..vocab import Vocab


class Role(Vocab):
    MANAGER = "manager", _l("Shelter manager")
    TRAINER = "trainer", _l("Social skills trainer")
    NIGHT = "night", _l("Night staff")
    CASEMANAGER = "casemanager", _l("Case manager (partner organisation)")
    ADMIN = "admin", _l("Administrator")


class Locale(Vocab):
    PL = "pl", "Polski"
    EN = "en", "English"


STAFF_ROLES = frozenset({Role.MANAGER, Role.TRAINER, Role.NIGHT})
USERNAME_MAX = 40
DISPLAY_NAME_MAX = 80
ORGANISATION_MAX = 120
# A password a person chooses for themselves (Account page): at least this long, and not a common one.
OWN_PASSWORD_MIN = 12
PASSWORD_MAX = 200
