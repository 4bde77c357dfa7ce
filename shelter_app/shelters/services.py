"""Setting up shelters, their rooms and beds (managers)."""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from ..audit.services import record
from ..errors import DomainError, NotFound, flush_or_conflict
from ..extensions import db
from ..validation import clean_text
from .models import Bed, Room, Shelter
from .vocab import (ADDRESS_MAX, BED_LABEL_MAX, CODE_NAME_MAX, CODE_NAME_MIN, ROOM_NAME_MAX, SHELTER_NAME_MAX,
                    BedCategory, RoomGroup, RoomKind)


# --- lookups -----------------------------------------------------------------------------

def get_shelter(shelter_id: int) -> Shelter:
    """The shelter, or a 404."""
    shelter = db.session.get(Shelter, shelter_id)
    if shelter is None:
        raise NotFound(_("No such shelter."))
    return shelter


def list_shelters() -> list[Shelter]:
    """Every shelter, by code name."""
    return list(db.session.scalars(select(Shelter).order_by(Shelter.code_name)))


# --- setup -------------------------------------------------------------------------------

def create_shelter(code_name: str, name: str, address: str, *, actor, at: datetime) -> Shelter:
    """A shelter; its code name is what partners see, so it must not give the place away."""
    values = _shelter_values(code_name, name, address)
    shelter = Shelter(created_at=at, **values)
    db.session.add(shelter)
    flush_or_conflict({"code_name": _("Another shelter already has this code name.")})
    record("shelter.create", actor=actor, at=at, target=shelter)
    return shelter


def _shelter_values(code_name: str, name: str, address: str) -> dict:
    code_name = clean_text(code_name, "code_name", max_len=CODE_NAME_MAX, required=True, multiline=False)
    if len(code_name) < CODE_NAME_MIN:
        raise DomainError(_("Use at least 2 characters."), field="code_name")
    return {"code_name": code_name,
            "name": clean_text(name, "name", max_len=SHELTER_NAME_MAX, required=True, multiline=False),
            "address": clean_text(address, "address", max_len=ADDRESS_MAX)}


def update_shelter(shelter: Shelter, code_name: str, name: str, address: str, *, actor, at: datetime) -> None:
    """Change a shelter's code name, name and address."""
    for key, value in _shelter_values(code_name, name, address).items():
        setattr(shelter, key, value)
    flush_or_conflict({"code_name": _("Another shelter already has this code name.")})
    record("shelter.update", actor=actor, at=at, target=shelter)


def create_room(shelter: Shelter, name: str, kind: str, group: str | None, *, actor, at: datetime) -> Room:
    """A room of shelter: regular (with beds) or an isolation room (counted as a whole)."""
    name = clean_text(name, "name", max_len=ROOM_NAME_MAX, required=True, multiline=False)
    if kind not in RoomKind.values():
        raise DomainError(_("Choose a listed kind of room."), field="kind")
    group = group or None
    if group is not None and group not in RoomGroup.values():
        raise DomainError(_("Choose a listed group."), field="room_group")
    room = Room(shelter_id=shelter.id, name=name, kind=kind, room_group=group)
    db.session.add(room)
    flush_or_conflict({"rooms": _("This shelter already has a room with this name.")})
    record("room.create", actor=actor, at=at, target=room, kind=kind)
    return room


def create_bed(room: Room, label: str, category: str, *, actor, at: datetime) -> Bed:
    """A bed of a regular room."""
    label = clean_text(label, "label", max_len=BED_LABEL_MAX, required=True, multiline=False)
    if category not in BedCategory.values():
        raise DomainError(_("Choose a listed bed category."), field="category")
    if room.is_isolation:
        raise DomainError(_("An isolation room is counted as a whole; it has no beds of its own."), field="room_id")
    bed = Bed(room_id=room.id, label=label, category=category)
    db.session.add(bed)
    flush_or_conflict({"beds": _("This room already has a bed with this label.")})
    record("bed.create", actor=actor, at=at, target=bed, category=category)
    return bed


def get_room(room_id: int) -> Room:
    """The room, or a 404."""
    room = db.session.get(Room, room_id)
    if room is None:
        raise NotFound(_("No such room."))
    return room
