"""Home per role, the account page, and /healthz."""
from __future__ import annotations

from flask import flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import text

from ..auth.access import login_required
from ..auth.services import set_locale
from ..errors import DomainError
from ..extensions import db
from ..timeutil import utcnow
from ..web import render, see_other
from . import bp


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any failure to reach the database is "down"
        db.session.rollback()
        return jsonify({"status": "error", "db": "unreachable"}), 503
    return jsonify({"status": "ok", "db": "ok"})


ROLE_HOME = {
    "night": "board.index",
    "trainer": "board.index",
    "manager": "board.index",
    "casemanager": "availability.index",
    "admin": "admin.users",
}


@bp.get("/")
@login_required
def home():
    """Each role starts where its work is: staff on the bed board, partners on availability."""
    return redirect(url_for(ROLE_HOME[current_user.role]))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    from flask import current_app

    status = 200
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            set_locale(current_user, request.form.get("locale", ""), at=utcnow())
        except DomainError as exc:
            errors[exc.field or "locale"] = exc.message
            status = 422
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return see_other("main.account")
    return render("account.html", fragment="content", status=status, title=_("Account"),
                  languages=current_app.config["LANGUAGES"], errors=errors)
