"""Forms of the bed actions."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..forms import Form, LocalDateTimeField, id_or_word, optional_int
from ..residents.vocab import ALIAS_MAX, AgeBand, Sex
from .vocab import (DESTINATION_MAX, HOLD_NOTE_MAX, ISOLATION_NOTE_MAX, OUT_REASON_MAX, OVERRIDE_REASON_MAX,
                    CheckoutReason, IsolationReason)


class _CategoryOverride:
    """Put a resident in a bed of a category that does not fit them, saying why (audited)."""

    override = BooleanField(_l("Put here anyway"))
    override_reason = StringField(_l("Why (goes to the audit log)"),
                                  validators=[Optional(), Length(max=OVERRIDE_REASON_MAX)])

    def override_given(self) -> str | None:
        return (self.override_reason.data or "") if self.override.data else None


class CheckInForm(_CategoryOverride, Form):
    resident_id = SelectField(_l("Resident"), coerce=optional_int, validate_choice=False)
    new_alias = StringField(_l("Or a new arrival: alias"), validators=[Optional(), Length(max=ALIAS_MAX)])
    new_sex = SelectField(_l("Sex"), choices=Sex.choices(), default=Sex.FEMALE.value)
    new_age_band = SelectField(_l("Age"), choices=AgeBand.choices(), default=AgeBand.ADULT.value)
    new_birth_year = IntegerField(_l("Year of birth (child)"), validators=[Optional()])
    at = LocalDateTimeField(_l("Arrived at (leave empty for now)"), validators=[Optional()])
    confirm_backdate = BooleanField(_l("Yes, the arrival was more than 48 hours ago"))


class HoldForm(Form):
    expires_at = LocalDateTimeField(_l("Hold until"), validators=[InputRequired(_l("Enter until when."))])
    note = StringField(_l("Note (no names)"), validators=[Optional(), Length(max=HOLD_NOTE_MAX)])


class OutOfServiceForm(Form):
    reason = StringField(_l("Reason"), validators=[DataRequired(_l("Enter a reason.")), Length(max=OUT_REASON_MAX)])
    until = LocalDateTimeField(_l("Until (optional)"), validators=[Optional()])


class MoveForm(_CategoryOverride, Form):
    to_bed_id = SelectField(_l("Move to bed"), coerce=optional_int, validate_choice=False,
                            validators=[InputRequired(_l("Choose a bed."))])


class CheckOutForm(Form):
    reason = SelectField(_l("Reason"), choices=CheckoutReason.choices())
    destination = StringField(_l("Destination (no address)"), validators=[Optional(), Length(max=DESTINATION_MAX)])
    confirm = BooleanField(_l("Yes, check this resident out"),
                           validators=[DataRequired(_l("Tick to confirm the check-out."))])


class IsolateForm(Form):
    room_id = SelectField(_l("Where"), coerce=id_or_word, validate_choice=False,
                          validators=[InputRequired(_l("Choose a room."))])
    reason = SelectField(_l("Reason"), choices=IsolationReason.choices())
    expected_end_at = LocalDateTimeField(_l("Expected end"), validators=[InputRequired(_l("Enter the expected end."))])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=ISOLATION_NOTE_MAX)])


class EndIsolationForm(Form):
    confirm = BooleanField(_l("Yes, end the isolation"),
                           validators=[DataRequired(_l("Tick to confirm the end of the isolation."))])


class ConfirmForm(Form):
    """An action with nothing to fill in (release a hold, back in service, undo)."""
