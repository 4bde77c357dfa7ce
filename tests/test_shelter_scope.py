"""Staff see their own shelters only: another shelter's ids answer 404, exactly as missing ones.

The matrix walks `app.url_map`: every rule with a bed, shelter, resident, referral or undo id is
asked (GET and POST, full page and htmx) with the ids of shelter B by staff of shelter A only, who
must get what a missing id gets (404, or 403 where their role has no access at all), read nothing of
B and change nothing of B.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select

from shelter_app import timeutil
from shelter_app.audit.models import AuditEvent
from shelter_app.auth.models import User
from shelter_app.auth.permissions import can
from shelter_app.beds.models import Hold, Isolation, Stay
from shelter_app.handovers.models import DutyAssignment, Handover, HandoverEntry, Outing, Round, RoundCheck, Task
from shelter_app.extensions import db
from shelter_app.referrals.models import Referral
from shelter_app.residents.models import Resident
from shelter_app.shelters.models import Room, Shelter, ShelterStaff
from shelter_app.timeutil import local_input_value
from tests import factories
from tests.conftest import PASSWORD, Client, beds_of, rooms_of
from tests.handovers.scene import SECRETS as HANDOVER_SECRETS, write_shift

# URL arguments that name a row of a shelter (and what names them in the scene below).
SCOPED_ARGUMENTS = {"bed_id", "shelter_id", "resident_id", "referral_ref", "item_id", "handover_id", "entry_id",
                    "task_id", "duty_id", "room_id"}
# Ids the administrator's pages take: no shelter's.
ADMIN_ARGUMENTS = {"user_id", "token_id"}
# Ids of an account's own rows (its passkeys): no shelter's; another account's are not found (tests/passkeys).
ACCOUNT_ARGUMENTS = {"passkey_id"}
MISSING = 2_000_000_000  # a valid id that names nothing
MISSING_REF = "0" * 20  # a valid public id that names nothing


def _migration_0007():
    path = Path(__file__).resolve().parents[1] / "migrations" / "versions" / "0007_shelter_staff.py"
    spec = importlib.util.spec_from_file_location("migration_0007", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the scene: shelters A and B, each with residents, beds in every state and referrals ------------

@dataclass
class Scene:
    a: Shelter
    b: Shelter
    ids: dict[str, int] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)  # what staff of A only must never read


@pytest.fixture
def scene(make_user, make_shelter, make_resident) -> Scene:
    from shelter_app.referrals import services as referrals

    now = timeutil.utcnow()
    a = make_shelter(beds=4, isolation_rooms=1, name="House Alpha", code_name="Alpha", address="Alpha road 1")
    b = make_shelter(beds=4, isolation_rooms=1, name="House Beta", code_name="Beta", address="Beta lane 2")
    scene = Scene(a=a, b=b, secrets=["House Beta", "Beta lane 2", "Berta", "Bogna", "Bella", "Brygida"])
    a_beds, b_beds = beds_of(a), beds_of(b)
    anna = make_resident("Anna", shelter_id=a.id)
    factories.check_in(a_beds[0], anna)
    make_resident("Agata", shelter_id=a.id)  # waits for a bed in A
    berta = make_resident("Berta", shelter_id=b.id)
    factories.check_in(b_beds[0], berta)
    bogna = make_resident("Bogna", shelter_id=b.id)
    factories.check_in(b_beds[1], bogna)
    factories.isolate(b_beds[1], rooms_of(b)[0])
    bella = make_resident("Bella", shelter_id=b.id)  # checked out of B: an undo target
    factories.check_in(b_beds[2], bella, at=now - timedelta(hours=2))
    ended = factories.check_out(b_beds[2], now=now - timedelta(minutes=1))
    brygida = make_resident("Brygida", shelter_id=b.id)  # waits for a bed in B
    db.session.commit()

    cm = make_user("casemanager", organisation="NGO")
    window = {"category": "woman", "people": 1, "arrival_from": now + timedelta(minutes=30),
              "arrival_until": now + timedelta(hours=5)}
    to_b = referrals.create_referral(referrals.ReferralInput(shelter=b.code_name, code="TO-B", **window),
                                     actor=cm, at=now)
    accepted_b = referrals.create_referral(referrals.ReferralInput(shelter=b.code_name, code="ACC-B", **window),
                                           actor=cm, at=now)
    referrals.accept_referral(accepted_b, b, actor=None, at=now)
    to_any = referrals.create_referral(referrals.ReferralInput(shelter=None, code="TO-ANY", **window),
                                       actor=cm, at=now)
    to_a = referrals.create_referral(referrals.ReferralInput(shelter=a.code_name, code="TO-A", **window),
                                     actor=cm, at=now)
    # A shift in progress in B: a handover to read, an entry, a task, someone on the rota, Bogna out.
    shift = write_shift(b, writer=make_user("night"), other=make_user("night"), resident=berta, out=bogna, at=now)
    scene.secrets += list(HANDOVER_SECRETS)
    db.session.commit()
    scene.ids = {
        "b_occupied_bed": b_beds[0].id, "b_isolated_bed": b_beds[1].id, "b_free_bed": b_beds[3].id,
        "b_iso_room": rooms_of(b)[0].id, "a_free_bed": a_beds[1].id, "a_occupied_bed": a_beds[0].id,
        "b_resident": berta.id, "b_waiting": brygida.id, "a_resident": anna.id,
        "b_stay_ended": ended.id, "b_isolation": db.session.scalar(select(Isolation.id)),
        "b_referral": to_b.public_id, "b_accepted": accepted_b.public_id, "any_referral": to_any.public_id,
        "a_referral": to_a.public_id,
        "b_handover": shift["handover"], "b_entry": shift["entry"], "b_task": shift["task"], "b_duty": shift["duty"],
        "b_room": shift["room"], "b_due": shift["due"], "b_out": bogna.id,
    }
    return scene


def _state_of_b(scene: Scene) -> tuple:
    """Everything an action on B could change."""
    db.session.expire_all()
    b_rooms = select(Room.id).where(Room.shelter_id == scene.b.id)
    return (
        db.session.execute(select(Stay.id, Stay.bed_id, Stay.ended_at).order_by(Stay.id)).all(),
        db.session.execute(select(Hold.id, Hold.released_at).order_by(Hold.id)).all(),
        db.session.execute(select(Isolation.id, Isolation.ended_at).order_by(Isolation.id)).all(),
        db.session.execute(select(Referral.id, Referral.status).order_by(Referral.id)).all(),
        db.session.execute(select(Resident.id, Resident.alias, Resident.shelter_id).order_by(Resident.id)).all(),
        db.session.scalar(select(func.count(Room.id)).where(Room.id.in_(b_rooms))),
        db.session.execute(select(Shelter.code_name, Shelter.name, Shelter.address).order_by(Shelter.id)).all(),
        db.session.execute(select(HandoverEntry.id, HandoverEntry.text, HandoverEntry.edited_at)
                           .order_by(HandoverEntry.id)).all(),
        db.session.execute(select(Handover.id, Handover.note, Handover.handed_over_at, Handover.acknowledged_at)
                           .order_by(Handover.id)).all(),
        db.session.execute(select(Task.id, Task.done_at).order_by(Task.id)).all(),
        db.session.execute(select(DutyAssignment.id, DutyAssignment.user_id).order_by(DutyAssignment.id)).all(),
        db.session.execute(select(Outing.id, Outing.came_back_at).order_by(Outing.id)).all(),
        db.session.execute(select(Round.id, Round.headcount).order_by(Round.id)).all(),
        db.session.scalar(select(func.count(RoundCheck.id))),
    )


# --- what each rule is asked with -----------------------------------------------------------

def _targets(rule, ids: dict[str, int], a: Shelter, b: Shelter) -> list[dict]:
    """The URL values naming B's rows for rule (several where a rule takes rows in different states)."""
    args = rule.arguments
    if "item_id" in args:
        return [{"shelter_id": b.id, "kind": "check_out", "item_id": ids["b_stay_ended"]},
                {"shelter_id": b.id, "kind": "end_isolation", "item_id": ids["b_isolation"]},
                # from A's own board, an undo of something in B
                {"shelter_id": a.id, "kind": "check_out", "item_id": ids["b_stay_ended"]}]
    for arg, key in (("handover_id", "b_handover"), ("entry_id", "b_entry"), ("task_id", "b_task"),
                     ("duty_id", "b_duty"), ("room_id", "b_room")):
        if arg in args:
            return [{arg: ids[key]}]
    if "bed_id" in args:
        return [{"bed_id": ids[k]} for k in ("b_occupied_bed", "b_isolated_bed", "b_free_bed")]
    if "referral_ref" in args:
        return [{"referral_ref": ids["b_referral"]}, {"referral_ref": ids["b_accepted"]}]
    if "resident_id" in args:
        return [{"resident_id": ids["b_resident"]}, {"resident_id": ids["b_waiting"]}]
    assert args == {"shelter_id"}, rule.rule
    return [{"shelter_id": b.id}]


