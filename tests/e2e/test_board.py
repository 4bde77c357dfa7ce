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


def test_undo_a_check_out_and_put_a_man_in_a_womans_bed_with_a_reason(new_page, make_user, make_shelter,
                                                                     make_resident, kind="phone"):
    """The states a refusal or a confirmation opens, on a phone and on a tablet: each fits and reads."""
    from tests import factories

    for kind in ("phone", "tablet"):
        page = new_page(kind)
        shelter = make_shelter(beds=4, isolation_rooms=1, name=f"Undo House {kind}")
        first, second = beds_of(shelter)[:2]
        ala = make_resident(f"Ala {kind}")
        factories.check_in(first, ala)
        from shelter_app.extensions import db
        db.session.commit()
        user = make_user("manager", locale="en")
        sign_in(page, user.username, PASSWORD)
        page.goto(f"/board/{shelter.id}")

        # check out, then take it back from the notice on the board
        page.locator(f"#bed-{first.id}").click()
        panel = page.locator("#panel")
        panel.get_by_text("Check out", exact=True).first.click()
        panel.get_by_label("Yes, check this resident out").check()
        panel.get_by_role("button", name="Check out").click()
        undo = page.locator("form.undo")
        undo.wait_for()
        assert f"You checked out Ala {kind}." in undo.inner_text()
        box = undo.get_by_role("button", name="Undo").bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44
        assert_no_horizontal_scroll(page)
        screenshot(page, f"board-undo-{kind}")
        undo.get_by_role("button", name="Undo").click()
        page.locator("form.undo").wait_for(state="detached")
        assert f"Ala {kind}" in page.locator(f"#bed-{first.id}").inner_text()

        # a man in a woman's bed: refused, then put there with a reason
        tom = make_resident(f"Tom {kind}", sex="male", shelter_id=shelter.id)  # listed at this shelter's beds
        page.locator(f"#bed-{second.id}").click()
        panel.get_by_label("Resident").select_option(value=str(tom.id))
        panel.get_by_role("button", name="Check in").click()
        panel.locator(".override[open]").wait_for()
        assert "does not fit" in panel.inner_text()
        panel.get_by_label("Put here anyway").check()
        panel.get_by_label("Why (goes to the audit log)").fill("Brother of a resident, one night")
        assert_no_horizontal_scroll(page)
        screenshot(page, f"bed-panel-override-{kind}")
        panel.get_by_role("button", name="Check in").click()
        page.get_by_text(f"Tom {kind} checked in to bed B2.").wait_for()
        assert tom.alias in page.locator(f"#bed-{second.id}").inner_text()
        page.context.close()
