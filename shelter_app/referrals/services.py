"""Referrals: a case manager asks for a bed; staff accept (a hold on a free bed) or decline with a reason."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, true
from sqlalchemy.orm import joinedload

from ..audit.services import record
from ..auth.permissions import can
from ..beds import services as beds
from ..beds.models import Hold
from ..beds.vocab import MAX_HOLD
from ..errors import Conflict, DomainError, Forbidden, NotFound, flush_or_conflict
from ..extensions import db
from ..shelters.models import Bed, Shelter
from ..shelters.services import get_shelter, in_scope
from ..shelters.vocab import BedCategory
from ..validation import clean_text
from .models import Referral
from .vocab import (CODE_MAX, DECLINE_NOTE_MAX, LANGUAGES_MAX, MAX_PEOPLE, NOTE_MAX, PUBLIC_ID_LENGTH, DeclineReason,
                    Need, ReferralStatus, ShownStatus)

# A hold answers a referral until the end of its arrival window, and a bed is held for at most this long.
MAX_WINDOW_AHEAD = MAX_HOLD
# A window that ended a little ago is a typo in the date, not something to ask a shelter for.
PAST_TOLERANCE = timedelta(minutes=5)



@dataclass
class ReferralInput:
    shelter: str | None = None  # a code name (what case managers know a shelter by); None: any shelter
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

def seen_by(actor):
    """SQL: staff actor sees the referral: sent to one of their shelters, or to any (all for actor None)."""
    if actor is None:
        return true()
    return or_(Referral.shelter_id.is_(None), in_scope(Referral.shelter_id, actor))


def get_referral(referral_id: int | str, *, actor=None, lock: bool = False) -> Referral:
    """The referral (by row id, or by public id as in a URL) as staff actor sees it; another shelter's is a
    404, as a missing one (actor None: any)."""
    key = Referral.public_id if isinstance(referral_id, str) else Referral.id
    query = (select(Referral).where(key == referral_id, seen_by(actor))
             .options(joinedload(Referral.shelter)))
    if lock:
        # The row lock queues concurrent answers to one referral (PostgreSQL; SQLite serialises writers).
        query = query.with_for_update(of=Referral).execution_options(populate_existing=True)
    referral = db.session.scalar(query)
    if referral is None:
        raise NotFound(_("No such referral."))
    return referral


def get_for_organisation(public_id: str, organisation: str | None) -> Referral:
    """The referral (by public id) if it belongs to organisation; another organisation's is "not found", not
    "forbidden". With its shelter, which the page shows (no query from the template)."""
    referral = db.session.scalar(select(Referral).options(joinedload(Referral.shelter))
                                 .where(Referral.public_id == public_id))
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
    return referral.status == ReferralStatus.PENDING and now - referral.created_at >= timedelta(minutes=answer_minutes)


def display_status(referral: Referral, hold: Hold | None, now: datetime) -> str:
    """What the status means now: stored status, refined by the clock (an answer or hold that ran out)."""
    if referral.status == ReferralStatus.PENDING and referral.arrival_until <= now:
        return ShownStatus.LAPSED
    if referral.status == ReferralStatus.ACCEPTED:
        if hold is not None and hold.active_at(now):
            return ShownStatus.ACCEPTED
        return ShownStatus.HOLD_ENDED
    return ShownStatus(referral.status)


@dataclass
class Inbox:
    """What staff see on a shelter's bed board: referrals to answer and accepted ones on their way."""

    pending: list[Referral]
    expected: list[Referral]
    holds: dict[int, Hold]
    overdue_ids: set[int]
    waiting_elsewhere: int

    @property
    def overdue(self) -> int:
        return len(self.overdue_ids)