def _missing(values: dict) -> dict:
    return {k: ((MISSING_REF if k.endswith("_ref") else MISSING) if k in SCOPED_ARGUMENTS else v)
            for k, v in values.items()}


def _form(endpoint: str, values: dict, ids: dict[str, int], a: Shelter) -> dict:
    """A form that would do the action if the ids were the sender's own (answered from A's board)."""
    now = timeutil.utcnow()
    rid = values.get("referral_ref")
    forms = {
        "beds.check_in": {"ci-new_alias": "Intruder", "ci-new_sex": "female", "ci-new_age_band": "adult"},
        "beds.hold": {"h-expires_at": local_input_value(now + timedelta(hours=2)), "h-note": "x"},
        "beds.out_of_service": {"o-reason": "Broken"},
        "beds.move": {"m-to_bed_id": ids["b_free_bed"]},
        "beds.check_out": {"co-reason": "other", "co-confirm": "y"},
        "beds.isolate": {"is-room_id": "here", "is-reason": "health",
                         "is-expected_end_at": local_input_value(now + timedelta(days=1))},
        "beds.end_isolation": {"ei-confirm": "y"},
        "residents.edit": {"alias": "Renamed", "sex": "female", "age_band": "adult"},
        "referrals.accept": {f"accept{rid}-shelter_id": a.id},
        "referrals.decline": {f"decline{rid}-shelter_id": a.id, f"decline{rid}-reason": "no_bed"},
        "referrals.check_in": {f"arrive{rid}-shelter_id": a.id, f"arrive{rid}-alias": "Intruder",
                               f"arrive{rid}-sex": "female", f"arrive{rid}-age_band": "adult"},
        "referrals.cancel": {"confirm": "y"},
        "shelters.setup": {"action": "room", "room-name": "Intruded", "room-kind": "regular"},
        "handovers.setup": {"day_starts": "06:00", "night_starts": "18:00", "curfew": "21:00", "rounds": ""},
        "handovers.assign_duty": {"d-shift_date": timeutil.to_local(now).date().isoformat(), "d-shift_kind": "day",
                                  "d-user_id": ids["b_out"]},
        "handovers.add_entry": {"e-resident_id": ids["b_resident"], "e-text": "Intruding"},
        "handovers.add_incident": {"i-incident_kind": "other", "i-text": "Intruding"},
        "handovers.add_task": {"t-text": "Intruding", "t-owner_id": 1,
                               "t-due_at": local_input_value(now + timedelta(hours=2))},
        "handovers.hand_over": {"h-note": "Intruding"},
        "handovers.edit_entry": {"ed-text": "Intruding"},
        "handovers.correct_entry": {"co-text": "Intruding"},
        "handovers.add_observation": {"ob-text": "Intruding"},
        "handovers.record_room": {f"r{ids['b_room']}-due": ids["b_due"], f"r{ids['b_room']}-status": "quiet"},
        "handovers.record_headcount": {"hc-due": ids["b_due"], "hc-headcount": "1"},
        "handovers.go_out": {f"out{rid}-expected_back_at": local_input_value(now + timedelta(hours=2))
                             for rid in [values.get("resident_id")]},
    }
    return forms.get(endpoint, {})


