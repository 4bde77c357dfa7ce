"""The partner API fuzzed from its own OpenAPI document (schemathesis, in process): no 5xx, answers as documented.

Driven through hypothesis directly rather than schemathesis' pytest loader, whose fixture support
does not work with pytest 9.
"""
from __future__ import annotations

import contextvars

import schemathesis
from hypothesis import HealthCheck, given, settings

from shelter_app import timeutil
from shelter_app.api import services as tokens
from shelter_app.extensions import db
from tests.factories import make_shelter

FUZZ = settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))


def _isolated(app):
    """The WSGI app with each request in its own context, as a real server runs it (own session, own transaction)."""

    def wsgi(environ, start_response):
        return contextvars.Context().run(lambda: list(app(environ, start_response)))

    return wsgi


def _operations(app):
    db.session.commit()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _isolated(app))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert [op.label for op in operations] == ["GET /api/v1/availability"]
    return operations


def test_api_fuzzed_with_a_token_answers_as_documented(app):
    make_shelter(code_name="Harbour", name="Fuzz House", address="7 Hidden Lane", beds={"woman": 2, "man": 1},
                 isolation_rooms=1)
    _token, plaintext = tokens.create_token("Fuzzers", "schemathesis", actor=None, at=timeutil.utcnow())
    db.session.commit()
    seen = []
    for operation in _operations(app):

        @FUZZ
        @given(case=operation.as_strategy())
        def run(case):
            auth = {"Authorization": f"Bearer {plaintext}"}
            response = case.call(headers=auth)
            assert response.status_code < 500, response.text
            # Told which credentials are real, schemathesis also probes the call without and with bad ones.
            case.validate_response(response, headers=auth)
            assert response.status_code == 200
            assert "Fuzz House" not in response.text and "Hidden Lane" not in response.text
            seen.append(response.status_code)

        run()
    assert seen, "the fuzzer sent requests"


def test_api_fuzzed_without_credentials_is_refused_as_documented(app):
    seen = []
    for operation in _operations(app):

        @FUZZ
        @given(case=operation.as_strategy())
        def run(case):
            headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
            response = case.call(headers=headers, cookies={})
            assert response.status_code == 401, response.text
            case.validate_response(response)
            seen.append(response.status_code)

        run()
    assert seen
