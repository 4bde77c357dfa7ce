"""Forms of the passkey ceremonies and of removing a passkey."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from ..forms import Form
from .vocab import CREDENTIAL_MAX, NAME_MAX


class PasskeyOptionsForm(Form):
    """Asks for the options of a ceremony (sent by static/js/passkeys.js): nothing to fill in."""


class AddPasskeyForm(Form):
    name = StringField(_l("Name of this passkey"), validators=[
        DataRequired(_l("Name the passkey, e.g. “night phone”.")), Length(max=NAME_MAX)],
        render_kw={"autocomplete": "off"})
    # The browser's answer (JSON), filled in by static/js/passkeys.js after the device's own check.
    credential = HiddenField(validators=[Length(max=CREDENTIAL_MAX)])

    def validate_credential(self, field):
        # Without a valid name the device was not asked yet: the name's error says what to do.
        if not field.data and not self.name.errors:
            raise ValidationError(_l("This device did not make a passkey. Try again."))


class PasskeySignInForm(Form):
    credential = HiddenField(validators=[
        DataRequired(_l("This device did not answer with a passkey. Try again, or sign in with your password.")),
        Length(max=CREDENTIAL_MAX)])


class RemovePasskeyForm(Form):
    """Remove one passkey: nothing to fill in."""
