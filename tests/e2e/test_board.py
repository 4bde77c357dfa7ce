"""Night staff check a resident in and out from the bed board, on a phone, one tap at a time."""
from __future__ import annotations

from tests.conftest import PASSWORD, beds_of
from tests.e2e.conftest import assert_no_horizontal_scroll, screenshot, sign_in


def _free_count(page) -> str:
    return page.locator(".counts .count").first.locator("dd").inner_text()


def test_night_staff_check_in_and_out_on_a_phone(phone, make_user, make_shelter):
    shelter = make_shelter(beds=4, isolation_rooms=1, name="Night House")
    bed = beds_of(shelter)[0]
    user = make_user("night", locale="en")
    sign_in(phone, user.username, PASSWORD)
    phone.goto(f"/board/{shelter.id}")
    assert _free_count(phone) == "4"
    assert_no_horizontal_scroll(phone)
    screenshot(phone, "board-phone")

    # tap the bed: its panel slides up without leaving the page
    phone.locator(f"#bed-{bed.id}").click()
    panel = phone.locator("#panel")
    panel.get_by_label("Or a new arrival: alias").fill("Mira")
    screenshot(phone, "bed-panel-phone")
    for button in panel.locator("button").all():
        if button.is_visible():
            assert button.bounding_box()["height"] >= 44
    url_before = phone.url
    panel.get_by_role("button", name="Check in").click()
    phone.get_by_text("Mira checked in to bed B1.").wait_for()
    assert phone.url == url_before  # updated in place, no full reload
    assert _free_count(phone) == "3"
    assert "Mira" in phone.locator(f"#bed-{bed.id}").inner_text()

    # check out: it asks for confirmation first
    phone.locator(f"#bed-{bed.id}").click()
    panel.get_by_text("Check out", exact=True).first.click()  # open the section
    panel.get_by_label("Destination (no address)").fill("NGO programme")
    panel.get_by_role("button", name="Check out").click()
    phone.get_by_text("Tick to confirm the check-out.").wait_for()
    assert panel.get_by_label("Destination (no address)").input_value() == "NGO programme"
    panel.get_by_label("Yes, check this resident out").check()
    panel.get_by_role("button", name="Check out").click()
    phone.get_by_text("Mira checked out; bed B1 is free.").wait_for()
    assert _free_count(phone) == "4"
    assert_no_horizontal_scroll(phone)


def test_board_works_without_javascript(browser, live_server, make_user, make_shelter):
    shelter = make_shelter(beds=2)
    bed = beds_of(shelter)[0]
    user = make_user("night", locale="en")
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=live_server,
                                  java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, user.username, PASSWORD)
        page.goto(f"/board/{shelter.id}")
        page.locator(f"#bed-{bed.id}").click()
        assert page.url.endswith(f"/beds/{bed.id}")
        page.get_by_label("Or a new arrival: alias").fill("Lena")
        page.get_by_role("button", name="Check in").click()
        assert f"/board/{shelter.id}" in page.url
        assert "Lena checked in to bed B1." in page.content()
    finally:
        context.close()


def test_board_on_a_tablet_shows_the_panel_beside_the_rooms(tablet, make_user, make_shelter):
    shelter = make_shelter(beds=12, isolation_rooms=1)
    bed = beds_of(shelter)[0]
    user = make_user("manager", locale="en")
    sign_in(tablet, user.username, PASSWORD)
    tablet.goto(f"/board/{shelter.id}")
    tablet.locator(f"#bed-{bed.id}").click()
    tablet.locator("#panel .panel-head").wait_for()
    rooms, panel = tablet.locator(".rooms").bounding_box(), tablet.locator("#panel").bounding_box()
    assert panel["x"] >= rooms["x"] + rooms["width"] - 1, "panel sits to the right of the rooms"
    assert_no_horizontal_scroll(tablet)
    screenshot(tablet, "board-tablet")
