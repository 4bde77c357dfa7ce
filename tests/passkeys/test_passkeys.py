"""Passkeys over HTTP: adding one, signing in with it, and every way an answer is refused.

The browser's side is tests/passkeys/authenticator.py: real attestation and assertion structures
(COSE key, authenticator data, ECDSA signatures) verified by py_webauthn inside the app.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from shelter_app.audit.models import AuditEvent
from shelter_app.auth.models import LoginFailure, UserSession
from shelter_app.extensions import db
from shelter_app.passkeys.models import Passkey, WebAuthnChallenge
from tests.conftest import PASSWORD, Client
from tests.passkeys.authenticator import SoftAuthenticator, add_passkey, unb64url


def _options(client: Client, url: str) -> dict:
    response = client.post(url, {})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()


def _register(client: Client, device: SoftAuthenticator, name: str = "night phone", **kw):
    options = _options(client, "/account/passkeys/options")
    return client.post("/account/passkeys", {"name": name, "credential": device.create(options, **kw)})


def _sign_in(client: Client, device: SoftAuthenticator, *, url: str = "/login/passkey", **kw):
    if client.csrf is None:
        client.get("/login")
    options = _options(client, "/login/passkey/options")
    return client.post(url, {"credential": device.get(options, **kw)})


def _failures(username: str) -> int:
    return db.session.scalar(select(func.count(LoginFailure.id)).where(LoginFailure.username == username))


def _actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


# --- adding a passkey --------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["none", "packed"])
def test_night_worker_adds_a_passkey(login_as, fmt):
    night = login_as("night", locale="en")
    device = SoftAuthenticator()
    response = _register(night, device, fmt=fmt)
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    passkey = db.session.scalar(select(Passkey))
    assert passkey.user_id == night.user.id and passkey.name == "night phone"
    assert passkey.credential_id == device.credential_id and passkey.sign_count == 0
    assert passkey.user_handle == device.user_handle and len(passkey.user_handle) == 32
    assert "passkey.add" in _actions()
    page = night.get("/account").get_data(as_text=True)
    assert "Passkey “night phone” added." in page and "not used yet" in page
    assert db.session.scalar(select(func.count(WebAuthnChallenge.id))) == 0, "the challenge was taken"


def test_registration_options_ask_for_a_discoverable_verified_credential(login_as):
    night = login_as("night", locale="en")
    first = SoftAuthenticator()
    assert _register(night, first).status_code == 303
    options = _options(night, "/account/passkeys/options")
    assert options["rp"] == {"id": "localhost", "name": "localhost"}
    assert options["user"]["name"] == night.user.username
    assert unb64url(options["user"]["id"]) == first.user_handle, "one user handle per account"
    assert options["authenticatorSelection"] == {"residentKey": "required", "requireResidentKey": True,
                                                 "userVerification": "required"}
    assert options["attestation"] == "none"
    assert [unb64url(c["id"]) for c in options["excludeCredentials"]] == [first.credential_id]
    assert len(unb64url(options["challenge"])) == 32


def test_a_registration_challenge_answers_once(login_as):
    night = login_as("night", locale="en")
    options = _options(night, "/account/passkeys/options")
    first, second = SoftAuthenticator(), SoftAuthenticator()
    assert night.post("/account/passkeys", {"name": "one", "credential": first.create(options)}).status_code == 303
    again = night.post("/account/passkeys", {"name": "two", "credential": second.create(options)})
    assert again.status_code == 422
    assert "expired or was already used" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Passkey.id))) == 1


@pytest.mark.parametrize("wrong", [
    {"origin": "https://evil.example"},
    {"origin": "http://localhost:8080"},
    {"rp_id": "evil.example"},
    {"verified": False},
    {"kind": "webauthn.get"},
], ids=["other-origin", "other-port", "other-rp-id", "no-user-verification", "wrong-type"])
def test_a_wrong_registration_is_refused_and_uses_up_its_challenge(login_as, wrong):
    night = login_as("night", locale="en")
    options = _options(night, "/account/passkeys/options")
    device = SoftAuthenticator()
    response = night.post("/account/passkeys", {"name": "phone", "credential": device.create(options, **wrong)})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The passkey could not be added." in html and 'value="phone"' in html, "the name is kept"
    assert db.session.scalar(select(func.count(Passkey.id))) == 0
    # The same challenge, now answered correctly, is gone: every answer takes it.
    retry = night.post("/account/passkeys", {"name": "phone", "credential": SoftAuthenticator().create(options)})
    assert retry.status_code == 422 and "expired or was already used" in retry.get_data(as_text=True)
    assert "passkey.add_refused" in _actions()


def test_a_registration_challenge_expires(login_as, travel):
    night = login_as("night", locale="en")
    options = _options(night, "/account/passkeys/options")
    travel(minutes=6)
    night.get("/account")  # the session stays open; the challenge does not
    response = night.post("/account/passkeys", {"name": "phone", "credential": SoftAuthenticator().create(options)})
    assert response.status_code == 422 and "expired or was already used" in response.get_data(as_text=True)


def test_another_accounts_registration_challenge_is_refused(login_as):
    anna, ewa = login_as("night", locale="en"), login_as("night", locale="en")
    options = _options(anna, "/account/passkeys/options")
    response = ewa.post("/account/passkeys", {"name": "phone", "credential": SoftAuthenticator().create(options)})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Passkey.id))) == 0


def test_passkey_names_are_required_and_unique_per_account(login_as, make_user):
    night = login_as("night", locale="en")
    assert _register(night, SoftAuthenticator(), name="phone").status_code == 303
    empty = night.post("/account/passkeys", {"name": "", "credential": ""})
    assert empty.status_code == 422
    html = empty.get_data(as_text=True)
    assert 'id="name-error"' in html and "Name the passkey" in html
    assert "did not make a passkey" not in html, "only the name is asked for: the device was not asked yet"
    taken = _register(night, SoftAuthenticator(), name="phone")
    assert taken.status_code == 422 and "already have a passkey with this name" in taken.get_data(as_text=True)
    # Another account may use the same name.
    other = make_user("night")
    add_passkey(other, "phone")
    assert db.session.scalar(select(func.count(Passkey.id))) == 2


def test_one_device_is_added_once(login_as):
    night = login_as("night", locale="en")
    device = SoftAuthenticator()
    assert _register(night, device, name="one").status_code == 303
    twice = _register(night, device, name="two")
    assert twice.status_code == 422 and "has been added already" in twice.get_data(as_text=True)


def test_garbage_in_place_of_a_credential_is_refused_at_the_field(login_as):
    night = login_as("night", locale="en")
    for garbage in ("{}", "not json", json.dumps({"id": 1}), json.dumps([1, 2]),
                    json.dumps({"id": "AA", "rawId": "AA", "type": "public-key",
                                "response": {"clientDataJSON": "!!!", "attestationObject": "AA"}})):
        response = night.post("/account/passkeys", {"name": "phone", "credential": garbage})
        assert response.status_code == 422, garbage
        assert "The passkey could not be added." in response.get_data(as_text=True)


# --- signing in with one -----------------------------------------------------------------------

def test_sign_in_with_a_passkey_goes_through_the_session_path(make_user, client):
    user = make_user("night", locale="en")
    device = add_passkey(user, "night phone")
    response = _sign_in(client, device)
    # Like a password: straight to where the night's work starts.
    assert response.status_code == 303 and response.headers["Location"] == "/board"
    assert client.get("/board").status_code == 200
    session = db.session.scalar(select(UserSession))
    passkey = db.session.scalar(select(Passkey))
    assert session.user_id == user.id and session.passkey_id == passkey.id and session.ended_at is None
    assert passkey.sign_count == 1 and passkey.last_used_at is not None
    login = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "auth.login"))
    assert login.actor_id == user.id and '"method": "passkey"' in json.dumps(login.details)
    assert "last used" in client.get("/account").get_data(as_text=True)


def test_sign_in_options_name_no_account(client):
    client.get("/login")
    options = _options(client, "/login/passkey/options")
    assert options["rpId"] == "localhost" and options["userVerification"] == "required"
    assert options["allowCredentials"] == []


def test_sign_in_with_a_passkey_follows_next_on_this_site_only(make_user, client):
    user = make_user("admin")
    device = add_passkey(user)
    response = _sign_in(client, device, url="/login/passkey?next=/admin/users")
    assert response.headers["Location"] == "/admin/users"
    other = Client(client.app)
    response = _sign_in(other, device, url="/login/passkey?next=https://evil.example/")
    assert response.headers["Location"] == "/admin/users"


def test_a_sign_in_answer_is_used_once(make_user, client):
    user = make_user("night", locale="en")
    device = add_passkey(user)
    client.get("/login")
    options = _options(client, "/login/passkey/options")
    answer = device.get(options)
    assert client.post("/login/passkey", {"credential": answer}).status_code == 303
    thief = Client(client.app)
    thief.get("/login")
    replay = thief.post("/login/passkey", {"credential": answer})
    assert replay.status_code == 401
    assert "The passkey did not sign you in." in replay.get_data(as_text=True)
    assert _failures(user.username) == 1, "a replay counts as a failed sign-in of the account"
    # A fresh answer with a higher count to the same used challenge is refused too.
    assert thief.post("/login/passkey", {"credential": device.get(options)}).status_code == 401


@pytest.mark.parametrize("wrong", [
    {"origin": "https://evil.example"},
    {"rp_id": "evil.example"},
    {"verified": False},
    {"tamper": True},
    {"kind": "webauthn.create"},
    {"user_handle": b"someone else's handle 0123456789"},
], ids=["other-origin", "other-rp-id", "no-user-verification", "bad-signature", "wrong-type", "other-user-handle"])
def test_a_wrong_assertion_is_refused_and_counted(make_user, client, wrong):
    user = make_user("night", locale="en")
    device = add_passkey(user)
    response = _sign_in(client, device, **wrong)
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert "The passkey did not sign you in." in html and 'id="username"' in html, "the password form stays"
    assert client.get("/account").status_code == 303, "not signed in"
    assert _failures(user.username) == 1
    assert db.session.scalar(select(func.count(UserSession.id))) == 0
    assert db.session.scalar(select(Passkey.sign_count)) == 0, "a refused answer does not move the counter"


def test_a_sign_counter_that_does_not_go_up_is_refused(make_user, client):
    user = make_user("night", locale="en")
    device = add_passkey(user)
    device.sign_count = 41
    assert _sign_in(client, device).status_code == 303  # 42
    for count in (42, 17, 0):  # the same count again, a lower one, none at all: a cloned key
        response = _sign_in(Client(client.app), device, count=count)
        assert response.status_code == 401, count
    assert db.session.scalar(select(Passkey.sign_count)) == 42
    assert _failures(user.username) == 3
    assert _sign_in(Client(client.app), device, count=43).status_code == 303


def test_a_passkey_that_never_counts_signs_in_again_and_again(make_user, app):
    """Synced passkeys keep their counter at 0: that is no regression."""
    user = make_user("night", locale="en")
    device = add_passkey(user)
    for _ in range(3):
        assert _sign_in(Client(app), device, count=0).status_code == 303


def test_an_unknown_passkey_is_refused(client):
    response = _sign_in(client, SoftAuthenticator())
    assert response.status_code == 401
    assert "auth.login_failed" in _actions()


def test_a_disabled_accounts_passkey_is_refused(make_user, client):
    user = make_user("night", active=False, locale="en")
    device = add_passkey(user)
    assert _sign_in(client, device).status_code == 401
    assert _failures(user.username) == 1


def test_failed_passkeys_and_passwords_pause_the_account_together(make_user, app, travel):
    user = make_user("night", locale="en")
    device = add_passkey(user)
    for _ in range(3):
        assert Client(app).login(user.username, "not the password").status_code == 401
    for _ in range(3):
        assert _sign_in(Client(app), device, origin="https://evil.example").status_code == 401
    # Six failures: even the right passkey waits, like the right password.
    paused = _sign_in(Client(app), device)
    assert paused.status_code == 429
    assert "paused for 15 minutes" in paused.get_data(as_text=True)
    assert Client(app).login(user.username).status_code == 429
    travel(minutes=16)
    assert _sign_in(Client(app), device).status_code == 303
    assert _failures(user.username) == 0, "success clears the count"


def test_sign_in_with_garbage_is_refused(client):
    client.get("/login")
    for garbage in ("", "null", "{}", "[]", json.dumps({"id": "AA", "rawId": "AA", "type": "public-key",
                                                        "response": {"clientDataJSON": "e30",
                                                                     "authenticatorData": "AA", "signature": "AA"}})):
        response = client.post("/login/passkey", {"credential": garbage})
        assert response.status_code in (401, 422), garbage


# --- removing a passkey ------------------------------------------------------------------------

def test_removing_a_passkey_ends_the_sessions_it_started(make_user, app):
    user = make_user("night", locale="en")
    lost, kept = add_passkey(user, "lost phone"), add_passkey(user, "tablet")
    on_lost, on_kept, with_password = Client(app), Client(app), Client(app)
    assert _sign_in(on_lost, lost).status_code == 303
    assert _sign_in(on_kept, kept).status_code == 303
    assert with_password.login(user.username).status_code == 303
    lost_id = db.session.scalar(select(Passkey.id).where(Passkey.name == "lost phone"))
    with_password.get("/account")
    response = with_password.post(f"/account/passkeys/{lost_id}/remove", {})
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert "Passkey “lost phone” removed." in with_password.get("/account").get_data(as_text=True)
    assert on_lost.get("/account").status_code == 303, "the lost phone's session ended"
    assert on_kept.get("/account").status_code == 200
    assert with_password.get("/account").status_code == 200
    assert _sign_in(Client(app), lost).status_code == 401, "and it cannot sign in again"
    ended = db.session.scalar(select(UserSession).where(UserSession.end_reason == "passkey"))
    assert ended is not None and ended.passkey_id is None
    assert "passkey.remove" in _actions()


def test_removing_the_passkey_one_signed_in_with_signs_out(make_user, app):
    user = make_user("night", locale="en")
    device = add_passkey(user, "phone")
    c = Client(app)
    assert _sign_in(c, device).status_code == 303
    c.get("/account")
    passkey_id = db.session.scalar(select(Passkey.id))
    response = c.post(f"/account/passkeys/{passkey_id}/remove", {})
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    page = c.get("/login")
    assert page.status_code == 200 and "You had signed in with it, so sign in again." in page.get_data(as_text=True)
    assert c.get("/account").status_code == 303


def test_another_accounts_passkey_is_not_found(login_as, make_user):
    night = login_as("night", locale="en")
    other = make_user("night")
    add_passkey(other)
    passkey_id = db.session.scalar(select(Passkey.id))
    night.get("/account")
    assert night.post(f"/account/passkeys/{passkey_id}/remove", {}).status_code == 404
    assert db.session.scalar(select(func.count(Passkey.id))) == 1


def test_admin_sees_counts_and_removes_a_lost_phones_passkey(login_as, make_user, app):
    night = make_user("night", locale="en")
    lost = add_passkey(night, "lost phone")
    add_passkey(night, "tablet")
    on_lost = Client(app)
    assert _sign_in(on_lost, lost).status_code == 303
    admin = login_as("admin", locale="en")
    users = admin.get("/admin/users").get_data(as_text=True)
    assert "2 passkeys" in users
    page = admin.get(f"/admin/users/{night.id}").get_data(as_text=True)
    assert "lost phone" in page and "tablet" in page
    lost_id = db.session.scalar(select(Passkey.id).where(Passkey.name == "lost phone"))
    response = admin.post(f"/admin/users/{night.id}/passkeys/{lost_id}/remove", {})
    assert response.status_code == 303 and response.headers["Location"] == f"/admin/users/{night.id}"
    assert "the sessions started with it have ended" in admin.get(f"/admin/users/{night.id}").get_data(as_text=True)
    assert on_lost.get("/account").status_code == 303
    assert "1 passkey" in admin.get("/admin/users").get_data(as_text=True)
    # A passkey id under another account's page is not found.
    other = make_user("night")
    tablet_id = db.session.scalar(select(Passkey.id).where(Passkey.name == "tablet"))
    assert admin.post(f"/admin/users/{other.id}/passkeys/{tablet_id}/remove", {}).status_code == 404


# --- where passkeys are offered ----------------------------------------------------------------

def test_the_sign_in_page_offers_a_passkey_next_to_the_password(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'id="passkey-sign-in"' in html and "Sign in with a passkey" in html
    assert 'id="username"' in html and 'id="password"' in html
    from shelter_app.static_files import BUNDLES

    assert "js/passkeys.js" in BUNDLES["bundle/app.js"], "the page's one script drives the passkey"


def test_without_a_relying_party_no_passkey_is_offered(app, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "WEBAUTHN_RP_ID", None)
    monkeypatch.setitem(app.config, "WEBAUTHN_ORIGIN", None)
    monkeypatch.setitem(app.config, "TRUST_PROXY", False)
    night = login_as("night", locale="en")
    assert "passkey-sign-in" not in Client(app).get("/login").get_data(as_text=True)
    account = night.get("/account").get_data(as_text=True)
    assert "Passkeys are not set up on this server." in account and "passkey-register-options" not in account
    response = night.post("/account/passkeys/options", {})
    assert response.status_code == 404 and response.get_json()["error"] == "Passkeys are not set up on this server."


def test_relying_party_from_the_configuration_or_a_trusted_proxy(app, monkeypatch):
    from shelter_app.passkeys.relying_party import relying_party

    def rp(base_url="http://localhost", **config):
        for key in ("WEBAUTHN_RP_ID", "WEBAUTHN_ORIGIN", "TRUST_PROXY"):
            monkeypatch.setitem(app.config, key, config.get(key))
        with app.test_request_context("/login", base_url=base_url):
            found = relying_party()
        return (found.id, found.origins) if found else None

    assert rp(WEBAUTHN_RP_ID="shelter.example") == ("shelter.example", ("https://shelter.example",))
    assert rp(WEBAUTHN_ORIGIN="https://app.shelter.example:8443/") == (
        "app.shelter.example", ("https://app.shelter.example:8443",))
    assert rp(WEBAUTHN_RP_ID="shelter.example",
              WEBAUTHN_ORIGIN="https://shelter.example, https://m.shelter.example") == (
        "shelter.example", ("https://shelter.example", "https://m.shelter.example"))
    # The Host header is believed only from a trusted proxy.
    assert rp(base_url="https://attacker.example") is None
    assert rp(base_url="https://shelter.example:8443", TRUST_PROXY=True) == (
        "shelter.example", ("https://shelter.example:8443",))


def test_options_refuse_what_no_browser_sends(client):
    client.get("/login")
    response = client.request("POST", "/login/passkey/options", data='{"x": 1}', content_type="application/json",
                              headers={"X-CSRFToken": client.csrf, "Accept-Language": "en"})
    assert response.status_code == 422 and "error" in response.get_json()
    assert client.post("/login/passkey/options", {}, csrf=False).status_code == 400
    assert db.session.scalar(select(func.count(WebAuthnChallenge.id))) == 0


def test_expired_challenges_are_cleared(client, travel):
    client.get("/login")
    for _ in range(3):
        _options(client, "/login/passkey/options")
    travel(minutes=6)
    _options(client, "/login/passkey/options")
    assert db.session.scalar(select(func.count(WebAuthnChallenge.id))) == 1


def test_password_sign_in_still_records_no_passkey(make_user, client):
    user = make_user("night")
    assert client.login(user.username, PASSWORD).status_code == 303
    assert db.session.scalar(select(UserSession.passkey_id)) is None
