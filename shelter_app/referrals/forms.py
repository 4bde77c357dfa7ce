"""Forms of referrals: the case manager's request and the staff's answers on the board."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..forms import CheckboxesField, Form, IdField, LocalDateTimeField, optional_int
from ..residents.vocab import ALIAS_MAX, AgeBand, Sex
from ..shelters.vocab import BedCategory
from .models import Referral
from .vocab import CODE_MAX, DECLINE_NOTE_MAX, LANGUAGES_MAX, MAX_PEOPLE, NOTE_MAX, DeclineReason, Need

class ReferralForm(Form):
    # By code name, the only name case managers know a shelter by ("": any shelter).
    shelter = SelectField(_l("Shelter"), validate_choice=False)
    category = SelectField(_l("Bed category"), choices=BedCategory.choices())
    people = IntegerField(_l("Number of people"), default=1,
                          validators=[InputRequired(_l("Enter the number of people.")),
                                      NumberRange(1, MAX_PEOPLE, _l("Enter a number from 1 to %(max)d."))],
                          render_kw={"inputmode": "numeric", "min": 1, "max": MAX_PEOPLE})
    arrival_from = LocalDateTimeField(_l("Arrives at the earliest"),
                                      validators=[InputRequired(_l("Enter the earliest arrival."))])
    arrival_until = LocalDateTimeField(_l("Arrives at the latest"),
                                       validators=[InputRequired(_l("Enter the latest arrival."))])
    languages = StringField(_l("Languages spoken"), validators=[Optional(), Length(max=LANGUAGES_MAX)])
    interpreter_needed = BooleanField(_l("Needs an interpreter"))
    needs = CheckboxesField(_l("Urgent medical or safety needs"), choices=Need.choices())
    note = TextAreaField(_l("Note for the shelter"), validators=[Optional(), Length(max=NOTE_MAX)],
                         render_kw={"rows": 3})
    code = StringField(_l("Your referral code"), validators=[DataRequired(_l("Enter your referral code.")),
                                                             Length(max=CODE_MAX)],
                       render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"})


class _BoardForm(Form):
    # The shelter whose board the form was sent from: where the bed is held and the board shown again.
    shelter_id = IdField(validators=[InputRequired()])


class AcceptForm(_BoardForm):
    pass


class DeclineForm(_BoardForm):
    reason = SelectField(_l("Reason"), choices=DeclineReason.choices(blank=_l("— choose —")),
                         validators=[InputRequired(_l("Choose a reason."))])
    note = StringField(_l("Explanation for the case manager (no names)"),
                       validators=[Optional(), Length(max=DECLINE_NOTE_MAX)])


class ArrivalForm(_BoardForm):
    alias = StringField(_l("Alias of the person arriving"),
                        validators=[DataRequired(_l("Enter an alias.")), Length(max=ALIAS_MAX)])
    sex = SelectField(_l("Sex"), choices=Sex.choices())
    age_band = SelectField(_l("Age"), choices=AgeBand.choices())
    birth_year = IntegerField(_l("Year of birth (child)"), validators=[Optional()])


class CancelForm(Form):
    confirm = BooleanField(_l("Yes, withdraw this referral"),
                           validators=[DataRequired(_l("Tick to confirm."))])


# --- the referral block of a shelter's bed board ------------------------------------------------

@dataclass
class BoardItem:
    referral: Referral
    overdue: bool = False
    hold: object | None = None
    forms: dict = field(default_factory=dict)


@dataclass
class BoardReferrals:
    pending: list[BoardItem]
    expected: list[BoardItem]
    overdue: int
    waiting_elsewhere: int
    answer_minutes: int
    # Refusals about a referral no longer listed here (answered meanwhile, another shelter's): shown on top.
    notices: list[str] = field(default_factory=list)

    @property
    def shown(self) -> bool:
        return bool(self.pending or self.expected or self.waiting_elsewhere or self.notices)


def board_referrals(box, shelter_id: int, now: datetime, answer_minutes: int, failed: dict) -> BoardReferrals:
    """The referral block of a board from its inbox (services.inbox), with fresh forms except failed ones."""
    def form(kind, cls, referral):
        key = (referral.public_id, kind)
        if key in failed:
            return failed[key]
        f = cls(prefix=f"{kind}{referral.public_id}", formdata=None)
        f.shelter_id.data = shelter_id
        return f

    pending = [BoardItem(r, overdue=r.id in box.overdue_ids,
                         forms={"accept": form("accept", AcceptForm, r), "decline": form("decline", DeclineForm, r)})
               for r in box.pending]
    expected = [BoardItem(r, hold=box.holds.get(r.id), forms={"arrive": form("arrive", ArrivalForm, r)})
                for r in box.expected]
    listed = {r.public_id for r in box.pending} | {r.public_id for r in box.expected}
    notices = [message for (public_id, _kind), f in failed.items() if public_id not in listed
               for message in [*f.form_errors, *(e for errors in f.errors.values() for e in errors)]]
    return BoardReferrals(pending=pending, expected=expected, overdue=box.overdue,
                          waiting_elsewhere=box.waiting_elsewhere, answer_minutes=answer_minutes, notices=notices)
