"""Presence: who is in the house, going out and coming back, and what raises a safety incident."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from shelter_app import timeutil
from shelter_app.errors import Conflict, DomainError
from shelter_app.extensions import db
from shelter_app.handovers import services
from shelter_app.handovers.models import HandoverEntry, Outing
from shelter_app.timeutil import local_input_value


def _incidents():
    return db.session.scalars(select(HandoverEntry).where(HandoverEntry.kind == "incident")).all()


def test_out_and_back_with_one_tap_each(app, house, login_as, at_local):
    at_local(2026, 1, 14, 18, 0)
    night = login_as("night", locale="en")
    ala = house.residents[0]
    page = night.get(f"/shift/{house.shelter.id}/presence").get_data(as_text=True)
    assert "3 in the house · 0 out · curfew 22:00" in page
    response = night.post(f"/handovers/residents/{ala.id}/out", {
        f"out{ala.id}-expected_back_at": local_input_value(timeutil.utcnow() + timedelta(hours=2))}, htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Ala is out, expected back at 20:00." in html and "2 in the house · 1 out" in html
    again = night.post(f"/handovers/residents/{ala.id}/out", {
        f"out{ala.id}-expected_back_at": local_input_value(timeutil.utcnow() + timedelta(hours=2))}, htmx=True)
    assert again.status_code == 409 and "Ala is out since 18:00" in again.get_data(as_text=True)
    assert services.in_house_count(house.shelter.id) == 2
    response = night.post(f"/handovers/residents/{ala.id}/back", {}, htmx=True)
    assert response.status_code == 200 and "Ala is back." in response.get_data(as_text=True)
    assert services.in_house_count(house.shelter.id) == 3
    assert night.post(f"/handovers/residents/{ala.id}/back", {}, htmx=True).status_code == 409
    assert _incidents() == []


def test_going_out_needs_a_later_expected_return(house, make_user):
    night = make_user("night")
    now = timeutil.utcnow()
    for expected in (None, now - timedelta(minutes=1), now + timedelta(days=4)):
        with pytest.raises(DomainError) as refused:
            services.go_out(house.residents[0].id, expected, actor=night, at=now)
        assert refused.value.field == "expected_back_at"
        db.session.rollback()


def test_gone_without_notice_is_a_safety_incident_for_the_manager_on_call(app, house, login_as, at_local):
    at_local(2026, 1, 14, 21, 0)
    night = login_as("night", locale="en")
    manager = login_as("manager", locale="en", display_name="Maria")
    basia = house.residents[1]
    response = night.post(f"/handovers/residents/{basia.id}/missing", {f"miss{basia.id}-note": "Bag gone too"},
                          htmx=True)
    assert response.status_code == 200
    assert "safety incident is in the handover" in response.get_data(as_text=True)
    [incident] = _incidents()
    assert (incident.incident_kind, incident.resident_id, incident.text) == ("safety", basia.id, "Bag gone too")
    assert incident.outing.without_notice and incident.author_id == night.user.id
    html = manager.get(f"/board/{house.shelter.id}").get_data(as_text=True)
    assert "Basia is gone without notice since" in html
    flag = next(f for f in services.flags(house.shelter, timeutil.utcnow()) if f.kind == "without_notice")
    assert [u.id for u in services.flag_recipients(house.shelter, flag, timeutil.utcnow())] == [manager.user.id]
    assert "Gone without notice (noticed at 21:00)." in night.get(f"/shift/{house.shelter.id}").get_data(as_text=True)


def test_not_back_by_the_curfew_raises_one_safety_incident(app, house, login_as, at_local):
    at_local(2026, 1, 14, 19, 0)
    night = login_as("night", locale="en")
    cyra = house.residents[2]
    services.go_out(cyra.id, timeutil.utcnow() + timedelta(hours=2), actor=night.user, at=timeutil.utcnow())
    db.session.commit()
    at_local(2026, 1, 14, 21, 30)
    night.login(night.user.username)
    html = night.get(f"/shift/{house.shelter.id}/presence").get_data(as_text=True)
    assert "Cyra was expected back at 21:00." in html
    assert _incidents() == []
    at_local(2026, 1, 14, 22, 0)
    night.login(night.user.username)
    manager = login_as("manager", locale="en")
    for _ in range(2):  # every page that looks raises it, once
        manager.get(f"/board/{house.shelter.id}")
        night.get(f"/shift/{house.shelter.id}")
    [incident] = _incidents()
    assert incident.author_id is None and incident.incident_kind == "safety" and incident.outing_id is not None
    assert incident.occurred_at == timeutil.local_to_utc(datetime(2026, 1, 14, 22, 0))
    assert "Cyra is not back by the curfew (22:00)." in manager.get(f"/board/{house.shelter.id}").get_data(as_text=True)
    shift = night.get(f"/shift/{house.shelter.id}").get_data(as_text=True)
    assert "Not back by the curfew: went out at 19:00, expected back at 21:00." in shift and "the app" in shift
    # Back in the house: the flag goes, the incident stays.
    services.come_back(cyra.id, actor=night.user, at=timeutil.utcnow())
    db.session.commit()
    assert not [f for f in services.flags(house.shelter, timeutil.utcnow()) if f.resident_id == cyra.id]
    assert len(_incidents()) == 1


def test_one_open_outing_per_resident_in_the_database(house, make_user):
    night = make_user("night")
    now = timeutil.utcnow()
    services.go_out(house.residents[0].id, now + timedelta(hours=1), actor=night, at=now)
    db.session.commit()
    with pytest.raises(Conflict):
        services.gone_without_notice(house.residents[0].id, "", actor=night, at=now)
    db.session.rollback()
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        db.session.add(Outing(shelter_id=house.shelter.id, resident_id=house.residents[0].id, went_out_at=now,
                              expected_back_at=now + timedelta(hours=1), without_notice=False, out_by_id=night.id))
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(func.count(Outing.id))) == 1


def test_a_resident_not_in_a_bed_cannot_go_out(house, make_user, make_resident):
    night = make_user("night")
    loose = make_resident("Loose", shelter_id=house.shelter.id)
    with pytest.raises(Conflict):
        services.go_out(loose.id, timeutil.utcnow() + timedelta(hours=1), actor=night, at=timeutil.utcnow())
