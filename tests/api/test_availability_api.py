"""GET /api/v1/availability: token or case manager session, JSON errors, code names and counts only."""
from __future__ import annotations

import hashlib
import re

from sqlalchemy import select

from shelter_app import timeutil
from shelter_app.api import services as tokens
from shelter_app.api.models import ApiToken
from shelter_app.extensions import db
from tests.factories import make_shelter


def _token(organisation="Police East", label="case system"):
    token, plaintext = tokens.create_token(organisation, label, actor=None, at=timeutil.utcnow())
    db.session.commit()
    return token, plaintext


def _bearer(plaintext):
    return {"Authorization": f"Bearer {plaintext}"}


def test_without_credentials_the_answer_is_401_json_never_a_redirect(client):
    for headers in ({}, {"HX-Request": "true"}, {"Accept": "text/html"}):
        response = client.get("/api/v1/availability", headers=headers)
        assert response.status_code == 401, headers
        assert response.is_json and response.get_json()["error"]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "Location" not in response.headers and "HX-Redirect" not in response.headers


def test_a_token_reads_code_names_and_counts(client):
    make_shelter(code_name="Harbour", name="Real Name House", address="1 Secret Street",
                 beds={"woman": 2, "family": 1}, isolation_rooms=1)
    _t, plaintext = _token()
    response = client.get("/api/v1/availability", headers=_bearer(plaintext))
    assert response.status_code == 200
    body = response.get_json()
    assert body["categories"] == ["woman", "man", "child_cot", "family"]
    [shelter] = body["shelters"]
    assert shelter["code_name"] == "Harbour"
    assert shelter["free_beds"] == {"woman": 2, "man": 0, "child_cot": 0, "family": 1}
    assert shelter["free_beds_total"] == 3 and shelter["free_isolation_rooms"] == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", shelter["updated_at"])
    assert set(shelter) == {"code_name", "free_beds", "free_beds_total", "free_isolation_rooms", "updated_at"}
    text = response.get_data(as_text=True)
    assert "Real Name House" not in text and "Secret Street" not in text
    assert response.headers["Cache-Control"] == "no-store"


def test_wrong_revoked_or_malformed_tokens_get_401(client):
    token, plaintext = _token()
    for header in (f"Bearer {plaintext}x", "Bearer ", f"Basic {plaintext}", plaintext, "Bearer " + "a" * 500):
        response = client.get("/api/v1/availability", headers={"Authorization": header})
        assert response.status_code == 401, header
    tokens.revoke_token(token, actor=None, at=timeutil.utcnow())
    db.session.commit()
    assert client.get("/api/v1/availability", headers=_bearer(plaintext)).status_code == 401


def test_the_token_is_stored_only_as_its_hash_and_its_use_is_noted(client):
    token, plaintext = _token()
    assert plaintext.startswith(token.prefix) and len(plaintext) > 40
    stored = db.session.scalar(select(ApiToken))
    assert stored.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert plaintext not in {str(v) for v in stored.__dict__.values()}
    assert stored.last_used_at is None
    client.get("/api/v1/availability", headers=_bearer(plaintext))
    assert db.session.scalar(select(ApiToken)).last_used_at is not None


def test_a_case_managers_session_may_read_it_staff_sessions_may_not(login_as):
    make_shelter(code_name="Harbour", beds={"man": 1})
    cm = login_as("casemanager", organisation="NGO One")
    response = cm.get("/api/v1/availability")
    assert response.status_code == 200
    assert response.get_json()["shelters"][0]["free_beds"]["man"] == 1
    manager = login_as("manager")
    response = manager.get("/api/v1/availability")
    assert response.status_code == 403 and response.is_json


def test_a_bearer_token_wins_over_a_session_cookie(login_as):
    cm = login_as("casemanager", organisation="NGO One")
    assert cm.get("/api/v1/availability", headers=_bearer("shk_not-a-token")).status_code == 401


def test_unknown_api_paths_and_methods_answer_json(client):
    _t, plaintext = _token()
    missing = client.get("/api/v1/nothing", headers=_bearer(plaintext))
    assert missing.status_code == 404 and missing.is_json
    post = client.post("/api/v1/availability", csrf=False, headers=_bearer(plaintext))
    assert post.status_code == 405 and post.is_json


def test_openapi_document_describes_the_endpoint(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"].startswith("3.")
    operation = doc["paths"]["/api/v1/availability"]["get"]
    assert {"bearerToken": []} in operation["security"]
    assert set(operation["responses"]) >= {"200", "401", "403"}
    assert doc["components"]["securitySchemes"]["bearerToken"]["scheme"] == "bearer"


def test_the_openapi_document_is_valid_openapi(client):
    import schemathesis

    schema = schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").get_json())
    labels = [op.ok().label for op in schema.get_all_operations()]
    assert labels == ["GET /api/v1/availability"]
