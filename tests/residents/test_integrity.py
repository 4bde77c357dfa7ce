"""What the database itself refuses, whatever the Python code does."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from shelter_app import timeutil
from shelter_app.extensions import db
from tests import factories
from tests.conftest import beds_of, rooms_of


def _insert(table: str, **values):
    columns = ", ".join(values)
    params = ", ".join(f":{k}" for k in values)
    db.session.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({params})"), values)
    db.session.flush()


def _ts(dt):
    # what the ORM would store: naive UTC on SQLite, aware on PostgreSQL
    return dt.replace(tzinfo=None) if db.engine.dialect.name == "sqlite" else dt


@pytest.fixture
def setup(make_shelter, make_resident):
    shelter = make_shelter(beds=2, isolation_rooms=1)
    return shelter, beds_of(shelter), rooms_of(shelter)[0], make_resident("Ala"), make_resident("Ola")


def _refused(**stay):
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            _insert("stays", **stay)


def test_second_open_stay_in_one_bed_is_refused(setup):
    _shelter, (b1, _b2), _iso, ala, ola = setup
    now = timeutil.utcnow()
    _insert("stays", resident_id=ala.id, bed_id=b1.id, started_at=_ts(now))
    _refused(resident_id=ola.id, bed_id=b1.id, started_at=_ts(now + timedelta(hours=1)))


def test_second_open_stay_for_one_resident_is_refused(setup):
    _shelter, (b1, b2), _iso, ala, _ola = setup
    now = timeutil.utcnow()
    _insert("stays", resident_id=ala.id, bed_id=b1.id, started_at=_ts(now))
    _refused(resident_id=ala.id, bed_id=b2.id, started_at=_ts(now + timedelta(hours=1)))


def test_overlapping_closed_history_is_refused(setup):
    _shelter, (b1, _b2), _iso, ala, ola = setup
    t0 = timeutil.utcnow() - timedelta(days=10)
    _insert("stays", resident_id=ala.id, bed_id=b1.id, started_at=_ts(t0), ended_at=_ts(t0 + timedelta(days=5)),
            end_reason="checked_out")
    # another resident in the same bed during that period: both closed, so no partial index helps
    _refused(resident_id=ola.id, bed_id=b1.id, started_at=_ts(t0 + timedelta(days=2)),
             ended_at=_ts(t0 + timedelta(days=3)), end_reason="checked_out")
    # touching periods are fine: one ends when the next begins
    _insert("stays", resident_id=ola.id, bed_id=b1.id, started_at=_ts(t0 + timedelta(days=5)),
            ended_at=_ts(t0 + timedelta(days=6)), end_reason="checked_out")


def test_updating_a_stay_into_an_overlap_is_refused(setup):
    _shelter, (b1, _b2), _iso, ala, ola = setup
    t0 = timeutil.utcnow() - timedelta(days=10)
    _insert("stays", resident_id=ala.id, bed_id=b1.id, started_at=_ts(t0), ended_at=_ts(t0 + timedelta(days=1)),
            end_reason="checked_out")
    _insert("stays", resident_id=ola.id, bed_id=b1.id, started_at=_ts(t0 + timedelta(days=2)),
            ended_at=_ts(t0 + timedelta(days=3)), end_reason="checked_out")
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.execute(text("UPDATE stays SET ended_at = :e WHERE resident_id = :r"),
                               {"e": _ts(t0 + timedelta(days=4)), "r": ala.id})
            db.session.flush()


def test_second_resident_in_an_isolation_room_is_refused(setup):
    _shelter, _beds, iso, ala, ola = setup
    now = timeutil.utcnow()
    _insert("isolations", resident_id=ala.id, room_id=iso.id, reason="health", note="", started_at=_ts(now),
            expected_end_at=_ts(now + timedelta(days=1)))
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            _insert("isolations", resident_id=ola.id, room_id=iso.id, reason="health", note="",
                    started_at=_ts(now + timedelta(minutes=1)), expected_end_at=_ts(now + timedelta(days=1)))


def test_check_constraints(setup):
    _shelter, (b1, _b2), _iso, ala, _ola = setup
    now = timeutil.utcnow()
    # ends before it starts
    _refused(resident_id=ala.id, bed_id=b1.id, started_at=_ts(now), ended_at=_ts(now - timedelta(hours=1)),
             end_reason="checked_out")
    # ended without a reason
    _refused(resident_id=ala.id, bed_id=b1.id, started_at=_ts(now), ended_at=_ts(now + timedelta(hours=1)))
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.execute(text("UPDATE beds SET category = 'sofa' WHERE id = :id"), {"id": b1.id})


def test_service_maps_a_database_refusal_to_a_clear_conflict(setup):
    """Even if the Python check were skipped, the person reads a sentence, not a 500."""
    from shelter_app.errors import Conflict

    _shelter, (b1, _b2), _iso, ala, ola = setup
    now = timeutil.utcnow()
    factories.check_in(b1, ala, actor=None, at=now, now=now)
    db.session.commit()
    with force_locale("en"), pytest.raises(Conflict, match="already taken"):
        factories.check_in(b1, ola, actor=None, at=now, now=now)


def test_backdated_check_in_overlapping_history_is_refused(setup):
    from shelter_app.errors import DomainError

    _shelter, (b1, _b2), _iso, ala, ola = setup
    now = timeutil.utcnow()
    factories.check_in(b1, ala, actor=None, at=now - timedelta(days=3), now=now)
    factories.check_out(b1, reason="left", now=now - timedelta(days=1))
    db.session.commit()
    # The service says so before the database would (its overlap guard is tested above, in SQL).
    with force_locale("en"), pytest.raises(DomainError, match="still taken then") as refused:
        factories.check_in(b1, ola, actor=None, at=now - timedelta(days=2), now=now)
    assert refused.value.field == "at"
    db.session.rollback()
    with force_locale("en"), pytest.raises(DomainError, match="future"):
        factories.check_in(b1, ola, actor=None, at=now + timedelta(hours=2), now=now)
