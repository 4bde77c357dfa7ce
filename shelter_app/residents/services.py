"""Residents: the pseudonymous record, search, and the audited resident page."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import exists, func, or_, select, true
from sqlalchemy.orm import joinedload

from ..audit.services import record
from ..auth.permissions import can
from ..errors import DomainError, Forbidden, NotFound, OutOfScope, flush_or_conflict
from ..extensions import db
from ..validation import clean_text
from ..beds.models import Stay
from ..shelters.models import Bed, Room, Shelter
from ..shelters.services import first_shelter_id, in_scope, shelter_ids_of
from .models import Resident
from .vocab import (ALIAS_MAX, ALLERGIES_MAX, COUNTRY_MAX, DIET_MAX, DOCUMENT_MAX, LANGUAGES_MAX, LEGAL_NAME_MAX,
                    NOTES_MAX, OLDEST_AGE, SEARCH_MAX, AgeBand, ExploitationForm, Sex)

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over a phone


# --- residents ---------------------------------------------------------------------------

def new_code() -> str:
    return "R-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))


@dataclass
class ResidentInput:
    alias: str = ""
    sex: str = ""
    age_band: str = "adult"
    birth_year: int | None = None
    country_of_origin: str = ""
    languages: str = ""
    interpreter_needed: bool = False
    exploitation_forms: tuple[str, ...] = ()
    dietary_needs: str = ""
    allergies: str = ""
    notes: str = ""
    legal_name: str | None = None
    document_data: str | None = None
    # The shelter whose staff see the record; None: actor's first shelter (for the system, the first one).
    shelter_id: int | None = None


def visible_to(actor):
    """SQL: the resident is one actor's shelters see (any for actor None; a record of no shelter yet, all staff)."""
    if actor is None:
        return true()
    return or_(Resident.shelter_id.is_(None), in_scope(Resident.shelter_id, actor))


def _shelter_of_new_record(shelter_id: int | None, *, actor) -> int | None:
    """The shelter a new record belongs to: the one chosen (if actor's), else actor's first."""
    if shelter_id is not None:
        if db.session.scalar(select(Shelter.id).where(Shelter.id == shelter_id, in_scope(Shelter.id, actor))) is None:
            _refuse_choice(Shelter, shelter_id, _("Choose a shelter from the list."), field="shelter_id")
        return shelter_id
    if actor is None:
        return first_shelter_id()
    mine = shelter_ids_of(actor)
    if mine:
        return mine[0]
    if first_shelter_id() is not None:
        raise DomainError(_("Your account belongs to no shelter yet: ask the administrator to add you to yours."),
                          field="shelter_id")
    return None  # no shelter exists yet: the record is everyone's until its first check-in


def _validated(data: ResidentInput, *, actor, now: datetime) -> dict:
    alias = clean_text(data.alias, "alias", max_len=ALIAS_MAX, required=True, multiline=False)
    if data.sex not in Sex.values():
        raise DomainError(_("Choose one of the listed options."), field="sex")
    if data.age_band not in AgeBand.values():
        raise DomainError(_("Choose adult or child."), field="age_band")
    birth_year = data.birth_year
    if birth_year is not None and not (now.year - OLDEST_AGE <= birth_year <= now.year):
        raise DomainError(_("Enter a year between %(a)d and %(b)d.", a=now.year - OLDEST_AGE, b=now.year),
                          field="birth_year")
    if data.age_band == AgeBand.CHILD and birth_year is None:
        raise DomainError(_("For a child, enter the year of birth."), field="birth_year")
    forms = tuple(dict.fromkeys(data.exploitation_forms))
    if any(f not in ExploitationForm.values() for f in forms):
        raise DomainError(_("Choose from the listed forms of exploitation."), field="exploitation_forms")
    values = {
        "alias": alias, "sex": data.sex, "age_band": data.age_band, "birth_year": birth_year,
        "country_of_origin": clean_text(data.country_of_origin, "country_of_origin", max_len=COUNTRY_MAX),
        "languages": clean_text(data.languages, "languages", max_len=LANGUAGES_MAX),
        "interpreter_needed": bool(data.interpreter_needed),
        "exploitation_forms": list(forms),
        "dietary_needs": clean_text(data.dietary_needs, "dietary_needs", max_len=DIET_MAX),
        "allergies": clean_text(data.allergies, "allergies", max_len=ALLERGIES_MAX),
        "notes": clean_text(data.notes, "notes", max_len=NOTES_MAX),
    }
    legal = {"legal_name": data.legal_name, "document_data": data.document_data}
    # actor None is the system itself (demo data, imports); it may record what a manager may.
    may_see_identity = actor is None or can(actor, "resident.identity")
    if any(v for v in legal.values()) and not may_see_identity:
        raise Forbidden(_("Only a manager records legal identity."), field="legal_name")
    if may_see_identity:
        values["legal_name"] = clean_text(data.legal_name, "legal_name", max_len=LEGAL_NAME_MAX) or None
        values["document_data"] = clean_text(data.document_data, "document_data", max_len=DOCUMENT_MAX) or None
    return values


