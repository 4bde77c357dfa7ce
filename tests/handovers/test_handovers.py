"""The handover: entries, incidents and tasks; handing over and reading it; what can no longer change."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from shelter_app import timeutil
from shelter_app.audit.models import AuditEvent
from shelter_app.errors import Conflict, DomainError, Forbidden
from shelter_app.extensions import db
from shelter_app.handovers import services
from shelter_app.handovers.models import Handover, HandoverEntry, Task
from shelter_app.timeutil import local_input_value
from tests.handovers.conftest import json_post


def _entries():
    return db.session.scalars(select(HandoverEntry).order_by(HandoverEntry.id)).all()


def test_the_outgoing_shift_writes_and_the_incoming_reads(app, house, login_as):
    night = login_as("night", locale="en", display_name="Nora Night")
    day = login_as("trainer", locale="en", display_name="Dana Day")
    ala, basia = house.residents[0], house.residents[1]
    sid = house.shelter.id
    assert night.post(f"/shift/{sid}/entries", {"e-resident_id": ala.id, "e-text": "Slept badly, talk to her"}
                      ).status_code == 303
    assert night.post(f"/shift/{sid}/incidents", {
        "i-incident_kind": "safety", "i-resident_id": basia.id, "i-text": "A man asked for Basia at the gate",
        "i-action_taken": "Did not open; police informed", "i-occurred_at": local_input_value(
            timeutil.utcnow() - timedelta(hours=1))}).status_code == 303
    owner = day.user
    due = local_input_value(timeutil.utcnow() + timedelta(hours=5))
    assert night.post(f"/shift/{sid}/tasks", {"t-text": "Call the clinic about Ala", "t-owner_id": owner.id,
                                              "t-due_at": due}).status_code == 303
    page = night.get(f"/shift/{sid}").get_data(as_text=True)
    assert "Slept badly, talk to her" in page and "A man asked for Basia at the gate" in page
    handover = db.session.scalar(select(Handover))
    assert handover.handed_over_at is None and handover.shift_kind in ("day", "night")
    response = night.post(f"/shift/{sid}/hand-over", {"h-note": "Quiet apart from the gate.",
                                                      "h-handover_id": handover.id})
    assert response.status_code == 303
    db.session.refresh(handover)
    assert handover.handed_over_by_id == night.user.id and handover.note == "Quiet apart from the gate."

    # The incoming person opens the app: the handover, not the board.
    start = day.get("/")
    assert start.status_code == 302 and start.headers["Location"].endswith(f"/shift/{sid}")
    html = day.get(f"/shift/{sid}").get_data(as_text=True)
    assert "Handover to read" in html and "Quiet apart from the gate." in html and "Call the clinic about Ala" in html
    # The author has nothing to read; told it waits for the next shift.
    assert night.get("/").headers["Location"].endswith(f"/board/{sid}")
    assert "waits to be read by the next shift" in night.get(f"/shift/{sid}").get_data(as_text=True)
    # It stays on top of the board until read.
    board = day.get(f"/board/{sid}").get_data(as_text=True)
    assert "Handover to read" in board
    response = day.post(f"/handovers/{handover.id}/acknowledge", {}, htmx=True)
    assert response.status_code == 200 and "You have read the handover." in response.get_data(as_text=True)
    db.session.refresh(handover)
    assert handover.acknowledged_by_id == day.user.id
    assert day.get("/").headers["Location"].endswith(f"/board/{sid}")
    assert "Handover to read" not in day.get(f"/board/{sid}").get_data(as_text=True)
    assert "Last handover: Nora Night" in day.get(f"/shift/{sid}").get_data(as_text=True)
    # A second reader is told who read it.
    again = login_as("night", locale="en").post(f"/handovers/{handover.id}/acknowledge", {}, htmx=True)
    assert again.status_code == 409 and "Dana Day read this handover" in again.get_data(as_text=True)
    actions = db.session.scalars(select(AuditEvent.action)).all()
    for action in ("handover.entry", "task.create", "handover.hand_over", "handover.acknowledge", "shift.view"):
        assert action in actions


def test_nobody_acknowledges_their_own_handover(house, make_user):
    night = make_user("night")
    now = timeutil.utcnow()
    handover = services.hand_over(house.shelter, "Note", None, actor=night, at=now)
    db.session.commit()
    with pytest.raises(Forbidden):
        services.acknowledge(handover.id, actor=night, at=now)
    db.session.rollback()
    # The database holds to it too.
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE handovers SET acknowledged_at = handed_over_at, "
                                "acknowledged_by_id = handed_over_by_id"))
    db.session.rollback()


def test_handing_over_twice_at_once_is_told(house, make_user):
    first, second = make_user("night", display_name="First"), make_user("night", display_name="Second")
    now = timeutil.utcnow()
    entry = services.add_entry(house.shelter, services.EntryInput(kind="resident", text="x",
                                                                  resident_id=house.residents[0].id),
                               actor=first, at=now)
    open_id = entry.handover_id
    services.hand_over(house.shelter, "Mine", open_id, actor=first, at=now)
    db.session.commit()
    with pytest.raises(Conflict, match=r"\(First\)"):
        services.hand_over(house.shelter, "Also mine", open_id, actor=second, at=now)
    db.session.rollback()
    with pytest.raises(DomainError) as refused:
        services.hand_over(house.shelter, "  ", None, actor=second, at=now)
    assert refused.value.field == "note"


def test_an_unread_handover_is_flagged_for_the_manager_after_30_minutes(app, house, login_as, travel):
    night = login_as("night", locale="en", display_name="Nora Night")
    manager = login_as("manager", locale="en")
    night.post(f"/shift/{house.shelter.id}/hand-over", {"h-note": "All calm."})
    travel(minutes=29)
    assert "has not been read for more than 30 minutes" not in manager.get(f"/shift/{house.shelter.id}"
                                                                            ).get_data(as_text=True)
    travel(minutes=2)
    for url in (f"/shift/{house.shelter.id}", f"/board/{house.shelter.id}"):
        html = manager.get(url).get_data(as_text=True)
        assert "The handover of Nora Night" in html and "has not been read for more than 30 minutes" in html, url
    found = services.flags(house.shelter, timeutil.utcnow())
    flag = next(f for f in found if f.kind == "unacknowledged")
    # The manager on call: nobody on the rota, so the shelter's managers.
    assert [u.id for u in services.flag_recipients(house.shelter, flag, timeutil.utcnow())] == [manager.user.id]
    # Night staff see it on top to read, not as the manager's flag.
    trainer = login_as("trainer", locale="en")
    html = trainer.get(f"/board/{house.shelter.id}").get_data(as_text=True)
    assert "Handover to read" in html and "has not been read for more than 30 minutes" not in html


def test_tasks_carry_over_until_done(app, house, login_as, make_user):
    night = login_as("night", locale="en")
    owner = make_user("trainer", display_name="Tina")
    now = timeutil.utcnow()
    task = services.add_task(house.shelter, "Buy a bus ticket for Cyra", owner.id, now + timedelta(hours=30),
                             actor=night.user, at=now)
    db.session.commit()
    for note in ("First", "Second"):
        services.hand_over(house.shelter, note, None, actor=night.user, at=timeutil.utcnow())
        db.session.commit()
    assert "Buy a bus ticket for Cyra" in night.get(f"/shift/{house.shelter.id}").get_data(as_text=True)
    response = night.post(f"/handovers/tasks/{task.id}/done", {}, htmx=True)
    assert response.status_code == 200 and "Done: Buy a bus ticket for Cyra" in response.get_data(as_text=True)
    assert "Buy a bus ticket for Cyra" not in night.get(f"/shift/{house.shelter.id}").get_data(as_text=True)
    second = login_as("manager", locale="en").post(f"/handovers/tasks/{task.id}/done", {}, htmx=True)
    assert second.status_code == 409 and "marked this task done" in second.get_data(as_text=True)
    db.session.refresh(task)
    assert task.done_by_id == night.user.id


def test_a_task_needs_an_owner_of_the_shelter_and_a_due_time(house, make_user, make_shelter):
    night = make_user("night")
    elsewhere = make_user("night", shelters=[make_shelter(beds=1)])
    now = timeutil.utcnow()
    for owner, due, field in [(elsewhere.id, now + timedelta(hours=1), "owner_id"), (night.id, None, "due_at"),
                              (night.id, now - timedelta(hours=1), "due_at"),
                              (night.id, now + timedelta(days=61), "due_at")]:
        with pytest.raises(DomainError) as refused:
            services.add_task(house.shelter, "Something", owner, due, actor=night, at=now)
        assert refused.value.field == field
        db.session.rollback()


def test_an_overdue_task_is_flagged_to_the_staff(app, house, login_as, travel):
    night = login_as("night", locale="en")
    services.add_task(house.shelter, "Check the fire door", night.user.id, timeutil.utcnow() + timedelta(hours=1),
                      actor=night.user, at=timeutil.utcnow())
    db.session.commit()
    travel(hours=2)
    night.login(night.user.username)
    assert "Check the fire door" in night.get(f"/board/{house.shelter.id}").get_data(as_text=True)


def test_entries_are_about_a_current_resident_and_times_are_checked(house, make_user, make_resident,
                                                                    make_shelter):
    night = make_user("night")
    now = timeutil.utcnow()
    elsewhere = make_resident("Outsider", shelter_id=make_shelter(beds=1).id)
    cases = [
        (services.EntryInput(kind="resident", text="x", resident_id=None), "resident_id"),
        (services.EntryInput(kind="resident", text="x", resident_id=elsewhere.id), "resident_id"),
        (services.EntryInput(kind="resident", text="  ", resident_id=house.residents[0].id), "text"),
        (services.EntryInput(kind="incident", incident_kind="fire", text="x"), "incident_kind"),
        (services.EntryInput(kind="incident", incident_kind="health", text="x",
                             occurred_at=now + timedelta(hours=1)), "occurred_at"),
        (services.EntryInput(kind="incident", incident_kind="health", text="x",
                             occurred_at=now - timedelta(days=3)), "occurred_at"),
        (services.EntryInput(kind="gossip", text="x"), "kind"),
    ]
    for data, field in cases:
        with pytest.raises(DomainError) as refused:
            services.add_entry(house.shelter, data, actor=night, at=now)
        assert refused.value.field == field, data
        db.session.rollback()
    # The database refuses what the service would never write.
    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            handover = services.open_handover(house.shelter, at=now)
            db.session.add(HandoverEntry(handover_id=handover.id, shelter_id=house.shelter.id, kind="incident",
                                         incident_kind=None, occurred_at=now, text="x", action_taken="",
                                         author_id=night.id, created_at=now))
            db.session.flush()
    db.session.rollback()


def test_the_same_entry_posted_three_times_is_one_row_with_the_same_answer(app, house, login_as):
    night = login_as("night", locale="en")
    data = {"i-incident_kind": "conflict", "i-text": "Shouting in room 2", "i-action_taken": "Talked them down"}
    answers = [json_post(night, f"/shift/{house.shelter.id}/incidents", data, "key-123") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    bodies = [a.get_json() for a in answers]
    assert bodies[0] == bodies[1] == bodies[2]
    assert bodies[0]["ok"] is True and bodies[0]["message"] == "Incident recorded in the handover."
    entries = _entries()
    assert len(entries) == 1 and entries[0].client_key == "key-123" and entries[0].author_id == night.user.id
    assert bodies[0]["location"].endswith(f"#entry-{entries[0].id}")
    # A plain form sent twice (a double tap): once as well.
    form = {"e-resident_id": house.residents[0].id, "e-text": "Asked for an extra blanket", "form_token": "tap-1"}
    first, second = (night.post(f"/shift/{house.shelter.id}/entries", form) for _ in range(2))
    assert first.status_code == second.status_code == 303 and first.headers["Location"] == second.headers["Location"]
    assert len(_entries()) == 2
    # Another key is another entry.
    assert json_post(night, f"/shift/{house.shelter.id}/incidents", data, "key-124").status_code == 200
    assert len(_entries()) == 3


def test_the_database_stores_an_entry_once_per_author_and_client_key(house, make_user):
    night = make_user("night")
    now = timeutil.utcnow()
    data = services.EntryInput(kind="resident", text="x", resident_id=house.residents[0].id)
    first = services.add_entry(house.shelter, data, actor=night, at=now, client_key="k1")
    again = services.add_entry(house.shelter, data, actor=night, at=now, client_key="k1")
    db.session.commit()
    assert first.id == again.id and len(_entries()) == 1
    with pytest.raises(IntegrityError):
        db.session.add(HandoverEntry(handover_id=first.handover_id, shelter_id=house.shelter.id, kind="resident",
                                     resident_id=house.residents[0].id, occurred_at=now, text="y", action_taken="",
                                     author_id=night.id, created_at=now, client_key="k1"))
        db.session.flush()
    db.session.rollback()


def test_a_refused_outbox_item_answers_json_naming_the_field(app, house, login_as):
    night = login_as("night", locale="en")
    response = json_post(night, f"/shift/{house.shelter.id}/incidents", {"i-incident_kind": "health", "i-text": ""},
                         "key-x")
    assert response.status_code == 422
    body = response.get_json()
    assert body["ok"] is False and "i-text" in body["errors"]
    assert _entries() == []
    # Fixed and sent again with the same key: stored (the refusal did not use the key up).
    fixed = json_post(night, f"/shift/{house.shelter.id}/incidents", {"i-incident_kind": "health", "i-text": "Fever"},
                      "key-x")
    assert fixed.status_code == 200 and len(_entries()) == 1


def test_an_expired_session_keeps_the_outbox_item_for_after_sign_in(app, house, login_as, travel):
    night = login_as("night", locale="en")
    travel(minutes=31)
    response = json_post(night, f"/shift/{house.shelter.id}/incidents", {"i-incident_kind": "health",
                                                                         "i-text": "Fever"}, "key-late")
    assert response.status_code == 401 and response.get_json()["error"]
    assert _entries() == []
    assert night.login(night.user.username).status_code == 303
    assert json_post(night, f"/shift/{house.shelter.id}/incidents", {"i-incident_kind": "health", "i-text": "Fever"},
                     "key-late").status_code == 200
    assert len(_entries()) == 1


# --- what can no longer change ---------------------------------------------------------------

def _entry(house, actor, *, at=None, text="First words"):
    at = at or timeutil.utcnow()
    return services.add_entry(house.shelter, services.EntryInput(kind="resident", text=text,
                                                                 resident_id=house.residents[0].id),
                              actor=actor, at=at)


def test_the_author_edits_an_entry_until_it_is_read(app, house, login_as):
    night = login_as("night", locale="en")
    entry = _entry(house, night.user)
    db.session.commit()
    page = night.get(f"/handovers/entries/{entry.id}").get_data(as_text=True)
    assert "Change the entry" in page
    assert night.post(f"/handovers/entries/{entry.id}/edit", {"ed-text": "Better words"}).status_code == 303
    db.session.refresh(entry)
    assert entry.text == "Better words" and entry.edited_at is not None
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "handover.entry_edit"))
    assert event.details["previous"]["text"] == "First words"  # what was written is kept
    other = login_as("night", locale="en")
    refused = other.post(f"/handovers/entries/{entry.id}/edit", {"ed-text": "Not mine"})
    assert refused.status_code == 403
    services.hand_over(house.shelter, "Note", None, actor=night.user, at=timeutil.utcnow())
    db.session.commit()
    assert night.post(f"/handovers/entries/{entry.id}/edit", {"ed-text": "Still before reading"}).status_code == 303
    services.acknowledge(entry.handover_id, actor=other.user, at=timeutil.utcnow())
    db.session.commit()
    refused = night.post(f"/handovers/entries/{entry.id}/edit", {"ed-text": "After reading"})
    assert refused.status_code == 409 and "add a correction" in refused.get_data(as_text=True)
    assert "Change the entry" not in night.get(f"/handovers/entries/{entry.id}").get_data(as_text=True)
    db.session.refresh(entry)
    assert entry.text == "Still before reading"


def test_a_correction_is_a_new_entry_referring_to_the_old(app, house, login_as):
    night = login_as("night", locale="en")
    trainer = login_as("trainer", locale="en", display_name="Tess")
    entry = _entry(house, night.user, text="Ala has a fever")
    services.hand_over(house.shelter, "Note", None, actor=night.user, at=timeutil.utcnow())
    services.acknowledge(entry.handover_id, actor=trainer.user, at=timeutil.utcnow())
    db.session.commit()
    response = trainer.post(f"/handovers/entries/{entry.id}/correct", {"co-text": "It was Basia who had a fever"})
    assert response.status_code == 303
    correction = db.session.scalar(select(HandoverEntry).where(HandoverEntry.corrects_id == entry.id))
    assert correction.text == "It was Basia who had a fever" and correction.handover_id != entry.handover_id
    db.session.refresh(entry)
    assert entry.text == "Ala has a fever"
    page = trainer.get(f"/handovers/entries/{entry.id}").get_data(as_text=True)
    assert "Ala has a fever" in page and "It was Basia who had a fever" in page and "Corrected" in page
    assert "Correction of" in trainer.get(f"/shift/{house.shelter.id}").get_data(as_text=True)


def test_after_24_hours_an_entry_is_final(app, house, login_as, travel):
    night = login_as("night", locale="en")
    entry = _entry(house, night.user)
    db.session.commit()
    travel(hours=24, seconds=1)
    night.login(night.user.username)
    refused = night.post(f"/handovers/entries/{entry.id}/edit", {"ed-text": "Too late"})
    assert refused.status_code == 409
    db.session.refresh(entry)
    assert entry.text == "First words"


def test_the_database_refuses_to_change_a_final_entry_or_delete_any(house, make_user):
    night, other = make_user("night"), make_user("night")
    now = timeutil.utcnow()
    fresh = _entry(house, night, text="fresh")
    old = _entry(house, night, text="old")
    db.session.commit()
    # An entry written 25 hours ago by the database's own clock.
    db.session.execute(text("UPDATE handover_entries SET created_at = :t WHERE id = :id"),
                       {"t": _db_time(now - timedelta(hours=25)), "id": old.id})
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE handover_entries SET text = 'forged' WHERE id = :id"), {"id": old.id})
    db.session.rollback()
    db.session.execute(text("UPDATE handover_entries SET text = 'still editable' WHERE id = :id"), {"id": fresh.id})
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(text("DELETE FROM handover_entries WHERE id = :id"), {"id": fresh.id})
    db.session.rollback()
    services.hand_over(house.shelter, "The note", None, actor=night, at=now)
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE handovers SET note = 'rewritten'"))
    db.session.rollback()
    services.acknowledge(fresh.handover_id, actor=other, at=now)
    db.session.commit()
    for statement in ("UPDATE handover_entries SET text = 'forged' WHERE id = :id",
                      "UPDATE handovers SET acknowledged_at = NULL, acknowledged_by_id = NULL",
                      "DELETE FROM handovers"):
        with pytest.raises(IntegrityError):
            db.session.execute(text(statement), {"id": fresh.id})
        db.session.rollback()
    assert db.session.scalar(select(HandoverEntry.text).where(HandoverEntry.id == fresh.id)) == "still editable"
    assert db.session.scalar(select(func.count(Handover.id))) == 1


def _db_time(value):
    from datetime import timezone

    if db.engine.dialect.name == "sqlite":
        return value.astimezone(timezone.utc).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def test_one_handover_is_being_written_per_shelter(house, make_user):
    night = make_user("night")
    now = timeutil.utcnow()
    services.open_handover(house.shelter, at=now)
    db.session.commit()
    with pytest.raises(IntegrityError):
        db.session.add(Handover(shelter_id=house.shelter.id, shift_kind="day", shift_date=now.date(), opened_at=now,
                                note=""))
        db.session.flush()
    db.session.rollback()
    assert services.open_handover(house.shelter, at=now).id == services.open_handover_of(house.shelter.id).id
    assert night  # the user exists for the scene


def test_tasks_are_stored_once_per_author_and_key(house, make_user):
    night = make_user("night")
    now = timeutil.utcnow()
    one = services.add_task(house.shelter, "x", night.id, now + timedelta(hours=1), actor=night, at=now,
                            client_key="t1")
    two = services.add_task(house.shelter, "x", night.id, now + timedelta(hours=1), actor=night, at=now,
                            client_key="t1")
    db.session.commit()
    assert one.id == two.id and db.session.scalar(select(func.count(Task.id))) == 1
