"""Forms of referrals: the case manager's request and the staff's answers."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from ..forms import LocalDateTimeField, optional_int
from ..residents.forms import AGE_LABELS, SEX_LABELS, CheckboxesField
from ..shelters.forms import CATEGORY_LABELS, choices
from .models import MAX_PEOPLE

NEED_LABELS = {
    "urgent_medical": _l("Urgent medical care"),
    "medication": _l("Takes medication"),
    "pregnancy": _l("Pregnancy"),
    "reduced_mobility": _l("Reduced mobility"),
    "mental_health": _l("Acute psychological distress"),
    "high_risk": _l("High safety risk (perpetrators searching)"),
    "isolation": _l("Needs an isolation room"),
}
DECLINE_LABELS = {
    "no_bed": _l("No suitable bed free"),
    "needs_not_met": _l("We cannot meet the needs described"),
    "not_suitable": _l("This shelter is not safe or suitable for this person"),
    "other": _l("Other (explain below)"),
}
STATUS_LABELS = {
    "pending": _l("Waiting for an answer"),
    "lapsed": _l("Not answered before the arrival window ended"),
    "accepted": _l("Accepted: a bed is held"),
    "hold_ended": _l("Accepted, but the held bed is no longer held"),
    "declined": _l("Declined"),
    "cancelled": _l("Withdrawn"),
    "arrived": _l("Arrived and checked in"),
}


class ReferralForm(FlaskForm):
    shelter_id = SelectField(_l("Shelter"), coerce=optional_int, validate_choice=False)
    category = SelectField(_l("Bed category"), choices=choices(CATEGORY_LABELS))
    people = IntegerField(_l("Number of people"), default=1,
                          validators=[InputRequired(_l("Enter the number of people.")),
                                      NumberRange(1, MAX_PEOPLE, _l("Enter a number from 1 to %(max)d."))],
                          render_kw={"inputmode": "numeric", "min": 1, "max": MAX_PEOPLE})
    arrival_from = LocalDateTimeField(_l("Arrives at the earliest"),
                                      validators=[InputRequired(_l("Enter the earliest arrival."))])
    arrival_until = LocalDateTimeField(_l("Arrives at the latest"),
                                       validators=[InputRequired(_l("Enter the latest arrival."))])
    languages = StringField(_l("Languages spoken"), validators=[Optional(), Length(max=200)])
    interpreter_needed = BooleanField(_l("Needs an interpreter"))
    needs = CheckboxesField(_l("Urgent medical or safety needs"), choices=choices(NEED_LABELS))
    note = TextAreaField(_l("Note for the shelter"), validators=[Optional(), Length(max=500)],
                         render_kw={"rows": 3})
    code = StringField(_l("Your referral code"), validators=[DataRequired(_l("Enter your referral code.")),
                                                             Length(max=40)],
                       render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"})


class _BoardForm(FlaskForm):
    # The shelter whose board the form was sent from: where the bed is held and the board shown again.
    shelter_id = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class AcceptForm(_BoardForm):
    pass


class DeclineForm(_BoardForm):
    reason = SelectField(_l("Reason"), choices=[SelectChoice("", _l("— choose —"))] + choices(DECLINE_LABELS),
                         validators=[InputRequired(_l("Choose a reason."))])
    note = StringField(_l("Explanation for the case manager (no names)"), validators=[Optional(), Length(max=300)])


class ArrivalForm(_BoardForm):
    alias = StringField(_l("Alias of the person arriving"),
                        validators=[DataRequired(_l("Enter an alias.")), Length(max=60)])
    sex = SelectField(_l("Sex"), choices=choices(SEX_LABELS))
    age_band = SelectField(_l("Age"), choices=choices(AGE_LABELS))
    birth_year = IntegerField(_l("Year of birth (child)"), validators=[Optional()])


class CancelForm(FlaskForm):
    confirm = BooleanField(_l("Yes, withdraw this referral"),
                           validators=[DataRequired(_l("Tick to confirm."))])