def _scoped_rules(app):
    rules = []
    for rule in app.url_map.iter_rules():
        id_args = {a for a in rule.arguments if a.endswith(("_id", "_ref"))}
        if not id_args:
            continue
        permission = getattr(app.view_functions[rule.endpoint], "permission", None)
        if id_args <= ACCOUNT_ARGUMENTS:
            assert permission == "account", rule.rule
            continue
        if id_args <= ADMIN_ARGUMENTS | ACCOUNT_ARGUMENTS:
            assert permission in ("users.manage", "api_tokens.manage"), rule.rule
            continue
        assert id_args <= SCOPED_ARGUMENTS, f"{rule.rule}: add its ids to this test's scene"
        rules.append((rule, permission))
    return rules


def _ask(client: Client, method: str, url: str, data: dict, htmx: bool):
    if method == "GET":
        return client.get(url, htmx=htmx)
    return client.post(url, data, htmx=htmx)


@pytest.mark.parametrize("role", ["night", "manager", "trainer"])
def test_staff_of_a_get_404_for_every_page_fragment_and_action_of_b(app, scene, make_user, role):
    user = make_user(role, shelters=[scene.a], locale="en")
    client = Client(app)
    assert client.login(user.username).status_code == 303
    before = _state_of_b(scene)
    rules = _scoped_rules(app)
    assert {r.endpoint for r, _p in rules} >= {
        "beds.show", "beds.bed", "beds.check_in", "beds.move", "beds.undo", "residents.show", "residents.edit",
        "referrals.accept", "shelters.setup"}
    asked = 0
    for rule, permission in rules:
        allowed = permission is None or can(user, permission)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for values in _targets(rule, scene.ids, scene.a, scene.b):
                with app.test_request_context():
                    from flask import url_for

                    url, missing_url = url_for(rule.endpoint, **values), url_for(rule.endpoint, **_missing(values))
                data = _form(rule.endpoint, values, scene.ids, scene.a) if method == "POST" else {}
                for htmx in (False, True):
                    response = _ask(client, method, url, data, htmx)
                    body = response.get_data(as_text=True)
                    where = f"{role} {method} {url} htmx={htmx}"
                    assert response.status_code == (404 if allowed else 403), (where, response.status_code)
                    missing = _ask(client, method, missing_url, data, htmx)
                    assert missing.status_code == response.status_code, where
                    leaked = [s for s in scene.secrets if s in body]
                    assert not leaked, (where, leaked)
                    asked += 1
    assert asked >= 60
    assert _state_of_b(scene) == before


