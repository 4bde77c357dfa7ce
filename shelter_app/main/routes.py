"""Home per role, the account page, and /healthz."""
from __future__ import annotations

from flask import jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.permissions import requires
from ..auth.services import set_locale
from ..db import reachable
from ..extensions import db
from ..nav import start_url
from ..timeutil import utcnow
from ..web import Outcome, act, refusal_message
from . import bp
from .account import render_account


@bp.get("/healthz")
def healthz():
    if not reachable(db.session):
        return jsonify({"status": "error", "db": "unreachable"}), 503
    return jsonify({"status": "ok", "db": "ok"})


@bp.get("/")
@requires("account")
def home():
    """Each role starts where its work is: staff on the bed board, partners on availability."""
    return redirect(start_url(current_user))


@bp.route("/account", methods=["GET", "POST"])
@requires("account")
def account():
    def again(status: int = 200):
        return render_account(status, locale_error=refusal_message())

    if request.method == "GET":
        return again()

    def perform():
        set_locale(current_user, request.form.get("locale", ""), at=utcnow())
        return Outcome(_("Saved."), url_for("main.account"))

    return act(perform, again=again)
