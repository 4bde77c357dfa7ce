"""What partners may know: free beds by category and free isolation rooms per shelter, nothing else."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, or_, select, union_all

from ..audit.models import AuditEvent
from ..beds.models import Hold, Isolation, Stay
from ..beds.services import free_bed_condition
from ..extensions import db
from ..shelters.models import Bed, Room, Shelter
from ..shelters.vocab import BedCategory, RoomKind


@dataclass(frozen=True)
class ShelterAvailability:
    shelter_id: int
    code_name: str
    free_by_category: dict[str, int]
    isolation_free: int
    updated_at: datetime | None

    @property
    def free_total(self) -> int:
        return sum(self.free_by_category.values())


def _last_changes(at: datetime):
    """Per shelter, the latest moment something changed what is free there (one statement).

    Every change staff make is in the audit log with the time it was made; holds that ran out and
    beds back in service by themselves changed availability at a time the log does not show.
    """
    def logged(target_type: str, *joins):
        query = select(Room.shelter_id, func.max(AuditEvent.at)).select_from(AuditEvent)
        for join in joins:
            query = query.join(*join)
        return query.where(AuditEvent.target_type == target_type).group_by(Room.shelter_id)

    parts = [
        select(Shelter.id, Shelter.created_at),
        logged("rooms", (Room, Room.id == AuditEvent.target_id)),
        logged("beds", (Bed, Bed.id == AuditEvent.target_id), (Room,)),
        logged("stays", (Stay, Stay.id == AuditEvent.target_id),
               (Bed, Bed.id == Stay.bed_id), (Room,)),
        logged("holds", (Hold, Hold.id == AuditEvent.target_id),
               (Bed, Bed.id == Hold.bed_id), (Room,)),
        logged("isolations", (Isolation, Isolation.id == AuditEvent.target_id),
               (Room, Room.id == Isolation.room_id)),
        # A move out of a shelter is logged against the new stay; the old one's end counts here.
        (select(Room.shelter_id, func.max(Stay.ended_at)).select_from(Stay).join(Bed).join(Room)
         .where(Stay.ended_at <= at).group_by(Room.shelter_id)),
        (select(Room.shelter_id, func.max(Hold.expires_at)).select_from(Hold).join(Bed).join(Room)
         .where(Hold.expires_at <= at, or_(Hold.released_at.is_(None), Hold.released_at >= Hold.expires_at))
         .group_by(Room.shelter_id)),
        (select(Room.shelter_id, func.max(Bed.out_of_service_until)).select_from(Bed).join(Room)
         .where(Bed.out_of_service_until <= at).group_by(Room.shelter_id)),
    ]
    everything = union_all(*parts).subquery()
    shelter_id, moment = everything.c
    return select(shelter_id, func.max(moment)).group_by(shelter_id)


def availability(at: datetime) -> list[ShelterAvailability]:
    """Every shelter by code name with its free beds and isolation rooms, in four statements whatever the number."""
    shelters = db.session.execute(select(Shelter.id, Shelter.code_name).order_by(Shelter.code_name)).all()
    free: dict[int, dict[str, int]] = {}
    for shelter_id, category, n in db.session.execute(
        select(Room.shelter_id, Bed.category, func.count(Bed.id)).join(Room)
        .where(Room.kind == RoomKind.REGULAR, free_bed_condition(at))
        .group_by(Room.shelter_id, Bed.category)
    ):
        free.setdefault(shelter_id, {})[category] = n
    taken = exists().where(Isolation.room_id == Room.id, Isolation.ended_at.is_(None))
    isolation_free = dict(db.session.execute(
        select(Room.shelter_id, func.count(Room.id)).where(Room.kind == RoomKind.ISOLATION, ~taken)
        .group_by(Room.shelter_id)).all())
    updated = dict(db.session.execute(_last_changes(at)).all())
    return [
        ShelterAvailability(
            shelter_id=shelter_id, code_name=code_name,
            free_by_category={c: free.get(shelter_id, {}).get(c, 0) for c in BedCategory.values()},
            isolation_free=isolation_free.get(shelter_id, 0),
            updated_at=updated.get(shelter_id),
        )
        for shelter_id, code_name in shelters
    ]

