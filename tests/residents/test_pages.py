"""Resident pages: who sees what, the audit of every read, the record form."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from uuid import uuid4

import pytest
from sqlalchemy import func, select

from shelter_app import timeutil
from shelter_app.audit.models import AuditEvent
from shelter_app.extensions import db
from shelter_app.beds import services as beds
from shelter_app.beds.models import Stay
from shelter_app.residents.models import Resident
from tests.conftest import beds_of


@pytest.fixture
def housed(make_shelter, make_resident):
    shelter = make_shelter(beds=2)
    bed = beds_of(shelter)[0]
    ala = make_resident("Ala", languages="Ukrainian", allergies="penicillin", notes="Trauma counselling weekly",
                        legal_name=None)
    ala.legal_name = "Alla Kowalenko-Legal"
    ala.document_data = "Passport XY123456"
    now = timeutil.utcnow()
    beds.check_in(bed.id, beds.CheckIn(resident_id=ala.id, at=now - timedelta(days=2), confirm_backdate=True),
                  actor=None, now=now)
    db.session.commit()
    return ala


def test_night_staff_see_what_they_need_and_not_the_identity(login_as, housed):
    html = login_as("night", locale="en").get(f"/residents/{housed.id}").get_data(as_text=True)
    assert "Ala" in html and "Ukrainian" in html and "penicillin" in html and "room R1" in html
    assert "Alla Kowalenko-Legal" not in html and "XY123456" not in html
    assert "Trauma counselling" not in html


def test_trainer_sees_the_record_but_not_the_identity(login_as, housed):
    html = login_as("trainer", locale="en").get(f"/residents/{housed.id}").get_data(as_text=True)
    assert "Trauma counselling" in html
    assert "Alla Kowalenko-Legal" not in html and "XY123456" not in html


def test_manager_sees_the_identity(login_as, housed):
    html = login_as("manager", locale="en").get(f"/residents/{housed.id}").get_data(as_text=True)
    assert "Alla Kowalenko-Legal" in html and "XY123456" in html


@pytest.mark.parametrize("role", ["casemanager", "admin"])
def test_outsiders_get_403(login_as, housed, role):
    c = login_as(role)
    assert c.get(f"/residents/{housed.id}").status_code == 403
    assert c.get("/residents").status_code == 403
    assert c.get("/residents?q=Ala", htmx=True).status_code == 403


def test_every_read_is_audited(login_as, housed):
    night = login_as("night")
    before = db.session.scalar(select(func.count()).where(AuditEvent.action == "resident.view"))
    night.get(f"/residents/{housed.id}")
    night.get(f"/residents/{housed.id}", htmx=True)
    after = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "resident.view")).all()
    assert len(after) == before + 2
    assert all(e.actor_id == night.user.id and e.target_id == housed.id for e in after)


def test_resident_page_full_and_fragment(login_as, housed):
    c = login_as("manager", locale="en")
    full, fragment = c.get(f"/residents/{housed.id}"), c.get(f"/residents/{housed.id}", htmx=True)
    assert "<html" in full.get_data(as_text=True) and "<html" not in fragment.get_data(as_text=True)
    assert "History" in fragment.get_data(as_text=True)
    assert full.headers["Cache-Control"] == "no-store"
    assert c.get("/residents/99999").status_code == 404


def test_history_shows_moves_and_check_out(login_as, housed):
    bed2 = beds_of(db.session.scalar(select(Stay)).bed.room.shelter)[1]
    now = timeutil.utcnow()
    stay = beds.move(db.session.scalar(select(Stay)).bed_id, bed2.id, actor=None, now=now - timedelta(days=1))
    beds.check_out(stay.bed_id, "own_accommodation", "Flat of her own", actor=None, now=now)
    db.session.commit()
    html = login_as("trainer", locale="en").get(f"/residents/{housed.id}").get_data(as_text=True)
    assert "moved" in html and "checked out: Own accommodation · Flat of her own" in html
    assert "bed B1" in html and "bed B2" in html


def test_search_by_alias_or_code_full_and_fragment(login_as, housed, make_resident):
    make_resident("Zuzanna")
    c = login_as("night", locale="en")
    page = c.get("/residents?q=ala")
    assert page.status_code == 200 and "Ala" in page.get_data(as_text=True)
    assert "Zuzanna" not in page.get_data(as_text=True)
    fragment = c.get(f"/residents?q={housed.code}", htmx=True)
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="results"') and "Ala" in html
    assert "No resident found." in c.get("/residents?q=%25%25nothing", htmx=True).get_data(as_text=True)


def test_too_long_a_search_is_the_fields_error_with_what_was_typed(login_as, housed):
    from urllib.parse import quote

    c = login_as("night", locale="en")
    typed = "Ala" + "x" * 58  # 61 characters: one past the limit, never cut to fit
    page = c.get(f"/residents?q={quote(typed)}")
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert f'value="{typed}"' in html and 'aria-invalid="true"' in html and 'id="q-error"' in html
    assert "60 characters" in html
    assert "maxlength" not in html  # a browser would cut what is pasted without a word
    assert "Ala</strong>" not in html  # nothing was searched
    fragment = c.get(f"/residents?q={quote(typed)}", htmx=True)
    assert fragment.status_code == 422 and 'id="q-error"' in fragment.get_data(as_text=True)
    at_the_limit = c.get(f"/residents?q={quote(typed[:60])}")
    assert at_the_limit.status_code == 200 and "No resident found." in at_the_limit.get_data(as_text=True)


@pytest.mark.parametrize("taps", [2, 10])
def test_new_resident_sent_twice_creates_one_and_answers_the_same(login_as, make_shelter, taps):
    """A double tap on a slow phone (or a retry after a time-out) sends the form's one-time token again."""
    make_shelter(beds=1)
    c = login_as("night", locale="en")
    form = c.get("/residents/new").get_data(as_text=True)
    [token] = re.findall(r'name="form_token" value="([0-9a-f]+)"', form)
    data = {"alias": "Double Tap", "sex": "female", "age_band": "adult", "form_token": token}
    answers = [c.post("/residents/new", data) for _ in range(taps)]
    assert {a.status_code for a in answers} == {303}
    assert len({a.headers["Location"] for a in answers}) == 1
    [resident] = db.session.scalars(select(Resident).where(Resident.alias == "Double Tap")).all()
    assert answers[0].headers["Location"] == f"/residents/{resident.id}"
    created = db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "resident.create",
                                                                       AuditEvent.target_id == resident.id))
    assert created == 1
    # the same answer: the page it leads to says what the first one did
    assert f"Double Tap added with code {resident.code}." in c.get(answers[-1].headers["Location"]).get_data(
        as_text=True)
    # a new form (a new token) is a new resident
    again = c.post("/residents/new", {**data, "form_token": uuid4().hex})
    assert again.status_code == 303 and again.headers["Location"] != answers[0].headers["Location"]


