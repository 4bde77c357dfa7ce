"""Shift times per shelter, which shift a moment falls in (summer time included), and who is on duty."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from shelter_app import timeutil
from shelter_app.errors import DomainError
from shelter_app.extensions import db
from shelter_app.handovers import services
from shelter_app.handovers.models import DutyAssignment, RoundTime, ShiftSettings
from tests.conftest import Client


def utc(*parts):
    return datetime(*parts, tzinfo=timezone.utc)


def test_a_moment_falls_in_the_day_or_the_night_shift():
    times = services.Times(day_starts=7 * 60, night_starts=19 * 60)
    # Winter (UTC+1): 07:00 local is 06:00 UTC.
    before_day = services.shift_at(times, utc(2026, 1, 14, 5, 59))
    assert (before_day.kind, before_day.day) == ("night", date(2026, 1, 13))
    assert before_day.starts_at == utc(2026, 1, 13, 18) and before_day.ends_at == utc(2026, 1, 14, 6)
    day = services.shift_at(times, utc(2026, 1, 14, 6, 0))
    assert (day.kind, day.day, day.ends_at) == ("day", date(2026, 1, 14), utc(2026, 1, 14, 18))
    night = services.shift_at(times, utc(2026, 1, 14, 18, 0))
    assert (night.kind, night.day, night.ends_at) == ("night", date(2026, 1, 14), utc(2026, 1, 15, 6))
    assert services.next_shift(times, night) == services.shift_at(times, utc(2026, 1, 15, 6))


def test_the_night_the_clocks_go_forward_is_an_hour_shorter():
    times = services.Times(day_starts=7 * 60, night_starts=19 * 60, rounds=(2 * 60 + 30, 5 * 60))
    # 29 March 2026: 02:00 local becomes 03:00.
    night = services.shift_at(times, utc(2026, 3, 28, 23))
    assert night.starts_at == utc(2026, 3, 28, 18) and night.ends_at == utc(2026, 3, 29, 5)
    # A round at 02:30 does not exist that night: it is due at 03:30 summer time (01:30 UTC).
    assert services.round_moments(times, utc(2026, 3, 28, 20), utc(2026, 3, 29, 5)) == [
        utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 3)]


def test_set_times_and_round_times(make_shelter):
    shelter = make_shelter(beds=1)
    now = timeutil.utcnow()
    services.set_times(shelter, day_starts="6:30", night_starts="18:30", curfew="21:45",
                       rounds="05:00; 23:00, 02:00, 02:00", actor=None, at=now)
    db.session.commit()
    assert services.times_of(shelter.id) == services.Times(390, 1110, 1305, (120, 300, 1380))
    services.set_times(shelter, day_starts="07:00", night_starts="19:00", curfew="22:00", rounds="23:30",
                       actor=None, at=now)
    db.session.commit()
    assert db.session.scalars(select(RoundTime.minute)).all() == [1410]
    for kwargs, field in [({"day_starts": "25:00"}, "day_starts"), ({"night_starts": "06:00"}, "night_starts"),
                          ({"curfew": "22"}, "curfew"), ({"rounds": "23:00, 1:2"}, "rounds"),
                          ({"rounds": ", ".join(f"{h:02d}:00" for h in range(13))}, "rounds")]:
        values = {"day_starts": "07:00", "night_starts": "19:00", "curfew": "22:00", "rounds": "", **kwargs}
        with pytest.raises(DomainError) as refused:
            services.set_times(shelter, **values, actor=None, at=now)
        assert refused.value.field == field
        db.session.rollback()


def test_a_shelter_without_settings_has_the_default_times_and_no_rounds(make_shelter):
    shelter = make_shelter(beds=1)
    assert services.times_of(shelter.id) == services.Times(7 * 60, 19 * 60, 22 * 60, ())
    assert db.session.get(ShiftSettings, shelter.id) is None


def test_on_duty_is_who_is_on_the_rota_of_the_shift(house, make_user):
    night, manager, other = make_user("night"), make_user("manager"), make_user("trainer")
    times = services.times_of(house.shelter.id)
    now = timeutil.utcnow()
    shift = services.shift_at(times, now)
    services.assign_duty(house.shelter, night.id, shift.day, shift.kind, actor=manager, at=now)
    services.assign_duty(house.shelter, manager.id, shift.day, shift.kind, actor=manager, at=now)
    after = services.next_shift(times, shift)
    services.assign_duty(house.shelter, other.id, after.day, after.kind, actor=manager, at=now)
    db.session.commit()
    assert {u.id for u in services.on_duty(house.shelter, now)} == {night.id, manager.id}
    assert [u.id for u in services.on_duty(house.shelter, after.starts_at)] == [other.id]
    with pytest.raises(DomainError) as refused:  # twice on one shift
        services.assign_duty(house.shelter, night.id, shift.day, shift.kind, actor=manager, at=now)
    assert refused.value.field == "user_id"
    db.session.rollback()
    outsider = make_user("night", shelters=[])
    with pytest.raises(DomainError) as refused:
        services.assign_duty(house.shelter, outsider.id, shift.day, shift.kind, actor=manager, at=now)
    assert refused.value.field == "user_id"
    db.session.rollback()
    with pytest.raises(DomainError) as refused:
        services.assign_duty(house.shelter, night.id, shift.day + timedelta(days=30), "day", actor=manager, at=now)
    assert refused.value.field == "shift_date"


def test_i_am_on_duty_puts_me_on_the_current_shift_once(app, house, login_as):
    night = login_as("night", locale="en")
    for _ in range(2):
        response = night.post(f"/shift/{house.shelter.id}/on-duty", {}, htmx=True)
        assert response.status_code == 200 and "You are on the rota of this shift" in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count(DutyAssignment.id))) == 1
    assert [u.id for u in services.on_duty(house.shelter, timeutil.utcnow())] == [night.user.id]
    assert night.user.display_name in night.get(f"/shift/{house.shelter.id}").get_data(as_text=True)


def test_the_manager_sets_times_and_the_rota_on_the_setup_page(app, house, login_as, make_user):
    manager = login_as("manager", locale="en")
    worker = make_user("night", display_name="Nina Nocna")
    page = manager.get(f"/shift/{house.shelter.id}/setup").get_data(as_text=True)
    assert 'value="23:00, 02:00, 05:00"' in page and "Nina Nocna" in page
    response = manager.post(f"/shift/{house.shelter.id}/setup", {"day_starts": "08:00", "night_starts": "20:00",
                                                                "curfew": "23:00", "rounds": "00:30"})
    assert response.status_code == 303
    assert services.times_of(house.shelter.id) == services.Times(480, 1200, 1380, (30,))
    refused = manager.post(f"/shift/{house.shelter.id}/setup", {"day_starts": "20:00", "night_starts": "08:00",
                                                               "curfew": "23:00", "rounds": "x"})
    assert refused.status_code == 422 and 'value="x"' in refused.get_data(as_text=True)
    today = timeutil.to_local(timeutil.utcnow()).date()
    response = manager.post(f"/shift/{house.shelter.id}/duties", {"d-shift_date": today.isoformat(),
                                                                  "d-shift_kind": "night", "d-user_id": worker.id})
    assert response.status_code == 303
    duty = db.session.scalar(select(DutyAssignment))
    assert (duty.user_id, duty.shift_date, duty.shift_kind) == (worker.id, today, "night")
    assert manager.post(f"/handovers/duties/{duty.id}/remove", {}).status_code == 303
    assert db.session.scalar(select(DutyAssignment)) is None
    night = login_as("night", locale="en")
    assert night.get(f"/shift/{house.shelter.id}/setup").status_code == 403


def test_a_clients_of_another_shelter_get_404(app, house, make_user, make_shelter):
    other = make_shelter(beds=1, name="Elsewhere")
    user = make_user("manager", shelters=[other], locale="en")
    client = Client(app)
    client.login(user.username)
    for url in (f"/shift/{house.shelter.id}", f"/shift/{house.shelter.id}/setup", f"/shift/{house.shelter.id}/rounds"):
        assert client.get(url).status_code == 404
