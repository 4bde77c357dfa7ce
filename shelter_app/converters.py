"""The URL half of the input layer: ids in paths, and values in the query string and the request's envelope."""
from __future__ import annotations

from flask import Flask, abort, request
from werkzeug.routing import BaseConverter, IntegerConverter

from .submissions import TOKEN_MAX
from .validation import ID_MAX, has_control_characters


class IdConverter(IntegerConverter):
    """`<int:…>` in this app: a row's id, 1 … 2^31−1 (a database INTEGER), written without leading zeros.

    Anything else (2^31, 2^63, −1, 0, 007, non-ASCII digits) matches no route: a 404 before any view,
    so no query ever sees a number the database cannot hold.
    """

    regex = r"[1-9][0-9]{0,9}"

    def __init__(self, map, fixed_digits: int = 0, min: int | None = 1, max: int | None = ID_MAX,
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=False)


class PublicIdConverter(BaseConverter):
    """`<public:…>`: a row's random public id (lowercase hex digits), for what outsiders see addressed.

    Row ids are one sequence: in a URL a case manager sees they would tell how many there are.
    Anything but hex digits of the one length matches no route (a 404 before any view).
    """

    def __init__(self, map, length: int = 20) -> None:
        super().__init__(map)
        self.regex = f"[0-9a-f]{{{length}}}"


def refuse_hostile_envelope() -> None:
    """400 for what no page of the app sends outside a form's fields: control characters in the query
    string, or a one-time form token / Idempotency-Key that is not one (control characters, too long).

    Form fields are checked by shelter_app.forms.Form, where the refusal is shown at the field.
    """
    if any(has_control_characters(k, multiline=False) or has_control_characters(v, multiline=False)
           for k, values in request.args.lists() for v in values):
        abort(400)
    tokens = [request.headers.get("Idempotency-Key")]
    if request.method != "GET" and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        tokens += request.form.getlist("form_token")
    for token in tokens:
        if token is not None and (len(token) > TOKEN_MAX or has_control_characters(token, multiline=False)):
            abort(400)


def register_converters(app: Flask) -> None:
    """Ids in every route are IdConverter (`<int:x>` and `<id:x>`); the envelope is checked before each view.

    Called before the blueprints are registered: a rule takes its converter when it is added.
    """
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["id"] = IdConverter
    app.url_map.converters["public"] = PublicIdConverter
    app.before_request(refuse_hostile_envelope)
