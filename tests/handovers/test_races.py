"""Two people act at the same moment, through a real gunicorn server (4 worker processes).

Two incoming workers read one handover, two people mark one task done, two night workers tap one room
of a round, two people write the first entries of a shift (opening its handover), and one phone's
outbox sends the same entry on two connections at once. Each time both requests are sent from two
threads behind a barrier, each on its own connection; whatever the interleaving, the database ends
with one acknowledgement, one completion, one room record, one handover being written, one entry,
and every answer is a 200 or a 409 naming who was first (never a 5xx).
"""
from __future__ import annotations

import os
import threading
import uuid
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import text

from shelter_app import timeutil
from shelter_app.extensions import db
from shelter_app.handovers import services
from tests.beds.test_races import Browser, Prepared
from tests.gunicorn_server import gunicorn_server  # noqa: F401  (the fixture, used by name)

TRIALS = int(os.environ.get("RACE_TRIALS") or 3)
PASSWORD = "two taps at the same time"


def _at_once(prepared: list[Prepared]):
    """Send already-connected requests at the same moment; their answers, in order."""
    barrier = threading.Barrier(len(prepared))
    answers = [None] * len(prepared)

    def go(i):
        barrier.wait()
        answers[i] = prepared[i].send()

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(prepared))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    assert all(a is not None for a in answers), "both requests were answered"
    return answers


def _as_outbox(request: Prepared, key: str | None = None) -> Prepared:
    """The request as the phone's outbox sends it: JSON wanted, not htmx, with an Idempotency-Key."""
    request.headers.pop("HX-Request", None)
    request.headers.update({"Accept": "application/json", "Idempotency-Key": key or str(uuid.uuid4())})
    return request


def _fresh() -> None:
    """The test's own writes start from a new snapshot: on SQLite a stale read transaction cannot write."""
    db.session.rollback()


def _count(sql: str, **params) -> int:
    db.session.rollback()  # a fresh snapshot: the server wrote meanwhile
    return db.session.execute(text(sql), params).scalar()


@pytest.fixture
def people(gunicorn_server, house, make_user):
    """Two night workers and a trainer signed in to the server, on their own devices."""
    users = [make_user("night", password=PASSWORD, display_name=f"Worker {n}", locale="en") for n in "AB"]
    writer = make_user("trainer", password=PASSWORD, display_name="Writer", locale="en")
    browsers = []
    for user in users:
        browser = Browser(gunicorn_server, user.username)
        browser.sign_in(user.username, PASSWORD)
        browsers.append(browser)
    return users, browsers, writer


def _loser(answers) -> str:
    statuses = sorted(a.status for a in answers)
    assert statuses == [200, 409], [(a.status, a.body[-400:]) for a in answers]
    return next(a for a in answers if a.status == 409).body


def test_two_incoming_workers_read_one_handover_at_once(house, people):
    users, browsers, writer = people
    for trial in range(TRIALS):
        _fresh()
        handover = services.hand_over(house.shelter, f"Note {trial}", None, actor=writer, at=timeutil.utcnow())
        db.session.commit()
        answers = _at_once([b.prepare("POST", f"/handovers/{handover.id}/acknowledge") for b in browsers])
        assert "read this handover at" in _loser(answers)
        assert _count("SELECT count(*) FROM handovers WHERE id = :h AND acknowledged_at IS NOT NULL",
                      h=handover.id) == 1
        assert _count("SELECT count(*) FROM audit_events WHERE action = 'handover.acknowledge' AND target_id = :h",
                      h=handover.id) == 1


def test_two_people_mark_one_task_done_at_once(house, people):
    users, browsers, writer = people
    for trial in range(TRIALS):
        _fresh()
        now = timeutil.utcnow()
        task = services.add_task(house.shelter, f"Task {trial}", users[0].id, now + timedelta(hours=1),
                                 actor=writer, at=now)
        db.session.commit()
        answers = _at_once([b.prepare("POST", f"/handovers/tasks/{task.id}/done") for b in browsers])
        assert "marked this task done" in _loser(answers)
        assert _count("SELECT count(*) FROM audit_events WHERE action = 'task.done' AND target_id = :t",
                      t=task.id) == 1
        assert _count("SELECT count(*) FROM tasks WHERE id = :t AND done_by_id IS NOT NULL", t=task.id) == 1


def test_two_night_workers_tap_one_room_at_once(house, people):
    users, browsers, _writer = people
    _fresh()
    local = timeutil.to_local(timeutil.utcnow())
    services.set_times(house.shelter, day_starts="07:00", night_starts="19:00", curfew="22:00",
                       rounds=f"{local.hour:02d}:{local.minute:02d}", actor=None,
                       at=timeutil.utcnow() - timedelta(days=1))
    db.session.commit()
    due = services.epoch_minutes(services.current_round_time(services.times_of(house.shelter.id),
                                                             timeutil.utcnow()))
    for room in house.rooms[:TRIALS]:
        data = {f"r{room.id}-due": due, f"r{room.id}-status": "quiet"}
        answers = _at_once([_as_outbox(b.prepare("POST", f"/handovers/rooms/{room.id}/round", data))
                            for b in browsers])
        assert "was recorded at" in _loser(answers)
        assert _count("SELECT count(*) FROM round_checks WHERE room_id = :r", r=room.id) == 1
    assert _count("SELECT count(*) FROM rounds") == 1


def test_two_first_entries_of_a_shift_open_one_handover(house, people):
    users, browsers, _writer = people
    for trial in range(TRIALS):
        if trial:
            _fresh()
            services.hand_over(house.shelter, "Closed", None, actor=users[0], at=timeutil.utcnow())
            db.session.commit()
        answers = _at_once([b.prepare("POST", f"/shift/{house.shelter.id}/entries", {
            "e-resident_id": house.residents[i].id, "e-text": f"Trial {trial} by {i}"})
            for i, b in enumerate(browsers)])
        # Saved, each: for htmx a 204 that sends the browser to the shift page.
        assert [a.status for a in answers] == [204, 204], [(a.status, a.body[-300:]) for a in answers]
        assert _count("SELECT count(*) FROM handovers WHERE handed_over_at IS NULL") == 1
        assert _count("SELECT count(DISTINCT handover_id) FROM handover_entries WHERE text LIKE :t",
                      t=f"Trial {trial} by %") == 1


def test_one_outbox_entry_sent_on_two_connections_at_once_is_stored_once(house, people):
    users, browsers, _writer = people
    phone = browsers[0]
    for trial in range(TRIALS):
        key = str(uuid.uuid4())
        body = urlencode({"i-incident_kind": "health", "i-text": f"Fever, trial {trial}",
                          "form_token": key}).encode()
        prepared = []
        for _ in range(2):
            request = _as_outbox(phone.prepare("POST", f"/shift/{house.shelter.id}/incidents"), key)
            request.body = body
            prepared.append(request)
        answers = _at_once(prepared)
        assert [a.status for a in answers] == [200, 200], [(a.status, a.body[-300:]) for a in answers]
        assert answers[0].body == answers[1].body
        assert _count("SELECT count(*) FROM handover_entries WHERE client_key = :k", k=key) == 1
