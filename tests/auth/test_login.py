"""Sign-in, lockout, logout and the server-side session."""
from __future__ import annotations

from sqlalchemy import func, select

from shelter_app.auth.models import LoginFailure, UserSession
from shelter_app.extensions import db
from tests.conftest import PASSWORD, Client


def test_login_page_renders_with_labelled_fields(client):
    response = client.get("/login")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<label for="username">' in html and '<label for="password">' in html
    assert 'name="csrf_token"' in html


def test_each_role_signs_in_and_lands_where_its_work_is_in_one_redirect(app, make_user, make_shelter):
    shelter = make_shelter(beds=2)
    landing = {"manager": (f"/board/{shelter.id}", "Beds"), "trainer": (f"/board/{shelter.id}", "Beds"),
               "night": (f"/board/{shelter.id}", "Beds"), "casemanager": ("/availability", "Bed availability"),
               "admin": ("/admin/users", "Users")}
    for role, (path, heading) in landing.items():
        user = make_user(role, locale="en")
        c = Client(app)
        response = c.login(user.username)
        assert response.status_code == 303
        assert response.headers["Location"] == path, "the sign-in answers with the page itself: one redirect"
        page = c.get(path)
        assert page.status_code == 200
        assert f"<h1>{heading}" in page.get_data(as_text=True)
        # The home address (a bookmark, the brand link) goes to the same page.
        assert c.get("/").headers["Location"] == path


def test_staff_without_a_shelter_land_on_the_board_that_says_so(app, make_user):
    user = make_user("night", locale="en")
    c = Client(app)
    assert c.login(user.username).headers["Location"] == "/board"
    assert c.get("/board").status_code == 200


def test_username_is_case_insensitive(make_user, client):
    make_user("night", username="nightowl")
    assert client.login("NightOwl").status_code == 303


def test_wrong_password_is_refused_without_saying_whether_the_user_exists(make_user, client):
    make_user("night", username="anna", locale="en")
    known = client.login("anna", "wrong password!")
    unknown = client.login("nobody-here", "wrong password!")
    assert known.status_code == unknown.status_code == 401
    known_html, unknown_html = known.get_data(as_text=True), unknown.get_data(as_text=True)
    assert "Wrong username or password." in known_html
    assert "Wrong username or password." in unknown_html
    # the username typed is kept, the password is not echoed back
    assert 'value="anna"' in known_html
    assert "wrong password!" not in known_html


def test_empty_fields_get_422_naming_the_field(client):
    response = client.post("/login", {"username": "", "password": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="username-error"' in html and 'id="password-error"' in html


def test_overlong_input_is_a_clear_error(client):
    response = client.post("/login", {"username": "x" * 5000, "password": "y"})
    assert response.status_code == 422
    assert 'id="username-error"' in response.get_data(as_text=True)


def test_six_failures_lock_the_username_for_fifteen_minutes(make_user, client, travel):
    make_user("night", username="locked", locale="en")
    for _ in range(6):
        assert client.login("locked", "not the password").status_code == 401
    # even the right password is refused while locked, with a message that says so
    response = client.login("locked", PASSWORD)
    assert response.status_code == 429
    assert "paused for 15 minutes" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(LoginFailure.id))) == 6
    travel(minutes=16)
    assert client.login("locked", PASSWORD).status_code == 303
    # success clears the count
    assert db.session.scalar(select(func.count(LoginFailure.id))) == 0


def test_unknown_usernames_lock_the_same_way(client):
    for _ in range(6):
        client.login("ghost", "not the password")
    assert client.login("ghost", "not the password").status_code == 429


def test_disabled_user_cannot_sign_in(make_user, client):
    make_user("night", username="gone", active=False)
    assert client.login("gone").status_code == 401


def test_next_parameter_only_goes_to_this_site(make_user, client):
    user = make_user("admin")
    client.get("/login")
    response = client.post("/login?next=https://evil.example/", {"username": user.username, "password": PASSWORD})
    assert response.headers["Location"] == "/admin/users"  # the start page, not the other site
    client.get("/login")  # signed in: goes home, so sign in again from scratch
    other = Client(client.app)
    other.get("/login")
    response = other.post("/login?next=/admin/api-tokens", {"username": user.username, "password": PASSWORD})
    assert response.headers["Location"] == "/admin/api-tokens"


def test_visitor_is_sent_to_login_and_back(client):
    response = client.get("/admin/users")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login?next=/admin/users")


def test_logout_ends_the_session_on_the_server_and_replay_fails(login_as):
    c = login_as("night")
    cookie = c.raw.get_cookie("shelter_session").value
    response = c.post("/logout")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    assert '"cache"' in response.headers["Clear-Site-Data"]
    assert db.session.scalar(select(UserSession.end_reason)) == "logout"
    # the cookie from before logout, replayed by someone who copied it
    replay = Client(c.app)
    replay.raw.set_cookie("shelter_session", cookie)
    assert replay.get("/account").status_code == 303
    assert replay.get("/account", htmx=True).status_code == 401
    # The API would answer a live night-staff session 403; an ended one is nobody: 401.
    assert replay.get("/api/v1/availability").status_code == 401


def test_idle_timeout_ends_the_session(login_as, travel):
    c = login_as("night")
    travel(minutes=20)
    assert c.get("/account").status_code == 200  # activity keeps it open
    travel(minutes=29)
    assert c.get("/account").status_code == 200
    travel(minutes=31)
    response = c.get("/account")
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")
    assert db.session.scalar(select(UserSession.end_reason)) == "idle"
    # and it stays ended even if the clock were turned back
    assert c.get("/account", htmx=True).status_code == 401


def test_csrf_is_required_for_login_and_logout(login_as, client):
    response = client.post("/login", {"username": "x", "password": "y"}, csrf=False)
    assert response.status_code == 400
    c = login_as("night")
    assert c.post("/logout", csrf=False).status_code == 400
    assert c.get("/account").status_code == 200  # still signed in


def test_htmx_post_with_csrf_header_is_accepted(login_as):
    c = login_as("night", locale="en")
    response = c.post("/account", {"locale": "en"}, htmx=True)
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/account"


def test_forged_csrf_header_is_rejected(login_as):
    c = login_as("night")
    response = c.request("POST", "/account", data={"locale": "en"},
                         headers={"HX-Request": "true", "X-CSRFToken": "forged"})
    assert response.status_code == 400


def test_session_cookie_flags(login_as, app):
    c = login_as("night")
    cookie = c.raw.get_cookie("shelter_session")
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    assert not cookie.secure  # plain HTTP in tests
    secure = Client(app)
    secure.raw.get("/login", base_url="https://localhost")
    assert secure.raw.get_cookie("shelter_session", domain="localhost").secure


def test_logout_language_change_and_refusals_are_audited(login_as, make_shelter):
    from shelter_app.audit.models import AuditEvent

    night = login_as("night", locale="en")
    uid = night.user.id

    def actions():
        db.session.expire_all()
        return [(e.action, e.details) for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.actor_id == uid).order_by(AuditEvent.id))]

    assert night.get("/admin/users").status_code == 403
    assert ("access.denied", {"status": 403, "endpoint": "admin.users", "method": "GET"}) in actions()
    assert night.get("/residents/999999").status_code == 404
    assert ("access.denied", {"status": 404, "endpoint": "residents.show", "method": "GET",
                              "resident_id": 999999}) in actions()
    assert night.post("/account", {"locale": "pl"}).status_code == 303
    assert ("user.locale", {"locale": "pl"}) in actions()
    assert night.post("/logout").status_code == 303
    assert actions()[-1][0] == "auth.logout"
