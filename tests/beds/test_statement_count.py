"""The bed board and the resident page run a fixed number of SQL statements, whatever the size."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, insert

from shelter_app import timeutil
from shelter_app.extensions import db
from shelter_app.beds import services as beds
from shelter_app.beds.models import Isolation, Stay
from tests.conftest import beds_of, rooms_of


@contextmanager
def counted():
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def _populate(shelter, make_resident, *, years: int, stays_per_bed_per_year: int):
    """Every bed occupied now, with a long closed history before that; a few isolations."""
    beds_list = beds_of(shelter)
    now = timeutil.utcnow()
    people = [make_resident(f"P{i}").id for i in range(len(beds_list))]
    history, per_bed = [], years * stays_per_bed_per_year
    span = timedelta(days=365 * years) / per_bed
    start = now - timedelta(days=365 * years) - timedelta(days=1)
    for bi, bed in enumerate(beds_list):
        for k in range(per_bed):
            begin = start + span * k
            history.append({"resident_id": people[(bi + k) % len(people)] if k else people[bi],
                            "bed_id": bed.id, "started_at": begin, "ended_at": begin + span / 2,
                            "end_reason": "checked_out", "checkout_reason": "other"})
    # a resident may not be in two beds at once, even in the past: shift so each resident's periods differ
    for row in history:
        row["started_at"] += timedelta(seconds=row["bed_id"])
        row["ended_at"] += timedelta(seconds=row["bed_id"])
    seen = set()
    unique = []
    for row in history:
        key = (row["resident_id"], row["started_at"])
        if key not in seen:
            seen.add(key)
            unique.append(row)
    db.session.execute(insert(Stay), unique)
    db.session.commit()
    beds_by_resident = {}
    for bed, rid in zip(beds_list, people):
        beds_by_resident[rid] = bed.id
        beds.check_in(bed.id, beds.CheckIn(resident_id=rid), actor=None, now=now)
    iso = rooms_of(shelter)
    if iso:
        db.session.execute(insert(Isolation), [{
            "resident_id": people[0], "room_id": iso[0].id, "reason": "health", "note": "",
            "started_at": start + timedelta(days=i * 3), "expected_end_at": start + timedelta(days=i * 3 + 2),
            "ended_at": start + timedelta(days=i * 3 + 1)} for i in range(years * 10)])
        beds.isolate(beds_by_resident[people[1]], str(iso[0].id), "safety", "", now + timedelta(days=1),
                     actor=None, now=now)
    db.session.commit()
    return people


def _board_and_resident_statements(client, shelter, resident_id):
    client.get(f"/board/{shelter.id}")  # warm: session touch and caches happen here
    client.get(f"/residents/{resident_id}")
    with counted() as board_sql:
        assert client.get(f"/board/{shelter.id}").status_code == 200
    with counted() as resident_sql:
        assert client.get(f"/residents/{resident_id}").status_code == 200
    return len(board_sql), len(resident_sql)


def test_statement_count_does_not_grow_with_beds_or_history(login_as, make_shelter, make_resident):
    manager = login_as("manager", locale="en")
    small = make_shelter(beds=10, isolation_rooms=1, beds_per_room=5)
    small_people = _populate(small, make_resident, years=1, stays_per_bed_per_year=1)
    large = make_shelter(beds=300, isolation_rooms=3, beds_per_room=6)
    large_people = _populate(large, make_resident, years=3, stays_per_bed_per_year=12)

    small_counts = _board_and_resident_statements(manager, small, small_people[0])
    large_counts = _board_and_resident_statements(manager, large, large_people[0])
    assert small_counts == large_counts, (small_counts, large_counts)
    board_sql, resident_sql = large_counts
    # with its undo list, the audit of the read (the chain's last hash read, then the event appended), and the
    # handover banner with its flags (times, open outings, unread handovers, overdue tasks: four queries)
    assert board_sql <= 21 and resident_sql <= 12, large_counts
