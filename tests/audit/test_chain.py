"""The audit log's hash chain: intact after real actions, broken visibly by any change, never forked."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from shelter_app import timeutil
from shelter_app.audit import chain
from shelter_app.audit.models import AuditEvent
from shelter_app.audit.services import record
from shelter_app.extensions import db
from tests.conftest import beds_of


def _events():
    return db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()


def _verify(app, *args):
    db.session.commit()  # the command reads in its own transaction
    return app.test_cli_runner().invoke(args=["audit", "verify", *args])


@contextmanager
def as_owner_lifting_the_row_triggers():
    """What only the tables' owner can do: switch off the append-only triggers for one change."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change"))
        yield
        db.session.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_change"))
    else:  # as tests/conftest.py's _empty_database does
        triggers = db.session.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'")).all()
        for name, _sql in triggers:
            db.session.execute(text(f'DROP TRIGGER "{name}"'))
        yield
        for _name, sql in triggers:
            db.session.execute(text(sql))
    db.session.commit()


@pytest.fixture
def busy_log(login_as, make_shelter, make_resident):
    """A few real actions through HTTP: sign-in, board views, a check-in, a move, a resident page."""
    night = login_as("night", locale="en")
    shelter = make_shelter(beds=3)
    b1, _b2, b3 = beds_of(shelter)
    ala = make_resident("Ala")
    assert night.get(f"/board/{shelter.id}").status_code == 200
    assert night.post(f"/beds/{b1.id}/check-in", {"ci-resident_id": ala.id}).status_code == 303
    assert night.post(f"/beds/{b1.id}/move", {"m-to_bed_id": b3.id}, htmx=True).status_code == 200
    assert night.get(f"/residents/{ala.id}").status_code == 200
    assert night.get(f"/beds/{b3.id}", htmx=True).status_code == 200
    return night


def test_chain_is_intact_after_real_actions(app, busy_log):
    events = _events()
    actions = [e.action for e in events]
    assert {"auth.login", "board.view", "stay.check_in", "stay.move", "resident.view", "bed.view"} <= set(actions)
    assert events[0].prev_hash == chain.GENESIS
    for before, after in zip(events, events[1:]):
        assert after.prev_hash == before.hash
    for event in events:
        assert len(event.hash) == 64 and event.hash == chain.hash_of(event)
    assert chain.verify_chain(db.session).intact

    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert f"{len(events)} audit event(s), chain intact." in result.output
    assert f"Last event: {events[-1].id}:{events[-1].hash}" in result.output


def test_empty_log_verifies(app):
    result = _verify(app)
    assert result.exit_code == 0 and "0 audit event(s), chain intact." in result.output


