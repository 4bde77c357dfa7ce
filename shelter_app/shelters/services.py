"""Setting up shelters, their rooms and beds (managers)."""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import delete, insert, select, true

from ..audit.services import record
from ..auth.permissions import can
from ..errors import DomainError, NotFound, flush_or_conflict
from ..extensions import db
from ..validation import clean_text
from .models import AvailabilityChange, Bed, Room, Shelter, ShelterStaff
from .vocab import (ADDRESS_MAX, BED_LABEL_MAX, CODE_NAME_MAX, CODE_NAME_MIN, ROOM_NAME_MAX, SHELTER_NAME_MAX,
                    BedCategory, RoomGroup, RoomKind)


# --- who sees which shelter ---------------------------------------------------------------
# Staff see only the shelters their account belongs to; actor None is the system itself (the CLI,
# the demo data), which is not scoped. Another shelter's ids answer exactly as missing ones: 404.

def staff_shelter_ids(actor):
    """The ids of the shelters actor belongs to, as a subquery."""
    return select(ShelterStaff.shelter_id).where(ShelterStaff.user_id == getattr(actor, "id", None))


def in_scope(shelter_id, actor):
    """SQL: the shelter id (a column) is one of actor's shelters; always true for actor None."""
    if actor is None:
        return true()
    return shelter_id.in_(staff_shelter_ids(actor))


def shelter_ids_of(actor) -> list[int]:
    """The ids of actor's shelters, by code name (every shelter for actor None)."""
    return list(db.session.scalars(select(Shelter.id).where(in_scope(Shelter.id, actor))
                                    .order_by(Shelter.code_name)))


def set_staff_shelters(user, shelter_ids, *, actor, at: datetime) -> list[int]:
    """The shelters a staff account belongs to, replacing those before; audited as user.shelters."""
    ids = sorted(set(shelter_ids or ()))
    if ids and not can(user, "shelters.member"):
        raise DomainError(_("Only staff accounts (managers, trainers, night staff) belong to shelters."),
                          field="shelters")
    if len(set(db.session.scalars(select(Shelter.id).where(Shelter.id.in_(ids))))) != len(ids):
        raise DomainError(_("Choose shelters from the list."), field="shelters")
    before = set(db.session.scalars(select(ShelterStaff.shelter_id).where(ShelterStaff.user_id == user.id)))
    if before - set(ids):
        db.session.execute(delete(ShelterStaff).where(ShelterStaff.user_id == user.id,
                                                      ShelterStaff.shelter_id.in_(before - set(ids))))
    if set(ids) - before:
        db.session.execute(insert(ShelterStaff), [{"user_id": user.id, "shelter_id": i}
                                                  for i in sorted(set(ids) - before)])
    record("user.shelters", actor=actor, at=at, target=user, shelter_ids=ids)
    return ids


# --- lookups -----------------------------------------------------------------------------

def get_shelter(shelter_id: int, *, actor) -> Shelter:
    """The shelter, if actor belongs to it; else a 404, as for a shelter that does not exist."""
    shelter = db.session.scalar(select(Shelter).where(Shelter.id == shelter_id, in_scope(Shelter.id, actor)))
    if shelter is None:
        raise NotFound(_("No such shelter."))
    return shelter


def list_shelters(*, actor=None) -> list[Shelter]:
    """The shelters actor belongs to (every shelter for actor None), by code name."""
    return list(db.session.scalars(select(Shelter).where(in_scope(Shelter.id, actor)).order_by(Shelter.code_name)))


def first_shelter_id() -> int | None:
    """The oldest shelter's id: where a record made by the system belongs when nothing else says."""
    return db.session.scalar(select(Shelter.id).order_by(Shelter.id).limit(1))


def note_availability_change(shelter_ids, *, at: datetime) -> None:
    """Record that what is free in these shelters changed at `at`, in the transaction of the change.

    Appended, never updated: two actions at once in one shelter do not wait on each other for it.
    """
    rows = [{"shelter_id": shelter_id, "at": at} for shelter_id in sorted(set(shelter_ids))]
    if rows:
        db.session.execute(insert(AvailabilityChange), rows)


# --- setup -------------------------------------------------------------------------------

def create_shelter(code_name: str, name: str, address: str, *, actor, at: datetime) -> Shelter:
    """A shelter; its code name is what partners see, so it must not give the place away."""
    values = _shelter_values(code_name, name, address)
    shelter = Shelter(created_at=at, **values)
    db.session.add(shelter)
    flush_or_conflict({"code_name": _("Another shelter already has this code name.")})
    record("shelter.create", actor=actor, at=at, target=shelter)
    if can(actor, "shelters.member"):
        # The manager who sets a shelter up works there.
        db.session.execute(insert(ShelterStaff).values(user_id=actor.id, shelter_id=shelter.id))
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
    note_availability_change([shelter.id], at=at)
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
    note_availability_change([room.shelter_id], at=at)
    return bed


def get_room(room_id: int) -> Room:
    """The room, or a 404."""
    room = db.session.get(Room, room_id)
    if room is None:
        raise NotFound(_("No such room."))
    return room
