"""Sign-in, sign-out and the administrator's user pages."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ..errors import DomainError
from ..extensions import db
from ..timeutil import utcnow
from ..web import render, see_other
from . import services
from .access import roles_required
from .forms import ActiveForm, LoginForm, NewUserForm, ResetPasswordForm

bp = Blueprint("auth", __name__)
admin_bp = Blueprint("admin", __name__, url_prefix="/admin")


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never an open redirect."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("main.home"))
    form = LoginForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            cfg = current_app.config
            try:
                user = services.authenticate(
                    form.username.data, form.password.data, at=utcnow(),
                    max_failures=cfg["LOGIN_MAX_FAILURES"],
                    lockout=timedelta(minutes=cfg["LOGIN_LOCKOUT_MINUTES"]),
                )
            except services.LoginRefused as exc:
                db.session.commit()  # the failed attempt must count
                form.form_errors.append(exc.message)
                status = exc.status
            else:
                session.clear()
                services.start_session(user, at=utcnow())
                login_user(user)
                db.session.commit()
                target = _safe_next(request.args.get("next")) or url_for("main.home")
                return redirect(target, code=303)
        else:
            status = 422
        form.password.data = ""
    return render("auth/login.html", status=status, form=form, title=_("Sign in"))


@bp.post("/logout")
def logout():
    token = session.get("_user_id")
    if token:
        services.end_session(token, reason="logout", at=utcnow())
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."), "success")
    response = see_other("auth.login")
    # The browser forgets everything this site kept: caches, storage of the app shell.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@admin_bp.route("/users", methods=["GET", "POST"])
@roles_required("admin")
def users():
    form = NewUserForm()
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                user = services.create_user(
                    form.username.data, form.password.data, form.role.data,
                    display_name=form.display_name.data or "", organisation=form.organisation.data,
                    locale=form.locale.data, actor=current_user, at=utcnow(),
                )
            except DomainError as exc:
                db.session.rollback()
                getattr(form, exc.field or "username").errors = [exc.message]
                status = 422
            else:
                db.session.commit()
                flash(_("Account %(name)s created.", name=user.username), "success")
                return see_other("admin.users")
        else:
            status = 422
        form.password.data = ""
    return render("admin/users.html", fragment="content", status=status, form=form,
                  users=services.list_users(), title=_("Users"))


@admin_bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
def user_detail(user_id: int):
    user = services.get_user(user_id)
    active_form = ActiveForm(prefix="a", active=user.active)
    password_form = ResetPasswordForm(prefix="p")
    status = 200
    if request.method == "POST":
        action = request.form.get("action")
        try:
            if action == "active" and active_form.validate():
                services.set_user_active(user, bool(active_form.active.data), actor=current_user, at=utcnow())
                message = _("Account enabled.") if user.active else _("Account disabled; its sessions have ended.")
            elif action == "password" and password_form.validate():
                services.reset_password(user, password_form.password.data, actor=current_user, at=utcnow())
                message = _("Password changed; the user's sessions have ended.")
            else:
                if action not in ("active", "password"):
                    flash(_("Unknown action."), "error")
                status = 422
                message = None
        except DomainError as exc:
            db.session.rollback()
            target = password_form.password if action == "password" else active_form.active
            target.errors = [exc.message]
            status = 422
            message = None
        if message:
            db.session.commit()
            flash(message, "success")
            return see_other("admin.user_detail", user_id=user.id)
        password_form.password.data = ""
    return render("admin/user_detail.html", fragment="content", status=status, user=user,
                  active_form=active_form, password_form=password_form, title=user.username)