def test_the_same_routes_work_for_staff_of_both_shelters(app, scene, login_as):
    """The matrix above is not vacuous: with B among their shelters, the pages answer."""
    night = login_as("night", locale="en")
    assert night.get(f"/board/{scene.b.id}").status_code == 200
    assert night.get(f"/beds/{scene.ids['b_occupied_bed']}", htmx=True).status_code == 200
    assert "Berta" in night.get(f"/residents/{scene.ids['b_resident']}").get_data(as_text=True)
    manager = login_as("manager", locale="en")
    assert manager.get(f"/shelters/{scene.b.id}").status_code == 200
    assert manager.get(f"/residents/{scene.ids['b_resident']}/edit").status_code == 200


@pytest.mark.parametrize("htmx", [False, True])
def test_residents_list_and_search_show_only_the_own_shelters(app, scene, make_user, htmx):
    user = make_user("night", shelters=[scene.a], locale="en")
    client = Client(app)
    client.login(user.username)
    for url in ("/residents", "/residents?q=a", "/residents?q=R-"):
        html = client.get(url, htmx=htmx).get_data(as_text=True)
        assert "Anna" in html and "Agata" in html, url
        assert not any(name in html for name in ("Berta", "Bogna", "Bella", "Brygida")), url
    assert "No resident found." in client.get("/residents?q=Berta", htmx=htmx).get_data(as_text=True)
    listed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "residents.list",
                                                         AuditEvent.actor_id == user.id)).all()
    b_ids = set(db.session.scalars(select(Resident.id).where(Resident.shelter_id == scene.b.id)))
    assert listed and not any(set(e.details["resident_ids"]) & b_ids for e in listed)


