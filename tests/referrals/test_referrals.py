"""A case manager asks for a bed; staff accept (a hold) or decline on the board; the answer comes back."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from shelter_app import timeutil
from shelter_app.extensions import db
from shelter_app.referrals.models import Referral
from shelter_app.beds.models import Hold, Stay
from shelter_app.residents.models import Resident
from tests.factories import make_shelter
from tests.referrals.conftest import referral_form


def _referral(public_id: str) -> Referral:
    return db.session.scalar(select(Referral).where(Referral.public_id == public_id))


def _active_holds():
    return db.session.scalars(select(Hold).where(Hold.released_at.is_(None))).all()


def test_case_manager_sends_a_referral_and_sees_it_waiting(login_as, send_referral):
    shelter, _beds = make_shelter(code_name="Harbour", beds={"woman": 1})
    cm = login_as("casemanager", organisation="NGO One", locale="en")
    form = cm.get("/referrals/new").get_data(as_text=True)
    assert "Do not enter the person&#39;s name" in form or "Do not enter the person's name" in form
    assert 'name="name"' not in form and "Harbour" in form
    referral_id = send_referral(cm, shelter=shelter.code_name, code="POL/2024/17", needs=["high_risk", "medication"],
                                interpreter_needed="y", people="2", note="Arrives with a police escort.")
    referral = _referral(referral_id)
    assert (referral.organisation, referral.status, referral.shelter_id) == ("NGO One", "pending", shelter.id)
    assert referral.needs == ["high_risk", "medication"] and referral.interpreter_needed and referral.people == 2
    assert referral.arrival_until - referral.arrival_from == timedelta(hours=4)
    page = cm.get(f"/referrals/{referral_id}")
    assert page.status_code == 200 and "Waiting for an answer" in page.get_data(as_text=True)
    listing = cm.get("/referrals").get_data(as_text=True)
    assert "POL/2024/17" in listing and "Waiting for an answer" in listing


def test_bad_input_names_the_field_and_keeps_what_was_typed(login_as):
    make_shelter(beds={"woman": 1})
    cm = login_as("casemanager", organisation="NGO One", locale="en")
    response = cm.post("/referrals/new", referral_form(people="0", code="KEEP-ME", languages="Tigrinya"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="people-error"' in html
    assert 'value="KEEP-ME"' in html and 'value="Tigrinya"' in html
    now = timeutil.utcnow()
    past = cm.post("/referrals/new", referral_form(
        arrival_from=timeutil.local_input_value(now - timedelta(hours=5)),
        arrival_until=timeutil.local_input_value(now - timedelta(hours=1))))
    assert past.status_code == 422 and 'id="arrival_until-error"' in past.get_data(as_text=True)
    far = cm.post("/referrals/new", referral_form(arrival_until=timeutil.local_input_value(now + timedelta(days=9))))
    assert far.status_code == 422 and "at most 7 days" in far.get_data(as_text=True)
    bad_shelter = cm.post("/referrals/new", referral_form(shelter="Nowhere-Such"))
    assert bad_shelter.status_code == 422 and 'id="shelter-error"' in bad_shelter.get_data(as_text=True)
    bad_need = cm.post("/referrals/new", referral_form(needs=["weapons"]))
    assert bad_need.status_code == 422
    assert db.session.scalar(select(Referral)) is None


def test_a_referral_code_is_unique_within_an_organisation(login_as, send_referral):
    make_shelter(beds={"woman": 1})
    cm = login_as("casemanager", organisation="NGO One", locale="en")
    other = login_as("casemanager", organisation="Police", locale="en")
    send_referral(cm, code="A-1")
    again = cm.post("/referrals/new", referral_form(code="A-1"))
    assert again.status_code == 409 and "already used this referral code" in again.get_data(as_text=True)
    send_referral(other, code="A-1")  # another organisation may use the same code


def test_a_case_manager_without_organisation_cannot_send(login_as):
    cm = login_as("casemanager", locale="en")
    assert "has no organisation" in cm.get("/referrals").get_data(as_text=True)
    response = cm.post("/referrals/new", referral_form())
    assert response.status_code == 403 and "has no organisation" in response.get_data(as_text=True)


def test_another_organisations_referral_is_not_found(login_as, send_referral):
    make_shelter(beds={"woman": 1})
    mine = login_as("casemanager", organisation="NGO One", locale="en")
    theirs = login_as("casemanager", organisation="NGO Two", locale="en")
    colleague = login_as("casemanager", organisation="NGO One", locale="en")
    referral_id = send_referral(mine, code="SECRET-CODE")
    assert theirs.get(f"/referrals/{referral_id}").status_code == 404
    assert theirs.get(f"/referrals/{referral_id}", htmx=True).status_code == 404
    assert theirs.post(f"/referrals/{referral_id}/cancel", {"confirm": "y"}).status_code == 404
    assert "SECRET-CODE" not in theirs.get("/referrals").get_data(as_text=True)
    assert colleague.get(f"/referrals/{referral_id}").status_code == 200
    assert _referral(referral_id).status == "pending"


def test_staff_see_it_on_the_board_and_accept_it_with_htmx(login_as, send_referral):
    shelter, beds = make_shelter(beds={"woman": 2})
    cm = login_as("casemanager", organisation="NGO One", locale="en")
    referral_id = send_referral(cm, shelter=shelter.code_name, code="R-77", needs=["urgent_medical"])
    staff = login_as("night", locale="en")
    board = staff.get(f"/board/{shelter.id}").get_data(as_text=True)
    block = board[board.index('<div id="board"'):]
    assert block.index('id="referrals"') < block.index('class="counts"'), "referrals come first on the board"
    assert "R-77" in block and "NGO One" in block and "Urgent medical care" in block

    response = staff.post(f"/referrals/{referral_id}/accept", {f"accept{referral_id}-shelter_id": shelter.id},
                          htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="board"') and "<html" not in html
    assert "Referral R-77 accepted" in html
    referral = _referral(referral_id)
    [hold] = _active_holds()
    assert referral.status == "accepted" and referral.answered_at is not None
    assert hold.referral_id == referral.id and hold.bed_id in {b.id for b in beds}
    assert hold.expires_at == referral.arrival_until

    answer = cm.get(f"/referrals/{referral_id}").get_data(as_text=True)
    assert "Accepted: a bed is held" in answer and "holds a bed until" in answer
    fragment = cm.get(f"/referrals/{referral_id}", htmx=True)
    assert fragment.get_data(as_text=True).lstrip().startswith('<section id="answer"')
    board = staff.get(f"/board/{shelter.id}").get_data(as_text=True)
    assert "On their way" in board and f"/referrals/{referral_id}/accept" not in board


def test_a_plain_post_accept_ends_in_303_back_to_the_board(login_as, send_referral):
    shelter, _beds = make_shelter(beds={"man": 1})
    cm = login_as("casemanager", organisation="NGO One")
    referral_id = send_referral(cm, category="man")
    staff = login_as("manager", locale="en")
    staff.get(f"/board/{shelter.id}")
    response = staff.post(f"/referrals/{referral_id}/accept", {f"accept{referral_id}-shelter_id": shelter.id})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/board/{shelter.id}#referrals"
    # "Any shelter": the shelter that accepted is now the referral's shelter.
    assert _referral(referral_id).shelter_id == shelter.id


def test_no_free_bed_of_the_category_gives_a_clear_409(login_as, send_referral):
    shelter, _beds = make_shelter(beds={"woman": 1})
    cm = login_as("casemanager", organisation="NGO One")
    referral_id = send_referral(cm, category="family", shelter=shelter.code_name)
    staff = login_as("night", locale="en")
    response = staff.post(f"/referrals/{referral_id}/accept", {f"accept{referral_id}-shelter_id": shelter.id},
                          htmx=True)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "No bed free any more" in html and html.lstrip().startswith('<div id="board"')
    assert _referral(referral_id).status == "pending" and _active_holds() == []


def test_decline_needs_a_reason_and_the_case_manager_reads_it(login_as, send_referral):
    shelter, _beds = make_shelter(beds={"woman": 1})
    cm = login_as("casemanager", organisation="NGO One", locale="en")
    referral_id = send_referral(cm, shelter=shelter.code_name)
    staff = login_as("trainer", locale="en")
    key = f"decline{referral_id}"
    missing = staff.post(f"/referrals/{referral_id}/decline",
                         {f"{key}-shelter_id": shelter.id, f"{key}-reason": "", f"{key}-note": "kept note"}, htmx=True)
    assert missing.status_code == 422
    html = missing.get_data(as_text=True)
    assert f'id="{key}-reason-error"' in html and 'value="kept note"' in html
    other = staff.post(f"/referrals/{referral_id}/decline",
                       {f"{key}-shelter_id": shelter.id, f"{key}-reason": "other", f"{key}-note": ""}, htmx=True)
    assert other.status_code == 422 and f'id="{key}-note-error"' in other.get_data(as_text=True)
    assert _referral(referral_id).status == "pending"

    ok = staff.post(f"/referrals/{referral_id}/decline",
                    {f"{key}-shelter_id": shelter.id, f"{key}-reason": "needs_not_met",
                     f"{key}-note": "No wheelchair access tonight."}, htmx=True)
    assert ok.status_code == 200
    referral = _referral(referral_id)
    assert (referral.status, referral.decline_reason) == ("declined", "needs_not_met")
    page = cm.get(f"/referrals/{referral_id}").get_data(as_text=True)
    assert "Declined" in page and "We cannot meet the needs described" in page
    assert "No wheelchair access tonight." in page

    late = staff.post(f"/referrals/{referral_id}/accept", {f"accept{referral_id}-shelter_id": shelter.id}, htmx=True)
    assert late.status_code == 409 and "already answered" in late.get_data(as_text=True)


def test_an_accepted_referral_becomes_a_check_in_under_its_code(login_as, send_referral):
    shelter, _beds = make_shelter(beds={"woman": 1})
    cm = login_as("casemanager", organisation="NGO One", locale="en")
    referral_id = send_referral(cm, shelter=shelter.code_name, code="ARR-5")
    staff = login_as("night", locale="en")
    staff.post(f"/referrals/{referral_id}/accept", {f"accept{referral_id}-shelter_id": shelter.id}, htmx=True)
    board = staff.get(f"/board/{shelter.id}").get_data(as_text=True)
    assert "On their way" in board and "Arrived: check in" in board
    key = f"arrive{referral_id}"
    bad = staff.post(f"/referrals/{referral_id}/check-in",
                     {f"{key}-shelter_id": shelter.id, f"{key}-alias": "", f"{key}-sex": "female",
                      f"{key}-age_band": "adult"}, htmx=True)
    assert bad.status_code == 422 and f'id="{key}-alias-error"' in bad.get_data(as_text=True)
    response = staff.post(f"/referrals/{referral_id}/check-in",
                          {f"{key}-shelter_id": shelter.id, f"{key}-alias": "Dawn", f"{key}-sex": "female",
                           f"{key}-age_band": "adult"}, htmx=True)
    assert response.status_code == 200 and "Dawn checked in" in response.get_data(as_text=True)
    stay = db.session.scalar(select(Stay))
    assert stay.referral_code == "ARR-5" and stay.ended_at is None
    assert db.session.scalar(select(Resident)).alias == "Dawn"
    referral = _referral(referral_id)
    assert referral.status == "arrived" and referral.stay_id == stay.id
    assert _active_holds() == []
    assert db.session.scalar(select(Hold)).release_reason == "used"
    page = cm.get(f"/referrals/{referral_id}").get_data(as_text=True)
    assert "Arrived and checked in" in page and "Dawn" not in page


def test_the_case_manager_withdraws_and_the_held_bed_is_freed(login_as, send_referral):
    shelter, _beds = make_shelter(beds={"woman": 1})
    cm = login_as("casemanager", organisation="NGO One", locale="en")
    referral_id = send_referral(cm, shelter=shelter.code_name)
    staff = login_as("night")
    staff.post(f"/referrals/{referral_id}/accept", {f"accept{referral_id}-shelter_id": shelter.id}, htmx=True)
    assert len(_active_holds()) == 1
    unconfirmed = cm.post(f"/referrals/{referral_id}/cancel", {})
    assert unconfirmed.status_code == 422 and 'id="confirm-error"' in unconfirmed.get_data(as_text=True)
    response = cm.post(f"/referrals/{referral_id}/cancel", {"confirm": "y"})
    assert response.status_code == 303
    assert _referral(referral_id).status == "cancelled" and _active_holds() == []
    assert "Withdrawn" in cm.get(f"/referrals/{referral_id}").get_data(as_text=True)
    assert cm.post(f"/referrals/{referral_id}/cancel", {"confirm": "y"}).status_code == 409


def test_an_expired_hold_shows_as_ended_to_the_case_manager(login_as, send_referral, travel):
    shelter, _beds = make_shelter(beds={"woman": 1})
    cm = login_as("casemanager", organisation="NGO One", locale="en")
    referral_id = send_referral(cm, shelter=shelter.code_name)
    login_as("night").post(f"/referrals/{referral_id}/accept", {f"accept{referral_id}-shelter_id": shelter.id},
                           htmx=True)
    travel(hours=5)
    cm.login(cm.user.username)  # the idle session ended meanwhile
    assert "no longer held" in cm.get(f"/referrals/{referral_id}").get_data(as_text=True)


def test_an_unanswered_referral_is_flagged_after_the_configured_minutes(app, login_as, send_referral, travel):
    shelter, _beds = make_shelter(beds={"woman": 1})
    cm = login_as("casemanager", organisation="NGO One")
    send_referral(cm, shelter=shelter.code_name)
    staff = login_as("night", locale="en")
    assert "overdue" not in staff.get(f"/board/{shelter.id}").get_data(as_text=True)
    travel(minutes=29)
    assert "overdue" not in staff.get(f"/board/{shelter.id}").get_data(as_text=True)
    travel(minutes=2)
    board = staff.get(f"/board/{shelter.id}").get_data(as_text=True)
    assert "badge-overdue" in board and "waited more than 30 minutes" in board
    inbox = staff.get("/referrals/inbox").get_data(as_text=True)
    assert "badge-overdue" in inbox

    app.config["REFERRAL_ANSWER_MINUTES"] = 60
    try:
        assert "badge-overdue" not in staff.get(f"/board/{shelter.id}").get_data(as_text=True)
    finally:
        app.config["REFERRAL_ANSWER_MINUTES"] = 30


def test_a_referral_to_any_shelter_is_on_every_board_one_to_another_only_there(login_as, send_referral):
    a, _ = make_shelter(beds={"woman": 1})
    b, _ = make_shelter(beds={"woman": 1})
    cm = login_as("casemanager", organisation="NGO One")
    send_referral(cm, code="FOR-ANY")
    send_referral(cm, code="FOR-B", shelter=b.code_name)
    staff = login_as("manager", locale="en")
    board_a = staff.get(f"/board/{a.id}").get_data(as_text=True)
    board_b = staff.get(f"/board/{b.id}").get_data(as_text=True)
    assert "FOR-ANY" in board_a and "FOR-ANY" in board_b
    assert "FOR-B" in board_b and "FOR-B" not in board_a
    assert "1 more referral waits for another shelter" in board_a


def test_a_referral_for_another_shelter_cannot_be_accepted_here(login_as, send_referral):
    a, _ = make_shelter(beds={"woman": 1})
    b, _ = make_shelter(beds={"woman": 1})
    cm = login_as("casemanager", organisation="NGO One")
    referral_id = send_referral(cm, shelter=b.code_name)
    response = login_as("night", locale="en").post(
        f"/referrals/{referral_id}/accept", {f"accept{referral_id}-shelter_id": a.id}, htmx=True)
    assert response.status_code == 422 and "sent to another shelter" in response.get_data(as_text=True)
    assert _active_holds() == []


def test_pages_as_full_page_and_as_fragment(login_as, send_referral):
    make_shelter(beds={"woman": 1})
    cm = login_as("casemanager", organisation="NGO One", locale="en")
    referral_id = send_referral(cm)
    staff = login_as("night", locale="en")
    for client, url, fragment_start in (
        (cm, "/availability", '<div id="figures"'),
        (cm, "/referrals", '<div id="referral-list"'),
        (cm, f"/referrals/{referral_id}", '<section id="answer"'),
        (staff, "/referrals/inbox", '<div id="inbox"'),
    ):
        full = client.get(url)
        html = full.get_data(as_text=True)
        assert full.status_code == 200 and "<html" in html, url
        # The CSP allows no inline script or style.
        assert not re.search(r"<script(?![^>]*\bsrc=)", html) and " style=" not in html and "<style" not in html
        part = client.get(url, htmx=True)
        assert part.status_code == 200 and part.get_data(as_text=True).lstrip().startswith(fragment_start), url
        assert "HX-Request" in part.headers["Vary"]


def test_roles_reach_only_their_side(login_as, send_referral):
    shelter, _ = make_shelter(beds={"woman": 1})
    cm = login_as("casemanager", organisation="NGO One")
    referral_id = send_referral(cm)
    assert cm.get("/referrals/inbox").status_code == 403
    assert cm.get(f"/board/{shelter.id}").status_code == 403
    assert cm.post(f"/referrals/{referral_id}/accept", {f"accept{referral_id}-shelter_id": shelter.id}).status_code == 403
    staff = login_as("manager")
    assert staff.get("/referrals/new").status_code == 403
    assert staff.get(f"/referrals/{referral_id}").status_code == 403
    admin = login_as("admin")
    assert admin.get("/availability").status_code == 403


def test_a_waiting_referral_page_polls_but_not_past_the_idle_time(login_as, send_referral, travel):
    make_shelter(beds={"woman": 1})
    cm = login_as("casemanager", organisation="NGO One", locale="en")
    referral_id = send_referral(cm)
    html = cm.get(f"/referrals/{referral_id}").get_data(as_text=True)
    since = re.search(r"polling_since=(\d+)", html).group(1)
    assert 'hx-trigger="every 15s"' in html
    polled = cm.get(f"/referrals/{referral_id}?polling_since={since}", htmx=True).get_data(as_text=True)
    assert f"polling_since={since}" in polled, "the poll keeps its start"
    # Polls alone never keep an unattended screen signed in: after the idle time they stop.
    for _ in range(3):
        travel(minutes=10)
        polled = cm.get(f"/referrals/{referral_id}?polling_since={since}", htmx=True).get_data(as_text=True)
    assert "hx-trigger" not in polled


def test_case_managers_see_no_internal_id_of_a_referral_or_shelter(login_as, send_referral):
    """Row ids are one sequence across organisations: in a case manager's URLs they would tell how many
    referrals everyone sent, and which shelter is which row."""
    shelter, _beds = make_shelter(code_name="Harbour", beds={"woman": 1})
    cm = login_as("casemanager", organisation="NGO One", locale="en")
    other = login_as("casemanager", organisation="NGO Two", locale="en")
    first = send_referral(cm, shelter=shelter.code_name, code="A-1")
    theirs = send_referral(other, code="B-1")
    second = send_referral(cm, code="A-2")
    for public_id in (first, theirs, second):
        assert re.fullmatch(r"[0-9a-f]{20}", public_id)
    assert len({first, theirs, second}) == 3
    ids = {str(_referral(p).id) for p in (first, theirs, second)}
    # The row ids answer nothing; the public ids answer only their own organisation.
    for row_id in ids:
        assert cm.get(f"/referrals/{row_id}").status_code == 404
    assert cm.get(f"/referrals/{theirs}").status_code == 404
    assert cm.post(f"/referrals/{theirs}/cancel", {"confirm": "y"}).status_code == 404
    assert _referral(theirs).status == "pending"
    pages = [cm.get(url).get_data(as_text=True)
             for url in ("/availability", "/referrals", f"/referrals/{first}", f"/referrals/{second}",
                         "/referrals/new", f"/referrals/new?shelter={shelter.code_name}")]
    hrefs = {href for page in pages for href in re.findall(r'(?:href|action|hx-get|hx-post)="([^"]*)"', page)}
    referral_links = {h for h in hrefs if h.startswith("/referrals/") and not h.startswith("/referrals/new")}
    assert referral_links and [h for h in referral_links if not re.match(r"/referrals/[0-9a-f]{20}(/|\?|$)", h)] == []
    assert not any(re.search(r"shelter(_id)?=\d", h) for h in hrefs)
    # The form names the shelter by code name and prefills it from the availability page's link.
    form = pages[-1]
    select_html = re.search(r'<select[^>]*name="shelter".*?</select>', form, re.S).group(0)
    assert set(re.findall(r'value="([^"]*)"', select_html)) == {"", "Harbour"}
    assert re.search(r'<option[^>]*selected[^>]*value="Harbour"|<option[^>]*value="Harbour"[^>]*selected', form)
