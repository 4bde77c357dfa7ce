"""Forms for sign-in and user administration."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import CheckboxesField, Form, optional_int
from .vocab import DISPLAY_NAME_MAX, ORGANISATION_MAX, PASSWORD_MAX, USERNAME_MAX, Locale, Role


class LoginForm(Form):
    username = StringField(_l("Username"), validators=[DataRequired(_l("Enter your username.")), Length(max=80)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"})
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})


class NewUserForm(Form):
    username = StringField(_l("Username"), validators=[DataRequired(_l("Enter a username.")), Length(max=USERNAME_MAX)],
                           render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"})
    display_name = StringField(_l("Name shown to colleagues"), validators=[Optional(), Length(max=DISPLAY_NAME_MAX)])
    role = SelectField(_l("Role"), choices=Role.choices(), validators=[DataRequired()])
    organisation = StringField(_l("Organisation (case managers)"), validators=[Optional(), Length(max=ORGANISATION_MAX)])
    locale = SelectField(_l("Language"), choices=Locale.choices())
    # Choices: every shelter, by name (set by the view).
    shelters = CheckboxesField(_l("Shelters (staff only)"), coerce=optional_int)
    password = PasswordField(_l("Initial password"), validators=[DataRequired(_l("Enter a password.")), Length(max=200)],
                             render_kw={"autocomplete": "new-password"})


class ResetPasswordForm(Form):
    password = PasswordField(_l("New password"), validators=[DataRequired(_l("Enter a password.")), Length(max=200)],
                             render_kw={"autocomplete": "new-password"})


class ActiveForm(Form):
    active = BooleanField(_l("Account active"))


class ShelterAccessForm(Form):
    # Choices: every shelter, by name (set by the view).
    shelters = CheckboxesField(_l("Shelters"), coerce=optional_int)


class ChangePasswordForm(Form):
    current_password = PasswordField(_l("Current password"), validators=[
        DataRequired(_l("Enter your current password.")), Length(max=PASSWORD_MAX)],
        render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("New password"), validators=[
        DataRequired(_l("Enter a new password.")), Length(max=PASSWORD_MAX)],
        render_kw={"autocomplete": "new-password"})
    new_password_again = PasswordField(_l("New password again"), validators=[
        DataRequired(_l("Type the new password once more.")), Length(max=PASSWORD_MAX)],
        render_kw={"autocomplete": "new-password"})
