"""Night rounds: one tap per room, the headcount, and what is flagged when a round is late or does not match."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from shelter_app import timeutil
from shelter_app.errors import Conflict, DomainError
from shelter_app.extensions import db
from shelter_app.handovers import services
from shelter_app.handovers.models import Round, RoundCheck
from tests.handovers.conftest import json_post


def _late_rounds(shelter) -> list[str]:
    with force_locale("en"):
        return [f.message for f in services.flags(shelter, timeutil.utcnow()) if f.kind == "round_late"]


def test_a_round_room_by_room_with_its_headcount(app, house, login_as, at_local):
    at_local(2026, 1, 14, 23, 5)
    night = login_as("night", locale="en", display_name="Nora")
    page = night.get(f"/shift/{house.shelter.id}/rounds").get_data(as_text=True)
    assert "Round of 23:00" in page and "0 of 3 rooms recorded" in page
    due = services.epoch_minutes(timeutil.local_to_utc(datetime(2026, 1, 14, 23, 0)))
    for room in house.rooms:
        status = "note" if room.name == "R2" else "quiet"
        response = json_post(night, f"/handovers/rooms/{room.id}/round", {
            f"r{room.id}-due": due, f"r{room.id}-status": status,
            f"r{room.id}-note": "Cyra awake, reading" if status == "note" else ""}, f"room-{room.id}")
        assert response.status_code == 200, response.get_json()
    response = json_post(night, f"/shift/{house.shelter.id}/rounds/headcount", {"hc-due": due, "hc-headcount": "3"},
                         "hc-1")
    assert response.get_json()["message"] == "Headcount 3 recorded; it matches."
    the_round = db.session.scalar(select(Round))
    assert the_round.due_at == timeutil.local_to_utc(datetime(2026, 1, 14, 23, 0))
    assert (the_round.headcount, the_round.expected) == (3, 3)
    assert db.session.scalar(select(func.count(RoundCheck.id))) == 3
    page = night.get(f"/shift/{house.shelter.id}/rounds").get_data(as_text=True)
    assert "3 of 3 rooms recorded" in page and "Headcount 3: it matches." in page and "Cyra awake, reading" in page
    assert not [f for f in services.flags(house.shelter, timeutil.utcnow()) if f.kind in ("round_late", "headcount")]


def test_a_room_is_recorded_once_per_round(app, house, login_as, at_local):
    at_local(2026, 1, 15, 2, 1)
    first, second = login_as("night", locale="en", display_name="First"), login_as("manager", locale="en")
    room = house.rooms[1]
    due = services.epoch_minutes(timeutil.local_to_utc(datetime(2026, 1, 15, 2, 0)))
    data = {f"r{room.id}-due": due, f"r{room.id}-status": "quiet"}
    assert json_post(first, f"/handovers/rooms/{room.id}/round", data, "a").status_code == 200
    assert json_post(first, f"/handovers/rooms/{room.id}/round", data, "a").get_json()["ok"]  # the same tap again
    refused = json_post(second, f"/handovers/rooms/{room.id}/round", data, "b")
    assert refused.status_code == 409 and "was recorded at 02:01 by First" in refused.get_json()["message"]
    assert db.session.scalar(select(func.count(RoundCheck.id))) == 1


def test_a_round_can_be_recorded_from_half_an_hour_before_until_three_hours_after(house, make_user, at_local):
    night = make_user("night")
    room = house.rooms[1]
    due_at = timeutil.local_to_utc(datetime(2026, 1, 15, 2, 0))
    due = services.epoch_minutes(due_at)
    for minutes, allowed in [(-31, False), (-29, True), (179, True), (181, False)]:
        at = due_at + timedelta(minutes=minutes)
        if allowed:
            check = services.record_room(house.shelter, due, room.id, "quiet", "", actor=night, at=at)
            assert check.id
        else:
            with pytest.raises(DomainError) as refused:
                services.record_room(house.shelter, due, room.id, "quiet", "", actor=night, at=at)
            assert refused.value.field == "due"
        db.session.rollback()
    with pytest.raises(DomainError) as refused:  # not a round time of the shelter
        services.record_room(house.shelter, due + 5, room.id, "quiet", "", actor=night, at=due_at)
    assert refused.value.field == "due"
    db.session.rollback()
    with pytest.raises(DomainError) as refused:
        services.record_room(house.shelter, due, room.id, "asleep", "", actor=night, at=due_at)
    assert refused.value.field == "status"


def test_a_late_round_is_flagged_20_minutes_after_its_time(app, house, login_as, at_local):
    at_local(2026, 1, 15, 2, 19)
    assert _late_rounds(house.shelter) == ["The night round of 23:00 is not recorded."]  # missed altogether
    at_local(2026, 1, 15, 2, 20)
    assert _late_rounds(house.shelter)[-1] == "The night round of 02:00 is not recorded."
    night = login_as("night", locale="en")
    manager = login_as("manager", locale="en")
    trainer = login_as("trainer", locale="en")
    for client in (night, manager):
        assert "The night round of 02:00 is not recorded." in client.get(f"/board/{house.shelter.id}"
                                                                         ).get_data(as_text=True)
    assert "The night round of 02:00 is not recorded." not in trainer.get(f"/board/{house.shelter.id}"
                                                                          ).get_data(as_text=True)
    flag = [f for f in services.flags(house.shelter, timeutil.utcnow()) if f.kind == "round_late"][-1]
    # Nobody on the rota: night staff and managers of the shelter, who may record rounds.
    recipients = {u.id for u in services.flag_recipients(house.shelter, flag, timeutil.utcnow())}
    assert recipients == {night.user.id, manager.user.id}
    # With the night worker on the rota, it goes to them.
    services.take_current_shift(house.shelter, actor=night.user, at=timeutil.utcnow())
    db.session.commit()
    assert [u.id for u in services.flag_recipients(house.shelter, flag, timeutil.utcnow())] == [night.user.id]
    # Recorded, the flag goes.
    due = services.epoch_minutes(timeutil.local_to_utc(datetime(2026, 1, 15, 2, 0)))
    for room in house.rooms:
        services.record_room(house.shelter, due, room.id, "quiet", "", actor=night.user, at=timeutil.utcnow())
    services.record_headcount(house.shelter, due, 3, actor=night.user, at=timeutil.utcnow())
    db.session.commit()
    assert _late_rounds(house.shelter) == ["The night round of 23:00 is not recorded."]


def test_a_headcount_that_does_not_match_is_flagged_for_the_manager(app, house, login_as, at_local):
    at_local(2026, 1, 15, 5, 10)
    night = login_as("night", locale="en")
    manager = login_as("manager", locale="en")
    services.go_out(house.residents[2].id, timeutil.utcnow() + timedelta(hours=3), actor=night.user,
                    at=timeutil.utcnow())
    db.session.commit()
    due = services.epoch_minutes(timeutil.local_to_utc(datetime(2026, 1, 15, 5, 0)))
    answer = json_post(night, f"/shift/{house.shelter.id}/rounds/headcount", {"hc-due": due, "hc-headcount": "3"},
                       "hc")
    assert "The app has 2 residents in the house" in answer.get_json()["message"]
    html = manager.get(f"/shift/{house.shelter.id}").get_data(as_text=True)
    assert "Headcount at the round of 05:00: 3 counted, 2 in the house by the app." in html
    again = json_post(night, f"/shift/{house.shelter.id}/rounds/headcount", {"hc-due": due, "hc-headcount": "2"},
                      "hc-2")
    assert again.status_code == 409 and "was recorded at 05:10" in again.get_json()["message"]
    with pytest.raises(Conflict):
        services.record_headcount(house.shelter, due, 2, actor=manager.user, at=timeutil.utcnow())


def test_no_round_times_no_rounds_and_no_flags(app, make_shelter, login_as):
    shelter = make_shelter(beds=2)
    manager = login_as("manager", locale="en")
    page = manager.get(f"/shift/{shelter.id}/rounds").get_data(as_text=True)
    assert "No round times set" in page and "Set the night round times" in page
    assert services.flags(shelter, timeutil.utcnow()) == []


def test_trainers_see_rounds_but_do_not_record_them(app, house, login_as, at_local):
    at_local(2026, 1, 14, 23, 5)
    trainer = login_as("trainer", locale="en")
    page = trainer.get(f"/shift/{house.shelter.id}/rounds").get_data(as_text=True)
    assert "Round of 23:00" in page and "All quiet" not in page
    room = house.rooms[0]
    assert trainer.post(f"/handovers/rooms/{room.id}/round", {f"r{room.id}-status": "quiet"}).status_code == 403
