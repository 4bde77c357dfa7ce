"""Health check, security headers, error pages, vendored files, time zone."""
from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import text

from shelter_app.extensions import db

ROOT = Path(__file__).resolve().parent.parent
HTMX_SHA256 = "22283ef68cb7545914f0a88a1bdedc7256a703d1d580c1d255217d0a50d31313"  # htmx.org 2.0.8


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "db": "ok"}


def test_healthz_503_when_database_unreachable(app, client, monkeypatch):
    from sqlalchemy.orm import Session

    def broken(self, *a, **kw):
        raise ConnectionError("database down")

    monkeypatch.setattr(Session, "execute", broken)
    response = client.raw.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "error"


def test_security_headers_on_every_page(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_script_or_style(login_as):
    import re

    for role in ("admin", "night"):
        c = login_as(role)
        html = c.get("/").get_data(as_text=True) + c.get("/board").get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html)
        assert "<style" not in html and " style=" not in html


def test_vendored_htmx_is_the_pinned_2_0_release():
    data = (ROOT / "static/vendor/htmx/htmx.min.js").read_bytes()
    assert hashlib.sha256(data).hexdigest() == HTMX_SHA256
    assert (ROOT / "static/vendor/htmx/LICENSE").exists()


def test_static_urls_are_versioned_by_content_and_served_for_ever(client):
    """Every page loads one stylesheet and one script, bundles of the vendored and own files."""
    html = client.get("/login").get_data(as_text=True)
    scripts = re.findall(r'<script src="(/static/[^"]+)"', html)
    styles = re.findall(r'<link rel="stylesheet" href="(/static/[^"]+)"', html)
    assert len(scripts) == 1 and len(styles) == 1, (scripts, styles)
    script = client.get(scripts[0].replace("&amp;", "&"), headers={"Accept-Encoding": "identity"})
    assert script.status_code == 200 and "immutable" in script.headers["Cache-Control"]
    body = script.get_data()
    htmx = (ROOT / "static/vendor/htmx/htmx.min.js").read_bytes()
    assert body.startswith(htmx) and (ROOT / "static/js/app.js").read_bytes() in body
    assert hashlib.sha256(body).hexdigest()[:12] == scripts[0].rsplit("v=", 1)[1]
    css = client.get(styles[0], headers={"Accept-Encoding": "br"})
    assert css.headers["Content-Encoding"] == "br" and css.headers["Vary"] == "Accept-Encoding"
    # Without the current version a file is revalidated, never kept for a year under a stale name.
    stale = client.get("/static/css/app.css?v=000000000000")
    assert stale.status_code == 200 and stale.headers["Cache-Control"] == "no-cache"


def test_404_and_405_pages(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "<main" in response.get_data(as_text=True)
    assert client.raw.put("/login").status_code == 405


def test_500_page_rolls_back_and_renders(app, client, monkeypatch):
    def boom():
        raise RuntimeError("boom")

    monkeypatch.setitem(app.view_functions, "main.healthz", boom)
    response = client.get("/healthz", headers={"Accept": "text/html"})
    assert response.status_code == 500
    assert "<main" in response.get_data(as_text=True)


def test_request_too_large_is_413(client):
    response = client.post("/login", {"username": "a", "password": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413


def test_datetimes_are_stored_in_utc_and_come_back_aware(make_user):
    from shelter_app.auth.models import User

    user = make_user("night")
    db.session.expire_all()
    created = db.session.get(User, user.id).created_at
    assert created.tzinfo is not None and created.utcoffset().total_seconds() == 0
    assert abs((datetime.now(timezone.utc) - created).total_seconds()) < 60


def test_local_time_is_warsaw(app):
    from flask_babel import format_datetime

    with app.test_request_context():
        summer = datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc)
        winter = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
        assert "14:00" in format_datetime(summer, "HH:mm")
        assert "13:00" in format_datetime(winter, "HH:mm")


def test_sqlite_foreign_keys_are_on(app):
    if db.engine.dialect.name != "sqlite":
        return
    assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_audit_log_is_append_only(make_user):
    import pytest
    from sqlalchemy.exc import DBAPIError

    make_user("night")
    db.session.commit()
    with pytest.raises(DBAPIError):
        db.session.execute(text("UPDATE audit_events SET action = 'forged'"))
    db.session.rollback()
    with pytest.raises(DBAPIError):
        db.session.execute(text("DELETE FROM audit_events"))
    db.session.rollback()


def test_language_follows_the_user_and_defaults_to_polish(login_as, client):
    assert '<html lang="pl">' in client.raw.get("/login").get_data(as_text=True)
    en = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in en.get_data(as_text=True)
    c = login_as("night", locale="pl")
    assert '<html lang="pl">' in c.get("/account").get_data(as_text=True)
    assert c.post("/account", {"locale": "en"}).status_code == 303
    assert '<html lang="en">' in c.get("/account").get_data(as_text=True)
    bad = c.post("/account", {"locale": "xx"})
    assert bad.status_code == 422 and 'id="locale-error"' in bad.get_data(as_text=True)
