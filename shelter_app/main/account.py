"""The Account page: language, password, passkeys (each form posts to its own route and comes back here)."""
from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.forms import ChangePasswordForm
from ..auth.vocab import OWN_PASSWORD_MIN
from ..passkeys import services as passkeys
from ..passkeys.forms import AddPasskeyForm, PasskeyOptionsForm, RemovePasskeyForm
from ..web import render


def render_account(status: int = 200, *, locale_error: str | None = None, notice: str | None = None,
                   password_form: ChangePasswordForm | None = None, passkey_form: AddPasskeyForm | None = None):
    """The Account page of the signed-in user; a form that was refused comes with its errors."""
    return render("account.html", fragment="content", status=status, title=_("Account"),
                  languages=current_app.config["LANGUAGES"],
                  errors={"locale": locale_error} if locale_error else {}, notice=notice,
                  password_form=password_form or ChangePasswordForm(formdata=None),
                  passkey_form=passkey_form or AddPasskeyForm(formdata=None),
                  options_form=PasskeyOptionsForm(formdata=None), remove_form=RemovePasskeyForm(formdata=None),
                  passkeys=passkeys.list_passkeys(current_user), own_password_min=OWN_PASSWORD_MIN)
