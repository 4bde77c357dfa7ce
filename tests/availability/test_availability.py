"""Free beds and isolation rooms per shelter: what counts as free, and a fixed number of queries."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, insert, select

from shelter_app import timeutil
from shelter_app.availability.services import availability
from shelter_app.extensions import db
from shelter_app.beds import services as bed_services
from shelter_app.residents import services as residents
from tests import factories
from shelter_app.shelters.models import Bed, Room, Shelter
from tests.factories import make_shelter


def _resident(alias="Guest"):
    return residents.create_resident(residents.ResidentInput(alias=alias, sex="female"), actor=None,
                                     at=timeutil.utcnow())


def _by_code():
    return {a.code_name: a for a in availability(timeutil.utcnow())}


def test_free_beds_by_category_and_isolation_rooms(app):
    make_shelter(code_name="Alfa", beds={"woman": 3, "man": 1, "family": 1}, isolation_rooms=2)
    make_shelter(code_name="Beta", beds={"child_cot": 2})
    figures = _by_code()
    assert list(figures) == ["Alfa", "Beta"]
    assert figures["Alfa"].free_by_category == {"woman": 3, "man": 1, "child_cot": 0, "family": 1}
    assert figures["Alfa"].isolation_free == 2
    assert figures["Beta"].free_by_category == {"woman": 0, "man": 0, "child_cot": 2, "family": 0}
    assert figures["Beta"].isolation_free == 0
    assert figures["Beta"].free_total == 2


def test_occupied_held_and_out_of_service_beds_are_not_free(app, travel):
    shelter, beds = make_shelter(code_name="Alfa", beds={"woman": 4}, isolation_rooms=1)
    now = timeutil.utcnow()
    resident = _resident()
    factories.check_in(beds[0], resident, now=now)
    bed_services.place_hold(beds[1].id, now + timedelta(hours=2), "", actor=None, at=now)
    bed_services.set_out_of_service(beds[2].id, "broken frame", now + timedelta(hours=1), actor=None, at=now)
    iso = [r for r in shelter.rooms if r.is_isolation][0]
    factories.isolate(beds[0], iso, now=now)
    db.session.commit()
    figures = _by_code()["Alfa"]
    assert figures.free_by_category["woman"] == 1
    assert figures.isolation_free == 0

    # The hold runs out and the bed comes back in service by themselves.
    travel(hours=3)
    figures = _by_code()["Alfa"]
    assert figures.free_by_category["woman"] == 3
    assert figures.updated_at is not None and figures.updated_at > now + timedelta(minutes=59)


def test_a_released_hold_and_a_check_out_free_the_bed(app):
    _shelter, beds = make_shelter(code_name="Alfa", beds={"man": 2})
    now = timeutil.utcnow()
    resident = _resident()
    factories.check_in(beds[0], resident, now=now)
    bed_services.place_hold(beds[1].id, now + timedelta(hours=2), "", actor=None, at=now)
    db.session.commit()
    assert _by_code()["Alfa"].free_by_category["man"] == 0
    bed_services.release_hold(beds[1].id, actor=None, at=timeutil.utcnow())
    factories.check_out(beds[0])
    db.session.commit()
    assert _by_code()["Alfa"].free_by_category["man"] == 2


def test_last_updated_is_the_latest_change_in_that_shelter(app, travel):
    _a, a_beds = make_shelter(code_name="Alfa", beds={"woman": 2})
    make_shelter(code_name="Beta", beds={"woman": 2})
    before = _by_code()
    assert before["Alfa"].updated_at is not None
    travel(minutes=45)
    now = timeutil.utcnow()
    factories.check_in(a_beds[0], _resident(), at=now - timedelta(hours=2), now=now)
    db.session.commit()
    after = _by_code()
    # The check-in was recorded now (though back-dated): that is when the figure changed.
    assert abs(after["Alfa"].updated_at - now) < timedelta(seconds=1)
    assert after["Beta"].updated_at == before["Beta"].updated_at


def _seed_many(start: int, n_shelters: int) -> None:
    """n shelters with 4 beds and an isolation room each, inserted in bulk (fast)."""
    now = timeutil.utcnow()
    codes = [f"S{i:04d}" for i in range(start, start + n_shelters)]
    db.session.execute(insert(Shelter), [{"code_name": c, "name": f"Shelter {c}", "address": "", "created_at": now}
                                         for c in codes])
    ids = db.session.scalars(select(Shelter.id).where(Shelter.code_name.in_(codes))).all()
    db.session.execute(insert(Room), [{"shelter_id": sid, "name": "R", "kind": "regular"} for sid in ids]
                       + [{"shelter_id": sid, "name": "I", "kind": "isolation"} for sid in ids])
    rooms = db.session.scalars(select(Room.id).where(Room.shelter_id.in_(ids), Room.kind == "regular")).all()
    db.session.execute(insert(Bed), [{"room_id": room_id, "label": str(b), "category": c}
                                     for room_id in rooms for b, c in enumerate(("woman", "woman", "man", "family"))])
    db.session.commit()


def _statements(fn) -> int:
    seen = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith("BEGIN"):  # SQLite's own BEGIN IMMEDIATE
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(seen)


def test_availability_takes_the_same_number_of_statements_for_3_and_300_shelters(app):
    now = timeutil.utcnow
    db.session.commit()
    _seed_many(0, 3)
    result = []
    small = _statements(lambda: result.append(availability(now())))
    assert len(result[0]) == 3 and result[0][0].free_by_category["woman"] == 2
    _seed_many(3, 297)
    result.clear()
    large = _statements(lambda: result.append(availability(now())))
    assert len(result[0]) == 300 and all(a.isolation_free == 1 for a in result[0])
    assert small == large == 4, (small, large)
