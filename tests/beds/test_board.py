"""The bed board and each bed action, as a full page and as an htmx fragment."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shelter_app import timeutil
from shelter_app.audit.models import AuditEvent
from shelter_app.extensions import db
from shelter_app.beds.models import Hold, Isolation, Stay
from shelter_app.residents.models import Resident
from tests.conftest import beds_of, rooms_of


def _local(dt):
    return timeutil.local_input_value(dt)


@pytest.fixture
def night(login_as):
    return login_as("night", locale="en")


def test_board_full_page_and_fragment(night, make_shelter):
    shelter = make_shelter(beds=6)
    full = night.get(f"/board/{shelter.id}")
    assert full.status_code == 200
    html = full.get_data(as_text=True)
    assert "<html" in html and 'id="board"' in html
    assert html.count('class="bed bed-free"') == 6
    fragment = night.get(f"/board/{shelter.id}", htmx=True)
    fhtml = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in fhtml and fhtml.lstrip().startswith('<div id="board"')
    assert "HX-Request" in fragment.headers["Vary"]
    assert fragment.headers["Cache-Control"] == "no-store"


def test_board_index_goes_to_a_shelter_or_explains(night, login_as, make_shelter):
    assert "No shelter has been set up yet." in night.get("/board").get_data(as_text=True)
    shelter = make_shelter()
    response = night.get("/board")
    assert response.status_code == 302 and response.headers["Location"] == f"/board/{shelter.id}"


def test_unknown_shelter_and_bed_are_404(night):
    assert night.get("/board/999").status_code == 404
    assert night.get("/beds/999").status_code == 404
    assert night.post("/beds/999/check-in", {"ci-new_alias": "X"}).status_code == 404


def test_counts_reflect_every_state(night, make_shelter, make_resident):
    from shelter_app.beds import services as beds

    shelter = make_shelter(beds=5, isolation_rooms=2)
    b = beds_of(shelter)
    now = timeutil.utcnow()
    ala = make_resident("Ala")
    beds.check_in(b[0].id, beds.CheckIn(resident_id=ala.id), actor=None, now=now)
    beds.place_hold(b[1].id, now + timedelta(hours=2), "", actor=None, at=now)
    beds.set_out_of_service(b[2].id, "Leak", None, actor=None, at=now)
    beds.set_out_of_service(b[3].id, "Paint", now + timedelta(hours=1), actor=None, at=now)
    beds.isolate(b[0].id, str(rooms_of(shelter)[0].id), "health", "", now + timedelta(days=1), actor=None, now=now)
    db.session.commit()
    view = beds.board(shelter, now)
    assert view.free_by_category["woman"] == 1
    assert (view.isolation_free, view.isolation_total, view.occupied) == (1, 2, 1)
    # an hour and a half later the painted bed is back and the hold is still on
    later = beds.board(shelter, now + timedelta(minutes=90))
    assert later.free_by_category["woman"] == 2
    # three hours later the hold has expired by itself: no job had to run
    assert beds.board(shelter, now + timedelta(hours=3)).free_by_category["woman"] == 3
    html = night.get(f"/board/{shelter.id}").get_data(as_text=True)
    assert "Ala" in html and "in isolation" in html and "held until" in html and "out of service" in html


def test_bed_panel_full_page_and_fragment(night, make_shelter):
    shelter = make_shelter(beds=2)
    bed = beds_of(shelter)[0]
    full = night.get(f"/beds/{bed.id}")
    assert full.status_code == 200 and "<html" in full.get_data(as_text=True)
    assert 'action="/beds/%d/check-in"' % bed.id in full.get_data(as_text=True)
    fragment = night.get(f"/beds/{bed.id}", htmx=True)
    assert "<html" not in fragment.get_data(as_text=True)
    assert 'hx-post="/beds/%d/check-in"' % bed.id in fragment.get_data(as_text=True)


def test_check_in_new_arrival_plain_post(night, make_shelter):
    shelter = make_shelter(beds=2)
    bed = beds_of(shelter)[0]
    response = night.post(f"/beds/{bed.id}/check-in", {"ci-new_alias": "Mira", "ci-new_sex": "female",
                                                      "ci-new_age_band": "adult"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/board/{shelter.id}#bed-{bed.id}"
    stay = db.session.scalar(select(Stay))
    assert stay.bed_id == bed.id and stay.resident.alias == "Mira" and stay.ended_at is None
    assert stay.resident.code.startswith("R-")
    page = night.get(response.headers["Location"]).get_data(as_text=True)
    assert "Mira checked in to bed B1." in page
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "resident.create" in actions and "stay.check_in" in actions


def test_check_in_existing_resident_htmx_updates_board_and_counts(night, make_shelter, make_resident):
    shelter = make_shelter(beds=2)
    bed = beds_of(shelter)[1]
    ala = make_resident("Ala")
    response = night.post(f"/beds/{bed.id}/check-in", {"ci-resident_id": str(ala.id)}, htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="board"') and "<html" not in html
    assert "Ala checked in to bed B2." in html
    assert html.count('class="bed bed-free"') == 1 and html.count('class="bed bed-occupied"') == 1
    assert "<dd>1</dd>" in html  # the count of free woman beds went from 2 to 1


def test_check_in_needs_a_resident(night, make_shelter):
    shelter = make_shelter(beds=1)
    bed = beds_of(shelter)[0]
    response = night.post(f"/beds/{bed.id}/check-in", {"ci-new_alias": "   "})
    assert response.status_code == 422
    assert 'id="ci-resident_id-error"' in response.get_data(as_text=True)
    htmx = night.post(f"/beds/{bed.id}/check-in", {"ci-new_alias": ""}, htmx=True)
    assert htmx.status_code == 422
    assert htmx.headers["HX-Retarget"] == "#panel" and htmx.headers["HX-Reswap"] == "innerHTML"
    assert "Choose a resident, or enter the alias of a new arrival." in htmx.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Stay.id))) == 0


def test_check_in_unknown_resident_and_junk_ids(night, make_shelter):
    bed = beds_of(make_shelter(beds=1))[0]
    unknown = night.post(f"/beds/{bed.id}/check-in", {"ci-resident_id": "424242"})
    assert unknown.status_code == 422 and "Choose a resident from the list." in unknown.get_data(as_text=True)
    junk = night.post(f"/beds/{bed.id}/check-in", {"ci-resident_id": "abc"})
    assert junk.status_code == 422 and 'id="ci-resident_id-error"' in junk.get_data(as_text=True)


def test_taken_bed_and_resident_already_in_a_bed(night, make_shelter, make_resident):
    shelter = make_shelter(beds=2)
    b1, b2 = beds_of(shelter)
    ala, ola = make_resident("Ala"), make_resident("Ola")
    assert night.post(f"/beds/{b1.id}/check-in", {"ci-resident_id": ala.id}).status_code == 303
    taken = night.post(f"/beds/{b1.id}/check-in", {"ci-resident_id": ola.id}, htmx=True)
    # the board shows b1 occupied now, so the panel offers no check-in; the refusal is explicit
    assert taken.status_code == 409
    assert "This bed is already taken." in taken.get_data(as_text=True)
    twice = night.post(f"/beds/{b2.id}/check-in", {"ci-resident_id": ala.id})
    assert twice.status_code == 409
    assert "Ala is already checked in (room R1, bed B1)." in twice.get_data(as_text=True)


def test_a_new_arrival_refused_keeps_what_was_typed(night, make_shelter):
    bed = beds_of(make_shelter(beds=1))[0]
    response = night.post(f"/beds/{bed.id}/check-in", {"ci-new_alias": "Kasia", "ci-new_age_band": "child",
                                                      "ci-new_sex": "female"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "For a child, enter the year of birth." in html and 'value="Kasia"' in html
    assert db.session.scalar(select(func.count(Resident.id))) == 0  # nothing half-saved


@pytest.mark.parametrize("alias", ["x" * 10_000, "a\x00b"])
def test_bad_aliases_are_refused(night, make_shelter, alias):
    bed = beds_of(make_shelter(beds=1))[0]
    response = night.post(f"/beds/{bed.id}/check-in", {"ci-new_alias": alias, "ci-new_sex": "female",
                                                      "ci-new_age_band": "adult"})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Resident.id))) == 0


@pytest.mark.parametrize("alias", ["مريم", "Zoë-Łucja", "שָׁלוֹם", "李娜", "👩🏽 Ana"])
def test_unicode_and_rtl_aliases_round_trip(night, make_shelter, alias):
    shelter = make_shelter(beds=1)
    bed = beds_of(shelter)[0]
    response = night.post(f"/beds/{bed.id}/check-in", {"ci-new_alias": alias, "ci-new_sex": "female",
                                                      "ci-new_age_band": "adult"})
    assert response.status_code == 303
    assert alias in night.get(f"/board/{shelter.id}").get_data(as_text=True)


def test_move_to_a_free_bed(night, make_shelter, make_resident):
    shelter = make_shelter(beds=3)
    b1, b2, b3 = beds_of(shelter)
    ala = make_resident("Ala")
    night.post(f"/beds/{b1.id}/check-in", {"ci-resident_id": ala.id})
    same = night.post(f"/beds/{b1.id}/move", {"m-to_bed_id": b1.id})
    assert same.status_code == 422 and "Choose a different bed." in same.get_data(as_text=True)
    missing = night.post(f"/beds/{b1.id}/move", {"m-to_bed_id": ""})
    assert missing.status_code == 422 and 'id="m-to_bed_id-error"' in missing.get_data(as_text=True)
    response = night.post(f"/beds/{b1.id}/move", {"m-to_bed_id": b3.id}, htmx=True)
    assert response.status_code == 200 and "Ala moved to bed B3." in response.get_data(as_text=True)
    stays = db.session.scalars(select(Stay).order_by(Stay.id)).all()
    assert [(s.bed_id, s.end_reason) for s in stays] == [(b1.id, "moved"), (b3.id, None)]
    assert stays[0].ended_at == stays[1].started_at
    # from an empty bed there is nobody to move
    nobody = night.post(f"/beds/{b1.id}/move", {"m-to_bed_id": b2.id})
    assert nobody.status_code == 409 and "Nobody is checked in to this bed" in nobody.get_data(as_text=True)


def test_move_refuses_a_held_or_out_of_service_bed(night, make_shelter, make_resident):
    shelter = make_shelter(beds=3)
    b1, b2, b3 = beds_of(shelter)
    ala = make_resident("Ala")
    night.post(f"/beds/{b1.id}/check-in", {"ci-resident_id": ala.id})
    night.post(f"/beds/{b2.id}/hold", {"h-expires_at": _local(timeutil.utcnow() + timedelta(hours=3))})
    night.post(f"/beds/{b3.id}/out-of-service", {"o-reason": "Broken"})
    held = night.post(f"/beds/{b1.id}/move", {"m-to_bed_id": b2.id})
    assert held.status_code == 409 and "held for an expected arrival" in held.get_data(as_text=True)
    out = night.post(f"/beds/{b1.id}/move", {"m-to_bed_id": b3.id})
    assert out.status_code == 409 and "out of service" in out.get_data(as_text=True)


def test_check_out_needs_confirmation_and_a_reason(night, make_shelter, make_resident):
    shelter = make_shelter(beds=1)
    bed = beds_of(shelter)[0]
    ala = make_resident("Ala")
    night.post(f"/beds/{bed.id}/check-in", {"ci-resident_id": ala.id})
    unconfirmed = night.post(f"/beds/{bed.id}/check-out", {"co-reason": "other_shelter", "co-destination": "NGO X"})
    assert unconfirmed.status_code == 422
    html = unconfirmed.get_data(as_text=True)
    assert "Tick to confirm the check-out." in html and 'value="NGO X"' in html
    bad_reason = night.post(f"/beds/{bed.id}/check-out", {"co-reason": "vanished", "co-confirm": "y"})
    assert bad_reason.status_code == 422
    ok = night.post(f"/beds/{bed.id}/check-out", {"co-reason": "other_shelter", "co-destination": "NGO X",
                                                 "co-confirm": "y"}, htmx=True)
    assert ok.status_code == 200 and "Ala checked out; bed B1 is free." in ok.get_data(as_text=True)
    stay = db.session.scalar(select(Stay))
    assert (stay.end_reason, stay.checkout_reason, stay.destination) == ("checked_out", "other_shelter", "NGO X")


def test_isolation_start_and_end(night, make_shelter, make_resident):
    shelter = make_shelter(beds=2, isolation_rooms=1)
    b1, b2 = beds_of(shelter)
    iso = rooms_of(shelter)[0]
    ala, ola = make_resident("Ala"), make_resident("Ola")
    night.post(f"/beds/{b1.id}/check-in", {"ci-resident_id": ala.id})
    night.post(f"/beds/{b2.id}/check-in", {"ci-resident_id": ola.id})
    now = timeutil.utcnow()
    wrong_order = night.post(f"/beds/{b1.id}/isolate", {"is-room_id": iso.id, "is-reason": "health",
                                                       "is-expected_end_at": _local(now - timedelta(hours=1))})
    assert wrong_order.status_code == 422
    assert "The expected end must be after the start." in wrong_order.get_data(as_text=True)
    ok = night.post(f"/beds/{b1.id}/isolate", {"is-room_id": iso.id, "is-reason": "safety",
                                              "is-expected_end_at": _local(now + timedelta(days=2))}, htmx=True)
    assert ok.status_code == 200 and "Ala is in isolation in Iso1." in ok.get_data(as_text=True)
    # the isolation room holds one resident at a time
    second = night.post(f"/beds/{b2.id}/isolate", {"is-room_id": iso.id, "is-reason": "health",
                                                  "is-expected_end_at": _local(now + timedelta(days=2))})
    assert second.status_code == 409 and "already in use" in second.get_data(as_text=True)
    board = night.get(f"/board/{shelter.id}").get_data(as_text=True)
    assert "in isolation" in board
    unconfirmed = night.post(f"/beds/{b1.id}/end-isolation", {})
    assert unconfirmed.status_code == 422
    assert db.session.scalar(select(Isolation).where(Isolation.ended_at.is_(None))) is not None
    end = night.post(f"/beds/{b1.id}/end-isolation", {"ei-confirm": "y"})
    assert end.status_code == 303
    assert db.session.scalar(select(Isolation)).ended_at is not None
    again = night.post(f"/beds/{b1.id}/end-isolation", {"ei-confirm": "y"})
    assert again.status_code == 409 and "Ala is not in isolation." in again.get_data(as_text=True)


def test_check_out_ends_an_open_isolation(night, make_shelter, make_resident):
    shelter = make_shelter(beds=1, isolation_rooms=1)
    bed = beds_of(shelter)[0]
    ala = make_resident("Ala")
    night.post(f"/beds/{bed.id}/check-in", {"ci-resident_id": ala.id})
    night.post(f"/beds/{bed.id}/isolate", {"is-room_id": rooms_of(shelter)[0].id, "is-reason": "health",
                                          "is-expected_end_at": _local(timeutil.utcnow() + timedelta(days=1))})
    night.post(f"/beds/{bed.id}/check-out", {"co-reason": "left", "co-confirm": "y"})
    assert db.session.scalar(select(Isolation)).ended_at is not None


def test_hold_and_release(night, make_shelter, make_resident, travel):
    shelter = make_shelter(beds=1)
    bed = beds_of(shelter)[0]
    past = night.post(f"/beds/{bed.id}/hold", {"h-expires_at": _local(timeutil.utcnow() - timedelta(hours=1))})
    assert past.status_code == 422 and "The hold must end in the future." in past.get_data(as_text=True)
    too_long = night.post(f"/beds/{bed.id}/hold", {"h-expires_at": _local(timeutil.utcnow() + timedelta(days=9))})
    assert too_long.status_code == 422
    garbage = night.post(f"/beds/{bed.id}/hold", {"h-expires_at": "tomorrow-ish"})
    assert garbage.status_code == 422 and 'id="h-expires_at-error"' in garbage.get_data(as_text=True)
    ok = night.post(f"/beds/{bed.id}/hold", {"h-expires_at": _local(timeutil.utcnow() + timedelta(hours=2)),
                                            "h-note": "police, 23:00"}, htmx=True)
    assert ok.status_code == 200 and "bed-held" in ok.get_data(as_text=True)
    release = night.post(f"/beds/{bed.id}/release-hold", {}, htmx=True)
    assert release.status_code == 200 and "bed-free" in release.get_data(as_text=True)
    assert db.session.scalar(select(Hold)).release_reason == "released"


def test_expired_hold_frees_the_bed_and_a_new_hold_can_be_placed(night, make_shelter, travel):
    shelter = make_shelter(beds=1)
    bed = beds_of(shelter)[0]
    night.post(f"/beds/{bed.id}/hold", {"h-expires_at": _local(timeutil.utcnow() + timedelta(minutes=20))})
    travel(minutes=21)
    assert "bed-free" in night.get(f"/board/{shelter.id}").get_data(as_text=True)
    again = night.post(f"/beds/{bed.id}/hold", {"h-expires_at": _local(timeutil.utcnow() + timedelta(hours=1))})
    assert again.status_code == 303
    holds = db.session.scalars(select(Hold).order_by(Hold.id)).all()
    assert [h.release_reason for h in holds] == ["expired", None]


def test_check_in_on_a_held_bed_uses_the_hold(night, make_shelter, make_resident):
    bed = beds_of(make_shelter(beds=1))[0]
    night.post(f"/beds/{bed.id}/hold", {"h-expires_at": _local(timeutil.utcnow() + timedelta(hours=1))})
    night.post(f"/beds/{bed.id}/check-in", {"ci-resident_id": make_resident("Ala").id})
    assert db.session.scalar(select(Hold)).release_reason == "used"


def test_out_of_service_and_back(night, make_shelter, make_resident):
    bed = beds_of(make_shelter(beds=1))[0]
    empty = night.post(f"/beds/{bed.id}/out-of-service", {"o-reason": ""})
    assert empty.status_code == 422 and 'id="o-reason-error"' in empty.get_data(as_text=True)
    ok = night.post(f"/beds/{bed.id}/out-of-service", {"o-reason": "Mould"}, htmx=True)
    assert ok.status_code == 200 and "bed-out" in ok.get_data(as_text=True)
    refused = night.post(f"/beds/{bed.id}/check-in", {"ci-resident_id": make_resident("Ala").id})
    assert refused.status_code == 409 and "out of service" in refused.get_data(as_text=True)
    back = night.post(f"/beds/{bed.id}/in-service", {})
    assert back.status_code == 303
    assert "state-free" in night.get(f"/beds/{bed.id}").get_data(as_text=True)
    db.session.refresh(bed)
    assert bed.out_of_service_reason is None


def test_occupied_bed_cannot_go_out_of_service(make_shelter, make_resident):
    from shelter_app.beds import services as beds
    from shelter_app.errors import Conflict

    bed = beds_of(make_shelter(beds=1))[0]
    now = timeutil.utcnow()
    beds.check_in(bed.id, beds.CheckIn(resident_id=make_resident("Ala").id), actor=None, now=now)
    with pytest.raises(Conflict):
        beds.set_out_of_service(bed.id, "Leak", None, actor=None, at=now)


def test_actions_need_csrf(night, make_shelter):
    bed = beds_of(make_shelter(beds=1))[0]
    response = night.post(f"/beds/{bed.id}/check-in", {"ci-new_alias": "X"}, csrf=False)
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(Stay.id))) == 0


@pytest.mark.parametrize("role,status", [("casemanager", 403), ("admin", 403), ("trainer", 200), ("manager", 200)])
def test_board_access_by_role(login_as, make_shelter, role, status):
    shelter = make_shelter(beds=1)
    c = login_as(role)
    assert c.get(f"/board/{shelter.id}").status_code == status
    assert c.get(f"/beds/{beds_of(shelter)[0].id}").status_code == status
    post = c.post(f"/beds/{beds_of(shelter)[0].id}/out-of-service", {"o-reason": "x"})
    assert post.status_code == (403 if status == 403 else 303)
