"""Two staff accept two referrals for the last free bed at the same moment: one bed, one hold, one clear no."""
from __future__ import annotations

import threading

from sqlalchemy import select

from shelter_app.extensions import db
from shelter_app.referrals.models import Referral
from shelter_app.beds import services as bed_services
from shelter_app.beds.models import Hold
from tests.factories import make_shelter


def test_two_acceptances_for_the_last_free_bed(app, login_as, send_referral, monkeypatch):
    shelter, [bed] = make_shelter(beds={"woman": 1})
    shelter_id, code_name, bed_id = shelter.id, shelter.code_name, bed.id  # plain values: the threads must not touch this session
    cm = login_as("casemanager", organisation="NGO One")
    ids = [send_referral(cm, code=f"RACE-{i}", shelter=code_name) for i in range(2)]
    staff = [login_as("night", locale="en"), login_as("manager", locale="en")]
    for client in staff:
        client.get(f"/board/{shelter_id}")  # the CSRF token, as a browser has it

    # Both requests read the free bed before either locks it (where the database lets them run side by
    # side): the second must then find it taken under the lock. SQLite serialises the writers instead.
    side_by_side = db.engine.dialect.name == "postgresql"
    rendezvous = threading.Barrier(2, timeout=5 if side_by_side else 0.2)
    original_lock = bed_services.lock

    def lock(*, beds=(), rooms=(), **kw):
        if beds and threading.current_thread() is not threading.main_thread():
            try:
                rendezvous.wait()
            except threading.BrokenBarrierError:
                pass
        return original_lock(beds=beds, rooms=rooms, **kw)

    monkeypatch.setattr(bed_services, "lock", lock)
    start = threading.Barrier(2)
    responses = [None, None]

    def accept(i):
        with app.app_context():
            start.wait()
            responses[i] = staff[i].post(f"/referrals/{ids[i]}/accept",
                                         {f"accept{ids[i]}-shelter_id": shelter_id}, htmx=True)

    threads = [threading.Thread(target=accept, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(r is not None for r in responses), "both requests finished"

    if side_by_side:
        assert not rendezvous.broken, "both requests had read the free bed before either locked it"
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409], [r.get_data(as_text=True)[-500:] for r in responses]
    loser = next(r for r in responses if r.status_code == 409)
    assert "No bed free any more" in loser.get_data(as_text=True)

    db.session.expire_all()
    holds = db.session.scalars(select(Hold).where(Hold.released_at.is_(None))).all()
    assert len(holds) == 1 and holds[0].bed_id == bed_id
    referrals = {r.id: r.status for r in db.session.scalars(select(Referral))}
    assert sorted(referrals.values()) == ["accepted", "pending"]
    assert referrals[holds[0].referral_id] == "accepted"
