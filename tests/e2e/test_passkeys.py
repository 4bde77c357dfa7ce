"""Passkeys in Chromium at phone size, with a virtual authenticator (CDP WebAuthn domain).

The authenticator is Chromium's own (ctap2, internal transport: the phone's platform authenticator) with
resident keys and user verification that always passes, as a fingerprint would. The pages run under
http://localhost:<port> (a relying party id must be a domain; localhost is a secure context).
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from shelter_app.auth.models import UserSession
from shelter_app.extensions import db
from shelter_app.passkeys.models import Passkey
from tests.conftest import PASSWORD
from tests.e2e.conftest import assert_no_horizontal_scroll, screenshot


@pytest.fixture
def localhost(live_server, app, monkeypatch):
    """The live server's address under the name localhost, which the app takes as its relying party."""
    base = live_server.replace("127.0.0.1", "localhost")
    monkeypatch.setitem(app.config, "WEBAUTHN_RP_ID", "localhost")
    monkeypatch.setitem(app.config, "WEBAUTHN_ORIGIN", base)
    return base


def _virtual_authenticator(page) -> tuple[object, str]:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    made = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})
    return cdp, made["authenticatorId"]


def _sign_in_with_password(page, base: str, username: str) -> None:
    db.session.commit()
    page.goto(f"{base}/login")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()


def test_night_worker_adds_a_passkey_signs_out_and_signs_in_with_one_tap(new_page, localhost, make_user,
                                                                         make_shelter):
    make_shelter(beds=4, isolation_rooms=1)
    user = make_user("night", locale="en", display_name="Night Nurse")
    page = new_page("phone", locale="en")
    cdp, authenticator = _virtual_authenticator(page)

    _sign_in_with_password(page, localhost, user.username)
    page.goto(f"{localhost}/account")
    form = page.locator("form[data-passkey=register]")
    form.wait_for(state="visible")
    assert page.locator("[data-passkey=unsupported]").is_hidden()
    screenshot(page, "passkeys-account-phone-before")
    page.get_by_label("Name of this passkey").fill("night phone")
    add = page.get_by_role("button", name="Add a passkey on this device")
    assert add.bounding_box()["height"] >= 44
    with page.expect_navigation():
        add.click()
    assert page.url.endswith("/account")
    assert "Passkey “night phone” added." in page.locator("main").inner_text()
    assert "not used yet" in page.locator(".passkey-list").inner_text()
    assert_no_horizontal_scroll(page)
    screenshot(page, "passkeys-account-phone-added")
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert len(credentials) == 1 and credentials[0]["isResidentCredential"], "a discoverable credential"
    db.session.commit()
    assert db.session.scalar(select(Passkey.name)) == "night phone"

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    button = page.get_by_role("button", name="Sign in with a passkey")
    button.wait_for(state="visible")
    assert button.bounding_box()["height"] >= 44
    assert page.locator("#username").is_visible(), "the password form stays as the fallback"
    assert_no_horizontal_scroll(page)
    screenshot(page, "passkeys-login-phone")
    # One tap: no username typed, the device's own check (always passing here) does the rest.
    with page.expect_navigation():
        button.click()
    page.wait_for_url("**/board/*")
    assert page.locator("h1").inner_text().startswith("Beds")
    assert page.locator("header .who").text_content() == "Night Nurse"
    screenshot(page, "passkeys-signed-in-phone")
    db.session.commit()
    session = db.session.scalar(select(UserSession).where(UserSession.ended_at.is_(None)))
    assert session.user_id == user.id and session.passkey_id is not None
    assert db.session.scalar(select(Passkey.sign_count)) >= 1
    page.goto(f"{localhost}/account")
    assert "last used" in page.locator(".passkey-list").inner_text()
    screenshot(page, "passkeys-account-phone-used")


def test_a_cancelled_check_says_so_and_the_password_still_works(new_page, localhost, make_user):
    user = make_user("night", locale="en")
    page = new_page("phone", locale="en")
    cdp, authenticator = _virtual_authenticator(page)
    _sign_in_with_password(page, localhost, user.username)
    page.goto(f"{localhost}/account")
    page.get_by_label("Name of this passkey").fill("night phone")
    with page.expect_navigation():
        page.get_by_role("button", name="Add a passkey on this device").click()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    # The finger is not recognised: the device refuses, the page says so and stays usable.
    cdp.send("WebAuthn.setUserVerified", {"authenticatorId": authenticator, "isUserVerified": False})
    page.get_by_role("button", name="Sign in with a passkey").click()
    message = page.locator("#passkey-sign-in [data-passkey-message]")
    message.wait_for(state="visible")
    assert "cancelled or did not work" in message.inner_text()
    screenshot(page, "passkeys-login-phone-refused")
    assert page.url.endswith("/login")
    _sign_in_with_password(page, localhost, user.username)
    assert "/board" in page.url


def test_a_browser_without_passkeys_shows_no_button(new_page, localhost, make_user):
    user = make_user("night", locale="en")
    page = new_page("phone", locale="en")
    page.add_init_script("delete window.PublicKeyCredential;")
    page.goto(f"{localhost}/login")
    page.wait_for_load_state("load")
    assert page.locator("#passkey-sign-in").is_hidden()
    assert page.get_by_role("button", name="Sign in with a passkey").count() == 0 or \
        page.get_by_role("button", name="Sign in with a passkey").is_hidden()
    _sign_in_with_password(page, localhost, user.username)
    page.goto(f"{localhost}/account")
    page.wait_for_load_state("load")
    assert page.locator("form[data-passkey=register]").is_hidden()
    assert page.locator("[data-passkey=unsupported]").is_visible()


def test_account_page_at_tablet_size(new_page, localhost, make_user):
    user = make_user("night", locale="en")
    page = new_page("tablet", locale="en")
    _virtual_authenticator(page)
    _sign_in_with_password(page, localhost, user.username)
    page.goto(f"{localhost}/account")
    page.locator("form[data-passkey=register]").wait_for(state="visible")
    assert_no_horizontal_scroll(page)
    screenshot(page, "passkeys-account-tablet")


def test_administrator_removes_a_lost_phones_passkey_on_a_tablet(tablet, make_user):
    from tests.e2e.conftest import sign_in
    from tests.passkeys.authenticator import add_passkey

    night = make_user("night", locale="en", display_name="Night Nurse")
    add_passkey(night, "lost phone")
    add_passkey(night, "tablet")
    admin = make_user("admin", locale="en")
    sign_in(tablet, admin.username, PASSWORD)
    tablet.goto("/admin/users")
    row = tablet.locator("ul.rows li", has_text=night.username)
    assert "2 passkeys" in row.inner_text()
    screenshot(tablet, "passkeys-admin-users-tablet")
    row.locator("a").click()
    tablet.wait_for_url(f"**/admin/users/{night.id}")
    remove = tablet.get_by_role("button", name="Remove passkey lost phone")
    assert remove.bounding_box()["height"] >= 44
    with tablet.expect_navigation():
        remove.click()
    assert "Passkey “lost phone” removed" in tablet.locator("main").inner_text()
    assert tablet.locator(".passkey-list li").count() == 1
    assert_no_horizontal_scroll(tablet)
    screenshot(tablet, "passkeys-admin-user-tablet")
