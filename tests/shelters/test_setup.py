"""Managers set up shelters, rooms and beds; `shelter-app seed-demo` fills a realistic night."""
from __future__ import annotations

from sqlalchemy import func, select

from shelter_app.extensions import db
from shelter_app.beds.models import Isolation, Stay
from shelter_app.residents.models import Resident
from shelter_app.shelters.models import Bed, Room, Shelter


def test_manager_sets_up_a_shelter_with_rooms_and_beds(login_as):
    m = login_as("manager", locale="en")
    assert m.get("/shelters").status_code == 200
    response = m.post("/shelters", {"code_name": "Lighthouse", "name": "North House", "address": "Hidden 1"})
    assert response.status_code == 303
    shelter = db.session.scalar(select(Shelter))
    url = f"/shelters/{shelter.id}"
    assert response.headers["Location"] == url
    assert m.post(url, {"action": "room", "room-name": "1", "room-kind": "regular",
                        "room-room_group": "women"}).status_code == 303
    assert m.post(url, {"action": "room", "room-name": "Iso", "room-kind": "isolation",
                        "room-room_group": ""}).status_code == 303
    room = db.session.scalar(select(Room).where(Room.name == "1"))
    iso = db.session.scalar(select(Room).where(Room.name == "Iso"))
    assert m.post(url, {"action": "bed", "bed-room_id": room.id, "bed-label": "A",
                        "bed-category": "woman"}).status_code == 303
    # an isolation room is not offered for beds, and a hand-made request is refused
    page = m.get(url).get_data(as_text=True)
    assert f'<option value="{iso.id}"' not in page
    refused = m.post(url, {"action": "bed", "bed-room_id": iso.id, "bed-label": "X", "bed-category": "woman"})
    assert refused.status_code == 422 and "isolation room is counted as a whole" in refused.get_data(as_text=True)
    duplicate = m.post(url, {"action": "bed", "bed-room_id": room.id, "bed-label": "A", "bed-category": "woman"})
    assert duplicate.status_code == 409 and "already has a bed with this label" in duplicate.get_data(as_text=True)
    bad_category = m.post(url, {"action": "bed", "bed-room_id": room.id, "bed-label": "B", "bed-category": "sofa"})
    assert bad_category.status_code == 422
    assert db.session.scalar(select(func.count(Bed.id))) == 1
    board = m.get(f"/board/{shelter.id}").get_data(as_text=True)
    assert "bed-free" in board and "Iso" in board


def test_shelter_form_errors(login_as, make_shelter):
    make_shelter(code_name="Taken")
    m = login_as("manager", locale="en")
    empty = m.post("/shelters", {"code_name": "", "name": "X"})
    assert empty.status_code == 422 and 'id="code_name-error"' in empty.get_data(as_text=True)
    taken = m.post("/shelters", {"code_name": "Taken", "name": "Kept name"})
    assert taken.status_code == 409
    html = taken.get_data(as_text=True)
    assert "Another shelter already has this code name." in html and 'value="Kept name"' in html
    assert m.post("/shelters/1", {"action": "nonsense"}).status_code == 422
    assert m.get("/shelters/999").status_code == 404


def test_setup_is_for_managers_only(login_as, make_shelter):
    shelter = make_shelter()
    for role in ("night", "trainer", "casemanager", "admin"):
        c = login_as(role)
        assert c.get("/shelters").status_code == 403
        assert c.post(f"/shelters/{shelter.id}", {"action": "room", "room-name": "x",
                                                  "room-kind": "regular"}).status_code == 403


def test_seed_demo_is_idempotent_and_looks_like_a_night(app):
    runner = app.test_cli_runner()
    env = {"SHELTER_DEMO_PASSWORD": "demo password 123"}
    first = runner.invoke(args=["seed-demo"], env=env)
    assert first.exit_code == 0, first.output
    assert "demo password 123" in first.output
    counts = lambda: (db.session.scalar(select(func.count(Shelter.id))), db.session.scalar(select(func.count(Bed.id))),
                      db.session.scalar(select(func.count(Resident.id))),
                      db.session.scalar(select(func.count(Stay.id))))
    db.session.expire_all()
    shelters, beds, people, stays = counts()
    assert shelters == 2 and 25 <= beds <= 35 and people == 12 and stays == 12
    assert db.session.scalar(select(func.count(Isolation.id))) == 1
    from shelter_app.referrals.models import Referral

    assert sorted(db.session.scalars(select(Referral.status))) == ["accepted", "pending"]
    assert db.session.scalar(select(func.count(Room.id)).where(Room.kind == "isolation")) >= 1
    second = runner.invoke(args=["seed-demo"], env=env)
    assert second.exit_code == 0
    db.session.expire_all()
    assert counts() == (shelters, beds, people, stays)
    short = runner.invoke(args=["seed-demo"], env={"SHELTER_DEMO_PASSWORD": "short"})
    assert short.exit_code != 0 and "SHELTER_DEMO_PASSWORD" in short.output