def create_resident(data: ResidentInput, *, actor, at: datetime) -> Resident:
    """A new pseudonymous resident with a generated code."""
    values = _validated(data, actor=actor, now=at)
    values["shelter_id"] = _shelter_of_new_record(data.shelter_id, actor=actor)
    for _attempt in range(5):
        code = new_code()
        if not db.session.scalar(select(exists().where(Resident.code == code))):
            break
    resident = Resident(code=code, created_at=at, **values)
    db.session.add(resident)
    flush_or_conflict({"code": _("Please try again.")})
    record("resident.create", actor=actor, at=at, target=resident)
    return resident


def update_resident(resident: Resident, data: ResidentInput, *, actor, at: datetime) -> None:
    """Change a resident's record; legal identity only by a manager (others leave it as it is)."""
    values = _validated(data, actor=actor, now=at)
    changed = sorted(k for k, v in values.items() if getattr(resident, k) != v)
    for key, value in values.items():
        setattr(resident, key, value)
    record("resident.update", actor=actor, at=at, target=resident, fields=changed)


def get_resident(resident_id: int, *, actor, field: str | None = None) -> Resident:
    """The resident, if actor's shelters see them; another shelter's is answered exactly as a missing one:
    a 404, or the error of field when it was picked in a form."""
    resident = db.session.scalar(select(Resident).where(Resident.id == resident_id, visible_to(actor)))
    if resident is None:
        if field:
            _refuse_choice(Resident, resident_id, _("Choose a resident from the list."), field=field)
        raise NotFound(_("No such resident."))
    return resident


def _refuse_choice(model, row_id: int, message: str, *, field: str):
    """A field named a row actor may not pick: the field's error, the same whether the row is another
    shelter's (then audited as a denied access) or does not exist."""
    if db.session.scalar(select(exists().where(model.id == row_id))):
        raise OutOfScope(message, field=field, value=row_id)
    raise DomainError(message, field=field)


# Who is listed without a search: in a bed now, or expected: recorded lately and not yet in a bed, or out
# of a bed only since lately (a check-out to take back, someone coming back). Older records are found by
# searching, so the list costs the same after years of history.
WAITING_SINCE = timedelta(days=30)
LEFT_SINCE = timedelta(days=7)


@dataclass
class ResidentsList:
    """The residents page: who is in the house and who is expected, or what a search found."""

    query: str
    in_house: list[tuple[Resident, Stay]]
    expected: list[Resident]
    found: list[tuple[Resident, Stay | None]]

    @property
    def shown(self) -> list[Resident]:
        return [r for r, _s in self.in_house] + self.expected + [r for r, _s in self.found]


def _with_place(stmt):
    return stmt.options(joinedload(Stay.bed).joinedload(Bed.room).joinedload(Room.shelter))


def in_house(actor) -> list[tuple[Resident, Stay]]:
    """Residents in a bed of actor's shelters now, with their stay (from the beds, not all residents)."""
    return [(r, s) for r, s in db.session.execute(_with_place(
        select(Resident, Stay).join(Stay, Stay.resident_id == Resident.id).join(Bed, Bed.id == Stay.bed_id)
        .join(Room, Room.id == Bed.room_id)
        .where(Stay.ended_at.is_(None), in_scope(Room.shelter_id, actor))
        .order_by(Resident.alias, Resident.id))).all()]


