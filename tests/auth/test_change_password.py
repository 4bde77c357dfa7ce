"""Changing one's own password on the Account page: the rules, and every other session ends."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shelter_app.audit.models import AuditEvent
from shelter_app.auth.common_passwords import is_common
from shelter_app.auth.models import LoginFailure, UserSession
from shelter_app.extensions import db
from tests.conftest import PASSWORD, Client

NEW = "cold hands warm tea"


def _change(client: Client, current: str = PASSWORD, new: str = NEW, again: str | None = None):
    client.get("/account")
    return client.post("/account/password", {"current_password": current, "new_password": new,
                                             "new_password_again": new if again is None else again})


def test_changing_ones_password_ends_the_other_sessions_only(login_as, app):
    phone = login_as("night", locale="en")
    tablet, lost = Client(app), Client(app)
    for other in (tablet, lost):
        assert other.login(phone.user.username).status_code == 303
    response = _change(phone)
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert "Password changed. Your other sessions have ended." in phone.get("/account").get_data(as_text=True)
    assert tablet.get("/account").status_code == 303 and lost.get("/account").status_code == 303
    assert phone.get("/account").status_code == 200, "this session stays open"
    ended = db.session.scalars(select(UserSession.end_reason).where(UserSession.ended_at.is_not(None))).all()
    assert ended == ["password", "password"]
    assert Client(app).login(phone.user.username, PASSWORD).status_code == 401
    assert Client(app).login(phone.user.username, NEW).status_code == 303
    assert "user.password_change" in db.session.scalars(select(AuditEvent.action)).all()


@pytest.mark.parametrize(("new", "again", "field", "message"), [
    ("eleven char", None, "new_password", "at least 12 characters"),
    ("1q2w3e4r5t6y", None, "new_password", "one of the most common ones"),
    ("QWERTY123456 ", None, "new_password", "one of the most common ones"),
    (NEW, NEW + "!", "new_password_again", "The two new passwords differ."),
    ("", None, "new_password", "Enter a new password."),
], ids=["too-short", "common", "common-any-case", "typed-differently", "empty"])
def test_a_new_password_that_breaks_a_rule_is_refused_at_its_field(login_as, app, new, again, field, message):
    night = login_as("night", locale="en")
    response = _change(night, new=new, again=again)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html and message in html
    assert new not in html or not new.strip(), "a password is never shown again"
    assert Client(app).login(night.user.username, PASSWORD).status_code == 303, "the old password still works"
    assert db.session.scalar(select(func.count(LoginFailure.id))) == 0, "the account was not guessed at"


def test_the_common_list_is_shipped_with_the_app():
    assert is_common("password") and is_common("Qwerty123456") and is_common(" 1qaz2wsx3edc ")
    assert not is_common(NEW)


def test_a_wrong_current_password_is_refused_and_counts_as_a_failed_sign_in(login_as, app):
    night = login_as("night", locale="en")
    response = _change(night, current="not my password")
    assert response.status_code == 422
    assert 'id="current_password-error"' in response.get_data(as_text=True)
    assert "This is not your current password." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(LoginFailure.id))) == 1
    for _ in range(5):
        assert _change(night, current="not my password").status_code == 422
    # Six failures: the account is paused, for the right current password as for a sign-in.
    paused = _change(night)
    assert paused.status_code == 429 and "paused for 15 minutes" in paused.get_data(as_text=True)
    assert Client(app).login(night.user.username).status_code == 429
    assert night.get("/account").status_code == 200, "the session itself stays open"


def test_a_refused_change_can_be_sent_again_with_the_same_form(login_as):
    """A refusal that is kept (it counts) does not use up the form's one-time token."""
    night = login_as("night", locale="en")
    night.get("/account")
    form = {"current_password": "not my password", "new_password": NEW, "new_password_again": NEW,
            "form_token": "f" * 32}
    assert night.post("/account/password", form).status_code == 422
    assert night.post("/account/password", {**form, "current_password": PASSWORD}).status_code == 303


def test_a_change_sent_twice_is_done_once(login_as, app):
    night = login_as("night", locale="en")
    night.get("/account")
    form = {"current_password": PASSWORD, "new_password": NEW, "new_password_again": NEW, "form_token": "a" * 32}
    assert night.post("/account/password", form).status_code == 303
    assert night.post("/account/password", form).status_code == 303
    assert db.session.scalar(select(func.count(LoginFailure.id))) == 0, "the repeat checked no password"
    assert db.session.scalars(select(AuditEvent.action)).all().count("user.password_change") == 1