def inbox(shelter: Shelter | None, now: datetime, *, answer_minutes: int, actor=None) -> Inbox:
    """Referrals for shelter (or any shelter; all when shelter is None) that staff actor sees, in a fixed
    number of queries."""
    open_window = Referral.arrival_until > now
    pending_q = (select(Referral).where(Referral.status == ReferralStatus.PENDING, open_window, seen_by(actor))
                 .order_by(Referral.created_at, Referral.id))
    expected_q = (select(Referral).options(joinedload(Referral.shelter))
                  .join(Hold, and_(Hold.referral_id == Referral.id, Hold.released_at.is_(None),
                                   Hold.expires_at > now))
                  .where(Referral.status == ReferralStatus.ACCEPTED, seen_by(actor)).order_by(Hold.expires_at))
    if shelter is not None:
        pending_q = pending_q.where(or_(Referral.shelter_id == shelter.id, Referral.shelter_id.is_(None)))
        expected_q = expected_q.where(Referral.shelter_id == shelter.id)
    pending = list(db.session.scalars(pending_q.options(joinedload(Referral.shelter))))
    expected = list(db.session.scalars(expected_q))
    overdue = {r.id for r in pending if is_overdue(r, now, answer_minutes)}
    elsewhere = 0
    if shelter is not None:
        elsewhere = db.session.scalar(select(func.count(Referral.id)).where(
            Referral.status == ReferralStatus.PENDING, open_window, Referral.shelter_id != shelter.id,
            in_scope(Referral.shelter_id, actor))) or 0
    return Inbox(pending=pending, expected=expected, holds=holds_of(expected), overdue_ids=overdue,
                 waiting_elsewhere=elsewhere)


# --- the case manager's side ---------------------------------------------------------------

def _validated(data: ReferralInput, *, now: datetime) -> dict:
    shelter_id = None
    if data.shelter:
        shelter_id = db.session.scalar(select(Shelter.id).where(Shelter.code_name == data.shelter))
        if shelter_id is None:
            raise DomainError(_("Choose a shelter from the list."), field="shelter")
    if data.category not in BedCategory.values():
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
    if any(n not in Need.values() for n in needs):
        raise DomainError(_("Choose from the listed needs."), field="needs")
    code = clean_text(data.code, "code", max_len=CODE_MAX, required=True, multiline=False)
    return {
        "shelter_id": shelter_id, "category": data.category, "people": data.people,
        "arrival_from": data.arrival_from, "arrival_until": data.arrival_until,
        "languages": clean_text(data.languages, "languages", max_len=LANGUAGES_MAX),
        "interpreter_needed": bool(data.interpreter_needed), "needs": list(needs),
        "note": clean_text(data.note, "note", max_len=NOTE_MAX), "code": code,
    }


def create_referral(data: ReferralInput, *, actor, at: datetime) -> Referral:
    """A case manager's request for a bed, on behalf of their organisation."""
    organisation = (getattr(actor, "organisation", None) or "").strip()
    if not can(actor, "referrals.send"):
        raise Forbidden(_("Only case managers send referrals."))
    if not organisation:
        raise Forbidden(_("Your account has no organisation; ask the administrator to add it."))
    referral = Referral(organisation=organisation, created_by_id=actor.id, status=ReferralStatus.PENDING.value, created_at=at,
                        public_id=new_public_id(), **_validated(data, now=at))
    db.session.add(referral)
    flush_or_conflict({
        "uq_referrals_organisation_code": _("Your organisation already used this referral code."),
        "referrals.organisation, referrals.code": _("Your organisation already used this referral code."),
    })
    record("referral.create", actor=actor, at=at, target=referral, shelter_id=referral.shelter_id,
           category=referral.category, people=referral.people)
    return referral


