"""Forms of the shift page, the night round, presence, shift settings and the history."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import HiddenInput

from ..forms import FIRST_YEAR, LAST_YEAR, Form, IdField, LocalDateTimeField, optional_int
from .vocab import (ACTION_MAX, ENTRY_TEXT_MAX, HEADCOUNT_MAX, NOTE_MAX, ROOM_NOTE_MAX, ROUND_TIMES_TEXT_MAX,
                    TASK_TEXT_MAX, HistoryKind, IncidentKind, ShiftKind)

_NOW = _l("When (empty: now)")


class LocalDateField(DateField):
    """A day in the shelter's calendar, in the years every date of the app lies in."""

    def pre_validate(self, form):
        if self.data is not None and not (FIRST_YEAR <= self.data.year <= LAST_YEAR):
            raise ValidationError(_l("Enter a date between the years %(a)d and %(b)d.", a=FIRST_YEAR, b=LAST_YEAR))


class ConfirmForm(Form):
    """An action with nothing to fill in (read a handover, a task done, back in the house)."""


class EntryForm(Form):
    """An entry about one resident, picked from the shelter's current residents."""

    resident_id = SelectField(_l("Resident"), coerce=optional_int, validate_choice=False,
                              validators=[InputRequired(_l("Choose a resident."))])
    text = TextAreaField(_l("What to know"), validators=[DataRequired(_l("Write what the next shift should know.")),
                                                         Length(max=ENTRY_TEXT_MAX)], render_kw={"rows": 3})


class IncidentForm(Form):
    incident_kind = SelectField(_l("Kind"), choices=IncidentKind.choices())
    occurred_at = LocalDateTimeField(_NOW, validators=[Optional()])
    resident_id = SelectField(_l("Resident (if it concerns one)"), coerce=optional_int, validate_choice=False)
    text = TextAreaField(_l("What happened"), validators=[DataRequired(_l("Write what happened.")),
                                                          Length(max=ENTRY_TEXT_MAX)], render_kw={"rows": 3})
    action_taken = TextAreaField(_l("What was done"), validators=[Optional(), Length(max=ACTION_MAX)],
                                 render_kw={"rows": 2})


class ObservationForm(Form):
    observed_at = LocalDateTimeField(_NOW, validators=[Optional()])
    text = TextAreaField(_l("Observation"), validators=[DataRequired(_l("Write the observation.")),
                                                        Length(max=ENTRY_TEXT_MAX)],
                         render_kw={"rows": 2, "placeholder": _l("e.g. fever 38.5 °C, paracetamol given")})


class TaskForm(Form):
    text = StringField(_l("Task"), validators=[DataRequired(_l("Write what is to be done.")),
                                               Length(max=TASK_TEXT_MAX)])
    owner_id = SelectField(_l("Who does it"), coerce=optional_int, validate_choice=False,
                           validators=[InputRequired(_l("Choose who does it."))])
    due_at = LocalDateTimeField(_l("Due"), validators=[InputRequired(_l("Enter when it is due."))])


class HandOverForm(Form):
    # The handover the page showed as being written (none: nothing was written yet).
    handover_id = IdField(validators=[Optional()])
    note = TextAreaField(_l("General note"), validators=[DataRequired(_l("Write a general note, even if it is only "
                                                                        "“a quiet shift”.")),
                                                         Length(max=NOTE_MAX)], render_kw={"rows": 4})


class EditEntryForm(Form):
    text = TextAreaField(_l("Text"), validators=[DataRequired(_l("Write the entry.")), Length(max=ENTRY_TEXT_MAX)],
                         render_kw={"rows": 4})
    action_taken = TextAreaField(_l("What was done"), validators=[Optional(), Length(max=ACTION_MAX)],
                                 render_kw={"rows": 2})


class CorrectionForm(EditEntryForm):
    text = TextAreaField(_l("The correction"), validators=[DataRequired(_l("Write the correction.")),
                                                           Length(max=ENTRY_TEXT_MAX)], render_kw={"rows": 4})


class _RoundForm(Form):
    # The round's time as whole minutes since 1970 (UTC): the page says which round it records.
    due = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class RoomCheckForm(_RoundForm):
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=ROOM_NOTE_MAX)])
    # Sent by the button pressed: all quiet, or something to note.
    status = StringField(widget=HiddenInput(), validators=[InputRequired()])


class HeadcountForm(_RoundForm):
    headcount = IntegerField(_l("Residents counted in the house"),
                             validators=[InputRequired(_l("Enter how many residents you counted.")),
                                         NumberRange(0, HEADCOUNT_MAX, _l("Enter a number from 0 to %(max)d."))],
                             render_kw={"inputmode": "numeric", "min": 0})


class OutForm(Form):
    expected_back_at = LocalDateTimeField(_l("Expected back"),
                                          validators=[InputRequired(_l("Enter when they expect to be back."))])


class MissingForm(Form):
    note = StringField(_l("What is known (optional)"), validators=[Optional(), Length(max=ENTRY_TEXT_MAX)])


class TimesForm(Form):
    day_starts = StringField(_l("Day shift starts"), render_kw={"type": "time"},
                             validators=[DataRequired(_l("Enter a time as HH:MM, e.g. 07:00."))])
    night_starts = StringField(_l("Night shift starts"), render_kw={"type": "time"},
                               validators=[DataRequired(_l("Enter a time as HH:MM, e.g. 07:00."))])
    curfew = StringField(_l("Curfew"), render_kw={"type": "time"},
                         validators=[DataRequired(_l("Enter a time as HH:MM, e.g. 07:00."))])
    rounds = StringField(_l("Night round times"), validators=[Optional(), Length(max=ROUND_TIMES_TEXT_MAX)])


class DutyForm(Form):
    shift_date = LocalDateField(_l("Date"), validators=[InputRequired(_l("Enter the date."))])
    shift_kind = SelectField(_l("Shift"), choices=ShiftKind.choices())
    user_id = SelectField(_l("Who"), coerce=optional_int, validate_choice=False,
                          validators=[InputRequired(_l("Choose who is on duty."))])


class HistoryForm(Form):
    """The history's filters (a GET form: no CSRF token)."""

    class Meta(Form.Meta):
        csrf = False

    shelter_id = SelectField(_l("Shelter"), coerce=optional_int, validate_choice=False, validators=[Optional()])
    day_from = LocalDateField(_l("From"), validators=[Optional()])
    day_to = LocalDateField(_l("To"), validators=[Optional()])
    kind = SelectField(_l("What"), choices=HistoryKind.choices(blank=_l("Everything")), validators=[Optional()])
    resident_id = SelectField(_l("Resident"), coerce=optional_int, validate_choice=False, validators=[Optional()])


class DayForm(Form):
    class Meta(Form.Meta):
        csrf = False

    day = LocalDateField(_l("Day"), validators=[Optional()])
