"""Sign-in and sign-out in a real browser at phone size."""
from __future__ import annotations

from tests.conftest import PASSWORD
from tests.e2e.conftest import assert_no_horizontal_scroll, screenshot, sign_in


def test_night_staff_signs_in_on_a_phone(phone, make_user):
    user = make_user("night", locale="en", display_name="Night Nurse")
    sign_in(phone, user.username, PASSWORD)
    assert phone.url.endswith("/board")
    assert phone.locator("h1").inner_text() == "Beds"
    nav = phone.locator("nav.appnav")
    assert nav.is_visible()
    box = nav.bounding_box()
    assert box["y"] + box["height"] >= 844 - 2, "the navigation sits at the bottom of a phone screen"
    for link in nav.locator("a").all():
        assert link.bounding_box()["height"] >= 44
    assert phone.locator("nav.appnav a[href='/admin/users']").count() == 0
    assert_no_horizontal_scroll(phone)
    screenshot(phone, "night-home-phone")


def test_wrong_password_shows_a_message(phone, make_user):
    user = make_user("night", locale="en")
    sign_in(phone, user.username, "not the password")
    assert phone.get_by_role("alert").first.inner_text().strip() == "Wrong username or password."
    assert phone.locator("#username").input_value() == user.username


def test_sign_out_ends_the_session(phone, make_user):
    user = make_user("night", locale="en")
    sign_in(phone, user.username, PASSWORD)
    cookies = phone.context.cookies()
    phone.get_by_role("button", name="Sign out").click()
    phone.wait_for_url("**/login")
    assert "You have signed out." in phone.content()
    # the old cookie, put back, does not get in
    phone.context.add_cookies(cookies)
    phone.goto("/")
    assert "/login" in phone.url
