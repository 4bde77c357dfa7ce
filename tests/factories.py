"""Factories for tests: shelters, rooms and beds, and bed actions, made through the services as staff would."""
from __future__ import annotations

from itertools import count

from shelter_app import timeutil
from shelter_app.extensions import db
from shelter_app.shelters import services as shelters

_seq = count(1)

# Staff users made with a list of their shelters (make_user(..., shelters=[a])), as (id, username):
# a new shelter does not get them. Every other staff user belongs to every shelter, as before shelters
# had staff of their own. Emptied by the make_user and make_shelter fixtures of each test.
scoped_staff: set[tuple[int, str]] = set()


def join(pairs) -> None:
    """Test setup: these (user id, shelter id) memberships exist (written directly, no audit entry)."""
    from sqlalchemy import insert, select

    from shelter_app.shelters.models import ShelterStaff

    have = set(db.session.execute(select(ShelterStaff.user_id, ShelterStaff.shelter_id)).tuples())
    rows = [{"user_id": u, "shelter_id": s} for u, s in dict.fromkeys(pairs) if (u, s) not in have]
    if rows:
        db.session.execute(insert(ShelterStaff), rows)


def give_every_shelter(user) -> None:
    """A staff user belongs to every shelter there is."""
    from sqlalchemy import select

    from shelter_app.auth.vocab import STAFF_ROLES
    from shelter_app.shelters.models import Shelter

    if user.role in STAFF_ROLES:
        join([(user.id, shelter_id) for shelter_id in db.session.scalars(select(Shelter.id)).all()])


def give_every_staff_user(shelter) -> None:
    """A new shelter gets every staff user, except those made with a list of their shelters."""
    from sqlalchemy import select

    from shelter_app.auth.models import User
    from shelter_app.auth.vocab import STAFF_ROLES

    staff = db.session.execute(select(User.id, User.username)
                               .where(User.role.in_([r.value for r in STAFF_ROLES]))).tuples().all()
    join((user_id, shelter.id) for user_id, username in staff if (user_id, username) not in scoped_staff)


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
    give_every_staff_user(shelter)
    db.session.commit()
    return shelter, made


# --- bed actions as staff would take them, for setting a scene --------------------------------

def check_in(bed, resident, *, at=None, now=None, actor=None):
    """Put resident in bed (at: when they arrived; a back-dated arrival is taken as confirmed)."""
    from shelter_app.beds import services as beds

    now = now or timeutil.utcnow()
    return beds.check_in(bed.id, beds.CheckIn(resident_id=resident.id, at=at, confirm_backdate=True),
                         actor=actor, now=now)


def isolate(bed, room, *, reason="health", note="", until=None, now=None, actor=None):
    """Isolate the occupant of bed in room (a Room, or "here" for in place)."""
    from datetime import timedelta

    from shelter_app.beds import services as beds

    now = now or timeutil.utcnow()
    choice = room if isinstance(room, str) else str(room.id)
    return beds.isolate(bed.id, choice, reason, note, until or now + timedelta(days=1), actor=actor, now=now)


def check_out(bed, *, reason="other", destination="", now=None, actor=None):
    """End the stay in bed."""
    from shelter_app.beds import services as beds

    return beds.check_out(bed.id, reason, destination, actor=actor, now=now or timeutil.utcnow())