def new_public_id() -> str:
    """A referral's random address (a collision, once in 2^40 referrals, is refused by the unique index)."""
    return secrets.token_hex(PUBLIC_ID_LENGTH // 2)


def cancel_referral(referral: Referral, *, actor, at: datetime) -> None:
    """The case manager no longer needs the bed: the referral is withdrawn and a held bed is freed."""
    referral = get_referral(referral.id, lock=True)
    if referral.status not in (ReferralStatus.PENDING, ReferralStatus.ACCEPTED):
        raise Conflict(_("This referral can no longer be withdrawn."))
    beds.release_referral_hold(referral, actor=actor, at=at)
    referral.status = ReferralStatus.CANCELLED.value
    referral.cancelled_at = at
    record("referral.cancel", actor=actor, at=at, target=referral)


# --- the shelter's side --------------------------------------------------------------------

def _pending_for(referral_id: int, shelter: Shelter | None, at: datetime, *, actor) -> Referral:
    referral = get_referral(referral_id, actor=actor, lock=True)
    if shelter is not None:
        get_shelter(shelter.id, actor=actor)  # answered only from a board of one's own shelter
    if referral.status != ReferralStatus.PENDING:
        raise Conflict(_("This referral was already answered or withdrawn."))
    if shelter is not None and referral.shelter_id not in (None, shelter.id):
        raise DomainError(_("This referral was sent to another shelter."))
    return referral


def accept_referral(referral: Referral, shelter: Shelter, *, actor, at: datetime) -> Hold:
    """Hold a free bed of the requested category in shelter until the arrival window ends.

    Atomic against a concurrent acceptance: the referral and then the chosen bed are locked and the
    bed is checked again under the lock; if the last bed went meanwhile, the answer says so.
    """
    referral = _pending_for(referral.id, shelter, at, actor=actor)
    if referral.arrival_until <= at:
        raise Conflict(_("The arrival window of this referral has passed; ask the case manager for a new one."))
    hold = beds.hold_first_free(shelter, referral.category, referral.arrival_until,
                                _("Referral %(code)s", code=referral.code)[:200], referral=referral, actor=actor, at=at)
    if hold is not None:
        referral.status = ReferralStatus.ACCEPTED.value
        referral.shelter_id = shelter.id
        referral.answered_at = at
        referral.answered_by_id = getattr(actor, "id", None)
        record("referral.accept", actor=actor, at=at, target=referral, hold_id=hold.id, bed_id=hold.bed_id)
        return hold
    raise Conflict(_("No bed free any more in the category “%(category)s” in this shelter.",
                     category=_category_label(referral.category)))


def _category_label(category: str) -> str:
    return str(BedCategory(category).label)


def decline_referral(referral: Referral, reason: str, note: str, *, shelter: Shelter | None, actor,
                     at: datetime) -> None:
    """Say no, with a reason the case manager reads (no names in the note)."""
    if reason not in DeclineReason.values():
        raise DomainError(_("Choose a reason."), field="reason")
    note = clean_text(note, "note", max_len=DECLINE_NOTE_MAX)
    if reason == "other" and not note:
        raise DomainError(_("Say in a few words why."), field="note")
    referral = _pending_for(referral.id, shelter, at, actor=actor)
    referral.status = ReferralStatus.DECLINED.value
    referral.decline_reason = reason
    referral.decline_note = note
    referral.answered_at = at
    referral.answered_by_id = getattr(actor, "id", None)
    record("referral.decline", actor=actor, at=at, target=referral, reason=reason)


def check_in_from_referral(referral: Referral, arrival, *, actor, now: datetime):
    """The referred person arrived: record them and check them in to the bed held for the referral."""
    referral = get_referral(referral.id, actor=actor, lock=True)
    if referral.status != ReferralStatus.ACCEPTED:
        raise Conflict(_("Only an accepted referral can be checked in."))
    hold = beds.referral_hold(referral, now)
    if hold is None:
        raise Conflict(_("The bed held for this referral is no longer held; check the person in from the board."))
    try:
        stay = beds.check_in(hold.bed_id, beds.CheckIn(new_arrival=arrival, referral_code=referral.code),
                             actor=actor, now=now)
    except DomainError as exc:  # the arrival form's fields have no new_ prefix
        exc.field = exc.field.removeprefix("new_") if exc.field else None
        raise
    referral.status = ReferralStatus.ARRIVED.value
    referral.stay_id = stay.id
    record("referral.arrive", actor=actor, at=now, target=referral, stay_id=stay.id)
    return stay
