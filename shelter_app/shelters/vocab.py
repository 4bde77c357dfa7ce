"""Values and limits of shelter setup: kinds of room, room groups, bed categories."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..vocab import Vocab


class RoomKind(Vocab):
    REGULAR = "regular", _l("Regular")
    ISOLATION = "isolation", _l("Isolation")


class RoomGroup(Vocab):
    WOMEN = "women", _l("Women")
    MEN = "men", _l("Men")
    FAMILIES = "families", _l("Families")


class BedCategory(Vocab):
    WOMAN = "woman", _l("Woman")
    MAN = "man", _l("Man")
    CHILD_COT = "child_cot", _l("Child cot")
    FAMILY = "family", _l("Family")


CODE_NAME_MIN = 2
CODE_NAME_MAX = 40
SHELTER_NAME_MAX = 120
ADDRESS_MAX = 500
ROOM_NAME_MAX = 60
BED_LABEL_MAX = 20
