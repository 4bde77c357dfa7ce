"""0005_audit_chain chains the events written before it, with the same hash the app computes."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from sqlalchemy import select

from shelter_app import timeutil
from shelter_app.audit import chain
from shelter_app.audit.models import AuditEvent
from shelter_app.audit.services import record
from shelter_app.extensions import db


def test_migration_chains_the_events_already_written(app, make_user):
    user_id = make_user("manager").id  # its user.create event is one of the rows already written
    db.session.remove()
    downgrade(revision="0004_form_submissions")
    db.engine.dispose()
    assert "hash" not in {c["name"] for c in sa.inspect(db.engine).get_columns("audit_events")}
    legacy = sa.table("audit_events", sa.column("at", sa.DateTime(timezone=True)), sa.column("actor_id", sa.Integer()),
                      sa.column("action", sa.String()), sa.column("target_type", sa.String()),
                      sa.column("target_id", sa.Integer()), sa.column("details", sa.JSON()))
    start = datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=timezone.utc)  # around a change to summer time
    with db.engine.begin() as conn:
        conn.execute(sa.insert(legacy), [
            {"at": start + timedelta(seconds=i), "actor_id": user_id if i % 2 else None, "action": f"old.{i}",
             "target_type": "users" if i % 3 == 0 else None, "target_id": user_id if i % 3 == 0 else None,
             "details": {"i": i, "note": "żółw", "ids": [3, 1], "z": {"b": None, "a": 0.5}}}
            for i in range(5)])
    upgrade()
    db.engine.dispose()

    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["user.create"] + [f"old.{i}" for i in range(5)]
    assert events[0].prev_hash == chain.GENESIS
    for before, after in zip(events, events[1:]):
        assert after.prev_hash == before.hash
    assert all(e.hash == chain.hash_of(e) for e in events)  # the migration's frozen copy agrees with the app
    record("new.after_migration", actor=None, at=timeutil.utcnow(), user_id=user_id)
    db.session.commit()
    check = chain.verify_chain(db.session)
    assert check.intact and check.count == 7
