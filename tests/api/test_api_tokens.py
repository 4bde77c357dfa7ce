"""The administrator's API token page: created for an organisation, shown once, revoked."""
from __future__ import annotations

import re

from sqlalchemy import select

from shelter_app.api.models import ApiToken
from shelter_app.audit.models import AuditEvent
from shelter_app.extensions import db


def test_admin_creates_a_token_shown_once(login_as, client):
    admin = login_as("admin", locale="en")
    response = admin.post("/admin/api-tokens", {"organisation": "Police East", "label": "case system"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    plaintext = re.search(r'id="new-token" type="text" readonly value="(shk_[^"]+)"', html).group(1)
    assert "shown only this once" in html
    token = db.session.scalar(select(ApiToken))
    assert token.organisation == "Police East" and plaintext.startswith(token.prefix)
    # Never again: the list shows the prefix only.
    listing = admin.get("/admin/api-tokens").get_data(as_text=True)
    assert plaintext not in listing and token.prefix in listing
    assert client.get("/api/v1/availability", headers={"Authorization": f"Bearer {plaintext}"}).status_code == 200
    assert "api_token.create" in db.session.scalars(select(AuditEvent.action)).all()


def test_admin_revokes_a_token(login_as, client):
    admin = login_as("admin", locale="en")
    html = admin.post("/admin/api-tokens", {"organisation": "NGO", "label": "x"}).get_data(as_text=True)
    plaintext = re.search(r'value="(shk_[^"]+)"', html).group(1)
    token = db.session.scalar(select(ApiToken))
    response = admin.post(f"/admin/api-tokens/{token.id}/revoke")
    assert response.status_code == 303
    assert db.session.scalar(select(ApiToken)).revoked_at is not None
    assert client.get("/api/v1/availability", headers={"Authorization": f"Bearer {plaintext}"}).status_code == 401
    again = admin.post(f"/admin/api-tokens/{token.id}/revoke")
    assert again.status_code == 409


def test_bad_input_names_the_field_and_keeps_the_rest(login_as):
    admin = login_as("admin", locale="en")
    response = admin.post("/admin/api-tokens", {"organisation": "Kept Org", "label": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="label-error"' in html and 'value="Kept Org"' in html
    assert db.session.scalar(select(ApiToken)) is None


def test_only_admins_manage_tokens(login_as):
    for role in ("manager", "casemanager", "night"):
        c = login_as(role)
        assert c.get("/admin/api-tokens").status_code == 403
        assert c.post("/admin/api-tokens", {"organisation": "x", "label": "y"}).status_code == 403
