"""The Account page and the administrator's user pages run a fixed number of SQL statements, however many
passkeys and accounts there are."""
from __future__ import annotations

from shelter_app.extensions import db
from tests.beds.test_statement_count import counted
from tests.passkeys.authenticator import add_passkey


def _statements(client, url: str) -> int:
    client.get(url)  # warm: the session's last use is written here
    with counted() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_account_page_statements_do_not_grow_with_passkeys(login_as):
    night = login_as("night", locale="en")
    add_passkey(night.user, "phone")
    one = _statements(night, "/account")
    for i in range(12):
        add_passkey(night.user, f"phone {i}")
    assert _statements(night, "/account") == one
    assert one <= 3, one  # the session with its user, the passkeys, nothing per passkey


def test_user_pages_statements_do_not_grow_with_accounts_or_passkeys(login_as, make_user):
    admin = login_as("admin", locale="en")
    target = make_user("night")
    add_passkey(target, "phone")
    users, detail = _statements(admin, "/admin/users"), _statements(admin, f"/admin/users/{target.id}")
    for i in range(10):
        add_passkey(make_user("night"), "phone")
        add_passkey(target, f"tablet {i}")
    db.session.commit()
    assert _statements(admin, "/admin/users") == users
    assert _statements(admin, f"/admin/users/{target.id}") == detail
    assert users <= 5 and detail <= 6, (users, detail)