def test_board_goes_to_an_own_shelter_and_its_switcher_lists_only_own_shelters(app, scene, make_user, make_shelter):
    c = make_shelter(beds=1, isolation_rooms=0, name="House Gamma", code_name="Gamma")
    user = make_user("night", shelters=[scene.a, c], locale="en")
    client = Client(app)
    client.login(user.username)
    for _ in range(3):
        location = client.get("/board").headers["Location"]
        assert location.endswith((f"/board/{scene.a.id}", f"/board/{c.id}"))
    html = client.get(f"/board/{c.id}").get_data(as_text=True)
    switcher = html.split('class="shelter-switch"', 1)[1].split("</nav>", 1)[0]
    assert "House Alpha" in switcher and "House Gamma" in switcher and "House Beta" not in switcher
    assert client.get("/board").headers["Location"].endswith(f"/board/{c.id}")  # remembered
    # someone of all shelters sees all three
    everyone = make_user("night", locale="en")
    other = Client(app)
    other.login(everyone.username)
    html = other.get(f"/board/{scene.a.id}").get_data(as_text=True)
    assert all(name in html for name in ("House Alpha", "House Beta", "House Gamma"))


def test_a_board_shows_only_referrals_it_may_answer(app, scene, make_user):
    user = make_user("night", shelters=[scene.a], locale="en")
    client = Client(app)
    client.login(user.username)
    board = client.get(f"/board/{scene.a.id}").get_data(as_text=True)
    assert "TO-A" in board and "TO-ANY" in board
    assert "TO-B" not in board and "ACC-B" not in board and "wait for other shelters" not in board
    inbox = client.get("/referrals/inbox").get_data(as_text=True)
    assert "TO-A" in inbox and "TO-ANY" in inbox and "TO-B" not in inbox and "ACC-B" not in inbox
    assert "House Beta" not in inbox
    # the referral for any shelter is answered from A's board
    rid = scene.ids["any_referral"]
    response = client.post(f"/referrals/{rid}/accept", {f"accept{rid}-shelter_id": scene.a.id})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(Referral).where(Referral.public_id == rid)).shelter_id == scene.a.id


def test_the_check_in_panel_lists_the_residents_of_the_beds_shelter(app, scene, login_as):
    night = login_as("night", locale="en")  # of both shelters
    a_panel = night.get(f"/beds/{scene.ids['a_free_bed']}", htmx=True).get_data(as_text=True)
    assert "Agata" in a_panel and "Brygida" not in a_panel
    b_panel = night.get(f"/beds/{scene.ids['b_free_bed']}", htmx=True).get_data(as_text=True)
    assert "Brygida" in b_panel and "Agata" not in b_panel


def test_a_check_in_or_move_to_another_shelter_takes_the_record_along(app, scene, make_user, login_as):
    night = login_as("night", locale="en")  # of both shelters
    a_only = make_user("night", shelters=[scene.a], locale="en")
    a_client = Client(app)
    a_client.login(a_only.username)
    agata = db.session.scalar(select(Resident).where(Resident.alias == "Agata"))
    assert a_client.get(f"/residents/{agata.id}").status_code == 200
    response = night.post(f"/beds/{scene.ids['b_free_bed']}/check-in", {"ci-resident_id": agata.id})
    assert response.status_code == 303, response.get_data(as_text=True)[-1500:]
    db.session.expire_all()
    assert db.session.get(Resident, agata.id).shelter_id == scene.b.id
    assert a_client.get(f"/residents/{agata.id}").status_code == 404
    # and back with a move into a bed of A
    response = night.post(f"/beds/{scene.ids['b_free_bed']}/move", {"m-to_bed_id": scene.ids["a_free_bed"]})
    assert response.status_code == 303, response.get_data(as_text=True)[-1500:]
    db.session.expire_all()
    assert db.session.get(Resident, agata.id).shelter_id == scene.a.id
    assert a_client.get(f"/residents/{agata.id}").status_code == 200


