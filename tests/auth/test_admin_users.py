"""The administrator's user pages and `shelter-app users create`."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from shelter_app import timeutil
from shelter_app.audit.models import AuditEvent
from shelter_app.auth.models import User
from shelter_app.auth.services import create_user
from shelter_app.errors import DomainError
from shelter_app.extensions import db
from tests.conftest import PASSWORD, Client


def _user(username):
    return db.session.scalar(select(User).where(User.username == username))


def test_admin_creates_a_user_who_can_sign_in(login_as, app):
    admin = login_as("admin", locale="en")
    response = admin.post("/admin/users", {"username": "Ewa.K", "display_name": "Ewa", "role": "trainer",
                                           "locale": "pl", "password": "long enough pw"})
    assert response.status_code == 303
    assert _user("ewa.k").role == "trainer"
    assert "user.create" in db.session.scalars(select(AuditEvent.action)).all()
    assert Client(app).login("ewa.k", "long enough pw").status_code == 303


def test_user_form_bad_input_keeps_valid_fields(login_as):
    admin = login_as("admin", locale="en")
    response = admin.post("/admin/users", {"username": "ok-name", "display_name": "Kept Name", "role": "night",
                                           "locale": "pl", "password": "short"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="password-error"' in html and "at least 10 characters" in html
    assert 'value="Kept Name"' in html and 'value="ok-name"' in html
    assert _user("ok-name") is None


def test_user_form_rejects_unknown_role_and_bad_username(login_as):
    admin = login_as("admin", locale="en")
    response = admin.post("/admin/users", {"username": "a b", "role": "root", "locale": "pl",
                                           "password": "long enough pw"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="role-error"' in html


def test_duplicate_username_is_refused(login_as, make_user):
    make_user("night", username="taken")
    admin = login_as("admin", locale="en")
    response = admin.post("/admin/users", {"username": "TAKEN", "role": "night", "locale": "pl",
                                           "password": "long enough pw"})
    assert response.status_code == 422
    assert "This username is taken." in response.get_data(as_text=True)


def test_disabling_a_user_ends_their_session_at_once(login_as, app):
    night = login_as("night")
    admin = login_as("admin", locale="en")
    assert night.get("/account").status_code == 200
    response = admin.post(f"/admin/users/{night.user.id}", {"action": "active", "a-active": ""})
    assert response.status_code == 303
    assert night.get("/account").status_code == 303  # back to the login page
    assert Client(app).login(night.user.username).status_code == 401


def test_admin_cannot_disable_themselves(login_as):
    admin = login_as("admin", locale="en")
    response = admin.post(f"/admin/users/{admin.user.id}", {"action": "active", "a-active": ""})
    assert response.status_code == 422
    assert "cannot disable your own account" in response.get_data(as_text=True)
    assert admin.get("/account").status_code == 200


def test_password_reset_ends_sessions_and_sets_new_password(login_as, app):
    night = login_as("night")
    admin = login_as("admin", locale="en")
    short = admin.post(f"/admin/users/{night.user.id}", {"action": "password", "p-password": "short"})
    assert short.status_code == 422 and 'id="p-password-error"' in short.get_data(as_text=True)
    ok = admin.post(f"/admin/users/{night.user.id}", {"action": "password", "p-password": "a new long password"})
    assert ok.status_code == 303
    assert night.get("/account").status_code == 303
    assert Client(app).login(night.user.username, PASSWORD).status_code == 401
    assert Client(app).login(night.user.username, "a new long password").status_code == 303


def test_unknown_user_is_404(login_as):
    admin = login_as("admin")
    assert admin.get("/admin/users/99999").status_code == 404


def test_users_page_as_htmx_fragment(login_as):
    admin = login_as("admin", locale="en")
    full = admin.get("/admin/users")
    fragment = admin.get("/admin/users", htmx=True)
    assert full.status_code == fragment.status_code == 200
    assert "<html" in full.get_data(as_text=True)
    assert "<html" not in fragment.get_data(as_text=True)
    assert "<h1>Users</h1>" in fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers["Vary"]


def test_cli_users_create_reads_password_from_stdin(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "cli-user", "--role", "manager"], input="from stdin pw\n")
    assert result.exit_code == 0, result.output
    assert "from stdin pw" not in result.output
    assert Client(app).login("cli-user", "from stdin pw").status_code == 303
    bad = runner.invoke(args=["users", "create", "cli-user2", "--role", "manager"], input="short\n")
    assert bad.exit_code != 0 and "password" in bad.output

TOO_LONG = {"display_name": "N" * 81, "organisation": "O" * 121}


@pytest.mark.parametrize("field", sorted(TOO_LONG))
def test_too_long_a_name_or_organisation_is_refused_not_cut(field):
    with pytest.raises(DomainError) as refused:
        create_user("long-one", PASSWORD, "casemanager", at=timeutil.utcnow(), **{field: TOO_LONG[field]})
    assert refused.value.field == field
    db.session.rollback()
    assert _user("long-one") is None


@pytest.mark.parametrize("option, value", [
    ("--name", "N" * 81), ("--name", "Ewa\x1b[31m"), ("--name", "Ewa\u202eevil"),
    ("--organisation", "O" * 121), ("--organisation", "NGO\x07"), ("--organisation", "NGO\u202eevil"),
])
def test_cli_users_create_validates_name_and_organisation_as_the_form_does(app, option, value):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "cli-odd", "--role", "casemanager", option, value], input="long enough pw\n")
    assert result.exit_code != 0 and f"{option}:" in result.output, result.output
    assert _user("cli-odd") is None


def test_the_admin_form_keeps_an_over_long_name_as_typed(login_as):
    admin = login_as("admin", locale="en")
    response = admin.post("/admin/users", {"username": "ok-name", "display_name": TOO_LONG["display_name"],
                                           "role": "night", "locale": "pl", "password": "long enough pw"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="display_name-error"' in html
    assert f'value="{TOO_LONG["display_name"]}"' in html and _user("ok-name") is None
