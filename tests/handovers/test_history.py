"""History filtered by days, shelter, kind and resident; a printed day; observations on the resident's page."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from shelter_app import timeutil
from shelter_app.audit.models import AuditEvent
from shelter_app.extensions import db
from shelter_app.handovers import services
from shelter_app.handovers.models import HandoverEntry
from tests.conftest import Client
from tests.handovers.conftest import json_post


def _write_a_night(house, night, trainer):
    """A night of 14-15 January: an incident, an observation, a round, an outing, a handover read in the morning."""
    ala, basia = house.residents[0], house.residents[1]
    at = timeutil.local_to_utc(datetime(2026, 1, 14, 23, 10))
    services.add_entry(house.shelter, services.EntryInput(kind="incident", incident_kind="conflict",
                                                          text="Shouting over the TV", resident_id=basia.id),
                       actor=night, at=at)
    services.add_observation(ala.id, "Fever 38.5 °C, paracetamol given", at, actor=night, at=at)
    due = services.epoch_minutes(timeutil.local_to_utc(datetime(2026, 1, 14, 23, 0)))
    for room in house.rooms:
        services.record_room(house.shelter, due, room.id, "quiet", "", actor=night, at=at)
    services.record_headcount(house.shelter, due, 3, actor=night, at=at)
    services.go_out(basia.id, at + timedelta(hours=1), actor=night, at=at)
    services.come_back(basia.id, actor=night, at=at + timedelta(minutes=30))
    morning = timeutil.local_to_utc(datetime(2026, 1, 15, 6, 55))
    handover = services.hand_over(house.shelter, "One conflict, Ala feverish.", None, actor=night, at=morning)
    services.acknowledge(handover.id, actor=trainer, at=morning + timedelta(minutes=10))
    db.session.commit()


def test_history_filters_by_days_kind_and_resident(app, house, login_as, make_user, at_local):
    trainer = login_as("trainer", locale="en")
    _write_a_night(house, make_user("night", display_name="Nora"), trainer.user)
    at_local(2026, 1, 15, 12, 0)
    trainer.login(trainer.user.username)
    html = trainer.get("/handovers/history?day_from=2026-01-14&day_to=2026-01-15").get_data(as_text=True)
    for text in ("Shouting over the TV", "Fever 38.5 °C, paracetamol given", "Round of 23:00", "One conflict, Ala",
                 "back at"):
        assert text in html, text
    incidents = trainer.get("/handovers/history?day_from=2026-01-14&day_to=2026-01-15&kind=incident"
                            ).get_data(as_text=True)
    assert "Shouting over the TV" in incidents and "Fever 38.5" not in incidents and "Round of 23:00" not in incidents
    ala = house.residents[0]
    about_ala = trainer.get(f"/handovers/history?day_from=2026-01-14&day_to=2026-01-15&resident_id={ala.id}"
                            ).get_data(as_text=True)
    assert "Fever 38.5" in about_ala and "Shouting over the TV" not in about_ala and "Round of 23:00" not in about_ala
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "history.view")
                              .order_by(AuditEvent.id.desc()))
    assert event.details["resident_ids"] == [ala.id]
    earlier = trainer.get("/handovers/history?day_from=2026-01-10&day_to=2026-01-13").get_data(as_text=True)
    assert "Shouting over the TV" not in earlier and "0 of 3 rooms" in earlier  # rounds nobody recorded
    assert "Nothing in these days." in trainer.get("/handovers/history?day_from=2026-01-10&day_to=2026-01-13"
                                                   "&kind=incident").get_data(as_text=True)
    wrong = trainer.get("/handovers/history?day_from=2026-01-16&day_to=2026-01-14")
    assert wrong.status_code == 422 and "The first day comes before the last." in wrong.get_data(as_text=True)
    assert trainer.get("/handovers/history?resident_id=2000000000").status_code == 422
    assert trainer.get("/handovers/history?kind=gossip").status_code == 422


def test_history_shows_only_the_own_shelters(app, house, make_user, make_shelter, make_resident):
    other = make_shelter(beds=2, name="Other House")
    stranger = make_user("night", shelters=[other], locale="en")
    _write_a_night(house, make_user("night"), make_user("trainer"))
    client = Client(app)
    client.login(stranger.username)
    html = client.get("/handovers/history?day_from=2026-01-14&day_to=2026-01-15").get_data(as_text=True)
    assert "Shouting over the TV" not in html and "Nothing in these days." in html
    assert client.get(f"/handovers/history?shelter_id={house.shelter.id}").status_code == 422


def test_a_manager_prints_a_day(app, house, login_as, make_user, at_local):
    manager = login_as("manager", locale="en")
    _write_a_night(house, make_user("night", display_name="Nora"), make_user("trainer", display_name="Tess"))
    at_local(2026, 1, 15, 12, 0)
    manager.login(manager.user.username)
    page = manager.get(f"/shift/{house.shelter.id}/print?day=2026-01-14").get_data(as_text=True)
    for text in ("House Night · 14.01.2026", "Shouting over the TV", "Fever 38.5", "23:00: done at 23:10",
                 "Basia: ", "Confidential"):
        assert text in page, text
    morning = manager.get(f"/shift/{house.shelter.id}/print?day=2026-01-15").get_data(as_text=True)
    assert "from Nora, 06:55" in morning and "read by Tess at 07:05" in morning
    assert 'id="print-page"' in morning
    assert manager.get(f"/shift/{house.shelter.id}/print?day=nonsense").status_code == 422
    assert login_as("night", locale="en").get(f"/shift/{house.shelter.id}/print").status_code == 403


def test_observations_from_the_resident_page_go_into_the_handover(app, house, login_as):
    night = login_as("night", locale="en")
    ala = house.residents[0]
    page = night.get(f"/residents/{ala.id}").get_data(as_text=True)
    assert 'id="observe"' in page and "data-outbox" in page
    panel = night.get(f"/beds/{house.beds[0].id}", htmx=True).get_data(as_text=True)
    assert f"/residents/{ala.id}#observe" in panel
    response = json_post(night, f"/handovers/residents/{ala.id}/observations",
                         {"ob-text": "Fever 38.5 °C at 02:00, paracetamol given"}, "obs-1")
    assert response.status_code == 200
    entry = db.session.scalar(select(HandoverEntry))
    assert entry.kind == "observation" and entry.resident_id == ala.id
    assert response.get_json()["location"].endswith(f"/residents/{ala.id}#entry-{entry.id}")
    assert "Fever 38.5 °C at 02:00" in night.get(f"/residents/{ala.id}").get_data(as_text=True)
    assert "Fever 38.5 °C at 02:00" in night.get(f"/shift/{house.shelter.id}").get_data(as_text=True)
    refused = night.post(f"/handovers/residents/{ala.id}/observations", {"ob-text": ""})
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.get_data(as_text=True)
