"""Sign-in, sign-out and the administrator's user pages."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from wtforms.fields.choices import SelectChoice

from ..errors import DomainError
from ..nav import start_url
from ..main.account import render_account
from ..passkeys import services as passkeys
from ..passkeys.forms import RemovePasskeyForm
from ..shelters import services as shelters
from ..timeutil import utcnow
from ..web import Outcome, act, after_commit, render, see_other
from . import services
from .forms import ActiveForm, ChangePasswordForm, LoginForm, NewUserForm, ResetPasswordForm, ShelterAccessForm
from .permissions import can, requires

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
        return redirect(start_url(current_user))
    form = LoginForm()

    def again(status: int = 200):
        form.password.data = ""
        return render("auth/login.html", status=status, form=form, title=_("Sign in"))

    if request.method == "GET":
        return again()

    def perform():
        user = services.authenticate(form.username.data, form.password.data, at=utcnow(), **lockout_rules())
        return signed_in(user)

    # A refused sign-in is kept: the failed attempt must count.
    return act(perform, form=form, again=again, keep_on_refusal=True)


def lockout_rules() -> dict:
    """How many failed sign-ins pause a username, and for how long (from the configuration)."""
    cfg = current_app.config
    return {"max_failures": cfg["LOGIN_MAX_FAILURES"], "lockout": timedelta(minutes=cfg["LOGIN_LOCKOUT_MINUTES"])}


def signed_in(user, *, passkey=None) -> Outcome:
    """Start user's session (with a password, or with passkey) in a fresh cookie; on to `next` or home."""
    session.clear()
    services.start_session(user, at=utcnow(), passkey=passkey)
    login_user(user)
    # Straight to the page where this person's work starts: one redirect from the sign-in, not three.
    return Outcome("", _safe_next(request.args.get("next")) or start_url(user))


@bp.post("/account/password")
@requires("account")
def change_password():
    form = ChangePasswordForm()

    def perform():
        services.change_own_password(current_user, form.current_password.data, form.new_password.data,
                                     form.new_password_again.data, at=utcnow(),
                                     keep_token=current_user.session_token, **lockout_rules())
        return Outcome(_("Password changed. Your other sessions have ended."), url_for("main.account"))

    # A wrong current password is kept as a failed sign-in.
    return act(perform, form=form, again=lambda status: render_account(status, password_form=form),
               keep_on_refusal=True)


@bp.post("/logout")
def logout():
    token = session.get("_user_id")

    def perform():
        if token:
            services.end_session(token, reason="logout", at=utcnow(),
                                 actor=current_user if current_user.is_authenticated else None)
        after_commit(logout_user)
        after_commit(session.clear)
        return Outcome(_("You have signed out."), url_for("auth.login"))

    response = act(perform, again=lambda status: see_other("auth.login"))
    # The browser forgets everything this site kept: caches, storage of the app shell.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@admin_bp.route("/users", methods=["GET", "POST"])
@requires("users.manage")
def users():
    form = NewUserForm()
    form.shelters.choices = _shelter_choices()

    def again(status: int = 200):
        form.password.data = ""
        return render("admin/users.html", fragment="content", status=status, form=form,
                      users=services.list_users(), passkey_counts=passkeys.passkey_counts(), title=_("Users"))

    if request.method == "GET":
        return again()

    def perform():
        user = services.create_user(form.username.data, form.password.data, form.role.data,
                                    display_name=form.display_name.data or "", organisation=form.organisation.data,
                                    locale=form.locale.data, shelter_ids=form.shelters.data or (),
                                    actor=current_user, at=utcnow())
        return Outcome(_("Account %(name)s created.", name=user.username), url_for("admin.users"))

    return act(perform, form=form, again=again)


@admin_bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@requires("users.manage")
def user_detail(user_id: int):
    user = services.get_user(user_id)
    forms = user_forms(user, sent=request.method == "POST")

    def again(status: int = 200):
        return user_page(user_id, status=status, forms=forms)

    if request.method == "GET":
        return again()
    action = request.form.get("action")
    if action not in forms:
        raise DomainError(_("Unknown action."))

    def perform():
        if action == "active":
            services.set_user_active(user, bool(forms["active"].active.data), actor=current_user, at=utcnow())
            message = _("Account enabled.") if user.active else _("Account disabled; its sessions have ended.")
        elif action == "shelters":
            shelters.set_staff_shelters(user, forms["shelters"].shelters.data or (), actor=current_user, at=utcnow())
            message = _("Shelters saved.")
        else:
            services.reset_password(user, forms["password"].password.data, actor=current_user, at=utcnow())
            message = _("Password changed; the user's sessions have ended.")
        return Outcome(message, url_for("admin.user_detail", user_id=user.id))

    return act(perform, form=forms[action], again=again)


def user_forms(user, *, sent: bool = False) -> dict:
    """The forms of a user's page; only the one named by the request's `action` reads what was sent."""
    def reads(action: str) -> dict:
        return {} if sent and request.form.get("action") == action else {"formdata": None}

    forms = {"active": ActiveForm(prefix="a", active=user.active, **reads("active")),
             "password": ResetPasswordForm(prefix="p", **reads("password")),
             "shelters": ShelterAccessForm(prefix="sh", shelters=shelters.shelter_ids_of(user), **reads("shelters"))}
    forms["shelters"].shelters.choices = _shelter_choices()
    return forms


def user_page(user_id: int, *, status: int = 200, forms: dict | None = None, notice: str | None = None):
    """The administrator's page of one account (with forms that failed, if given, showing their errors)."""
    user = services.get_user(user_id)
    forms = forms or user_forms(user)
    forms["password"].password.data = ""
    return render("admin/user_detail.html", fragment="content", status=status, user=user,
                  active_form=forms["active"], password_form=forms["password"],
                  shelters_form=forms["shelters"] if can(user, "shelters.member") else None,
                  passkeys=passkeys.list_passkeys(user), remove_form=RemovePasskeyForm(formdata=None),
                  notice=notice, title=user.username)


def _shelter_choices() -> list[SelectChoice]:
    """Every shelter by name, for the checkboxes of a staff account's shelters."""
    return [SelectChoice(s.id, s.name) for s in sorted(shelters.list_shelters(), key=lambda s: s.name)]
