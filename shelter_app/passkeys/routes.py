"""Passkeys: the options of each ceremony (JSON for static/js/passkeys.js), adding, signing in, removing."""
from __future__ import annotations

from flask import Blueprint, jsonify, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from ..auth import services as auth
from ..auth.forms import LoginForm
from ..auth.permissions import requires
from ..auth.routes import lockout_rules, signed_in, user_page
from ..main.account import render_account
from ..timeutil import utcnow
from ..web import Outcome, act, after_commit, refusal_message, render
from . import services
from .forms import AddPasskeyForm, PasskeyOptionsForm, PasskeySignInForm, RemovePasskeyForm
from .relying_party import relying_party

bp = Blueprint("passkeys", __name__)


def _rp() -> services.RelyingParty:
    rp = relying_party()
    if rp is None:
        raise services.PasskeysUnavailable(_("Passkeys are not set up on this server."))
    return rp


def _refusal(form) -> str | None:
    """What act() refused, for a form with no fields of its own to show it at."""
    return refusal_message() or " ".join(str(e) for e in form.form_errors) or None


def _options(make) -> object:
    """A ceremony's options as JSON (make(rp, at) -> dict), or {"error": message} with the refusal's status."""
    form = PasskeyOptionsForm()
    options: dict = {}

    def perform():
        options.update(make(_rp(), utcnow()))
        return Outcome("", "")

    def again(status: int):
        message = _refusal(form) or _("The request could not be understood.")
        return jsonify({"error": message}), status

    return act(perform, form=form, again=again, done=lambda outcome: jsonify(options))


# --- sign-in ------------------------------------------------------------------------------------

@bp.post("/login/passkey/options")
def sign_in_options():
    return _options(lambda rp, at: services.sign_in_options(rp=rp, at=at))


@bp.post("/login/passkey")
def sign_in():
    form = PasskeySignInForm()

    def again(status: int):
        message = refusal_message() or " ".join(str(e) for e in form.credential.errors + form.form_errors)
        return render("auth/login.html", status=status, form=LoginForm(formdata=None), title=_("Sign in"),
                      passkey_error=message)

    def perform():
        user, passkey = services.authenticate(form.credential.data, rp=_rp(), at=utcnow(), **lockout_rules())
        return signed_in(user, passkey=passkey)

    # A refused answer is kept: its challenge is used up and the failed attempt counts.
    return act(perform, form=form, again=again, keep_on_refusal=True)


# --- the account's own passkeys -----------------------------------------------------------------

@bp.post("/account/passkeys/options")
@requires("account")
def register_options():
    return _options(lambda rp, at: services.registration_options(current_user, rp=rp, at=at))


@bp.post("/account/passkeys")
@requires("account")
def add():
    form = AddPasskeyForm()

    def perform():
        passkey = services.add_passkey(current_user, form.name.data, form.credential.data, rp=_rp(), at=utcnow())
        return Outcome(_("Passkey “%(name)s” added. Next time, sign in with it.", name=passkey.name),
                       url_for("main.account"))

    # A refused answer is kept: its challenge is used up.
    return act(perform, form=form, again=lambda status: render_account(status, passkey_form=form),
               keep_on_refusal=True)


@bp.post("/account/passkeys/<int:passkey_id>/remove")
@requires("account")
def remove(passkey_id: int):
    passkey = services.get_passkey(passkey_id, user=current_user)
    name = passkey.name

    def perform():
        if services.remove_passkey(passkey, actor=current_user, at=utcnow(), current_token=current_user.session_token):
            after_commit(logout_user)
            return Outcome(_("Passkey “%(name)s” removed. You had signed in with it, so sign in again.", name=name),
                           url_for("auth.login"))
        return Outcome(_("Passkey “%(name)s” removed.", name=name), url_for("main.account"))

    form = RemovePasskeyForm()
    return act(perform, form=form, again=lambda status: render_account(status, notice=_refusal(form)))


# --- the administrator --------------------------------------------------------------------------

@bp.post("/admin/users/<int:user_id>/passkeys/<int:passkey_id>/remove")
@requires("users.manage")
def admin_remove(user_id: int, passkey_id: int):
    user = auth.get_user(user_id)
    passkey = services.get_passkey(passkey_id, user=user)
    name = passkey.name

    def perform():
        services.remove_passkey(passkey, actor=current_user, at=utcnow(), current_token=current_user.session_token)
        return Outcome(_("Passkey “%(name)s” removed; the sessions started with it have ended.", name=name),
                       url_for("admin.user_detail", user_id=user.id))

    form = RemovePasskeyForm()
    return act(perform, form=form, again=lambda status: user_page(user.id, status=status, notice=_refusal(form)))
