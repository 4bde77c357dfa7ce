"""What partners may know: free beds by category and free isolation rooms per shelter, nothing else."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select, union_all

from ..beds.models import Hold, Isolation
from ..beds.services import free_bed_condition
from ..extensions import db
from ..shelters.models import AvailabilityChange, Bed, Room, Shelter
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


def _changed_by_itself(at: datetime) -> dict[int, datetime]:
    """Per shelter, the latest moment availability changed with nobody acting, from what is open now:
    a hold that ran out unreleased (at most one per bed) and a bed whose out-of-service time passed."""
    moments = union_all(
        select(Room.shelter_id, Hold.expires_at.label("moment")).select_from(Hold).join(Bed).join(Room)
        .where(Hold.released_at.is_(None), Hold.expires_at <= at),
        select(Room.shelter_id, Bed.out_of_service_until.label("moment")).select_from(Bed).join(Room)
        .where(Bed.out_of_service_reason.is_not(None), Bed.out_of_service_until <= at),
    ).subquery()
    return dict(db.session.execute(
        select(moments.c.shelter_id, func.max(moments.c.moment)).group_by(moments.c.shelter_id)).all())


def availability(at: datetime) -> list[ShelterAvailability]:
    """Every shelter by code name with its free beds and isolation rooms, in four statements whatever the number.

    The time of each shelter's last change is the latest of what staff changed (shelters.AvailabilityChange,
    noted as it happens; one index probe per shelter) and what changed by itself; neither grows with history.
    """
    noted = (select(func.max(AvailabilityChange.at)).where(AvailabilityChange.shelter_id == Shelter.id)
             .scalar_subquery())
    shelters = db.session.execute(
        select(Shelter.id, Shelter.code_name, func.coalesce(noted, Shelter.created_at))
        .order_by(Shelter.code_name)).all()
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
    by_itself = _changed_by_itself(at)
    return [
        ShelterAvailability(
            shelter_id=shelter_id, code_name=code_name,
            free_by_category={c: free.get(shelter_id, {}).get(c, 0) for c in BedCategory.values()},
            isolation_free=isolation_free.get(shelter_id, 0),
            updated_at=max(filter(None, (changed, by_itself.get(shelter_id))), default=None),
        )
        for shelter_id, code_name, changed in shelters
    ]
