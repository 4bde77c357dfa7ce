"""/offline: cached by the service worker for whoever is signed in, so it holds nothing personal."""
from __future__ import annotations


def test_offline_page_renders_without_login(client):
    response = client.get("/offline", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>You are offline</h1>" in html
    assert 'id="offline-retry"' in html
    assert 'id="outbox-unsent"' in html
    assert '<html lang="en">' in html


def test_offline_page_holds_nothing_of_the_signed_in_user(login_as):
    c = login_as("manager", display_name="Zofia Kowalska", locale="en")
    html = c.get("/offline").get_data(as_text=True)
    assert "You are offline" in html
    assert "Zofia Kowalska" not in html
    assert c.user.username not in html
    assert "csrf" not in html.lower()
    assert 'class="appnav"' not in html
    assert "/logout" not in html


def test_offline_page_leaves_flashed_messages_for_the_next_page(login_as):
    c = login_as("night", locale="en")
    assert c.post("/account", {"locale": "en"}).status_code == 303
    assert "Saved." not in c.get("/offline").get_data(as_text=True)
    assert "Saved." in c.get("/account").get_data(as_text=True)


def test_offline_page_in_the_users_language(login_as):
    c = login_as("night", locale="en")
    assert '<html lang="en">' in c.get("/offline").get_data(as_text=True)
    c = login_as("night", locale="pl")
    assert '<html lang="pl">' in c.get("/offline", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_offline_page_as_htmx_fragment(client):
    response = client.get("/offline", htmx=True, headers={"Accept-Language": "en"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "You are offline" in html and "<html" not in html
    assert "HX-Request" in response.headers["Vary"]
