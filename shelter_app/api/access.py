"""Who may call the partner API: a partner's bearer token or a signed-in case manager."""
from __future__ import annotations

from functools import wraps

from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.permissions import can
from ..errors import Forbidden
from ..timeutil import utcnow
from ..web import save_in_passing
from . import services


def json_error(status: int, title: str, message: str):
    response = jsonify({"error": title, "message": message})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="shelter"'
    return response


def api_auth_required(view):
    """A partner's bearer token or a case manager's session; otherwise 401/403 as JSON, never a redirect."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _sep, credentials = header.partition(" ")
            token = (services.authenticate_token(credentials.strip(), at=utcnow())
                     if scheme.lower() == "bearer" else None)
            if token is None:
                return json_error(401, _("Please sign in"), _("The API token is missing, wrong or revoked."))
            save_in_passing()  # when it was last used; best effort, as for sessions
        elif current_user.is_authenticated:
            if not can(current_user, "api.read"):
                # Raised, not returned: the error handler answers JSON and audits the refusal.
                raise Forbidden(_("Only case managers and partner systems use this API."))
        else:
            return json_error(401, _("Please sign in"), _("Send an API token (Authorization: Bearer ...)."))
        return view(*args, **kwargs)

    wrapped.permission = "api.read"  # read by the access tests
    return wrapped
