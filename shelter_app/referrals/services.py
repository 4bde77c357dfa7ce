"""Referrals: a case manager asks for a bed; staff accept (a hold on a free bed) or decline with a reason."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload

from ..audit.services import record
from ..availability.services import free_bed_condition
from ..errors import Conflict, DomainError, Forbidden, NotFound, flush_or_conflict
from ..extensions import db
from ..residents import services as residents
from ..shelters import services as shelters
from ..shelters.models import BED_CATEGORIES, Bed, Hold, Room, Shelter
from ..validation import clean_text
from .models import DECLINE_REASONS, MAX_PEOPLE, NEEDS, Referral

# A hold answers a referral until the end of its arrival window, and a bed is held for at most this long.
MAX_WINDOW_AHEAD = shelters.MAX_HOLD
# A window that ended a little ago is a typo in the date, not something to ask a shelter for.
PAST_TOLERANCE = timedelta(minutes=5)



@dataclass
class ReferralInput:
    shelter_id: int | None = None
    category: str = ""
    people: int | None = None
    arrival_from: datetime | None = None
    arrival_until: datetime | None = None
    languages: str = ""
    interpreter_needed: bool = False
    needs: tuple[str, ...] = ()
    note: str = ""
    code: str = ""


# --- reading -------------------------------------------------------------------------------

def get_referral(referral_id: int, *, lock: bool = False) -> Referral:
    query = select(Referral).where(Referral.id == referral_id).options(joinedload(Referral.shelter))
    if lock:
        # The row lock queues concurrent answers to one referral (PostgreSQL; SQLite serialises writers).
        query = query.with_for_update(of=Referral).execution_options(populate_existing=True)
    referral = db.session.scalar(query)
    if referral is None:
        raise NotFound(_("No such referral."))
    return referral


def get_for_organisation(referral_id: int, organisation: str | None) -> Referral:
    """The referral if it belongs to organisation; another organisation's is "not found", not "forbidden"."""
    referral = db.session.get(Referral, referral_id)
    if referral is None or not organisation or referral.organisation != organisation:
        raise NotFound(_("No such referral."))
    return referral


def list_for_organisation(organisation: str | None, *, limit: int = 200) -> list[Referral]:
    if not organisation:
        return []
    return list(db.session.scalars(
        select(Referral).options(joinedload(Referral.shelter)).where(Referral.organisation == organisation)
        .order_by(Referral.created_at.desc(), Referral.id.desc()).limit(limit)))


def holds_of(referrals: list[Referral]) -> dict[int, Hold]:
    """The latest hold of each referral (active or not), in one query."""
    ids = [r.id for r in referrals]
    if not ids:
        return {}
    latest: dict[int, Hold] = {}
    for hold in db.session.scalars(
            select(Hold).options(joinedload(Hold.bed).joinedload(Bed.room))
            .where(Hold.referral_id.in_(ids)).order_by(Hold.created_at, Hold.id)):
        latest[hold.referral_id] = hold
    return latest


def is_overdue(referral: Referral, now: datetime, answer_minutes: int) -> bool:
    """Pending and unanswered for longer than the shelter promises (worked out from the clock, no job)."""
    return referral.status == "pending" and now - referral.created_at >= timedelta(minutes=answer_minutes)


def display_status(referral: Referral, hold: Hold | None, now: datetime) -> str:
    """What the status means now: stored status, refined by the clock (an answer or hold that ran out)."""
    if referral.status == "pending" and referral.arrival_until <= now:
        return "lapsed"
    if referral.status == "accepted":
        if hold is not None and hold.active_at(now):
            return "accepted"
        return "hold_ended"
    return referral.status


@dataclass
class Inbox:
    """What staff see on a shelter's bed board: referrals to answer and accepted ones on their way."""

    pending: list[Referral]
    expected: list[Referral]
    holds: dict[int, Hold]
    overdue: int
    waiting_elsewhere: int