def test_staff_of_a_cannot_pick_bs_bed_or_resident_in_a_form(app, scene, make_user):
    user = make_user("night", shelters=[scene.a], locale="en")
    client = Client(app)
    client.login(user.username)
    before = _state_of_b(scene)
    moved = client.post(f"/beds/{scene.ids['a_occupied_bed']}/move", {"m-to_bed_id": scene.ids["b_free_bed"]})
    assert moved.status_code == 422 and "Choose a bed from the list." in moved.get_data(as_text=True)
    checked = client.post(f"/beds/{scene.ids['a_free_bed']}/check-in", {"ci-resident_id": scene.ids["b_waiting"]})
    assert checked.status_code == 422 and "Choose a resident from the list." in checked.get_data(as_text=True)
    made = client.post("/residents/new", {"shelter_id": scene.b.id, "alias": "Newbie", "sex": "female",
                                          "age_band": "adult"})
    assert made.status_code == 422 and "Choose a shelter from the list." in made.get_data(as_text=True)
    assert _state_of_b(scene) == before
    # Each is answered as for a row that does not exist, and written to the audit log as a denied access.
    denied = [e.details for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "access.denied", AuditEvent.actor_id == user.id).order_by(AuditEvent.id))]
    assert denied == [
        {"status": 422, "endpoint": "beds.move", "method": "POST", "bed_id": scene.ids["a_occupied_bed"],
         "to_bed_id": scene.ids["b_free_bed"]},
        {"status": 422, "endpoint": "beds.check_in", "method": "POST", "bed_id": scene.ids["a_free_bed"],
         "resident_id": scene.ids["b_waiting"]},
        {"status": 422, "endpoint": "residents.new", "method": "POST", "shelter_id": scene.b.id},
    ]


def test_a_form_naming_a_row_that_does_not_exist_is_refused_alike_but_denies_no_access(app, scene, make_user):
    user = make_user("night", shelters=[scene.a], locale="en")
    client = Client(app)
    client.login(user.username)
    answers = [
        client.post(f"/beds/{scene.ids['a_occupied_bed']}/move", {"m-to_bed_id": MISSING}),
        client.post(f"/beds/{scene.ids['a_free_bed']}/check-in", {"ci-resident_id": MISSING}),
        client.post("/residents/new", {"shelter_id": MISSING, "alias": "Newbie", "sex": "female", "age_band": "adult"}),
    ]
    assert [a.status_code for a in answers] == [422, 422, 422]
    assert "Choose a bed from the list." in answers[0].get_data(as_text=True)
    assert not db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "access.denied"))


def test_isolation_in_another_shelters_isolation_room_stays_allowed(app, scene, make_user):
    user = make_user("night", shelters=[scene.a], locale="en")
    client = Client(app)
    client.login(user.username)
    from shelter_app.shelters import services as shelters

    # B's one isolation room is taken: B gets a free one
    room = shelters.create_room(scene.b, "Iso-free", "isolation", None, actor=None, at=timeutil.utcnow())
    db.session.commit()
    panel = client.get(f"/beds/{scene.ids['a_occupied_bed']}", htmx=True).get_data(as_text=True)
    assert f'value="{room.id}"' in panel
    response = client.post(f"/beds/{scene.ids['a_occupied_bed']}/isolate", {
        "is-room_id": room.id, "is-reason": "health",
        "is-expected_end_at": local_input_value(timeutil.utcnow() + timedelta(days=1))})
    assert response.status_code == 303, response.get_data(as_text=True)[-1500:]
    db.session.expire_all()
    isolation = db.session.scalar(select(Isolation).where(Isolation.room_id == room.id))
    assert isolation.resident_id == scene.ids["a_resident"]
    # an isolation does not move the record
    assert db.session.get(Resident, scene.ids["a_resident"]).shelter_id == scene.a.id


def test_new_resident_form_offers_the_users_shelters_defaulting_to_the_board(app, scene, make_user, make_shelter):
    c = make_shelter(beds=1, isolation_rooms=0, name="House Gamma", code_name="Gamma")
    user = make_user("trainer", shelters=[scene.a, c], locale="en")
    client = Client(app)
    client.login(user.username)
    client.get(f"/board/{c.id}")
    html = client.get("/residents/new").get_data(as_text=True)
    select_html = html.split('name="shelter_id"', 1)[1].split("</select>", 1)[0]
    assert "House Alpha" in select_html and "House Gamma" in select_html and "House Beta" not in select_html
    assert f'selected value="{c.id}"' in select_html or f'value="{c.id}" selected' in select_html
    response = client.post("/residents/new", {"alias": "Gosia", "sex": "female", "age_band": "adult"})
    assert response.status_code == 303
    assert db.session.scalar(select(Resident.shelter_id).where(Resident.alias == "Gosia")) == c.id
    response = client.post("/residents/new", {"shelter_id": scene.a.id, "alias": "Ala", "sex": "female",
                                              "age_band": "adult"})
    assert response.status_code == 303
    assert db.session.scalar(select(Resident.shelter_id).where(Resident.alias == "Ala")) == scene.a.id


