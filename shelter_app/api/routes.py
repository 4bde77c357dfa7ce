"""The partner API (/api/v1) and the administrator's page of API tokens."""
from __future__ import annotations

from datetime import datetime, timezone
from functools import wraps

from flask import Blueprint, flash, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from ..auth.access import roles_required
from ..auth.models import User
from ..availability.services import availability
from ..errors import DomainError
from ..extensions import csrf, db
from ..shelters.models import BED_CATEGORIES
from ..timeutil import utcnow
from ..web import render, see_other
from . import services
from .forms import NewTokenForm, RevokeTokenForm
from .openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Tokens, not cookies, authenticate partner systems, and every route here only reads.
csrf.exempt(bp)
tokens_bp = Blueprint("api_tokens", __name__, url_prefix="/admin/api-tokens")


def _json_error(status: int, title: str, message: str):
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
                db.session.rollback()
                return _json_error(401, _("Please sign in"), _("The API token is missing, wrong or revoked."))
            if db.session.dirty:
                try:
                    db.session.commit()  # when it was last used; best effort, as for sessions
                except OperationalError:
                    db.session.rollback()
        elif current_user.is_authenticated:
            if current_user.role != "casemanager":
                return _json_error(403, _("Not allowed"), _("Only case managers and partner systems use this API."))
        else:
            return _json_error(401, _("Please sign in"), _("Send an API token (Authorization: Bearer ...)."))
        return view(*args, **kwargs)

    wrapped.allowed_roles = ("casemanager",)  # read by the access tests
    return wrapped


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@bp.get("/availability")
@api_auth_required
def get_availability():
    now = utcnow()
    return jsonify({
        "generated_at": _iso(now),
        "categories": list(BED_CATEGORIES),
        "shelters": [
            {"code_name": a.code_name, "free_beds": a.free_by_category, "free_beds_total": a.free_total,
             "free_isolation_rooms": a.isolation_free, "updated_at": _iso(a.updated_at)}
            for a in availability(now)
        ],
    })


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())


# --- tokens (administrator) ------------------------------------------------------------

def _organisations() -> list[str]:
    """Organisations of case manager accounts: suggestions for a new token."""
    return list(db.session.scalars(
        select(User.organisation).where(User.role == "casemanager", User.organisation.is_not(None))
        .distinct().order_by(User.organisation)))


@tokens_bp.route("", methods=["GET", "POST"])
@roles_required("admin")
def tokens():
    form = NewTokenForm()
    status, plaintext, created = 200, None, None
    if request.method == "POST":
        status = 422
        if form.validate():
            try:
                created, plaintext = services.create_token(form.organisation.data, form.label.data,
                                                           actor=current_user, at=utcnow())
            except DomainError as exc:
                db.session.rollback()
                getattr(form, exc.field or "label").errors = [exc.message]
            else:
                db.session.commit()
                status = 200
                form = NewTokenForm(formdata=None)
    return render("admin/api_tokens.html", fragment="content", status=status, form=form,
                  tokens=services.list_tokens(), organisations=_organisations(), plaintext=plaintext,
                  created=created, revoke_form=RevokeTokenForm(), title=_("API tokens"))


@tokens_bp.post("/<int:token_id>/revoke")
@roles_required("admin")
def revoke(token_id: int):
    form = RevokeTokenForm()
    token = services.get_token(token_id)
    if not form.validate():
        return see_other("api_tokens.tokens")
    services.revoke_token(token, actor=current_user, at=utcnow())
    db.session.commit()
    flash(_("Token %(prefix)s… revoked; it no longer opens the API.", prefix=token.prefix), "success")
    return see_other("api_tokens.tokens")
