"""The partner API (/api/v1) and the administrator's page of API tokens."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.permissions import requires
from ..availability.services import availability
from ..extensions import csrf
from ..shelters.vocab import BedCategory
from ..timeutil import utcnow
from ..web import Outcome, act, render
from . import services
from .access import api_auth_required
from .forms import NewTokenForm, RevokeTokenForm
from .openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Tokens, not cookies, authenticate partner systems, and every route here only reads.
csrf.exempt(bp)
tokens_bp = Blueprint("api_tokens", __name__, url_prefix="/admin/api-tokens")


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
        "categories": list(BedCategory.values()),
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

def _tokens_page(form, status: int = 200, created: dict | None = None):
    created = created or {}
    return render("admin/api_tokens.html", fragment="content", status=status, form=form,
                  tokens=services.list_tokens(), organisations=services.organisations(),
                  plaintext=created.get("plaintext"), created=created.get("token"), revoke_form=RevokeTokenForm(),
                  title=_("API tokens"))


@tokens_bp.route("", methods=["GET", "POST"])
@requires("api_tokens.manage")
def tokens():
    form = NewTokenForm()
    if request.method == "GET":
        return _tokens_page(form)
    created: dict = {}

    def perform():
        created["token"], created["plaintext"] = services.create_token(form.organisation.data, form.label.data,
                                                                       actor=current_user, at=utcnow())
        return Outcome("", url_for("api_tokens.tokens"))

    # The new token is shown once, in this answer: no redirect to a page that could show it again.
    return act(perform, form=form, again=lambda status: _tokens_page(form, status),
               done=lambda outcome: _tokens_page(NewTokenForm(formdata=None), 200, created))


@tokens_bp.post("/<int:token_id>/revoke")
@requires("api_tokens.manage")
def revoke(token_id: int):
    token = services.get_token(token_id)

    def perform():
        services.revoke_token(token, actor=current_user, at=utcnow())
        return Outcome(_("Token %(prefix)s… revoked; it no longer opens the API.", prefix=token.prefix),
                       url_for("api_tokens.tokens"))

    return act(perform, form=RevokeTokenForm(), again=lambda status: _tokens_page(NewTokenForm(formdata=None), status))
