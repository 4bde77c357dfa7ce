"""Forms of the API token page."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from ..forms import Form


class NewTokenForm(Form):
    organisation = StringField(_l("Organisation"), validators=[DataRequired(_l("Enter the organisation.")),
                                                               Length(max=120)])
    label = StringField(_l("What it is for"), validators=[DataRequired(_l("Say what the token is for.")),
                                                          Length(max=80)])


class RevokeTokenForm(Form):
    pass
