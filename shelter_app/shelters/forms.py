"""Forms of shelter setup."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import Form, optional_int
from .vocab import (ADDRESS_MAX, BED_LABEL_MAX, CODE_NAME_MAX, CODE_NAME_MIN, ROOM_NAME_MAX, SHELTER_NAME_MAX,
                    BedCategory, RoomGroup, RoomKind)


class ShelterForm(Form):
    code_name = StringField(_l("Code name (shown to partners)"),
                            validators=[DataRequired(_l("Enter a code name.")),
                                        Length(min=CODE_NAME_MIN, max=CODE_NAME_MAX)])
    name = StringField(_l("Name (staff only)"),
                       validators=[DataRequired(_l("Enter a name.")), Length(max=SHELTER_NAME_MAX)])
    address = TextAreaField(_l("Address (staff only)"), validators=[Optional(), Length(max=ADDRESS_MAX)])


class RoomForm(Form):
    name = StringField(_l("Room name"), validators=[DataRequired(_l("Enter a room name.")), Length(max=ROOM_NAME_MAX)])
    kind = SelectField(_l("Kind"), choices=RoomKind.choices())
    room_group = SelectField(_l("Group"), choices=RoomGroup.choices(blank=_l("No group")), validators=[Optional()])


class BedForm(Form):
    room_id = SelectField(_l("Room"), coerce=optional_int, validate_choice=False)
    label = StringField(_l("Bed label"), validators=[DataRequired(_l("Enter a label.")), Length(max=BED_LABEL_MAX)])
    category = SelectField(_l("Category"), choices=BedCategory.choices())
