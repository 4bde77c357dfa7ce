"""Shelters, rooms and beds for tests, made through the services as staff would."""
from __future__ import annotations

from itertools import count

from shelter_app import timeutil
from shelter_app.extensions import db
from shelter_app.shelters import services as shelters

_seq = count(1)


def make_shelter(*, beds: dict[str, int] | None = None, isolation_rooms: int = 0, code_name: str | None = None,
                 name: str | None = None, address: str = "", room_name: str | None = None):
    """A shelter with one regular room holding beds {category: n} and some isolation rooms; committed."""
    n = next(_seq)
    now = timeutil.utcnow()
    shelter = shelters.create_shelter(code_name or f"Code{n}", name or f"Shelter {n}", address, actor=None, at=now)
    room = shelters.create_room(shelter, room_name or f"Room {n}", "regular", None, actor=None, at=now)
    made = []
    for category, how_many in (beds or {}).items():
        for i in range(how_many):
            made.append(shelters.create_bed(room, f"{category[:2]}{i + 1}", category, actor=None, at=now))
    for i in range(isolation_rooms):
        shelters.create_room(shelter, f"Iso {n}-{i + 1}", "isolation", None, actor=None, at=now)
    db.session.commit()
    return shelter, made
