"""Forms of the bed board and shelter setup."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..forms import LocalDateTimeField, optional_int

CATEGORY_LABELS = {
    "woman": _l("Woman"), "man": _l("Man"), "child_cot": _l("Child cot"), "family": _l("Family"),
}
KIND_LABELS = {"regular": _l("Regular"), "isolation": _l("Isolation")}
GROUP_LABELS = {"": _l("No group"), "women": _l("Women"), "men": _l("Men"), "families": _l("Families")}
CHECKOUT_LABELS = {
    "own_accommodation": _l("Own accommodation"), "other_shelter": _l("Another shelter or programme"),
    "returned_home": _l("Returned to country of origin"), "left": _l("Left without notice"), "other": _l("Other"),
}
ISOLATION_LABELS = {"health": _l("Health"), "safety": _l("Safety")}


def choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in labels.items()]


class ShelterForm(FlaskForm):
    code_name = StringField(_l("Code name (shown to partners)"),
                            validators=[DataRequired(_l("Enter a code name.")), Length(min=2, max=40)])
    name = StringField(_l("Name (staff only)"), validators=[DataRequired(_l("Enter a name.")), Length(max=120)])
    address = TextAreaField(_l("Address (staff only)"), validators=[Optional(), Length(max=500)])


class RoomForm(FlaskForm):
    name = StringField(_l("Room name"), validators=[DataRequired(_l("Enter a room name.")), Length(max=60)])
    kind = SelectField(_l("Kind"), choices=choices(KIND_LABELS))
    room_group = SelectField(_l("Group"), choices=choices(GROUP_LABELS), validators=[Optional()])


class BedForm(FlaskForm):
    room_id = SelectField(_l("Room"), coerce=optional_int, validate_choice=False)
    label = StringField(_l("Bed label"), validators=[DataRequired(_l("Enter a label.")), Length(max=20)])
    category = SelectField(_l("Category"), choices=choices(CATEGORY_LABELS))


class CheckInForm(FlaskForm):
    resident_id = SelectField(_l("Resident"), coerce=optional_int, validate_choice=False)
    new_alias = StringField(_l("Or a new arrival: alias"), validators=[Optional(), Length(max=60)])
    new_sex = SelectField(_l("Sex"), choices=[SelectChoice("female", _l("Female")), SelectChoice("male", _l("Male")),
                                              SelectChoice("other", _l("Other"))], default="female")
    new_age_band = SelectField(_l("Age"), choices=[SelectChoice("adult", _l("Adult")),
                                                   SelectChoice("child", _l("Child"))], default="adult")
    new_birth_year = IntegerField(_l("Year of birth (child)"), validators=[Optional()])
    at = LocalDateTimeField(_l("Arrived at (leave empty for now)"), validators=[Optional()])


class HoldForm(FlaskForm):
    expires_at = LocalDateTimeField(_l("Hold until"), validators=[InputRequired(_l("Enter until when."))])
    note = StringField(_l("Note (no names)"), validators=[Optional(), Length(max=200)])


class OutOfServiceForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(_l("Enter a reason.")), Length(max=200)])
    until = LocalDateTimeField(_l("Until (optional)"), validators=[Optional()])


class MoveForm(FlaskForm):
    to_bed_id = SelectField(_l("Move to bed"), coerce=optional_int, validate_choice=False,
                            validators=[InputRequired(_l("Choose a bed."))])


class CheckOutForm(FlaskForm):
    reason = SelectField(_l("Reason"), choices=choices(CHECKOUT_LABELS))
    destination = StringField(_l("Destination (no address)"), validators=[Optional(), Length(max=200)])
    confirm = BooleanField(_l("Yes, check this resident out"),
                           validators=[DataRequired(_l("Tick to confirm the check-out."))])


class IsolateForm(FlaskForm):
    room_id = SelectField(_l("Isolation room"), coerce=optional_int, validate_choice=False,
                          validators=[InputRequired(_l("Choose a room."))])
    reason = SelectField(_l("Reason"), choices=choices(ISOLATION_LABELS))
    expected_end_at = LocalDateTimeField(_l("Expected end"), validators=[InputRequired(_l("Enter the expected end."))])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=300)])


class EndIsolationForm(FlaskForm):
    pass


class ReleaseHoldForm(FlaskForm):
    pass


class InServiceForm(FlaskForm):
    pass


