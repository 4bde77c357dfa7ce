"""The resident record form."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

SEX_LABELS = {"female": _l("Female"), "male": _l("Male"), "other": _l("Other")}
AGE_LABELS = {"adult": _l("Adult"), "child": _l("Child")}
EXPLOITATION_LABELS = {
    "labour": _l("Labour"), "sexual": _l("Sexual"), "criminality": _l("Forced criminality"),
    "begging": _l("Begging"), "other": _l("Other"),
}


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ResidentForm(FlaskForm):
    alias = StringField(_l("Alias"), validators=[DataRequired(_l("Enter an alias.")), Length(max=60)])
    sex = SelectField(_l("Sex"), choices=[SelectChoice(k, v) for k, v in SEX_LABELS.items()])
    age_band = SelectField(_l("Age"), choices=[SelectChoice(k, v) for k, v in AGE_LABELS.items()])
    birth_year = IntegerField(_l("Year of birth (required for a child)"), validators=[Optional()])
    country_of_origin = StringField(_l("Country of origin"), validators=[Optional(), Length(max=60)])
    languages = StringField(_l("Languages spoken"), validators=[Optional(), Length(max=200)])
    interpreter_needed = BooleanField(_l("Needs an interpreter"))
    exploitation_forms = CheckboxesField(_l("Form of exploitation"),
                                         choices=[SelectChoice(k, v) for k, v in EXPLOITATION_LABELS.items()])
    dietary_needs = StringField(_l("Dietary needs"), validators=[Optional(), Length(max=300)])
    allergies = StringField(_l("Allergies"), validators=[Optional(), Length(max=300)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])
    legal_name = StringField(_l("Legal name (managers only)"), validators=[Optional(), Length(max=200)])
    document_data = StringField(_l("Identity document (managers only)"), validators=[Optional(), Length(max=300)])
