"""Nothing a case manager or partner system can reach names a resident, a room, a bed, a place or a staff member.

The database is seeded with distinctive strings in every confidential field; then every GET route of the
app is requested as a case manager (full page and htmx fragment, with every id that exists), and the API
with a token, and none of the strings may appear in any response.
"""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from shelter_app import timeutil
from shelter_app.api import services as api_tokens
from shelter_app.extensions import db
from shelter_app.beds import services as beds
from shelter_app.handovers import services as handovers
from shelter_app.residents import services as residents
from shelter_app.shelters import services as shelters
from tests import factories
from tests.referrals.conftest import referral_form

SECRETS = {
    "shelter name": "Zzshelter Realname",
    "address": "Hiddenstreet 13 Secretville",
    "room": "Roomname Qsunflower",
    "isolation room": "Isoroom Qviolet",
    "bed label": "Bedlbl-Q",  # every bed's label starts with it
    "alias": "Aliasname Qophelia",
    "alias of an arrival": "Aliasname Qarrived",
    "legal name": "Legalname Qkowalska",
    "document": "Docnumber QX998877",
    "country of origin": "Countryq Moldovaish",
    "resident notes": "Residentnote Qtrauma",
    "hold note": "Holdnote Qprivate",
    "isolation note": "Isonote Qfever",
    "out of service reason": "Oosreason Qmould",
    "night staff name": "Staffname Qnightnurse",
    "manager name": "Staffname Qmanager",
    "another organisation's code": "OTHERORG-QCODE",
    "another organisation": "Otherorg Qpolice",
    "handover entry": "Entrytext Qlawyer",
    "handover note": "Handovernote Qgate",
}


@pytest.fixture
def seeded(app, make_user, login_as, send_referral):
    """A shelter full of confidential detail, and a case manager with referrals in every state."""
    now = timeutil.utcnow()
    night = make_user("night", display_name=SECRETS["night staff name"], locale="en")
    manager = make_user("manager", display_name=SECRETS["manager name"], locale="en")
    shelter = shelters.create_shelter("Kestrel", SECRETS["shelter name"], SECRETS["address"], actor=manager, at=now)
    factories.give_every_staff_user(shelter)  # the night staff work here too
    room = shelters.create_room(shelter, SECRETS["room"], "regular", "women", actor=manager, at=now)
    iso = shelters.create_room(shelter, SECRETS["isolation room"], "isolation", None, actor=manager, at=now)
    occupied, held, out, *_free = (shelters.create_bed(room, f"{SECRETS['bed label']}{i}", "woman", actor=manager,
                                                       at=now) for i in range(6))
    resident = residents.create_resident(residents.ResidentInput(
        alias=SECRETS["alias"], sex="female", country_of_origin=SECRETS["country of origin"],
        notes=SECRETS["resident notes"], legal_name=SECRETS["legal name"], document_data=SECRETS["document"]),
        actor=manager, at=now)
    factories.check_in(occupied, resident, actor=night, now=now)
    factories.isolate(occupied, iso, note=SECRETS["isolation note"], until=now + timedelta(days=2), actor=night,
                      now=now)
    beds.place_hold(held.id, now + timedelta(hours=3), SECRETS["hold note"], actor=night, at=now)
    beds.set_out_of_service(out.id, SECRETS["out of service reason"], None, actor=manager, at=now)
    shelters.create_shelter("Osprey", "Second Realname", "Elsewhere 1", actor=manager, at=now)
    entry = handovers.add_entry(shelter, handovers.EntryInput(kind="resident", resident_id=resident.id,
                                                              text=SECRETS["handover entry"]), actor=night, at=now)
    handovers.hand_over(shelter, SECRETS["handover note"], None, actor=night, at=now)
    db.session.commit()

    cm = login_as("casemanager", organisation="NGO One", display_name="Casey Partner", locale="en")
    other = login_as("casemanager", organisation=SECRETS["another organisation"], locale="en")
    staff = login_as("manager", display_name=SECRETS["manager name"] + " 2", locale="en")
    staff.get(f"/board/{shelter.id}")
    sid, code = shelter.id, shelter.code_name

    def answer(referral_id, kind, **fields):
        data = {f"{kind}{referral_id}-shelter_id": sid}
        data.update({f"{kind}{referral_id}-{k}": v for k, v in fields.items()})
        action = {"accept": "accept", "decline": "decline", "arrive": "check-in"}[kind]
        response = staff.post(f"/referrals/{referral_id}/{action}", data, htmx=True)
        assert response.status_code == 200, response.get_data(as_text=True)[-800:]

    ids = {
        "pending": send_referral(cm, code="CM-PENDING", shelter=code),
        "accepted": send_referral(cm, code="CM-ACCEPTED", shelter=code),
        "declined": send_referral(cm, code="CM-DECLINED"),
        "arrived": send_referral(cm, code="CM-ARRIVED", shelter=code),
        "withdrawn": send_referral(cm, code="CM-WITHDRAWN"),
    }
    answer(ids["accepted"], "accept")
    answer(ids["declined"], "decline", reason="no_bed", note="Full tonight.")
    answer(ids["arrived"], "accept")
    answer(ids["arrived"], "arrive", alias=SECRETS["alias of an arrival"], sex="female", age_band="adult")
    assert cm.post(f"/referrals/{ids['withdrawn']}/cancel", {"confirm": "y"}).status_code == 303
    foreign = other.post("/referrals/new", referral_form(code=SECRETS["another organisation's code"]))
    assert foreign.status_code == 303
    ids["foreign"] = foreign.headers["Location"].rsplit("/", 1)[1]
    _token, plaintext = api_tokens.create_token("NGO One", "partner system", actor=None, at=timeutil.utcnow())
    db.session.commit()
    known = {"referral_ref": list(ids.values()), "shelter_id": [sid], "bed_id": [occupied.id, held.id],
             "resident_id": [resident.id], "user_id": [night.id, manager.id], "token_id": [_token.id],
             "entry_id": [entry.id]}
    return cm, plaintext, ids, known


