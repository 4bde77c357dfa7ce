"""Shelters, rooms and beds: setup, holds, out of service, and the bed board."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import or_, select, update
from sqlalchemy.orm import joinedload

from ..audit.services import record
from ..errors import Conflict, DomainError, NotFound, flush_or_conflict
from ..extensions import db
from ..validation import clean_text
from .models import BED_CATEGORIES, ROOM_GROUPS, ROOM_KINDS, Bed, Hold, Room, Shelter

MAX_HOLD = timedelta(days=7)


# --- lookups -----------------------------------------------------------------------------

def get_shelter(shelter_id: int) -> Shelter:
    shelter = db.session.get(Shelter, shelter_id)
    if shelter is None:
        raise NotFound(_("No such shelter."))
    return shelter


def get_bed(bed_id: int, *, lock: bool = False) -> Bed:
    """The bed with its room; lock=True takes a row lock (PostgreSQL) for a change."""
    query = select(Bed).options(joinedload(Bed.room)).where(Bed.id == bed_id)
    if lock:
        query = query.with_for_update(of=Bed)
    bed = db.session.scalar(query)
    if bed is None:
        raise NotFound(_("No such bed."))
    return bed


def get_hold(hold_id: int) -> Hold:
    hold = db.session.get(Hold, hold_id)
    if hold is None:
        raise NotFound(_("No such hold."))
    return hold


def list_shelters() -> list[Shelter]:
    return list(db.session.scalars(select(Shelter).order_by(Shelter.code_name)))


def active_hold(bed: Bed, at: datetime) -> Hold | None:
    return db.session.scalar(
        select(Hold).where(Hold.bed_id == bed.id, Hold.released_at.is_(None), Hold.expires_at > at)
    )


def open_stay_on(bed: Bed):
    from ..residents.models import Stay

    return db.session.scalar(select(Stay).where(Stay.bed_id == bed.id, Stay.ended_at.is_(None)))


# --- setup -------------------------------------------------------------------------------

def create_shelter(code_name: str, name: str, address: str, *, actor, at: datetime) -> Shelter:
    """A shelter; its code name is what partners see, so it must not give the place away."""
    code_name = clean_text(code_name, "code_name", max_len=40, required=True)
    if len(code_name) < 2:
        raise DomainError(_("Use at least 2 characters."), field="code_name")
    shelter = Shelter(code_name=code_name, name=clean_text(name, "name", max_len=120, required=True),
                      address=clean_text(address, "address", max_len=500), created_at=at)
    db.session.add(shelter)
    flush_or_conflict({"code_name": _("Another shelter already has this code name.")})
    record("shelter.create", actor=actor, at=at, target=shelter)
    return shelter


def update_shelter(shelter: Shelter, code_name: str, name: str, address: str, *, actor, at: datetime) -> None:
    shelter.code_name = clean_text(code_name, "code_name", max_len=40, required=True)
    shelter.name = clean_text(name, "name", max_len=120, required=True)
    shelter.address = clean_text(address, "address", max_len=500)
    flush_or_conflict({"code_name": _("Another shelter already has this code name.")})
    record("shelter.update", actor=actor, at=at, target=shelter)


def create_room(shelter: Shelter, name: str, kind: str, group: str | None, *, actor, at: datetime) -> Room:
    name = clean_text(name, "name", max_len=60, required=True)
    if kind not in ROOM_KINDS:
        raise DomainError(_("Choose a listed kind of room."), field="kind")
    group = group or None
    if group is not None and group not in ROOM_GROUPS:
        raise DomainError(_("Choose a listed group."), field="room_group")
    room = Room(shelter_id=shelter.id, name=name, kind=kind, room_group=group)
    db.session.add(room)
    flush_or_conflict({"rooms": _("This shelter already has a room with this name.")})
    record("room.create", actor=actor, at=at, target=room, kind=kind)
    return room


def create_bed(room: Room, label: str, category: str, *, actor, at: datetime) -> Bed:
    label = clean_text(label, "label", max_len=20, required=True)
    if category not in BED_CATEGORIES:
        raise DomainError(_("Choose a listed bed category."), field="category")
    if room.is_isolation:
        raise DomainError(_("An isolation room is counted as a whole; it has no beds of its own."), field="room_id")
    bed = Bed(room_id=room.id, label=label, category=category)
    db.session.add(bed)
    flush_or_conflict({"beds": _("This room already has a bed with this label.")})
    record("bed.create", actor=actor, at=at, target=bed, category=category)
    return bed


def get_room(room_id: int) -> Room:
    room = db.session.get(Room, room_id)
    if room is None:
        raise NotFound(_("No such room."))
    return room


# --- holds and out of service -------------------------------------------------------------

def _release_expired_holds(bed: Bed, at: datetime) -> None:
    db.session.execute(
        update(Hold)
        .where(Hold.bed_id == bed.id, Hold.released_at.is_(None), Hold.expires_at <= at)
        .values(released_at=Hold.expires_at, release_reason="expired")
    )


def require_free(bed: Bed, at: datetime) -> None:
    if bed.out_of_service_at(at):
        raise Conflict(_("This bed is out of service."))
    if open_stay_on(bed) is not None:
        raise Conflict(_("This bed is already taken."))


def place_hold(bed: Bed, expires_at: datetime, note: str, *, actor, at: datetime, referral=None) -> Hold:
    """Keep a free bed for an expected arrival until expires_at."""
    note = clean_text(note, "note", max_len=200)
    if expires_at <= at:
        raise DomainError(_("The hold must end in the future."), field="expires_at")
    if expires_at - at > MAX_HOLD:
        raise DomainError(_("A bed can be held for at most 7 days."), field="expires_at")
    require_free(bed, at)
    _release_expired_holds(bed, at)
    if active_hold(bed, at) is not None:
        raise Conflict(_("This bed is already held for someone else."))
    hold = Hold(bed_id=bed.id, expires_at=expires_at, note=note, created_at=at,
                created_by_id=getattr(actor, "id", None), referral_id=getattr(referral, "id", None))
    db.session.add(hold)
    flush_or_conflict({
        "uq_holds_referral_open": _("A bed is already held for this referral."),
        "holds.referral_id": _("A bed is already held for this referral."),
        "holds": _("This bed is already held for someone else."),
    })
    record("hold.place", actor=actor, at=at, target=hold, bed_id=bed.id, expires_at=expires_at.isoformat(),
           referral_id=hold.referral_id)
    return hold


def release_hold(hold: Hold, *, actor, at: datetime, reason: str = "released") -> None:
    if hold.released_at is not None:
        raise Conflict(_("This hold was already released."))
    hold.released_at = max(at, hold.created_at)
    hold.release_reason = reason
    record("hold.release", actor=actor, at=at, target=hold, reason=reason)


def use_hold_if_any(bed: Bed, *, actor, at: datetime) -> Hold | None:
    """At check-in, the bed's active hold (if any) is used up; expired ones are tidied away."""
    _release_expired_holds(bed, at)
    hold = active_hold(bed, at)
    if hold is not None:
        release_hold(hold, actor=actor, at=at, reason="used")
    return hold


