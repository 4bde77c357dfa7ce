"""Fifty people tap "check in" on the same bed at once: one stay, forty-nine clear answers; and an interleaving
the gunicorn race test met, replayed in one process."""
from __future__ import annotations

import contextvars
import threading
from datetime import timedelta

from sqlalchemy import func, select

from shelter_app import timeutil
from shelter_app.beds import services as beds
from shelter_app.beds.models import Stay
from shelter_app.extensions import db
from tests import factories
from tests.conftest import beds_of

N = 50


def test_fifty_concurrent_check_ins_for_one_bed(app, login_as, make_shelter, make_resident):
    night = login_as("night", locale="en")
    bed = beds_of(make_shelter(beds=1))[0]
    resident_ids = [make_resident(f"R{i}").id for i in range(N)]
    cookie = night.raw.get_cookie("shelter_session").value
    token = night.csrf
    url = f"/beds/{bed.id}/check-in"
    db.session.commit()

    barrier = threading.Barrier(N)
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def tap(resident_id: int):
        client = app.test_client()
        client.set_cookie("shelter_session", cookie)
        barrier.wait()
        response = contextvars.Context().run(
            client.post, url,
            data={"ci-resident_id": str(resident_id), "csrf_token": token}, headers={"HX-Request": "true"})
        with lock:
            results.append((response.status_code, response.get_data(as_text=True)))

    threads = [threading.Thread(target=tap, args=(rid,)) for rid in resident_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    statuses = sorted(status for status, _ in results)
    assert len(results) == N
    assert statuses.count(200) == 1, statuses
    assert statuses.count(409) == N - 1, statuses
    assert all("This bed is already taken." in body for status, body in results if status == 409)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Stay.id))) == 1


def test_a_check_in_that_waited_for_a_check_out_is_dated_after_it(make_shelter, make_resident):
    """The interleaving the race test met on PostgreSQL: a check-in's request began, a check-out of the bed
    committed a moment later while the check-in waited for the bed's lock, then the check-in went ahead."""
    bed = beds_of(make_shelter(beds=1))[0]
    ala, ola = make_resident("Ala"), make_resident("Ola")
    factories.check_in(bed, ala, now=timeutil.utcnow() - timedelta(hours=1))
    began = timeutil.utcnow()
    ended = factories.check_out(bed, now=began + timedelta(milliseconds=5)).ended_at
    db.session.commit()
    stay = beds.check_in(bed.id, beds.CheckIn(resident_id=ola.id), actor=None, now=began)  # not refused
    db.session.commit()
    assert (stay.resident_id, stay.started_at) == (ola.id, ended)