def _of_shelters(shelter_ids):
    """SQL: the record belongs to one of these shelters (ids, not a subquery: the planner then reads the
    shelters' own rows by index, not every resident), or to none yet; any for shelter_ids None."""
    if shelter_ids is None:
        return true()
    return or_(Resident.shelter_id.in_(list(shelter_ids)), Resident.shelter_id.is_(None))


def expected_residents(shelter_ids, *, at: datetime, limit: int = 200) -> list[Resident]:
    """Residents of these shelters (None: any) without a bed who could be checked in now, newest first:
    recorded in the last 30 days, or out of a bed of theirs for less than 7 days.

    Both are read by index from what is recent (records by shelter and date, stays by bed and end), so
    the list costs the same after years of history.
    """
    recorded = select(Resident.id).where(_of_shelters(shelter_ids), Resident.created_at >= at - WAITING_SINCE)
    left = select(Stay.resident_id).join(Bed, Bed.id == Stay.bed_id).join(Room, Room.id == Bed.room_id).where(
        Stay.ended_at >= at - LEFT_SINCE, true() if shelter_ids is None else Room.shelter_id.in_(list(shelter_ids)))
    in_bed = exists().where(Stay.resident_id == Resident.id, Stay.ended_at.is_(None))
    return list(db.session.scalars(
        select(Resident).where(Resident.id.in_(recorded.union(left)), _of_shelters(shelter_ids),
                               Resident.anonymised_at.is_(None), ~in_bed)
        .order_by(Resident.created_at.desc(), Resident.id.desc()).limit(limit)))


def search_residents(query: str, *, actor, limit: int = 100) -> list[tuple[Resident, Stay | None]]:
    """Residents of actor's shelters (all of their history) whose alias or code contains query, in a bed first."""
    needle = query.lower()
    return [(r, s) for r, s in db.session.execute(_with_place(
        select(Resident, Stay)
        .outerjoin(Stay, (Stay.resident_id == Resident.id) & Stay.ended_at.is_(None))
        .where(Resident.anonymised_at.is_(None), _of_shelters(None if actor is None else shelter_ids_of(actor)),
               or_(func.lower(Resident.alias).contains(needle, autoescape=True),
                   func.lower(Resident.code).contains(needle, autoescape=True)))
        .order_by(Stay.id.is_(None), Resident.alias, Resident.id).limit(limit))).all()]


def residents_list(query: str, *, actor, at: datetime) -> ResidentsList:
    """The residents page for actor: in the house and expected, or the search's finds; the read is audited."""
    query = clean_text(query, "q", max_len=SEARCH_MAX, multiline=False)  # too long is an error, never cut
    if query:
        page = ResidentsList(query, [], [], search_residents(query, actor=actor))
    else:
        mine = None if actor is None else shelter_ids_of(actor)
        page = ResidentsList(query, in_house(actor), expected_residents(mine, at=at), [])
    record("residents.list", actor=actor, at=at, resident_ids=[r.id for r in page.shown])
    return page


# --- the resident page -------------------------------------------------------------------

@dataclass
class ResidentPage:
    resident: Resident
    history: object  # beds.services.History: stays and isolations

    @property
    def stays(self):
        return self.history.stays

    @property
    def isolations(self):
        return self.history.isolations

    @property
    def current_stay(self):
        return self.history.current_stay

    @property
    def current_isolation(self):
        return self.history.current_isolation


def record_form_view(resident: Resident, *, actor, at: datetime) -> None:
    """The edit form shows the whole record (the legal identity too, to a manager): audited as a read."""
    record("resident.view", actor=actor, at=at, target=resident, page="edit")


def resident_page(resident: Resident, history, *, actor, at: datetime) -> ResidentPage:
    """A resident's record with their history; the read is audited."""
    record("resident.view", actor=actor, at=at, target=resident)
    return ResidentPage(resident=resident, history=history)
