"""The OpenAPI 3 document of the partner API (served at /api/v1/openapi.json)."""
from __future__ import annotations

from ..shelters.vocab import BedCategory

_ERROR = {"$ref": "#/components/schemas/Error"}


def openapi_document() -> dict:
    """The API's description; partners generate clients from it and the tests fuzz it."""
    count = {"type": "integer", "minimum": 0}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Shelter bed availability",
            "version": "1.0.0",
            "description": (
                "Free beds per shelter for partner organisations. A shelter appears only by its code name; "
                "no address, resident or staff data is ever part of a response. Authenticate with an API "
                "token of your organisation (Authorization: Bearer ...) or a signed-in case manager's session."
            ),
        },
        "paths": {
            "/api/v1/availability": {
                "get": {
                    "operationId": "getAvailability",
                    "summary": "Free beds by category and free isolation rooms, per shelter",
                    "security": [{"bearerToken": []}, {"sessionCookie": []}],
                    "responses": {
                        "200": {
                            "description": "Availability now, one entry per shelter ordered by code name.",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Availability"}}},
                        },
                        "401": {"description": "No valid token or session.",
                                "content": {"application/json": {"schema": _ERROR}}},
                        "403": {"description": "Signed in, but not as a case manager.",
                                "content": {"application/json": {"schema": _ERROR}}},
                    },
                }
            }
        },
        "components": {
            "securitySchemes": {
                "bearerToken": {"type": "http", "scheme": "bearer",
                                "description": "A token an administrator created for your organisation."},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "shelter_session"},
            },
            "schemas": {
                "Availability": {
                    "type": "object",
                    "required": ["generated_at", "categories", "shelters"],
                    "additionalProperties": False,
                    "properties": {
                        "generated_at": {"type": "string", "format": "date-time"},
                        "categories": {"type": "array", "items": {"type": "string", "enum": list(BedCategory.values())}},
                        "shelters": {"type": "array", "items": {"$ref": "#/components/schemas/ShelterAvailability"}},
                    },
                },
                "ShelterAvailability": {
                    "type": "object",
                    "required": ["code_name", "free_beds", "free_beds_total", "free_isolation_rooms", "updated_at"],
                    "additionalProperties": False,
                    "properties": {
                        "code_name": {"type": "string", "description": "The only name partners know a shelter by."},
                        "free_beds": {
                            "type": "object",
                            "required": list(BedCategory.values()),
                            "additionalProperties": False,
                            "properties": {c: count for c in BedCategory.values()},
                        },
                        "free_beds_total": count,
                        "free_isolation_rooms": count,
                        "updated_at": {"type": "string", "format": "date-time", "nullable": True,
                                       "description": "The latest change that affected these figures."},
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
                },
            },
        },
    }
