"""Navigation and access per role: every page of another role is a 403."""
from __future__ import annotations

import re

import pytest

ROLES = ["manager", "trainer", "night", "casemanager", "admin"]


def _guarded_get_routes(app):
    """(rule, allowed roles) for every parameterless GET route behind roles_required."""
    found = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments:
            continue
        view = app.view_functions[rule.endpoint]
        roles = getattr(view, "allowed_roles", None)
        if roles is not None:
            found.append((rule.rule, roles))
    return found


def test_there_are_guarded_routes(app):
    assert ("/admin/users", ("admin",)) in _guarded_get_routes(app)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_403_outside_its_pages(app, login_as, role):
    c = login_as(role)
    for rule, allowed in _guarded_get_routes(app):
        status = c.get(rule).status_code
        if role in allowed:
            assert status in (200, 302), (role, rule, status)  # 302: night staff go to the board
        else:
            assert status == 403, (role, rule, status)


@pytest.mark.parametrize("role", ROLES)
def test_navigation_shows_only_reachable_pages(app, login_as, role):
    c = login_as(role)
    html = c.get("/account").get_data(as_text=True)
    nav = re.search(r'<nav class="appnav".*?</nav>', html, re.S).group(0)
    links = re.findall(r'href="([^"]+)"', nav)
    assert links, "a signed-in user has a navigation"
    for link in links:
        assert c.get(link).status_code in (200, 302), (role, link)
    assert ("/admin/users" in links) == (role == "admin")


def test_403_page_is_in_the_layout(login_as):
    c = login_as("night", locale="en")
    response = c.get("/admin/users")
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "Not allowed" in html and 'class="appnav"' in html
