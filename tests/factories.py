"""Factories for tests, the one way to make each row: users, residents, shelters with rooms and beds, and bed
actions, made through the services as staff would. The fixtures of conftest.py hand these out."""
from __future__ import annotations

from itertools import count

from shelter_app import timeutil
from shelter_app.extensions import db
from shelter_app.shelters import services as shelters

_seq = count(1)
PASSWORD = "correct horse battery"  # every test user's, unless told otherwise

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


# --- the one way to make each row ---------------------------------------------------------------

def make_user(role: str = "night", *, username: str | None = None, password: str = PASSWORD, active: bool = True,
              shelters=None, **kw):
    """A user of role (committed). A staff user belongs to every shelter, and to every shelter made later,
    unless given the list of its shelters: make_user("night", shelters=[a])."""
    from shelter_app.auth.services import create_user

    db.session.commit()  # start from a fresh snapshot: a live server may have written meanwhile
    user = create_user(username or f"{role}{next(_seq)}", password, role, at=timeutil.utcnow(), **kw)
    user.active = active
    if shelters is None:
        give_every_shelter(user)
    else:
        join([(user.id, shelter.id) for shelter in shelters])
        scoped_staff.add((user.id, user.username))
    db.session.commit()
    return user


def make_resident(alias: str | None = None, **kw):
    """A resident (committed); female unless told otherwise."""
    from shelter_app.residents import services as residents

    db.session.commit()
    kw.setdefault("sex", "female")
    resident = residents.create_resident(
        residents.ResidentInput(alias=alias or f"Alias{next(_seq)}", **kw), actor=None, at=timeutil.utcnow())
    db.session.commit()
    return resident


def make_room(shelter, name: str, kind: str = "regular", group: str | None = None):
    """A room of shelter (regular or isolation)."""
    return shelters.create_room(shelter, name, kind, group, actor=None, at=timeutil.utcnow())


def make_bed(room, label: str, category: str = "woman"):
    """A bed of room."""
    return shelters.create_bed(room, label, category, actor=None, at=timeutil.utcnow())


def build_shelter(rooms, *, isolation_rooms=(), code_name: str, name: str, address: str = ""):
    """A shelter with rooms [(room name, [(bed label, category), …]), …] and isolation rooms by name, every
    staff user belonging to it (except those made with their own list); committed. Returns it and its beds."""
    db.session.commit()
    shelter = shelters.create_shelter(code_name, name, address, actor=None, at=timeutil.utcnow())
    made = []
    for room_name, beds in rooms:
        room = make_room(shelter, room_name)
        made += [make_bed(room, label, category) for label, category in beds]
    for room_name in isolation_rooms:
        make_room(shelter, room_name, "isolation")
    give_every_staff_user(shelter)
    db.session.commit()
    return shelter, made


def make_shelter(*, beds: dict[str, int] | None = None, isolation_rooms: int = 0, code_name: str | None = None,
                 name: str | None = None, address: str = "", room_name: str | None = None):
    """A shelter with one regular room holding beds {category: n} and some isolation rooms; committed.
    Returns (shelter, beds)."""
    n = next(_seq)
    labels = [(f"{category[:2]}{i + 1}", category) for category, how_many in (beds or {}).items()
              for i in range(how_many)]
    return build_shelter([(room_name or f"Room {n}", labels)],
                         isolation_rooms=[f"Iso {n}-{i + 1}" for i in range(isolation_rooms)],
                         code_name=code_name or f"Code{n}", name=name or f"Shelter {n}", address=address)


def make_shelter_of_rooms(*, beds: int = 4, isolation_rooms: int = 1, category: str = "woman", beds_per_room: int = 4,
                          code_name: str | None = None, name: str | None = None, address: str = "Secret street 1"):
    """A shelter of `beds` beds of one category, beds_per_room to a room (R1, R2, … with B1, B2, …) and
    isolation rooms Iso1, Iso2, …; committed. Returns the shelter (the `make_shelter` fixture)."""
    n = next(_seq)
    rooms = [(f"R{r + 1}", [(f"B{i + 1}", category) for i in range(min(beds_per_room, beds - r * beds_per_room))])
             for r in range(-(-beds // beds_per_room))]
    shelter, _beds = build_shelter(rooms, isolation_rooms=[f"Iso{i + 1}" for i in range(isolation_rooms)],
                                   code_name=code_name or f"Code-{n}", name=name or f"House {n}", address=address)
    return shelter


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
