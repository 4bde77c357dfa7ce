"""The shift pages run a fixed number of SQL statements, whatever the number of rooms, residents, entries,
tasks, rounds or outings (no query per row)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert

from shelter_app import timeutil
from shelter_app.extensions import db
from shelter_app.handovers import services
from shelter_app.handovers.models import HandoverEntry, Round, RoundCheck, Task
from shelter_app.shelters.models import Room
from tests import factories
from tests.beds.test_statement_count import counted
from tests.conftest import beds_of


def _populate(shelter, make_resident, make_user, *, residents: int, entries: int, tasks: int, outings: int,
              unread: int):
    """A shift of this size in shelter; returns a resident id and an entry id to open."""
    now = timeutil.utcnow()
    local = timeutil.to_local(now)
    times = [local - timedelta(minutes=10), local - timedelta(hours=4), local - timedelta(hours=8)]
    services.set_times(shelter, day_starts="07:00", night_starts="19:00", curfew="22:00",
                       rounds=", ".join(f"{t.hour:02d}:{t.minute:02d}" for t in times), actor=None,
                       at=now - timedelta(days=2))
    writers = [make_user("night"), make_user("trainer")]
    people = []
    for bed in beds_of(shelter)[:residents]:
        resident = make_resident(shelter_id=shelter.id)
        factories.check_in(bed, resident)
        people.append(resident)
    db.session.commit()
    for n in range(unread + 1):  # handed over and not read, and one that was read
        handover = services.open_handover(shelter, at=now)
        db.session.execute(insert(HandoverEntry), [
            {"handover_id": handover.id, "shelter_id": shelter.id, "kind": "resident", "resident_id": p.id,
             "occurred_at": now - timedelta(minutes=i), "text": f"Entry {i}", "action_taken": "",
             "author_id": writers[i % 2].id, "created_at": now} for i, p in enumerate(people[:entries // 2])])
        services.hand_over(shelter, f"Note {n}", handover.id, actor=writers[0], at=now)
        if n == 0:
            services.acknowledge(handover.id, actor=writers[1], at=now)
    writing = services.open_handover(shelter, at=now)
    db.session.execute(insert(HandoverEntry), [
        {"handover_id": writing.id, "shelter_id": shelter.id, "kind": "incident", "incident_kind": "health",
         "resident_id": people[i % len(people)].id, "occurred_at": now - timedelta(minutes=i), "text": f"Incident {i}",
         "action_taken": "Done", "author_id": writers[i % 2].id, "created_at": now} for i in range(entries)])
    first = db.session.scalar(db.select(HandoverEntry.id).where(HandoverEntry.handover_id == writing.id).limit(1))
    services.correct_entry(first, "A correction", "", actor=writers[1], at=now)
    db.session.execute(insert(Task), [
        {"shelter_id": shelter.id, "handover_id": writing.id, "text": f"Task {i}", "owner_id": writers[i % 2].id,
         "due_at": now + timedelta(hours=i - tasks // 2), "created_by_id": writers[0].id, "created_at": now}
        for i in range(tasks)])
    for i, resident in enumerate(people[:outings]):
        if i % 2:
            services.gone_without_notice(resident.id, "", actor=writers[0], at=now)
        else:
            services.go_out(resident.id, now + timedelta(hours=1), actor=writers[0], at=now - timedelta(minutes=5))
    rooms = db.session.scalars(db.select(Room.id).where(Room.shelter_id == shelter.id)).all()
    for due in services.round_moments(services.times_of(shelter.id), now - timedelta(days=1), now):
        round_id = db.session.execute(insert(Round).returning(Round.id), [
            {"shelter_id": shelter.id, "due_at": due, "started_at": due}]).scalar()
        db.session.execute(insert(RoundCheck), [
            {"round_id": round_id, "room_id": room, "status": "quiet", "note": "", "checked_at": due,
             "by_id": writers[0].id} for room in rooms])
    db.session.commit()
    return people[0].id, first


def _pages(shelter, resident_id: int, entry_id: int) -> list[str]:
    return [f"/board/{shelter.id}", f"/shift/{shelter.id}", f"/shift/{shelter.id}/rounds",
            f"/shift/{shelter.id}/presence", f"/shift/{shelter.id}/setup", f"/shift/{shelter.id}/print",
            f"/handovers/history?shelter_id={shelter.id}", f"/handovers/entries/{entry_id}",
            f"/residents/{resident_id}"]


def _statements(client, urls) -> list[int]:
    for url in urls:  # warm: the session's touch, and incidents raised on the first look
        assert client.get(url).status_code == 200, url
    found = []
    for url in urls:
        with counted() as sql:
            assert client.get(url).status_code == 200, url
        found.append(len(sql))
    return found


def test_shift_pages_run_a_fixed_number_of_statements(login_as, make_shelter, make_resident, make_user):
    manager = login_as("manager", locale="en")
    small = make_shelter(beds=4, beds_per_room=2, isolation_rooms=1)
    small_ids = _populate(small, make_resident, make_user, residents=2, entries=2, tasks=1, outings=2, unread=1)
    large = make_shelter(beds=60, beds_per_room=4, isolation_rooms=3)
    large_ids = _populate(large, make_resident, make_user, residents=40, entries=120, tasks=25, outings=10, unread=4)
    small_counts = _statements(manager, _pages(small, *small_ids))
    large_counts = _statements(manager, _pages(large, *large_ids))
    assert small_counts == large_counts, (small_counts, large_counts)
    # Each with the session's user, the audit of the read (the chain's last hash, the event), and its own
    # queries: board with banner and flags, shift page, round, presence, setup, printed day, history, entry,
    # resident page.
    limits = [22, 21, 11, 13, 6, 15, 15, 6, 8]
    assert all(n <= limit for n, limit in zip(large_counts, limits)), list(zip(large_counts, limits))