def set_out_of_service(bed: Bed, reason: str, until: datetime | None, *, actor, at: datetime) -> None:
    reason = clean_text(reason, "reason", max_len=200, required=True)
    if until is not None and until <= at:
        raise DomainError(_("The date until must be in the future."), field="until")
    if open_stay_on(bed) is not None:
        raise Conflict(_("Someone sleeps in this bed: move or check them out first."))
    _release_expired_holds(bed, at)
    if active_hold(bed, at) is not None:
        raise Conflict(_("This bed is held for an arrival: release the hold first."))
    bed.out_of_service_reason = reason
    bed.out_of_service_since = at
    bed.out_of_service_until = until
    record("bed.out_of_service", actor=actor, at=at, target=bed, reason=reason,
           until=until.isoformat() if until else None)


def back_in_service(bed: Bed, *, actor, at: datetime) -> None:
    if bed.out_of_service_reason is None:
        raise Conflict(_("This bed is already in service."))
    bed.out_of_service_reason = None
    bed.out_of_service_since = None
    bed.out_of_service_until = None
    record("bed.in_service", actor=actor, at=at, target=bed)


# --- the bed board ----------------------------------------------------------------------

@dataclass
class BedView:
    bed: Bed
    state: str  # free | occupied | held | out
    stay: object | None = None
    hold: Hold | None = None
    isolation: object | None = None  # the occupant's open isolation, if any