def inbox(shelter: Shelter | None, now: datetime, *, answer_minutes: int) -> Inbox:
    """Referrals for shelter (or any shelter; all when shelter is None), in a fixed number of queries."""
    open_window = Referral.arrival_until > now
    pending_q = (select(Referral).where(Referral.status == "pending", open_window)
                 .order_by(Referral.created_at, Referral.id))
    expected_q = (select(Referral).options(joinedload(Referral.shelter))
                  .join(Hold, and_(Hold.referral_id == Referral.id, Hold.released_at.is_(None),
                                   Hold.expires_at > now))
                  .where(Referral.status == "accepted").order_by(Hold.expires_at))
    if shelter is not None:
        pending_q = pending_q.where(or_(Referral.shelter_id == shelter.id, Referral.shelter_id.is_(None)))
        expected_q = expected_q.where(Referral.shelter_id == shelter.id)
    pending = list(db.session.scalars(pending_q.options(joinedload(Referral.shelter))))
    expected = list(db.session.scalars(expected_q))
    overdue = sum(1 for r in pending if is_overdue(r, now, answer_minutes))
    elsewhere = 0
    if shelter is not None:
        elsewhere = db.session.scalar(select(func.count(Referral.id)).where(
            Referral.status == "pending", open_window, Referral.shelter_id != shelter.id)) or 0
    return Inbox(pending=pending, expected=expected, holds=holds_of(expected), overdue=overdue,
                 waiting_elsewhere=elsewhere)


# --- the case manager's side ---------------------------------------------------------------

def _validated(data: ReferralInput, *, now: datetime) -> dict:
    shelter_id = data.shelter_id
    if shelter_id is not None and db.session.get(Shelter, shelter_id) is None:
        raise DomainError(_("Choose a shelter from the list."), field="shelter_id")
    if data.category not in BED_CATEGORIES:
        raise DomainError(_("Choose a bed category."), field="category")
    if data.people is None or not (1 <= data.people <= MAX_PEOPLE):
        raise DomainError(_("Enter a number from 1 to %(n)d.", n=MAX_PEOPLE), field="people")
    if data.arrival_from is None:
        raise DomainError(_("Enter the earliest arrival."), field="arrival_from")
    if data.arrival_until is None:
        raise DomainError(_("Enter the latest arrival."), field="arrival_until")
    if data.arrival_until <= data.arrival_from:
        raise DomainError(_("The latest arrival must be after the earliest."), field="arrival_until")
    if data.arrival_until <= now + PAST_TOLERANCE:
        raise DomainError(_("The arrival window must end in the future."), field="arrival_until")
    if data.arrival_until - now > MAX_WINDOW_AHEAD:
        raise DomainError(_("A bed can be held for at most 7 days; ask again nearer the time."),
                          field="arrival_until")
    needs = tuple(dict.fromkeys(data.needs))
    if any(n not in NEEDS for n in needs):
        raise DomainError(_("Choose from the listed needs."), field="needs")
    code = clean_text(data.code, "code", max_len=40, required=True)
    return {
        "shelter_id": shelter_id, "category": data.category, "people": data.people,
        "arrival_from": data.arrival_from, "arrival_until": data.arrival_until,
        "languages": clean_text(data.languages, "languages", max_len=200),
        "interpreter_needed": bool(data.interpreter_needed), "needs": list(needs),
        "note": clean_text(data.note, "note", max_len=500), "code": code,
    }


def create_referral(data: ReferralInput, *, actor, at: datetime) -> Referral:
    """A case manager's request for a bed, on behalf of their organisation."""
    organisation = (getattr(actor, "organisation", None) or "").strip()
    if getattr(actor, "role", None) != "casemanager":
        raise Forbidden(_("Only case managers send referrals."))
    if not organisation:
        raise Forbidden(_("Your account has no organisation; ask the administrator to add it."))
    referral = Referral(organisation=organisation, created_by_id=actor.id, status="pending", created_at=at,
                        **_validated(data, now=at))
    db.session.add(referral)
    flush_or_conflict({
        "uq_referrals_organisation_code": _("Your organisation already used this referral code."),
        "referrals.organisation, referrals.code": _("Your organisation already used this referral code."),
    })
    record("referral.create", actor=actor, at=at, target=referral, shelter_id=referral.shelter_id,
           category=referral.category, people=referral.people)
    return referral


def cancel_referral(referral: Referral, *, actor, at: datetime) -> None:
    """The case manager no longer needs the bed: the referral is withdrawn and a held bed is freed."""
    referral = get_referral(referral.id, lock=True)
    if referral.status not in ("pending", "accepted"):
        raise Conflict(_("This referral can no longer be withdrawn."))
    hold = _active_hold(referral, at)
    if hold is not None:
        shelters.release_hold(hold, actor=actor, at=at, reason="referral_cancelled")
    referral.status = "cancelled"
    referral.cancelled_at = at
    record("referral.cancel", actor=actor, at=at, target=referral)


