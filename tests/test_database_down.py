"""Failures: with the database unreachable every page answers a styled 503 (JSON for the API), and no
log or answer carries a statement's values (password hashes, usernames) or a stack trace."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from shelter_app import create_app, timeutil
from shelter_app.auth.models import User
from shelter_app.extensions import db
from tests.conftest import PASSWORD, Client

# Nothing listens on port 1; a SQLite file in a folder that does not exist cannot be opened.
DOWN_URLS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:1/x",
    "sqlite": "sqlite:////nonexistent-folder/for-this-test/shelter.db",
}
HASH_LIKE = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g"
LEAKY_USERNAME = "leaky-username"


@pytest.fixture(params=sorted(DOWN_URLS))
def down_app(app, request):
    """The same app (same secret key) whose database cannot be reached."""
    down = create_app({"TESTING": True, "SECRET_KEY": app.config["SECRET_KEY"],
                       "SQLALCHEMY_DATABASE_URI": DOWN_URLS[request.param]})
    yield down
    with down.app_context():
        db.engine.dispose()


@pytest.fixture
def signed_in(login_as, down_app):
    """signed_in(role): a client of the down app carrying a session cookie from the working app."""

    def make(role: str, locale: str = "en") -> Client:
        working = login_as(role, locale=locale)
        client = Client(down_app)
        client.raw.set_cookie("shelter_session", working.raw.get_cookie("shelter_session").value)
        client.csrf = working.csrf  # bound to the session in the cookie, signed with the same key
        client.user = working.user
        return client

    return make


def _assert_styled_503(response, *, sent: bool, fragment: bool = False, user=None):
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert response.headers["Retry-After"] == "30"
    html = response.get_data(as_text=True)
    assert "Service unavailable" in html
    if sent:
        assert "The service is unavailable; nothing you entered was saved." in html
    else:
        assert "The service is unavailable." in html and "nothing you entered" not in html
    if fragment:
        assert "<html" not in html and "<h1>Service unavailable</h1>" in html
    else:
        assert html.lstrip().startswith("<!doctype html>")
        assert "/static/bundle/app.css" in html  # the app's own layout (its one stylesheet)
        assert 'class="appnav"' not in html and "Sign out" not in html
    for leak in ("Traceback", "OperationalError", "psycopg", "sqlite", "SELECT", "127.0.0.1"):
        assert leak not in html, leak
    if user is not None:
        assert user.display_name not in html


def test_signed_in_pages_answer_a_styled_503(signed_in, caplog):
    c = signed_in("night")
    with caplog.at_level(logging.ERROR):
        _assert_styled_503(c.get("/board"), sent=False, user=c.user)
        _assert_styled_503(c.get("/board", htmx=True), sent=False, fragment=True, user=c.user)
        _assert_styled_503(c.get("/account"), sent=False, user=c.user)
        # an address that names nothing: its 404 page would need the user, so it is the 503 too
        _assert_styled_503(c.get("/no-such-page"), sent=False, user=c.user)
    assert "database unavailable during GET /board" in caplog.text
    assert "Traceback" not in caplog.text


def test_a_form_sent_while_down_says_nothing_was_saved(signed_in):
    c = signed_in("night")
    _assert_styled_503(c.post("/account", {"locale": "pl"}), sent=True, user=c.user)
    _assert_styled_503(c.post("/account", {"locale": "pl"}, htmx=True), sent=True, fragment=True, user=c.user)
    # Sign-in too, for a visitor without a session.
    visitor = Client(c.app)
    assert visitor.get("/login").status_code == 200  # the form itself needs no database
    response = visitor.post("/login", {"username": "someone", "password": PASSWORD})
    _assert_styled_503(response, sent=True)


def test_api_answers_json_503(signed_in):
    c = signed_in("casemanager")
    for response in (c.get("/api/v1/availability"),
                     c.get("/api/v1/availability", headers={"Accept": "application/json"}),
                     Client(c.app).get("/api/v1/availability", headers={"Authorization": "Bearer shk_x"})):
        assert response.status_code == 503
        assert response.mimetype == "application/json"
        body = response.get_json()
        assert set(body) == {"error", "message"}
        assert body["error"] == "Service unavailable"
        assert "Traceback" not in response.get_data(as_text=True)


def test_healthz_keeps_its_json(signed_in):
    c = signed_in("night")
    response = c.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "db": "unreachable"}


def test_the_503_speaks_the_language_of_the_browser(signed_in):
    c = signed_in("night")
    response = c.get("/board", headers={"Accept-Language": "pl"})
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert '<html lang="pl">' in html
    assert "Usługa niedostępna" in html
    response = c.post("/account", {"locale": "en"}, headers={"Accept-Language": "pl"})
    assert "nic z tego, co wpisano, nie zostało zapisane" in response.get_data(as_text=True)
    body = c.get("/api/v1/availability", headers={"Accept-Language": "pl"}).get_json()
    assert body["error"] == "Usługa niedostępna"


# --- no values in logs ----------------------------------------------------------------------

def _user_row(role: str) -> dict:
    return {"username": LEAKY_USERNAME, "display_name": "Leaky", "role": role, "locale": "en",
            "password_hash": HASH_LIKE, "active": True, "created_at": timeutil.utcnow()}


def test_a_failing_statement_carries_no_values(app, caplog):
    db.session.commit()
    # role breaks a CHECK: PostgreSQL would quote the whole row ("Failing row contains …") and
    # SQLAlchemy the statement's parameters.
    with pytest.raises(IntegrityError) as info:
        db.session.execute(insert(User).values(**_user_row("nobody")))
    db.session.rollback()
    app.logger.error("statement failed", exc_info=info.value)
    for text in (str(info.value), str(info.value.orig), caplog.text):
        assert HASH_LIKE not in text and "$argon2" not in text
        assert LEAKY_USERNAME not in text
    assert "role_known" in str(info.value)  # the constraint is still named: callers match on it
    assert "[SQL parameters hidden due to hide_parameters=True]" in str(info.value)


def test_an_unhandled_database_error_is_logged_without_values(app, caplog):
    """Through the app's own error page, as a request that breaks a constraint would go."""
    broken = create_app({"TESTING": True, "SECRET_KEY": app.config["SECRET_KEY"],
                         "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                         # an app that sets its own engine options keeps hidden parameters
                         "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True}})

    @broken.get("/break")
    def break_it():
        db.session.add(User(**_user_row("nobody")))
        db.session.flush()
        return "not reached"

    try:
        with caplog.at_level(logging.ERROR):
            response = Client(broken).get("/break")
        assert response.status_code == 500
        assert "unhandled error" in caplog.text and "role_known" in caplog.text
        for text in (caplog.text, response.get_data(as_text=True)):
            assert HASH_LIKE not in text and "$argon2" not in text
            assert LEAKY_USERNAME not in text
        assert "Traceback" not in response.get_data(as_text=True)
    finally:
        with broken.app_context():
            db.engine.dispose()
