"""Who may see what: role checks for views and the session loader."""
from __future__ import annotations

from datetime import timedelta
from functools import wraps

from flask import abort, current_app, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy.exc import OperationalError

from ..extensions import db, htmx, login_manager
from ..timeutil import utcnow
from .models import STAFF_ROLES


@login_manager.user_loader
def _load_user(token: str):
    from .services import load_session

    user = load_session(
        token, at=utcnow(), idle=timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    )
    if db.session.dirty or db.session.new:
        # last_seen or an idle end: saved at once, whatever the view does afterwards. Best effort:
        # if another writer holds the database, the next request records it instead.
        try:
            db.session.commit()
        except OperationalError:
            db.session.rollback()
            if user is not None:
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


def roles_required(*roles: str):
    """Allow only signed-in users with one of roles; others get 403, visitors the login page."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles  # read by the access test
        return wrapped

    return decorator


def staff_required(view):
    """Manager, trainer or night staff."""
    return roles_required(*STAFF_ROLES)(view)


def login_required(view):
    """Any signed-in user."""
    from .models import ROLE_VALUES

    return roles_required(*ROLE_VALUES)(view)