def test_staff_without_a_shelter_are_told_to_ask_the_administrator(app, scene, make_user):
    user = make_user("night", shelters=[], locale="en")
    client = Client(app)
    client.login(user.username)
    page = client.get("/board")
    assert page.status_code == 200
    assert "Ask the administrator to add you to your shelter." in page.get_data(as_text=True)
    assert "Anna" not in client.get("/residents").get_data(as_text=True)


# --- the administrator assigns shelters --------------------------------------------------------

def test_the_administrator_assigns_shelters_and_it_takes_effect(app, scene, make_user, login_as):
    night = make_user("night", shelters=[scene.a], locale="en")
    nc = Client(app)
    nc.login(night.username)
    assert nc.get(f"/board/{scene.b.id}").status_code == 404
    admin = login_as("admin", locale="en")
    page = admin.get(f"/admin/users/{night.id}").get_data(as_text=True)
    assert "House Alpha" in page and "House Beta" in page and 'name="sh-shelters"' in page
    response = admin.post(f"/admin/users/{night.id}", {"action": "shelters",
                                                       "sh-shelters": [str(scene.a.id), str(scene.b.id)]})
    assert response.status_code == 303
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.shelters")
                              .order_by(AuditEvent.id.desc()))
    assert event.actor_id == admin.user.id and event.target_id == night.id
    assert event.details["shelter_ids"] == sorted([scene.a.id, scene.b.id])
    assert nc.get(f"/board/{scene.b.id}").status_code == 200
    assert "Berta" in nc.get("/residents").get_data(as_text=True)
    # none ticked: the account sees no shelter
    assert admin.post(f"/admin/users/{night.id}", {"action": "shelters"}).status_code == 303
    assert nc.get(f"/board/{scene.a.id}").status_code == 404
    assert "Ask the administrator" in nc.get("/board").get_data(as_text=True)
    # a shelter that does not exist is the field's error
    bad = admin.post(f"/admin/users/{night.id}", {"action": "shelters", "sh-shelters": str(MISSING)})
    assert bad.status_code == 422


def test_the_administrator_gives_shelters_when_creating_a_user(app, scene, login_as):
    admin = login_as("admin", locale="en")
    assert "House Beta" in admin.get("/admin/users").get_data(as_text=True)
    response = admin.post("/admin/users", {"username": "nowa", "role": "night", "locale": "en",
                                           "password": PASSWORD, "shelters": [str(scene.b.id)]})
    assert response.status_code == 303, response.get_data(as_text=True)[-1500:]
    nowa = db.session.scalar(select(User).where(User.username == "nowa"))
    assert set(db.session.scalars(select(ShelterStaff.shelter_id).where(ShelterStaff.user_id == nowa.id))) == {
        scene.b.id}
    client = Client(app)
    client.login("nowa")
    assert client.get(f"/board/{scene.b.id}").status_code == 200
    assert client.get(f"/board/{scene.a.id}").status_code == 404
    # a case manager belongs to no shelter
    refused = admin.post("/admin/users", {"username": "cm2", "role": "casemanager", "organisation": "NGO",
                                          "locale": "en", "password": PASSWORD, "shelters": [str(scene.b.id)]})
    assert refused.status_code == 422


