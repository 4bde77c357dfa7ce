"""A shift in progress, for the app-wide tests (role matrix, hostile input, shelter scope, statement counts).

Every handover route then has a real target: a round due now, a handover waiting to be read, an entry
its author may still change, an open task, someone on the rota and a resident out of the house.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from shelter_app import timeutil
from shelter_app.extensions import db
from shelter_app.handovers import services
from shelter_app.shelters.models import Room

SECRETS = ("Qincident secret", "Qhandover note", "Qentry secret", "Qtask secret")


def write_shift(shelter, *, writer, other, resident, out, at=None) -> dict[str, int]:
    """The scene in shelter; writer wrote an entry and a task, other handed over a handover; `out` is out.

    resident and out are residents of shelter in a bed. Returns the ids and the round's `due` (as its form
    sends it).
    """
    at = at or timeutil.utcnow()
    local = timeutil.to_local(at)
    # A round due this very minute (so it can be recorded for the next three hours), times set a day ago.
    services.set_times(shelter, day_starts="07:00", night_starts="19:00", curfew="22:00",
                       rounds=f"{local.hour:02d}:{local.minute:02d}", actor=None, at=at - timedelta(days=1))
    services.add_entry(shelter, services.EntryInput(kind="incident", incident_kind="health", text=SECRETS[0]),
                       actor=other, at=at)
    handover = services.hand_over(shelter, SECRETS[1], None, actor=other, at=at)
    entry = services.add_entry(shelter, services.EntryInput(kind="resident", text=SECRETS[2],
                                                            resident_id=resident.id), actor=writer, at=at)
    task = services.add_task(shelter, SECRETS[3], writer.id, at + timedelta(hours=2), actor=writer, at=at)
    shift = services.shift_at(services.times_of(shelter.id), at)
    duty = services.assign_duty(shelter, other.id, shift.day, shift.kind, actor=None, at=at)
    services.go_out(out.id, at + timedelta(hours=2), actor=other, at=at)
    room = db.session.scalar(select(Room.id).where(Room.shelter_id == shelter.id).order_by(Room.id).limit(1))
    due = services.epoch_minutes(services.current_round_time(services.times_of(shelter.id), at))
    return {"handover": handover.id, "entry": entry.id, "task": task.id, "duty": duty.id, "room": room, "due": due}
