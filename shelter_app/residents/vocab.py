"""Values and limits of the resident record."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..vocab import Vocab


class Sex(Vocab):
    FEMALE = "female", _l("Female")
    MALE = "male", _l("Male")
    OTHER = "other", _l("Other")


class AgeBand(Vocab):
    ADULT = "adult", _l("Adult")
    CHILD = "child", _l("Child")


class ExploitationForm(Vocab):
    LABOUR = "labour", _l("Labour")
    SEXUAL = "sexual", _l("Sexual")
    CRIMINALITY = "criminality", _l("Forced criminality")
    BEGGING = "begging", _l("Begging")
    OTHER = "other", _l("Other")


CODE_LENGTH = 8  # "R-" and six characters
ALIAS_MAX = 60
COUNTRY_MAX = 60
LANGUAGES_MAX = 200
DIET_MAX = 300
ALLERGIES_MAX = 300
NOTES_MAX = 5000
LEGAL_NAME_MAX = 200
DOCUMENT_MAX = 300
SEARCH_MAX = 60
OLDEST_AGE = 110