def test_users_create_on_the_command_line_takes_shelters(app, scene):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "ola", "--role", "night", "--shelter", "Alpha",
                                 "--shelter", "Beta"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    ola = db.session.scalar(select(User).where(User.username == "ola"))
    assert set(db.session.scalars(select(ShelterStaff.shelter_id).where(ShelterStaff.user_id == ola.id))) == {
        scene.a.id, scene.b.id}
    unknown = runner.invoke(args=["users", "create", "ela", "--role", "night", "--shelter", "Nowhere"],
                            input=PASSWORD + "\n")
    assert unknown.exit_code != 0 and "Nowhere" in unknown.output
    assert db.session.scalar(select(User).where(User.username == "ela")) is None


def test_a_manager_who_creates_a_shelter_belongs_to_it(app, scene, make_user):
    manager = make_user("manager", shelters=[scene.a], locale="en")
    client = Client(app)
    client.login(manager.username)
    listed = client.get("/shelters").get_data(as_text=True)
    assert "House Alpha" in listed and "House Beta" not in listed
    response = client.post("/shelters", {"code_name": "Delta", "name": "House Delta", "address": ""})
    assert response.status_code == 303
    delta = db.session.scalar(select(Shelter).where(Shelter.code_name == "Delta"))
    assert client.get(f"/shelters/{delta.id}").status_code == 200
    assert client.get(f"/board/{delta.id}").status_code == 200
    night = make_user("night", shelters=[scene.a], locale="en")
    nc = Client(app)
    nc.login(night.username)
    assert nc.get(f"/board/{delta.id}").status_code == 404


def test_demo_has_a_night_worker_of_one_shelter(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo"], env={"SHELTER_DEMO_PASSWORD": "demo password 123"})
    assert result.exit_code == 0, result.output
    assert "night-przystan" in result.output and "Przystań only" in result.output

    def codes(username):
        return set(db.session.scalars(select(Shelter.code_name).join(ShelterStaff)
                                      .join(User, User.id == ShelterStaff.user_id)
                                      .where(User.username == username)))

    assert codes("manager") == codes("trainer") == codes("night") == {"Przystań", "Latarnia"}
    assert codes("night-przystan") == {"Przystań"}
    assert codes("casemanager") == codes("admin") == set()
    again = runner.invoke(args=["seed-demo"], env={"SHELTER_DEMO_PASSWORD": "demo password 123"})
    assert again.exit_code == 0
    assert codes("night-przystan") == {"Przystań"}


# --- the migration -------------------------------------------------------------------------

def test_migration_gives_existing_staff_every_shelter_and_residents_their_latest_shelter(
        app, make_user, make_shelter, make_resident):
    a = make_shelter(beds=2, isolation_rooms=0)
    b = make_shelter(beds=2, isolation_rooms=0)
    night = make_user("night", shelters=[])
    manager = make_user("manager", shelters=[])
    cm = make_user("casemanager", organisation="NGO")
    now = timeutil.utcnow()
    moved = make_resident("Moved", shelter_id=a.id)
    factories.check_in(beds_of(a)[0], moved, at=now - timedelta(days=3))
    factories.check_out(beds_of(a)[0], now=now - timedelta(days=2))
    factories.check_in(beds_of(b)[0], moved, at=now - timedelta(days=1))
    left = make_resident("Left", shelter_id=a.id)
    factories.check_in(beds_of(b)[1], left, at=now - timedelta(days=2))
    factories.check_out(beds_of(b)[1], now=now - timedelta(days=1))
    never = make_resident("Never", shelter_id=b.id)
    db.session.commit()
    ids = (moved.id, left.id, never.id)
    a_id, b_id, staff_ids, cm_id = a.id, b.id, (night.id, manager.id), cm.id

    db.session.remove()
    downgrade(revision=_migration_0007().down_revision)
    db.engine.dispose()
    upgrade()
    db.engine.dispose()

    members = set(db.session.execute(select(ShelterStaff.user_id, ShelterStaff.shelter_id)).tuples())
    assert members == {(u, s) for u in staff_ids for s in (a_id, b_id)}
    assert cm_id not in {u for u, _s in members}
    shelter_of = dict(db.session.execute(select(Resident.id, Resident.shelter_id)
                                         .where(Resident.id.in_(ids))).tuples().all())
    # the latest stay's shelter (checked out or not); never housed: the first shelter
    assert shelter_of == {ids[0]: b_id, ids[1]: b_id, ids[2]: min(a_id, b_id)}
