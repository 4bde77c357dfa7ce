"""A case manager on a phone asks for a bed; a manager on another phone accepts it; the case manager sees it."""
from __future__ import annotations

from playwright.sync_api import expect

from shelter_app.extensions import db
from tests.conftest import PASSWORD
from tests.e2e.conftest import assert_no_horizontal_scroll, screenshot, sign_in
from tests.factories import make_shelter


def test_referral_sent_on_a_phone_and_accepted_on_the_board(app, new_page, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "REFERRAL_POLL_SECONDS", 2)  # the page polls; the test need not wait 15 s
    shelter, _beds = make_shelter(code_name="Kestrel", name="Board House", beds={"woman": 1, "man": 1},
                                  isolation_rooms=1)
    shelter_id = shelter.id
    cm = make_user("casemanager", organisation="NGO One", display_name="Casey", locale="en").username
    manager = make_user("manager", display_name="Maria", locale="en").username
    db.session.commit()  # reading the names opened a transaction; the live server must not wait for it

    phone = new_page("phone")
    sign_in(phone, cm, PASSWORD)
    phone.wait_for_url("**/availability")
    card = phone.locator(".shelter-card", has_text="Kestrel")
    assert card.locator(".count", has_text="Woman").locator("dd").inner_text() == "1"
    assert "Board House" not in phone.content()
    assert_no_horizontal_scroll(phone)
    screenshot(phone, "casemanager-availability-phone")

    card.get_by_role("link", name="Ask Kestrel for a bed").click()
    phone.wait_for_url("**/referrals/new**")
    assert phone.locator("#shelter").input_value() == shelter.code_name
    assert phone.get_by_text("Do not enter the person's name").is_visible()
    phone.get_by_label("Bed category").select_option("woman")
    phone.get_by_label("Number of people").fill("1")
    phone.get_by_label("Languages spoken").fill("Ukrainian")
    phone.get_by_label("Needs an interpreter").check()
    phone.get_by_label("Urgent medical care").check()
    phone.get_by_label("Your referral code").fill("E2E-1")
    for field in phone.locator("form.referral-form input:visible, form.referral-form select, form.referral-form button").all():
        box = field.bounding_box()
        if box and field.get_attribute("type") not in ("checkbox", "radio"):
            assert box["height"] >= 44, field.get_attribute("name")
    assert_no_horizontal_scroll(phone)
    screenshot(phone, "casemanager-referral-form-phone")
    phone.get_by_role("button", name="Send referral").click()
    phone.wait_for_url("**/referrals/*")
    assert "Waiting for an answer" in phone.locator("#answer").inner_text()

    # Another browser context, also a phone: the manager accepts at the top of the board.
    staff = new_page("phone")
    sign_in(staff, manager, PASSWORD)
    staff.goto(f"/board/{shelter_id}")
    referral = staff.locator("article.referral", has_text="E2E-1")
    assert referral.is_visible() and "NGO One" in referral.inner_text()
    assert "Urgent medical care" in referral.inner_text()
    screenshot(staff, "manager-board-referral-phone")
    referral.get_by_role("button", name="Accept and hold a bed").click()
    staff.locator("#board .notice-success", has_text="Referral E2E-1 accepted").wait_for()
    # htmx applies the new tiles' classes after its settle delay: wait for them, do not sample once.
    expect(staff.locator(".bed-held")).to_have_count(1)
    screenshot(staff, "manager-board-accepted-phone")

    # The case manager's page updates by itself (htmx polling), or on reload at the latest.
    # The case manager's page polls: the answer arrives without a reload.
    answer = phone.locator("#answer")
    expect(answer).to_contain_text("Accepted: a bed is held", timeout=15_000)
    assert "Kestrel holds a bed until" in answer.inner_text()
    assert "Board House" not in phone.content()
    assert_no_horizontal_scroll(phone)
    screenshot(phone, "casemanager-referral-accepted-phone")

    phone.locator("nav.appnav").get_by_role("link", name="Referrals").click()
    expect(phone.locator("#referral-list")).to_contain_text("Accepted: a bed is held")

    # The narrowest phones we support.
    phone.set_viewport_size({"width": 360, "height": 740})
    staff.set_viewport_size({"width": 360, "height": 740})
    for page, url in ((phone, "/referrals/new"), (phone, "/availability"), (staff, f"/board/{shelter_id}")):
        page.goto(url)
        assert_no_horizontal_scroll(page)