def test_create_resident_with_all_fields(login_as):
    c = login_as("manager", locale="en")
    response = c.post("/residents/new", {
        "alias": "Nadia", "sex": "female", "age_band": "adult", "country_of_origin": "Ukraine",
        "languages": "Ukrainian, Russian", "interpreter_needed": "y", "exploitation_forms": ["labour", "sexual"],
        "dietary_needs": "halal", "allergies": "nuts", "notes": "", "legal_name": "N. Legal",
    })
    assert response.status_code == 303
    r = db.session.scalar(select(Resident))
    assert (r.alias, r.interpreter_needed, r.exploitation_forms, r.legal_name) == (
        "Nadia", True, ["labour", "sexual"], "N. Legal")
    assert "resident.create" in db.session.scalars(select(AuditEvent.action)).all()


def test_child_needs_a_birth_year_and_valid_input_is_kept(login_as):
    c = login_as("trainer", locale="en")
    response = c.post("/residents/new", {"alias": "Mała", "sex": "female", "age_band": "child",
                                        "languages": "Polish", "birth_year": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="birth_year-error"' in html and 'value="Mała"' in html and 'value="Polish"' in html
    bad_year = c.post("/residents/new", {"alias": "Mała", "sex": "female", "age_band": "child", "birth_year": "1850"})
    assert bad_year.status_code == 422 and 'id="birth_year-error"' in bad_year.get_data(as_text=True)
    junk = c.post("/residents/new", {"alias": "Mała", "sex": "robot", "age_band": "adult",
                                    "exploitation_forms": ["fishing"]})
    assert junk.status_code == 422
    assert db.session.scalar(select(func.count(Resident.id))) == 0


def test_only_managers_record_legal_identity(login_as):
    trainer = login_as("trainer", locale="en")
    response = trainer.post("/residents/new", {"alias": "Ola", "sex": "female", "age_band": "adult",
                                              "legal_name": "Sneaky Name"})
    # the trainer's form has no such field; a hand-made request does not sneak it in
    assert response.status_code == 303
    assert db.session.scalar(select(Resident.legal_name)) is None
    assert "Legal identity" not in trainer.get("/residents/new").get_data(as_text=True)


def test_edit_keeps_identity_when_trainer_saves(login_as, housed):
    trainer = login_as("trainer", locale="en")
    response = trainer.post(f"/residents/{housed.id}/edit", {"alias": "Ala B", "sex": "female", "age_band": "adult",
                                                            "allergies": "penicillin, latex"})
    assert response.status_code == 303
    db.session.refresh(housed)
    assert housed.alias == "Ala B" and housed.allergies == "penicillin, latex"
    assert housed.legal_name == "Alla Kowalenko-Legal"
    assert login_as("night").get(f"/residents/{housed.id}/edit").status_code == 403


def test_edit_form_prefilled_and_fragment(login_as, housed):
    c = login_as("manager", locale="en")
    html = c.get(f"/residents/{housed.id}/edit").get_data(as_text=True)
    assert 'value="Ala"' in html and 'value="Alla Kowalenko-Legal"' in html
    assert "<html" not in c.get(f"/residents/{housed.id}/edit", htmx=True).get_data(as_text=True)


def test_check_in_across_the_autumn_clock_change(login_as, make_shelter, make_resident, travel):
    """25 Oct 2026: 03:00 CEST becomes 02:00 CET. A night from 01:30 to 04:00 lasts 3.5 hours."""
    # The night is recorded as it happens (at 04:30 CET), not a month later.
    travel(seconds=(datetime(2026, 10, 25, 3, 30, tzinfo=timezone.utc) - timeutil.utcnow()).total_seconds())
    shelter = make_shelter(beds=1)
    bed = beds_of(shelter)[0]
    ala = make_resident("Ala")
    night = login_as("night", locale="en")
    response = night.post(f"/beds/{bed.id}/check-in", {"ci-resident_id": ala.id, "ci-at": "2026-10-25T01:30"})
    assert response.status_code == 303
    stay = db.session.scalar(select(Stay))
    assert stay.started_at == datetime(2026, 10, 24, 23, 30, tzinfo=timezone.utc)
    checkout_at = timeutil.local_to_utc(datetime(2026, 10, 25, 4, 0))
    beds.check_out(bed.id, "left", "", actor=None, now=checkout_at)
    db.session.commit()
    assert stay.ended_at - stay.started_at == timedelta(hours=3, minutes=30)
    html = login_as("trainer", locale="en").get(f"/residents/{ala.id}").get_data(as_text=True)
    assert "1:30" in html and "4:00" in html  # shown in Warsaw wall-clock time


def test_a_time_skipped_by_the_spring_clock_change_is_refused(login_as, make_shelter, make_resident):
    """29 Mar 2026: 02:00 CET jumps to 03:00 CEST; 02:30 never happened."""
    bed = beds_of(make_shelter(beds=1))[0]
    night = login_as("night", locale="en")
    response = night.post(f"/beds/{bed.id}/check-in", {"ci-resident_id": make_resident("Ala").id,
                                                       "ci-at": "2026-03-29T02:30"})
    assert response.status_code == 422
    assert "This time does not exist" in response.get_data(as_text=True)
    assert 'value="2026-03-29T02:30"' in response.get_data(as_text=True)


def test_every_page_that_shows_resident_data_is_audited(login_as, housed):
    """The list, the edit form, the board and a bed's panel are reads too: one entry each, with who was shown."""
    from shelter_app.beds.models import Stay as OpenStay

    manager = login_as("manager", locale="en")
    stay = db.session.scalar(select(OpenStay))
    shelter_id, bed_id = stay.bed.room.shelter_id, stay.bed_id

    def last(action):
        return db.session.scalar(select(AuditEvent).where(AuditEvent.action == action,
                                                          AuditEvent.actor_id == manager.user.id)
                                 .order_by(AuditEvent.id.desc()))

    assert manager.get("/residents").status_code == 200
    assert housed.id in last("residents.list").details["resident_ids"]
    assert manager.get("/residents?q=zzz-nobody", htmx=True).status_code == 200
    assert last("residents.list").details["resident_ids"] == []
    assert manager.get(f"/residents/{housed.id}/edit").status_code == 200
    edit = last("resident.view")
    assert (edit.target_id, edit.details.get("page")) == (housed.id, "edit")
    assert manager.get(f"/board/{shelter_id}").status_code == 200
    board = last("board.view")
    assert board.target_id == shelter_id and board.details["resident_ids"] == [housed.id]
    assert manager.get(f"/beds/{bed_id}", htmx=True).status_code == 200
    panel = last("bed.view")
    assert panel.target_id == bed_id and panel.details["resident_ids"] == [housed.id]


def test_a_refused_edit_shows_the_record_again_and_is_audited_as_a_read(login_as, housed):
    manager = login_as("manager", locale="en")

    def views():
        return db.session.scalars(select(AuditEvent.details).where(
            AuditEvent.action == "resident.view", AuditEvent.actor_id == manager.user.id,
            AuditEvent.target_id == housed.id).order_by(AuditEvent.id)).all()

    before = len(views())
    refused = manager.post(f"/residents/{housed.id}/edit", {"alias": "", "sex": "female", "age_band": "adult",
                                                            "languages": "Kept language"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="alias-error"' in html and 'value="Kept language"' in html
    assert views()[before:] == [{"page": "edit"}]
    db.session.refresh(housed)
    assert housed.alias == "Ala" and housed.languages == "Ukrainian"