def _urls(app, known):
    """Every GET URL of the app, with each known id for its arguments."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        args = sorted(rule.arguments)
        missing = [a for a in args if a not in known]
        assert not missing, f"{rule.rule}: teach this test ids for {missing}"
        combos = [{}]
        for arg in args:
            combos = [{**c, arg: v} for c in combos for v in known[arg]]
        for values in combos:
            with app.test_request_context():
                from flask import url_for

                urls.append(url_for(rule.endpoint, **values))
    return urls


def _assert_clean(where: str, response) -> None:
    text = response.get_data(as_text=True)
    if response.is_json:
        text += json.dumps(response.get_json(), ensure_ascii=False)
    for what, secret in SECRETS.items():
        assert secret.lower() not in text.lower(), f"{where} shows the {what}"


def test_no_response_a_case_manager_can_reach_reveals_confidential_detail(app, client, seeded):
    cm, plaintext, ids, known = seeded
    urls = _urls(app, known)
    assert "/availability" in urls and f"/referrals/{ids['accepted']}" in urls and "/api/v1/availability" in urls
    reached = set()
    for url in urls:
        for htmx in (False, True):
            response = cm.get(url, htmx=htmx)
            _assert_clean(f"{url} (htmx={htmx})", response)
            if response.status_code == 200:
                reached.add(url)
    # The home page redirects; follow it like a browser.
    home = cm.get("/")
    assert home.status_code == 302
    _assert_clean("/ → " + home.headers["Location"], cm.get(home.headers["Location"]))

    # What a case manager is meant to reach, they did reach (so the walk proved something).
    own = {f"/referrals/{ids[k]}" for k in ("pending", "accepted", "declined", "arrived", "withdrawn")}
    assert own | {"/availability", "/referrals", "/referrals/new", "/api/v1/availability", "/account"} <= reached
    assert f"/referrals/{ids['foreign']}" not in reached
    assert "/board" not in reached and f"/board/{known['shelter_id'][0]}" not in reached

    # What they are meant to see is there.
    page = cm.get(f"/referrals/{ids['accepted']}").get_data(as_text=True)
    assert "Kestrel holds a bed until" in page
    assert "Full tonight." in cm.get(f"/referrals/{ids['declined']}").get_data(as_text=True)
    figures = cm.get("/availability").get_data(as_text=True)
    assert "Kestrel" in figures and "Osprey" in figures

    api = client.get("/api/v1/availability", headers={"Authorization": f"Bearer {plaintext}"})
    assert api.status_code == 200
    _assert_clean("the API with a token", api)
    kestrel = next(s for s in api.get_json()["shelters"] if s["code_name"] == "Kestrel")
    # 6 woman beds: one occupied, one held, one out of service, one held for the accepted referral and one
    # taken by the referred person who arrived → 1 free; the only isolation room is taken.
    assert kestrel["free_beds"]["woman"] == 1 and kestrel["free_isolation_rooms"] == 0
    _assert_clean("the OpenAPI document", client.get("/api/v1/openapi.json"))


def test_the_seeded_secrets_are_really_on_the_staff_pages(seeded, login_as):
    """Guard against a vacuous test: staff do see these strings, so their absence above means something."""
    _cm, _plaintext, _ids, known = seeded
    manager = login_as("manager", locale="en")
    board = manager.get(f"/board/{known['shelter_id'][0]}").get_data(as_text=True)
    for what in ("shelter name", "room", "isolation room", "bed label", "alias"):
        assert SECRETS[what] in board, what