# --- the shelter's side --------------------------------------------------------------------

def _active_hold(referral: Referral, at: datetime) -> Hold | None:
    return db.session.scalar(
        select(Hold).where(Hold.referral_id == referral.id, Hold.released_at.is_(None), Hold.expires_at > at))


def _pending_for(referral_id: int, shelter: Shelter | None, at: datetime) -> Referral:
    referral = get_referral(referral_id, lock=True)
    if referral.status != "pending":
        raise Conflict(_("This referral was already answered or withdrawn."))
    if shelter is not None and referral.shelter_id not in (None, shelter.id):
        raise DomainError(_("This referral was sent to another shelter."))
    return referral


def accept_referral(referral: Referral, shelter: Shelter, *, actor, at: datetime) -> Hold:
    """Hold a free bed of the requested category in shelter until the arrival window ends.

    Atomic against a concurrent acceptance: the referral and then the chosen bed are locked and the
    bed is checked again under the lock; if the last bed went meanwhile, the answer says so.
    """
    referral = _pending_for(referral.id, shelter, at)
    if referral.arrival_until <= at:
        raise Conflict(_("The arrival window of this referral has passed; ask the case manager for a new one."))
    candidates = db.session.scalars(
        select(Bed.id).join(Room)
        .where(Room.shelter_id == shelter.id, Room.kind != "isolation", Bed.category == referral.category,
               free_bed_condition(at))
        .order_by(Room.name, Bed.label)).all()
    for bed_id in candidates:
        bed = shelters.get_bed(bed_id, lock=True)
        # Under the lock, fresh reads: another acceptance or check-in may have just taken it.
        if (bed.out_of_service_at(at) or shelters.open_stay_on(bed) is not None
                or shelters.active_hold(bed, at) is not None):
            continue
        hold = shelters.place_hold(bed, referral.arrival_until, _("Referral %(code)s", code=referral.code)[:200],
                                   actor=actor, at=at, referral=referral)
        referral.status = "accepted"
        referral.shelter_id = shelter.id
        referral.answered_at = at
        referral.answered_by_id = getattr(actor, "id", None)
        record("referral.accept", actor=actor, at=at, target=referral, hold_id=hold.id, bed_id=bed.id)
        return hold
    raise Conflict(_("No bed free any more in the category “%(category)s” in this shelter.",
                     category=_category_label(referral.category)))


def _category_label(category: str) -> str:
    from ..shelters.forms import CATEGORY_LABELS

    return str(CATEGORY_LABELS.get(category, category))


def decline_referral(referral: Referral, reason: str, note: str, *, shelter: Shelter | None, actor,
                     at: datetime) -> None:
    """Say no, with a reason the case manager reads (no names in the note)."""
    if reason not in DECLINE_REASONS:
        raise DomainError(_("Choose a reason."), field="reason")
    note = clean_text(note, "note", max_len=300)
    if reason == "other" and not note:
        raise DomainError(_("Say in a few words why."), field="note")
    referral = _pending_for(referral.id, shelter, at)
    referral.status = "declined"
    referral.decline_reason = reason
    referral.decline_note = note
    referral.answered_at = at
    referral.answered_by_id = getattr(actor, "id", None)
    record("referral.decline", actor=actor, at=at, target=referral, reason=reason)


def check_in_from_referral(referral: Referral, resident, *, actor, at: datetime, now: datetime):
    """The referred person arrived: check them in to the bed held for the referral, under its code."""
    referral = get_referral(referral.id, lock=True)
    if referral.status != "accepted":
        raise Conflict(_("Only an accepted referral can be checked in."))
    hold = _active_hold(referral, now)
    if hold is None:
        raise Conflict(_("The bed held for this referral is no longer held; check the person in from the board."))
    bed = shelters.get_bed(hold.bed_id)
    stay = residents.check_in(bed, resident, actor=actor, at=at, now=now, referral_code=referral.code)
    referral.status = "arrived"
    referral.stay_id = stay.id
    record("referral.arrive", actor=actor, at=now, target=referral, stay_id=stay.id)
    return stay