def test_verify_names_the_row_the_owner_changed(app, busy_log):
    events = _events()
    victim = events[len(events) // 2]
    with as_owner_lifting_the_row_triggers():
        db.session.execute(update(AuditEvent.__table__).where(AuditEvent.__table__.c.id == victim.id)
                           .values(details={**victim.details, "forged": True}))
    result = _verify(app)
    assert result.exit_code == 1, result.output
    assert f"Audit log broken at event {victim.id}: its content does not match its hash" in result.output
    assert f"{events.index(victim)} event(s) before it are intact." in result.output


def test_verify_names_the_row_after_one_rewritten_with_its_hash(app, busy_log):
    """Changing an event and recomputing its own hash breaks the link to the next one."""
    events = _events()
    victim, following = events[2], events[3]
    forged = chain.event_hash(victim.prev_hash, at=victim.at, actor_id=victim.actor_id, action="auth.logout",
                              target_type=victim.target_type, target_id=victim.target_id, details=victim.details)
    with as_owner_lifting_the_row_triggers():
        db.session.execute(text("UPDATE audit_events SET action = 'auth.logout', hash = :h WHERE id = :id"),
                           {"h": forged, "id": victim.id})
    result = _verify(app)
    assert result.exit_code == 1
    assert f"Audit log broken at event {following.id}: prev_hash {following.prev_hash} is not the hash of " \
           f"event {victim.id} ({forged})" in result.output


def test_verify_names_the_row_after_a_deleted_one(app, busy_log):
    events = _events()
    with as_owner_lifting_the_row_triggers():
        db.session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": events[1].id})
    result = _verify(app)
    assert result.exit_code == 1 and f"broken at event {events[2].id}: prev_hash" in result.output


def test_a_rewritten_chain_is_caught_by_an_anchor(app, busy_log):
    """Without a secret, the owner can recompute every later hash; a hash noted elsewhere catches that."""
    events = _events()
    anchor = f"{events[-1].id}:{events[-1].hash}"
    assert _verify(app, "--anchor", anchor).exit_code == 0
    prev, table = events[0].hash, AuditEvent.__table__
    with as_owner_lifting_the_row_triggers():
        for event in events[1:]:
            details = {**event.details, "forged": True} if event is events[1] else event.details
            digest = chain.event_hash(prev, at=event.at, actor_id=event.actor_id, action=event.action,
                                      target_type=event.target_type, target_id=event.target_id, details=details)
            db.session.execute(update(table).where(table.c.id == event.id).values(
                details=details, prev_hash=prev, hash=digest))
            prev = digest
    assert _verify(app).exit_code == 0  # intact in itself
    result = _verify(app, "--anchor", anchor)
    assert result.exit_code == 1 and f"broken at event {events[-1].id}: its hash differs" in result.output
    bad = app.test_cli_runner().invoke(args=["audit", "verify", "--anchor", "12:abc"])
    assert bad.exit_code == 2 and "ID:HASH" in bad.output


def test_hashes_are_over_utc_iso_times_and_sorted_json():
    at = datetime(2026, 11, 25, 9, 30, 1, 5, tzinfo=timezone.utc)
    assert chain.utc_iso(at) == "2026-11-25T09:30:01.000005Z"
    assert chain.utc_iso(at.replace(tzinfo=None)) == chain.utc_iso(at.astimezone(timeutil.LOCAL_TZ))
    one = chain.event_hash(chain.GENESIS, at=at, actor_id=1, action="x", target_type=None, target_id=None,
                           details={"b": 1, "a": [1, "ż"]})
    other = chain.event_hash(chain.GENESIS, at=at.astimezone(timeutil.LOCAL_TZ), actor_id=1, action="x",
                             target_type=None, target_id=None, details={"a": [1, "ż"], "b": 1})
    assert one == other and len(one) == 64
    assert chain.plain_json({"t": (1, 2), 3: "x"}) == {"t": [1, 2], "3": "x"}


def test_details_come_back_as_hashed(make_user):
    """What the database gives back hashes as what was written (tuples, int keys, unicode, floats)."""
    user = make_user("night")
    record("test.details", actor=user, at=timeutil.utcnow(), target=user,
           ids=(3, 1, 2), mapping={7: "siedem", "ü": 0.1}, note="żółw\u202e", nothing=None)
    db.session.commit()
    db.session.expire_all()
    assert chain.verify_chain(db.session).intact


def test_an_event_goes_with_its_transaction(make_user):
    user = make_user("night")
    count = lambda: db.session.scalar(select(func.count()).select_from(AuditEvent))  # noqa: E731
    before = count()
    record("test.dropped", actor=user, at=timeutil.utcnow())
    db.session.rollback()
    assert count() == before
    record("test.kept", actor=user, at=timeutil.utcnow())
    try:
        with db.session.begin_nested():
            record("test.savepoint_rolled_back", actor=user, at=timeutil.utcnow())
            raise RuntimeError("refused")
    except RuntimeError:
        pass
    with db.session.begin_nested():
        record("test.savepoint_released", actor=user, at=timeutil.utcnow())
    db.session.commit()
    actions = [e.action for e in _events()][before:]
    assert actions == ["test.kept", "test.savepoint_released"]
    assert chain.verify_chain(db.session).intact


def test_record_fills_in_a_target_not_yet_flushed(make_user):
    from shelter_app.shelters.models import Shelter

    shelter = Shelter(code_name="Unflushed", name="House", address="", created_at=timeutil.utcnow())
    db.session.add(shelter)
    record("test.target", actor=None, at=timeutil.utcnow(), target=shelter)
    db.session.commit()
    event = _events()[-1]
    assert (event.target_type, event.target_id) == ("shelters", shelter.id)


def test_a_fork_is_refused_by_the_database(make_user):
    make_user("night")  # one event: user.create
    first = _events()[0]
    row = {"at": timeutil.utcnow(), "action": "forged", "details": {}, "prev_hash": first.prev_hash, "hash": "f" * 64}
    with pytest.raises(IntegrityError):
        db.session.execute(insert(AuditEvent), [row])
    db.session.rollback()


def test_concurrent_appends_leave_one_chain(app, make_user):
    """Writers on their own connections at once: every event is chained, none forks the chain."""
    user_id = make_user("night").id
    threads, per_thread = 6, 8
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def write(n: int) -> None:
        from shelter_app.db import write_intent

        try:
            with app.app_context():
                write_intent.set(True)  # as in a request: SQLite takes its write lock at BEGIN
                start.wait(timeout=30)
                for i in range(per_thread):
                    record("test.concurrent", actor=None, at=timeutil.utcnow(), writer=n, i=i, user_id=user_id)
                    db.session.commit()
                db.session.remove()
        except BaseException as exc:  # reported below, with the thread's own traceback
            failures.append(exc)

    workers = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert not failures, failures
    db.session.commit()
    check = chain.verify_chain(db.session)
    assert check.intact, check.problem
    assert check.count == 1 + threads * per_thread  # with user.create
    events = _events()
    assert len({e.prev_hash for e in events}) == len(events)
