"""The session loader and the answer to a visitor without a session (permissions: auth.permissions)."""
from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, redirect, request, session, url_for

from ..extensions import db, htmx, login_manager
from ..timeutil import utcnow
from ..web import save_in_passing


@login_manager.user_loader
def _load_user(token: str):
    from .services import load_session

    user = load_session(
        token, at=utcnow(), idle=timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    )
    # last_seen or an idle end: saved at once, whatever the view does afterwards.
    if not save_in_passing() and user is not None:
        user = db.session.get(type(user), user.id)
        user.session_token = token
    return user


@login_manager.unauthorized_handler
def _unauthorized():
    session.pop("_user_id", None)
    login_url = url_for("auth.login", next=request.full_path if request.method == "GET" else None)
    if htmx:
        return "", 401, {"HX-Redirect": login_url}
    if request.method == "GET" and not request.path.startswith("/api/"):
        return redirect(login_url, code=303)
    abort(401)
