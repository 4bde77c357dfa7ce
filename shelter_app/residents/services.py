"""Residents and where they are: check-in, moves, check-out and isolation."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import joinedload

from ..audit.services import record
from ..errors import Conflict, DomainError, Forbidden, NotFound, flush_or_conflict
from ..extensions import db
from ..shelters.models import Bed, Room
from ..shelters.services import active_hold, get_bed, require_free, use_hold_if_any
from ..validation import clean_text
from .models import (AGE_BANDS, CHECKOUT_REASONS, EXPLOITATION_FORMS, ISOLATION_REASONS, SEXES, Isolation,
                     Resident, Stay)

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over a phone
# A record made a little late is fine; one dated tomorrow is a typo.
FUTURE_TOLERANCE = timedelta(minutes=5)

STAY_CONFLICTS = {
    "stays.bed_id": "bed", "uq_stays_bed_open": "bed", "ex_stays_bed_id": "history",
    "stays.resident_id": "resident", "uq_stays_resident_open": "resident", "ex_stays_resident_id": "history",
    "stays: overlapping": "history",
}


def _stay_conflict_messages() -> dict[str, str]:
    sentences = {
        "bed": _("This bed is already taken."),
        "resident": _("This resident is already checked in to another bed."),
        "history": _("This would overlap an earlier stay in the bed's or the resident's history; check the time."),
    }
    return {fragment: sentences[kind] for fragment, kind in STAY_CONFLICTS.items()}


def _isolation_conflict_messages() -> dict[str, str]:
    return {
        "isolations.room_id": _("This isolation room is already in use."),
        "uq_isolations_room_open": _("This isolation room is already in use."),
        "isolations.resident_id": _("This resident is already in isolation."),
        "uq_isolations_resident_open": _("This resident is already in isolation."),
        "overlap": _("This would overlap an earlier isolation; check the times."),
    }


def _check_time(at: datetime, now: datetime, field_name: str = "at") -> datetime:
    if at > now + FUTURE_TOLERANCE:
        raise DomainError(_("This time is in the future."), field=field_name)
    return at


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


def _validated(data: ResidentInput, *, actor, now: datetime) -> dict:
    alias = clean_text(data.alias, "alias", max_len=60, required=True)
    if data.sex not in SEXES:
        raise DomainError(_("Choose one of the listed options."), field="sex")
    if data.age_band not in AGE_BANDS:
        raise DomainError(_("Choose adult or child."), field="age_band")
    birth_year = data.birth_year
    if birth_year is not None and not (now.year - 110 <= birth_year <= now.year):
        raise DomainError(_("Enter a year between %(a)d and %(b)d.", a=now.year - 110, b=now.year),
                          field="birth_year")
    if data.age_band == "child" and birth_year is None:
        raise DomainError(_("For a child, enter the year of birth."), field="birth_year")
    forms = tuple(dict.fromkeys(data.exploitation_forms))
    if any(f not in EXPLOITATION_FORMS for f in forms):
        raise DomainError(_("Choose from the listed forms of exploitation."), field="exploitation_forms")
    values = {
        "alias": alias, "sex": data.sex, "age_band": data.age_band, "birth_year": birth_year,
        "country_of_origin": clean_text(data.country_of_origin, "country_of_origin", max_len=60),
        "languages": clean_text(data.languages, "languages", max_len=200),
        "interpreter_needed": bool(data.interpreter_needed),
        "exploitation_forms": list(forms),
        "dietary_needs": clean_text(data.dietary_needs, "dietary_needs", max_len=300),
        "allergies": clean_text(data.allergies, "allergies", max_len=300),
        "notes": clean_text(data.notes, "notes", max_len=5000),
    }
    legal = {"legal_name": data.legal_name, "document_data": data.document_data}
    # actor None is the system itself (demo data, imports); it may record what a manager may.
    may_see_identity = actor is None or actor.role == "manager"
    if any(v for v in legal.values()) and not may_see_identity:
        raise Forbidden(_("Only a manager records legal identity."), field="legal_name")
    if may_see_identity:
        values["legal_name"] = clean_text(data.legal_name, "legal_name", max_len=200) or None
        values["document_data"] = clean_text(data.document_data, "document_data", max_len=300) or None
    return values


def create_resident(data: ResidentInput, *, actor, at: datetime) -> Resident:
    """A new pseudonymous resident with a generated code."""
    values = _validated(data, actor=actor, now=at)
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


def get_resident(resident_id: int) -> Resident:
    resident = db.session.get(Resident, resident_id)
    if resident is None:
        raise NotFound(_("No such resident."))
    return resident


def open_stay_of(resident: Resident) -> Stay | None:
    return db.session.scalar(
        select(Stay).options(joinedload(Stay.bed).joinedload(Bed.room))
        .where(Stay.resident_id == resident.id, Stay.ended_at.is_(None)))


def open_isolation_of(resident: Resident) -> Isolation | None:
    return db.session.scalar(
        select(Isolation).options(joinedload(Isolation.room))
        .where(Isolation.resident_id == resident.id, Isolation.ended_at.is_(None)))


def residents_without_bed() -> list[Resident]:
    """Residents who could be checked in: no open stay, not anonymised. Newest first."""
    in_bed = select(Stay.resident_id).where(Stay.ended_at.is_(None))
    return list(db.session.scalars(
        select(Resident).where(Resident.id.not_in(in_bed), Resident.anonymised_at.is_(None))
        .order_by(Resident.created_at.desc()).limit(200)))


def search_residents(query: str, *, limit: int = 100) -> list[tuple[Resident, Stay | None]]:
    """Residents whose alias or code contains query, with their open stay (bed, room)."""
    stmt = (
        select(Resident, Stay)
        .outerjoin(Stay, (Stay.resident_id == Resident.id) & Stay.ended_at.is_(None))
        .options(joinedload(Stay.bed).joinedload(Bed.room).joinedload(Room.shelter))
        .where(Resident.anonymised_at.is_(None))
        .order_by(Stay.id.is_(None), Resident.alias)
        .limit(limit)
    )
    query = (query or "").strip()[:60]
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(or_(Resident.alias.ilike(like), Resident.code.ilike(like)))
    return [(r, s) for r, s in db.session.execute(stmt).all()]


# --- stays -------------------------------------------------------------------------------

def check_in(bed: Bed, resident: Resident, *, actor, at: datetime, now: datetime,
             referral_code: str | None = None) -> Stay:
    """Put resident in bed from at; an active hold on the bed is used up."""
    _check_time(at, now)
    bed = get_bed(bed.id, lock=True)  # concurrent check-ins for one bed queue here (PostgreSQL)
    if bed.room.is_isolation:
        raise DomainError(_("Choose a bed, not an isolation room."), field="bed_id")
    require_free(bed, at)
    current = open_stay_of(resident)
    if current is not None:
        raise Conflict(_("%(alias)s is already checked in (room %(room)s, bed %(bed)s).",
                         alias=resident.alias, room=current.bed.room.name, bed=current.bed.label))
    use_hold_if_any(bed, actor=actor, at=now)
    stay = Stay(resident_id=resident.id, bed_id=bed.id, started_at=at, referral_code=referral_code,
                started_by_id=getattr(actor, "id", None))
    db.session.add(stay)
    flush_or_conflict(_stay_conflict_messages())
    record("stay.check_in", actor=actor, at=now, target=stay, resident_id=resident.id, bed_id=bed.id,
           started_at=at.isoformat())
    return stay


def move(resident: Resident, to_bed: Bed, *, actor, at: datetime, now: datetime) -> Stay:
    """Move a checked-in resident to another free bed (of any shelter's staff view)."""
    _check_time(at, now)
    current = open_stay_of(resident)
    if current is None:
        raise Conflict(_("%(alias)s is not checked in.", alias=resident.alias))
    if current.bed_id == to_bed.id:
        raise DomainError(_("Choose a different bed."), field="to_bed_id")
    if at < current.started_at:
        raise DomainError(_("The move cannot be before the check-in."), field="at")
    # Lock both beds in id order so two moves in opposite directions cannot deadlock.
    for bed_id in sorted((current.bed_id, to_bed.id)):
        get_bed(bed_id, lock=True)
    to_bed = get_bed(to_bed.id)
    if to_bed.room.is_isolation:
        raise DomainError(_("Choose a bed, not an isolation room."), field="to_bed_id")
    require_free(to_bed, at)
    if active_hold(to_bed, now) is not None:
        raise Conflict(_("This bed is held for an expected arrival."))
    current.ended_at = at
    current.end_reason = "moved"
    current.ended_by_id = getattr(actor, "id", None)
    flush_or_conflict(_stay_conflict_messages())
    stay = Stay(resident_id=resident.id, bed_id=to_bed.id, started_at=at, referral_code=current.referral_code,
                started_by_id=getattr(actor, "id", None))
    db.session.add(stay)
    flush_or_conflict(_stay_conflict_messages())
    record("stay.move", actor=actor, at=now, target=stay, resident_id=resident.id,
           from_bed_id=current.bed_id, to_bed_id=to_bed.id)
    return stay


def check_out(resident: Resident, reason: str, destination: str, *, actor, at: datetime,
              now: datetime) -> Stay:
    """End the resident's stay (and any isolation) with a reason and destination."""
    _check_time(at, now)
    if reason not in CHECKOUT_REASONS:
        raise DomainError(_("Choose a reason."), field="reason")
    destination = clean_text(destination, "destination", max_len=200)
    current = open_stay_of(resident)
    if current is None:
        raise Conflict(_("%(alias)s is not checked in.", alias=resident.alias))
    if at < current.started_at:
        raise DomainError(_("The check-out cannot be before the check-in."), field="at")
    isolation = open_isolation_of(resident)
    if isolation is not None:
        end_isolation(isolation, actor=actor, at=max(at, isolation.started_at), now=now)
    current.ended_at = at
    current.end_reason = "checked_out"
    current.checkout_reason = reason
    current.destination = destination or None
    current.ended_by_id = getattr(actor, "id", None)
    flush_or_conflict(_stay_conflict_messages())
    record("stay.check_out", actor=actor, at=now, target=current, resident_id=resident.id, reason=reason)
    return current


# --- isolation ---------------------------------------------------------------------------

def isolate(resident: Resident, room: Room, reason: str, note: str, expected_end_at: datetime, *,
            actor, at: datetime, now: datetime) -> Isolation:
    """Move a checked-in resident into a free isolation room of their shelter; their bed stays theirs."""
    _check_time(at, now)
    if reason not in ISOLATION_REASONS:
        raise DomainError(_("Choose health or safety."), field="reason")
    note = clean_text(note, "note", max_len=300)
    if expected_end_at <= at:
        raise DomainError(_("The expected end must be after the start."), field="expected_end_at")
    if not room.is_isolation:
        raise DomainError(_("Choose an isolation room."), field="room_id")
    stay = open_stay_of(resident)
    if stay is None:
        raise Conflict(_("%(alias)s is not checked in.", alias=resident.alias))
    if stay.bed.room.shelter_id != room.shelter_id:
        raise DomainError(_("Choose an isolation room of the resident's shelter."), field="room_id")
    db.session.scalar(select(Room).where(Room.id == room.id).with_for_update())
    if db.session.scalar(select(exists().where(Isolation.room_id == room.id, Isolation.ended_at.is_(None)))):
        raise Conflict(_("This isolation room is already in use."))
    if open_isolation_of(resident) is not None:
        raise Conflict(_("This resident is already in isolation."))
    isolation = Isolation(resident_id=resident.id, room_id=room.id, reason=reason, note=note, started_at=at,
                          expected_end_at=expected_end_at, started_by_id=getattr(actor, "id", None))
    db.session.add(isolation)
    flush_or_conflict(_isolation_conflict_messages())
    record("isolation.start", actor=actor, at=now, target=isolation, resident_id=resident.id,
           room_id=room.id, reason=reason)
    return isolation


def end_isolation(isolation: Isolation, *, actor, at: datetime, now: datetime) -> None:
    _check_time(at, now)
    if isolation.ended_at is not None:
        raise Conflict(_("This isolation has already ended."))
    if at < isolation.started_at:
        raise DomainError(_("The end cannot be before the start."), field="at")
    isolation.ended_at = at
    isolation.ended_by_id = getattr(actor, "id", None)
    flush_or_conflict(_isolation_conflict_messages())
    record("isolation.end", actor=actor, at=now, target=isolation, resident_id=isolation.resident_id)


def get_isolation(isolation_id: int) -> Isolation:
    isolation = db.session.get(Isolation, isolation_id)
    if isolation is None:
        raise NotFound(_("No such isolation."))
    return isolation


# --- the resident page -------------------------------------------------------------------

@dataclass
class ResidentPage:
    resident: Resident
    stays: list[Stay]
    isolations: list[Isolation]

    @property
    def current_stay(self) -> Stay | None:
        return next((s for s in self.stays if s.ended_at is None), None)

    @property
    def current_isolation(self) -> Isolation | None:
        return next((i for i in self.isolations if i.ended_at is None), None)


def resident_page(resident: Resident, *, actor, at: datetime) -> ResidentPage:
    """A resident's record and history, in a fixed number of queries; the read is audited."""
    stays = list(db.session.scalars(
        select(Stay).options(joinedload(Stay.bed).joinedload(Bed.room).joinedload(Room.shelter))
        .where(Stay.resident_id == resident.id).order_by(Stay.started_at.desc())))
    isolations = list(db.session.scalars(
        select(Isolation).options(joinedload(Isolation.room))
        .where(Isolation.resident_id == resident.id).order_by(Isolation.started_at.desc())))
    record("resident.view", actor=actor, at=at, target=resident)
    return ResidentPage(resident=resident, stays=stays, isolations=isolations)