@dataclass
class RoomView:
    room: Room
    beds: list[BedView] = field(default_factory=list)
    isolation: object | None = None  # for an isolation room: who is in it


@dataclass
class Board:
    shelter: Shelter
    rooms: list[RoomView]
    free_by_category: dict[str, int]
    isolation_free: int
    isolation_total: int
    occupied: int
    total_beds: int

    @property
    def free_total(self) -> int:
        return sum(self.free_by_category.values())


def bed_state(bed: Bed, stay, hold: Hold | None, at: datetime) -> str:
    if stay is not None:
        return "occupied"
    if bed.out_of_service_at(at):
        return "out"
    if hold is not None and hold.active_at(at):
        return "held"
    return "free"


def board(shelter: Shelter, at: datetime) -> Board:
    """Everything the bed board shows, in a fixed number of queries whatever the shelter's size."""
    from ..residents.models import Isolation, Stay

    rooms = list(db.session.scalars(
        select(Room).where(Room.shelter_id == shelter.id).order_by(Room.kind, Room.name)))
    beds = list(db.session.scalars(
        select(Bed).join(Room).where(Room.shelter_id == shelter.id).order_by(Bed.label)))
    stays = {s.bed_id: s for s in db.session.scalars(
        select(Stay).options(joinedload(Stay.resident)).join(Bed).join(Room)
        .where(Room.shelter_id == shelter.id, Stay.ended_at.is_(None)))}
    holds = {h.bed_id: h for h in db.session.scalars(
        select(Hold).join(Bed).join(Room)
        .where(Room.shelter_id == shelter.id, Hold.released_at.is_(None), Hold.expires_at > at))}
    isolations = list(db.session.scalars(
        select(Isolation).options(joinedload(Isolation.resident)).join(Room)
        .where(Room.shelter_id == shelter.id, Isolation.ended_at.is_(None))))
    by_room_isolation = {i.room_id: i for i in isolations}
    by_resident_isolation = {i.resident_id: i for i in isolations}

    views = {room.id: RoomView(room=room, isolation=by_room_isolation.get(room.id)) for room in rooms}
    free: Counter[str] = Counter({c: 0 for c in BED_CATEGORIES})
    occupied = 0
    for bed in beds:
        stay, hold = stays.get(bed.id), holds.get(bed.id)
        state = bed_state(bed, stay, hold, at)
        if state == "free":
            free[bed.category] += 1
        elif state == "occupied":
            occupied += 1
        views[bed.room_id].beds.append(BedView(
            bed=bed, state=state, stay=stay, hold=hold if state == "held" else None,
            isolation=by_resident_isolation.get(stay.resident_id) if stay else None))
    isolation_rooms = [r for r in rooms if r.is_isolation]
    return Board(
        shelter=shelter, rooms=list(views.values()), free_by_category=dict(free),
        isolation_free=sum(1 for r in isolation_rooms if r.id not in by_room_isolation),
        isolation_total=len(isolation_rooms), occupied=occupied, total_beds=len(beds),
    )


def free_beds(shelter: Shelter, at: datetime, *, exclude_bed_id: int | None = None) -> list[Bed]:
    """Beds of shelter a resident could be moved to now (free, not held, in service)."""
    from ..residents.models import Stay

    occupied = select(Stay.bed_id).where(Stay.ended_at.is_(None))
    held = select(Hold.bed_id).where(Hold.released_at.is_(None), Hold.expires_at > at)
    query = (
        select(Bed).options(joinedload(Bed.room)).join(Room)
        .where(Room.shelter_id == shelter.id, Bed.id.not_in(occupied), Bed.id.not_in(held),
               or_(Bed.out_of_service_reason.is_(None), Bed.out_of_service_until <= at))
        .order_by(Room.name, Bed.label)
    )
    if exclude_bed_id is not None:
        query = query.where(Bed.id != exclude_bed_id)
    return list(db.session.scalars(query))


def free_isolation_rooms(shelter: Shelter) -> list[Room]:
    from ..residents.models import Isolation

    taken = select(Isolation.room_id).where(Isolation.ended_at.is_(None))
    return list(db.session.scalars(
        select(Room).where(Room.shelter_id == shelter.id, Room.kind == "isolation", Room.id.not_in(taken))
        .order_by(Room.name)))
