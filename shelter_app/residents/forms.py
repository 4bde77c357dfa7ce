"""The resident record form."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import CheckboxesField, Form, optional_int
from .vocab import (ALIAS_MAX, ALLERGIES_MAX, COUNTRY_MAX, DIET_MAX, DOCUMENT_MAX, LANGUAGES_MAX, LEGAL_NAME_MAX,
                    NOTES_MAX, SEARCH_MAX, AgeBand, ExploitationForm, Sex)


class ResidentForm(Form):
    alias = StringField(_l("Alias"), validators=[DataRequired(_l("Enter an alias.")), Length(max=ALIAS_MAX)])
    sex = SelectField(_l("Sex"), choices=Sex.choices())
    age_band = SelectField(_l("Age"), choices=AgeBand.choices())
    birth_year = IntegerField(_l("Year of birth (required for a child)"), validators=[Optional()])
    country_of_origin = StringField(_l("Country of origin"), validators=[Optional(), Length(max=COUNTRY_MAX)])
    languages = StringField(_l("Languages spoken"), validators=[Optional(), Length(max=LANGUAGES_MAX)])
    interpreter_needed = BooleanField(_l("Needs an interpreter"))
    exploitation_forms = CheckboxesField(_l("Form of exploitation"), choices=ExploitationForm.choices())
    dietary_needs = StringField(_l("Dietary needs"), validators=[Optional(), Length(max=DIET_MAX)])
    allergies = StringField(_l("Allergies"), validators=[Optional(), Length(max=ALLERGIES_MAX)])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=NOTES_MAX)])
    legal_name = StringField(_l("Legal name (managers only)"), validators=[Optional(), Length(max=LEGAL_NAME_MAX)])
    document_data = StringField(_l("Identity document (managers only)"),
                                validators=[Optional(), Length(max=DOCUMENT_MAX)])


class NewResidentForm(ResidentForm):
    # Choices: the user's shelters. The record is seen by that shelter's staff; a check-in elsewhere moves it.
    shelter_id = SelectField(_l("Shelter"), coerce=optional_int, validate_choice=False)


class SearchForm(Form):
    """The search of the residents page (a GET: no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField(_l("Find by alias or code"), validators=[Optional(), Length(max=SEARCH_MAX)])
