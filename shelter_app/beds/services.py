"""Bed occupancy: the one free-bed rule, every bed action under a lock, and the board's read models.

Every action locks the rows it changes, read fresh from the database (not the session's copies):
first the rooms, then the beds, each in id order, so two actions never wait on each other in a
circle. Under the lock it reads the bed's state again with the same rule the board and
availability use, so whatever the interleaving a bed is exactly one of free, held, occupied, out
of service, or blocked by an isolation in place. On SQLite a request holds the database's write
lock from its first statement (db.py), which serialises the same actions.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import and_, case, exists, func, literal, or_, select, true, update
from sqlalchemy.orm import aliased, contains_eager, joinedload

from ..audit.services import record
from ..auth.permissions import can
from ..errors import Conflict, DomainError, NotFound, OutOfScope, flush_or_conflict
from ..extensions import db
from ..residents import services as residents
from ..residents.models import Resident
from ..shelters.models import Bed, Room, Shelter
from ..shelters.services import in_scope, note_availability_change
from ..shelters.vocab import BedCategory, RoomKind
from ..validation import clean_text
from .models import Hold, Isolation, Stay
from .vocab import (BACKDATE_LIMIT, DESTINATION_MAX, FUTURE_TOLERANCE, HOLD_NOTE_MAX, ISOLATION_NOTE_MAX, MAX_HOLD,
                    OUT_REASON_MAX, OVERRIDE_REASON_MAX, UNDO_WINDOW, BedState, CheckoutReason, HoldRelease,
                    IsolationReason, StayEnd, fits)

# --- the one rule: what state a bed is in -----------------------------------------------------


def _occupied():
    return exists().where(Stay.bed_id == Bed.id, Stay.ended_at.is_(None))


def _out_of_service(at: datetime):
    return and_(Bed.out_of_service_reason.is_not(None),
                or_(Bed.out_of_service_until.is_(None), Bed.out_of_service_until > at))


def _held(at: datetime):
    return exists().where(Hold.bed_id == Bed.id, Hold.released_at.is_(None), Hold.expires_at > at)


def _blocked():
    return exists().where(Isolation.room_id == Bed.room_id, Isolation.ended_at.is_(None))


def free_bed_condition(at: datetime):
    """A bed is free at `at`: nobody in it, in service, not held, its room not isolated in place.

    The one definition of "free", used by the board, availability, referrals and the API.
    """
    return and_(~_occupied(), ~_out_of_service(at), ~_held(at), ~_blocked())


def bed_state(at: datetime):
    """The state of Bed at `at` as an SQL expression, from the same parts as free_bed_condition."""
    return case(
        (_occupied(), literal(BedState.OCCUPIED.value)),
        (_out_of_service(at), literal(BedState.OUT.value)),
        (_held(at), literal(BedState.HELD.value)),
        (_blocked(), literal(BedState.BLOCKED.value)),
        else_=literal(BedState.FREE.value),
    )


def state_of(bed: Bed, at: datetime) -> BedState:
    """The bed's state now, read from the database."""
    return BedState(db.session.scalar(select(bed_state(at)).where(Bed.id == bed.id)))


REFUSALS = {
    BedState.OCCUPIED: lambda: _("This bed is already taken."),
    BedState.OUT: lambda: _("This bed is out of service."),
    BedState.HELD: lambda: _("This bed is already held for someone else."),
    BedState.BLOCKED: lambda: _("This room is isolated: nobody else is put here until the isolation ends."),
    BedState.FREE: lambda: _("This bed is free (now)."),
}


def require_state(bed: Bed, at: datetime, *allowed: BedState) -> BedState:
    """The bed's state, or a Conflict saying what it is instead."""
    state = state_of(bed, at)
    if state not in allowed:
        raise Conflict(REFUSALS[state]())
    return state


# --- lookups and locks ----------------------------------------------------------------------

def _of_actor(actor):
    """SQL: Bed is in one of actor's shelters (any bed for actor None)."""
    if actor is None:
        return true()
    return Bed.room_id.in_(select(Room.id).where(in_scope(Room.shelter_id, actor)))


def get_bed(bed_id: int, *, actor) -> Bed:
    """The bed with its room and shelter; a bed of a shelter actor does not belong to is a 404, as a missing one."""
    bed = db.session.scalar(
        select(Bed).options(joinedload(Bed.room).joinedload(Room.shelter)).where(Bed.id == bed_id)
        .where(_of_actor(actor)))
    if bed is None:
        raise NotFound(_("No such bed."))
    return bed


def lock(*, beds=(), rooms=(), actor=None, at: datetime) -> dict[int, Bed]:
    """Lock rooms, then beds, each in id order, read fresh; returns the beds by id.

    The beds must be in actor's shelters (actor None: any), else NotFound; rooms may be anyone's
    (an isolation room of another shelter). Every bed action locks what it changes, so this is where
    the shelters' availability is noted as changed at `at` (a refused action rolls the note back).
    """
    room_ids = set(rooms)
    fresh: dict[int, Bed] = {}
    if beds:
        room_ids |= set(db.session.scalars(select(Bed.room_id).where(Bed.id.in_(list(beds)))))
    shelter_ids = set()
    for room_id in sorted(room_ids):
        room = db.session.scalar(select(Room).where(Room.id == room_id).with_for_update()
                                 .execution_options(populate_existing=True))
        if room is not None:
            shelter_ids.add(room.shelter_id)
    for bed_id in sorted(set(beds)):
        bed = db.session.scalar(select(Bed).options(joinedload(Bed.room)).where(Bed.id == bed_id, _of_actor(actor))
                                .with_for_update(of=Bed).execution_options(populate_existing=True))
        if bed is None:
            raise NotFound(_("No such bed."))
        fresh[bed_id] = bed
    note_availability_change(shelter_ids, at=at)
    return fresh


def _fresh(query):
    return db.session.scalar(query.execution_options(populate_existing=True))


def open_stay_on(bed: Bed) -> Stay | None:
    return _fresh(select(Stay).options(joinedload(Stay.resident))
                  .where(Stay.bed_id == bed.id, Stay.ended_at.is_(None)))


def active_hold(bed: Bed, at: datetime) -> Hold | None:
    return _fresh(select(Hold).where(Hold.bed_id == bed.id, Hold.released_at.is_(None), Hold.expires_at > at))


def open_stay_of(resident: Resident) -> Stay | None:
    return _fresh(select(Stay).options(joinedload(Stay.bed).joinedload(Bed.room))
                  .where(Stay.resident_id == resident.id, Stay.ended_at.is_(None)))


def open_isolation_of(resident: Resident) -> Isolation | None:
    return _fresh(select(Isolation).options(joinedload(Isolation.room))
                  .where(Isolation.resident_id == resident.id, Isolation.ended_at.is_(None)))


def _occupant(bed: Bed) -> Stay:
    stay = open_stay_on(bed)
    if stay is None:
        raise Conflict(_("Nobody is checked in to this bed (any more)."))
    return stay


# --- time -------------------------------------------------------------------------------------

def _not_future(at: datetime, now: datetime, field_name: str = "at") -> datetime:
    if at > now + FUTURE_TOLERANCE:
        raise DomainError(_("This time is in the future."), field=field_name)
    return at


def _check_in_time(bed: Bed, resident: Resident, at: datetime, now: datetime, *, actor,
                   backdate_confirmed: bool) -> None:
    """At most 48 hours back (further: a manager, confirmed), never before the bed or the person was free."""
    _not_future(at, now)
    if now - at > BACKDATE_LIMIT:
        if not can(actor, "beds.backdate") and actor is not None:
            raise DomainError(_("A check-in can be dated at most 48 hours back; ask a manager."), field="at")
        if not backdate_confirmed and actor is not None:
            raise DomainError(_("This is more than 48 hours ago: tick the confirmation to record it."),
                              field="confirm_backdate")
    bed_free_since = db.session.scalar(select(func.max(Stay.ended_at)).where(Stay.bed_id == bed.id))
    if bed_free_since is not None and at < bed_free_since:
        raise DomainError(_("The bed was still taken then (until %(t)s).", t=_local(bed_free_since)), field="at")
    person_free_since = db.session.scalar(select(func.max(Stay.ended_at)).where(Stay.resident_id == resident.id))
    if person_free_since is not None and at < person_free_since:
        raise DomainError(_("%(alias)s was still in another bed then (until %(t)s).", alias=resident.alias,
                            t=_local(person_free_since)), field="at")


def _not_before_earlier_stays(bed: Bed, resident: Resident, now: datetime) -> datetime:
    """The moment of a check-in "now": now, or the end of the bed's or the person's last stay if later.

    A check-out that ended the bed's stay a moment after this request began, and held the bed's lock
    meanwhile, happened before this check-in: it is dated after it, not refused as overlapping it.
    """
    ended = db.session.scalar(select(func.max(Stay.ended_at)).where(
        or_(Stay.bed_id == bed.id, Stay.resident_id == resident.id)))
    return max(now, ended) if ended is not None else now


def _local(value: datetime) -> str:
    from flask_babel import format_datetime

    return format_datetime(value, "short")


# --- who fits which bed -----------------------------------------------------------------------

def _check_fit(bed: Bed, resident: Resident, override_reason: str | None, *, actor, field_name: str) -> str | None:
    """None if resident fits bed; the cleaned override reason if one was given by someone allowed to."""
    if fits(bed.category, resident.sex, resident.age_band):
        return None
    category = str(BedCategory(bed.category).label)
    if actor is not None and not can(actor, "beds.category_override"):
        raise DomainError(_("%(alias)s does not fit a bed of the category “%(category)s”. Choose another bed, "
                            "or ask a manager or the night staff.", alias=resident.alias, category=category),
                          field=field_name)
    reason = clean_text(override_reason, "override_reason", max_len=OVERRIDE_REASON_MAX)
    if not reason and actor is not None:
        raise DomainError(_("%(alias)s does not fit a bed of the category “%(category)s”. Choose another bed, or "
                            "tick “put here anyway” and say why.", alias=resident.alias, category=category),
                          field="override_reason")
    return reason or None


# --- holds and service ------------------------------------------------------------------------

def _release_expired_holds(bed: Bed, at: datetime) -> None:
    db.session.execute(
        update(Hold)
        .where(Hold.bed_id == bed.id, Hold.released_at.is_(None), Hold.expires_at <= at)
        .values(released_at=Hold.expires_at, release_reason=HoldRelease.EXPIRED.value)
        .execution_options(synchronize_session=False)
    )


def _place_hold(bed: Bed, expires_at: datetime, note: str, *, actor, at: datetime, referral=None) -> Hold:
    """Hold a bed already locked and found free."""
    _release_expired_holds(bed, at)
    hold = Hold(bed_id=bed.id, expires_at=expires_at, note=note, created_at=at,
                created_by_id=getattr(actor, "id", None), referral_id=getattr(referral, "id", None))
    db.session.add(hold)
    flush_or_conflict({
        "uq_holds_referral_open": _("A bed is already held for this referral."),
        "holds.referral_id": _("A bed is already held for this referral."),
        "holds": _("This bed is already held for someone else."),
    })
    record("hold.place", actor=actor, at=at, target=hold, bed_id=bed.id, expires_at=expires_at.isoformat(),
           referral_id=hold.referral_id)
    return hold


def place_hold(bed_id: int, expires_at: datetime | None, note: str, *, actor, at: datetime) -> Hold:
    """Keep a free bed for an expected arrival until expires_at."""
    note = clean_text(note, "note", max_len=HOLD_NOTE_MAX)
    if expires_at is None:
        raise DomainError(_("Enter until when."), field="expires_at")
    if expires_at <= at:
        raise DomainError(_("The hold must end in the future."), field="expires_at")
    if expires_at - at > MAX_HOLD:
        raise DomainError(_("A bed can be held for at most 7 days."), field="expires_at")
    bed = lock(beds=[bed_id], actor=actor, at=at)[bed_id]
    require_state(bed, at, BedState.FREE)
    return _place_hold(bed, expires_at, note, actor=actor, at=at)


def hold_first_free(shelter: Shelter, category: str, expires_at: datetime, note: str, *, referral, actor,
                    at: datetime) -> Hold | None:
    """Hold the first free bed of category in shelter for referral; None if none is free (any more)."""
    candidates = db.session.scalars(
        select(Bed.id).join(Room)
        .where(Room.shelter_id == shelter.id, Room.kind == RoomKind.REGULAR, Bed.category == category,
               free_bed_condition(at))
        .order_by(Room.name, Bed.label)).all()
    for bed_id in candidates:
        bed = lock(beds=[bed_id], at=at)[bed_id]  # beds of shelter, which the referral's answer checked is actor's
        # Under the lock, a fresh look: another acceptance or a check-in may have just taken it.
        if state_of(bed, at) is BedState.FREE:
            return _place_hold(bed, expires_at, note, actor=actor, at=at, referral=referral)
    return None


def _release(hold: Hold, *, actor, at: datetime, reason: HoldRelease) -> None:
    hold.released_at = max(at, hold.created_at)
    hold.release_reason = reason.value
    record("hold.release", actor=actor, at=at, target=hold, reason=reason.value)


def release_hold(bed_id: int, *, actor, at: datetime) -> Hold:
    """Give up the hold on a bed."""
    bed = lock(beds=[bed_id], actor=actor, at=at)[bed_id]
    hold = active_hold(bed, at)
    if hold is None:
        raise Conflict(_("This bed is not held (any more)."))
    _release(hold, actor=actor, at=at, reason=HoldRelease.RELEASED)
    return hold


def release_referral_hold(referral, *, actor, at: datetime) -> None:
    """A withdrawn referral frees the bed held for it, if any."""
    hold = _fresh(select(Hold).where(Hold.referral_id == referral.id, Hold.released_at.is_(None),
                                     Hold.expires_at > at))
    if hold is not None:
        lock(beds=[hold.bed_id], at=at)
        _release(hold, actor=actor, at=at, reason=HoldRelease.REFERRAL_CANCELLED)


def referral_hold(referral, at: datetime) -> Hold | None:
    """The active hold of a referral."""
    return _fresh(select(Hold).where(Hold.referral_id == referral.id, Hold.released_at.is_(None),
                                     Hold.expires_at > at))


def set_out_of_service(bed_id: int, reason: str, until: datetime | None, *, actor, at: datetime) -> Bed:
    """Take a free bed out of service, until a moment or until someone puts it back."""
    reason = clean_text(reason, "reason", max_len=OUT_REASON_MAX, required=True)
    if until is not None and until <= at:
        raise DomainError(_("The date until must be in the future."), field="until")
    bed = lock(beds=[bed_id], actor=actor, at=at)[bed_id]
    state = state_of(bed, at)
    if state is BedState.OCCUPIED:
        raise Conflict(_("Someone sleeps in this bed: move or check them out first."))
    if state is BedState.HELD:
        raise Conflict(_("This bed is held for an arrival: release the hold first."))
    if state is BedState.OUT:
        raise Conflict(REFUSALS[state]())
    bed.out_of_service_reason = reason
    bed.out_of_service_since = at
    bed.out_of_service_until = until
    record("bed.out_of_service", actor=actor, at=at, target=bed, reason=reason,
           until=until.isoformat() if until else None)
    return bed


def back_in_service(bed_id: int, *, actor, at: datetime) -> Bed:
    bed = lock(beds=[bed_id], actor=actor, at=at)[bed_id]
    if bed.out_of_service_reason is None:
        raise Conflict(_("This bed is already in service."))
    bed.out_of_service_reason = None
    bed.out_of_service_since = None
    bed.out_of_service_until = None
    record("bed.in_service", actor=actor, at=at, target=bed)
    return bed


# --- stays ------------------------------------------------------------------------------------

def _stay_conflicts() -> dict[str, str]:
    bed = _("This bed is already taken.")
    resident = _("This resident is already checked in to another bed.")
    history = _("This would overlap an earlier stay in the bed's or the resident's history; check the time.")
    return {
        "stays.bed_id": bed, "uq_stays_bed_open": bed, "ex_stays_bed_id": history,
        "stays.resident_id": resident, "uq_stays_resident_open": resident, "ex_stays_resident_id": history,
        "stays: overlapping": history,
    }


def _isolation_conflicts() -> dict[str, str]:
    room = _("This isolation room is already in use.")
    resident = _("This resident is already in isolation.")
    return {
        "isolations.room_id": room, "uq_isolations_room_open": room,
        "isolations.resident_id": resident, "uq_isolations_resident_open": resident,
        "overlap": _("This would overlap an earlier isolation; check the times."),
    }


@dataclass
class CheckIn:
    """Who goes into the bed: an existing resident, or a new arrival's record."""

    resident_id: int | None = None
    new_arrival: residents.ResidentInput | None = None
    at: datetime | None = None
    override_reason: str | None = None
    confirm_backdate: bool = False
    referral_code: str | None = None


def check_in(bed_id: int, arrival: CheckIn, *, actor, now: datetime) -> Stay:
    """Put a resident (or a new arrival, recorded now) in a bed; an active hold on it is used up."""
    bed = lock(beds=[bed_id], actor=actor, at=now)[bed_id]
    if bed.room.is_isolation:
        raise DomainError(_("Choose a bed, not an isolation room."), field="bed_id")
    state = require_state(bed, now, BedState.FREE, BedState.HELD)
    if arrival.resident_id is not None:
        resident = residents.get_resident(arrival.resident_id, field="resident_id", actor=actor)
    elif arrival.new_arrival is not None and (arrival.new_arrival.alias or "").strip():
        try:
            resident = residents.create_resident(replace(arrival.new_arrival, shelter_id=bed.room.shelter_id),
                                                 actor=actor, at=now)
        except DomainError as exc:  # the new arrival's fields are new_alias, new_sex, … on the form
            exc.field = f"new_{exc.field}" if exc.field else None
            raise
    else:
        raise DomainError(_("Choose a resident, or enter the alias of a new arrival."), field="resident_id")
    current = open_stay_of(resident)
    if current is not None:
        raise Conflict(_("%(alias)s is already checked in (room %(room)s, bed %(bed)s).",
                         alias=resident.alias, room=current.bed.room.name, bed=current.bed.label))
    override = _check_fit(bed, resident, arrival.override_reason, actor=actor, field_name="resident_id")
    at = arrival.at or _not_before_earlier_stays(bed, resident, now)
    _check_in_time(bed, resident, at, now, actor=actor, backdate_confirmed=arrival.confirm_backdate)
    if state is BedState.HELD:
        _release_expired_holds(bed, now)
        hold = active_hold(bed, now)
        if hold is not None:
            _release(hold, actor=actor, at=now, reason=HoldRelease.USED)
    stay = Stay(resident_id=resident.id, bed_id=bed.id, started_at=at, referral_code=arrival.referral_code,
                started_by_id=getattr(actor, "id", None))
    resident.shelter_id = bed.room.shelter_id  # their record goes with them to the staff of this shelter
    db.session.add(stay)
    flush_or_conflict(_stay_conflicts())
    stay.resident = resident
    record("stay.check_in", actor=actor, at=now, target=stay, resident_id=resident.id, bed_id=bed.id,
           started_at=at.isoformat(), category_override=override)
    return stay


def move(bed_id: int, to_bed_id: int | None, *, actor, now: datetime, override_reason: str | None = None) -> Stay:
    """Move the occupant of a bed to another free bed (of any shelter actor belongs to)."""
    get_bed(bed_id, actor=actor)  # another shelter's bed answers as a missing one
    if to_bed_id is None:
        raise DomainError(_("Choose a bed."), field="to_bed_id")
    if to_bed_id == bed_id:
        raise DomainError(_("Choose a different bed."), field="to_bed_id")
    target = db.session.scalar(select(Bed.id).where(Bed.id == to_bed_id, _of_actor(actor)))
    if target is None and db.session.scalar(select(exists().where(Bed.id == to_bed_id))):
        raise OutOfScope(_("Choose a bed from the list."), field="to_bed_id", value=to_bed_id)  # another shelter's
    beds = lock(beds=[bed_id, to_bed_id], actor=actor, at=now) if target is not None else {}
    if to_bed_id not in beds:
        raise DomainError(_("Choose a bed from the list."), field="to_bed_id")
    bed, to_bed = beds[bed_id], beds[to_bed_id]
    current = _occupant(bed)
    resident = current.resident
    if to_bed.room.is_isolation:
        raise DomainError(_("Choose a bed, not an isolation room."), field="to_bed_id")
    state = state_of(to_bed, now)
    if state is BedState.HELD:
        raise Conflict(_("This bed is held for an expected arrival."))
    if state is not BedState.FREE:
        raise Conflict(REFUSALS[state]())
    override = _check_fit(to_bed, resident, override_reason, actor=actor, field_name="to_bed_id")
    if now < current.started_at:
        raise DomainError(_("The move cannot be before the check-in."), field="at")
    current.ended_at = now
    current.end_reason = StayEnd.MOVED.value
    current.ended_by_id = getattr(actor, "id", None)
    flush_or_conflict(_stay_conflicts())
    stay = Stay(resident_id=resident.id, bed_id=to_bed.id, started_at=now, referral_code=current.referral_code,
                started_by_id=getattr(actor, "id", None))
    resident.shelter_id = to_bed.room.shelter_id
    db.session.add(stay)
    flush_or_conflict(_stay_conflicts())
    stay.resident = resident
    stay.bed = to_bed
    record("stay.move", actor=actor, at=now, target=stay, resident_id=resident.id,
           from_bed_id=bed.id, to_bed_id=to_bed.id, category_override=override)
    return stay


def check_out(bed_id: int, reason: str, destination: str, *, actor, now: datetime) -> Stay:
    """End the stay in a bed (and any isolation of its occupant) with a reason and destination."""
    if reason not in CheckoutReason.values():
        raise DomainError(_("Choose a reason."), field="reason")
    destination = clean_text(destination, "destination", max_len=DESTINATION_MAX)
    bed = lock(beds=[bed_id], actor=actor, at=now)[bed_id]
    current = _occupant(bed)
    if now < current.started_at:
        raise DomainError(_("The check-out cannot be before the check-in."), field="at")
    isolation = open_isolation_of(current.resident)
    if isolation is not None:
        _end_isolation(isolation, actor=actor, at=max(now, isolation.started_at))
    current.ended_at = now
    current.end_reason = StayEnd.CHECKED_OUT.value
    current.checkout_reason = reason
    current.destination = destination or None
    current.ended_by_id = getattr(actor, "id", None)
    flush_or_conflict(_stay_conflicts())
    record("stay.check_out", actor=actor, at=now, target=current, resident_id=current.resident_id, reason=reason)
    return current


def _undoable(row, actor, now: datetime) -> bool:
    return (row.ended_at is not None and actor is not None and row.ended_by_id == actor.id
            and now - row.ended_at <= UNDO_WINDOW)


def undo_check_out(stay_id: int, *, actor, now: datetime) -> Stay:
    """Take back one's own check-out within 5 minutes: the stay (and an isolation it ended) goes on."""
    stay = db.session.get(Stay, stay_id)
    if stay is None:
        raise NotFound(_("No such stay."))
    bed = lock(beds=[stay.bed_id], actor=actor, at=now)[stay.bed_id]
    stay = _fresh(select(Stay).options(joinedload(Stay.resident)).where(Stay.id == stay_id))
    if stay.end_reason != StayEnd.CHECKED_OUT or not _undoable(stay, actor, now):
        raise Conflict(_("This check-out can no longer be undone here."))
    if open_stay_of(stay.resident) is not None:
        raise Conflict(_("%(alias)s is already checked in again.", alias=stay.resident.alias))
    state = state_of(bed, now)
    if state is not BedState.FREE:
        raise Conflict(REFUSALS[state]())
    ended_at = stay.ended_at
    stay.ended_at = None
    stay.end_reason = None
    stay.checkout_reason = None
    stay.destination = None
    stay.ended_by_id = None
    flush_or_conflict(_stay_conflicts())
    record("stay.check_out_undone", actor=actor, at=now, target=stay, resident_id=stay.resident_id)
    ended_with_it = _fresh(select(Isolation).where(Isolation.resident_id == stay.resident_id,
                                                   Isolation.ended_at == ended_at,
                                                   Isolation.ended_by_id == actor.id))
    if ended_with_it is not None and not db.session.scalar(select(exists().where(
            Isolation.room_id == ended_with_it.room_id, Isolation.ended_at.is_(None)))):
        _reopen_isolation(ended_with_it, actor=actor, now=now)
    return stay


# --- isolation --------------------------------------------------------------------------------

IN_PLACE = "here"


def isolate(bed_id: int, room_choice: str | None, reason: str, note: str, expected_end_at: datetime | None, *,
            actor, now: datetime) -> Isolation:
    """Isolate the occupant of a bed: in a free isolation room (of any shelter), or in place in their room."""
    if reason not in IsolationReason.values():
        raise DomainError(_("Choose health or safety."), field="reason")
    note = clean_text(note, "note", max_len=ISOLATION_NOTE_MAX)
    if expected_end_at is None:
        raise DomainError(_("Enter the expected end."), field="expected_end_at")
    if expected_end_at <= now:
        raise DomainError(_("The expected end must be after the start."), field="expected_end_at")
    bed = get_bed(bed_id, actor=actor)
    in_place = room_choice == IN_PLACE
    if in_place:
        room_id = bed.room_id
    else:
        try:
            room_id = int(room_choice or "")
        except ValueError:
            raise DomainError(_("Choose a room from the list."), field="room_id") from None
        if db.session.get(Room, room_id) is None:
            raise DomainError(_("Choose a room from the list."), field="room_id")
    beds = lock(beds=[bed_id], rooms=[room_id], actor=actor, at=now)
    bed = beds[bed_id]
    room = db.session.get(Room, room_id)
    stay = _occupant(bed)
    if in_place:
        others = db.session.scalar(select(func.count(Bed.id)).where(
            Bed.room_id == room.id, Bed.id != bed.id,
            or_(exists().where(Stay.bed_id == Bed.id, Stay.ended_at.is_(None)), _held(now))))
        if others:
            raise Conflict(_("Others sleep in this room or are expected: a room can be isolated in place only "
                             "for its one occupant."))
    elif not room.is_isolation:
        raise DomainError(_("Choose an isolation room."), field="room_id")
    if db.session.scalar(select(exists().where(Isolation.room_id == room.id, Isolation.ended_at.is_(None)))):
        raise Conflict(_("This isolation room is already in use."))
    if open_isolation_of(stay.resident) is not None:
        raise Conflict(_("This resident is already in isolation."))
    isolation = Isolation(resident_id=stay.resident_id, room_id=room.id, reason=reason, note=note, started_at=now,
                          expected_end_at=expected_end_at, started_by_id=getattr(actor, "id", None))
    db.session.add(isolation)
    flush_or_conflict(_isolation_conflicts())
    isolation.room = room
    isolation.resident = stay.resident
    record("isolation.start", actor=actor, at=now, target=isolation, resident_id=stay.resident_id,
           room_id=room.id, reason=reason, in_place=in_place)
    return isolation


def _end_isolation(isolation: Isolation, *, actor, at: datetime) -> None:
    isolation.ended_at = at
    isolation.ended_by_id = getattr(actor, "id", None)
    flush_or_conflict(_isolation_conflicts())
    record("isolation.end", actor=actor, at=at, target=isolation, resident_id=isolation.resident_id)


def end_isolation(bed_id: int, *, actor, now: datetime) -> Isolation:
    """End the isolation of the occupant of a bed."""
    # A first look, unlocked, to know which room to lock as well: the bed's room and the isolation room
    # are then locked in one call, in the one order (rooms by id, then beds), so this never waits in a
    # circle with an isolation into the same room. Under the lock it is read again.
    seen = open_stay_on(get_bed(bed_id, actor=actor))
    seen_isolation = open_isolation_of(seen.resident) if seen is not None else None
    rooms = [seen_isolation.room_id] if seen_isolation is not None else []
    bed = lock(beds=[bed_id], rooms=rooms, actor=actor, at=now)[bed_id]
    stay = _occupant(bed)
    isolation = open_isolation_of(stay.resident)
    if isolation is None:
        raise Conflict(_("%(alias)s is not in isolation.", alias=stay.resident.alias))
    if isolation.room_id not in rooms:  # ended and started again elsewhere in between
        raise Conflict(_("Someone else changed this at the same moment. Look at it again and retry."))
    _end_isolation(isolation, actor=actor, at=max(now, isolation.started_at))
    return isolation


def _reopen_isolation(isolation: Isolation, *, actor, now: datetime) -> None:
    isolation.ended_at = None
    isolation.ended_by_id = None
    flush_or_conflict(_isolation_conflicts())
    record("isolation.end_undone", actor=actor, at=now, target=isolation, resident_id=isolation.resident_id)


def undo_end_isolation(isolation_id: int, *, actor, now: datetime) -> Isolation:
    """Take back one's own end of an isolation within 5 minutes, if the room is still free."""
    isolation = db.session.get(Isolation, isolation_id)
    if isolation is None:
        raise NotFound(_("No such isolation."))
    residents.get_resident(isolation.resident_id, actor=actor)  # another shelter's: as if missing
    stay = _fresh(select(Stay).where(Stay.resident_id == isolation.resident_id, Stay.ended_at.is_(None)))
    lock(beds=[stay.bed_id] if stay else [], rooms=[isolation.room_id], actor=actor, at=now)
    isolation = _fresh(select(Isolation).options(joinedload(Isolation.resident), joinedload(Isolation.room))
                       .where(Isolation.id == isolation_id))
    if not _undoable(isolation, actor, now):
        raise Conflict(_("This end of isolation can no longer be undone here."))
    if open_stay_of(isolation.resident) is None:
        raise Conflict(_("%(alias)s is not checked in.", alias=isolation.resident.alias))
    if db.session.scalar(select(exists().where(Isolation.room_id == isolation.room_id,
                                               Isolation.ended_at.is_(None)))):
        raise Conflict(_("This isolation room is already in use."))
    _reopen_isolation(isolation, actor=actor, now=now)
    return isolation


# --- read models ------------------------------------------------------------------------------

@dataclass
class BedView:
    bed: Bed
    state: str
    stay: Stay | None = None
    hold: Hold | None = None
    isolation: Isolation | None = None  # the occupant's open isolation, if any


@dataclass
class RoomView:
    room: Room
    beds: list[BedView] = field(default_factory=list)
    isolation: Isolation | None = None  # who the room is isolated for (isolation room, or in place)


@dataclass
class Undo:
    """One's own check-out or end of isolation, which can still be taken back."""

    kind: str  # "check_out" | "end_isolation"
    id: int
    alias: str
    until: datetime
    resident_id: int  # whose alias the board shows (its read is audited)


@dataclass
class Board:
    shelter: Shelter
    rooms: list[RoomView]
    free_by_category: dict[str, int]
    isolation_free: int
    isolation_total: int
    occupied: int
    total_beds: int
    undo: list[Undo] = field(default_factory=list)

    @property
    def free_total(self) -> int:
        return sum(self.free_by_category.values())


def board(shelter: Shelter, at: datetime, *, actor=None) -> Board:
    """Everything the bed board shows, in a fixed number of queries whatever the shelter's size.

    Seen by actor (a person, not a setup page's preview), the read is audited with the residents shown;
    the board of a shelter actor does not belong to is a 404, as a missing one.
    """
    # The shelter (if actor's) with its rooms, in one query: the scope costs no statement.
    found = db.session.execute(
        select(Shelter.id, Room).outerjoin(Room, Room.shelter_id == Shelter.id)
        .where(Shelter.id == shelter.id, in_scope(Shelter.id, actor)).order_by(Room.kind, Room.name)).all()
    if not found:
        raise NotFound(_("No such shelter."))
    rooms = [room for _id, room in found if room is not None]
    # Each bed's state, its open stay (with the resident) and its active hold in ONE statement: one
    # snapshot, so a bed never reads "occupied" with its stay already ended by a concurrent check-out
    # (on PostgreSQL each statement of a read-committed transaction sees a newer snapshot).
    # (Aliases: bed_state's own subqueries on stays and holds must not correlate with these joins.)
    open_stay, active = aliased(Stay), aliased(Hold)
    rows = db.session.execute(
        select(Bed, bed_state(at), open_stay, active).join(Room)
        .outerjoin(open_stay, and_(open_stay.bed_id == Bed.id, open_stay.ended_at.is_(None)))
        .outerjoin(open_stay.resident).options(contains_eager(open_stay.resident))
        .outerjoin(active, and_(active.bed_id == Bed.id, active.released_at.is_(None), active.expires_at > at))
        .where(Room.shelter_id == shelter.id).order_by(Bed.label)).all()
    beds = [(bed, state) for bed, state, _stay, _hold in rows]
    stays = {bed.id: stay for bed, _state, stay, _hold in rows if stay is not None}
    holds = {bed.id: hold for bed, _state, _stay, hold in rows if hold is not None}
    isolations = list(db.session.scalars(
        select(Isolation).options(joinedload(Isolation.resident), joinedload(Isolation.room))
        .join(Stay, and_(Stay.resident_id == Isolation.resident_id, Stay.ended_at.is_(None)))
        .join(Bed, Bed.id == Stay.bed_id).join(Room, Room.id == Bed.room_id)
        .where(Room.shelter_id == shelter.id, Isolation.ended_at.is_(None))))
    # Isolation rooms of this shelter may hold residents of another shelter.
    in_rooms = {i.room_id: i for i in db.session.scalars(
        select(Isolation).options(joinedload(Isolation.resident)).join(Room, Room.id == Isolation.room_id)
        .where(Room.shelter_id == shelter.id, Isolation.ended_at.is_(None)))}
    by_resident = {i.resident_id: i for i in isolations}

    views = {room.id: RoomView(room=room, isolation=in_rooms.get(room.id)) for room in rooms}
    free: Counter[str] = Counter({c: 0 for c in BedCategory.values()})
    occupied = 0
    for bed, state in beds:
        stay = stays.get(bed.id)
        if state == BedState.FREE:
            free[bed.category] += 1
        elif state == BedState.OCCUPIED:
            occupied += 1
        views[bed.room_id].beds.append(BedView(
            bed=bed, state=state, stay=stay, hold=holds.get(bed.id) if state == BedState.HELD else None,
            isolation=by_resident.get(stay.resident_id) if stay else None))
    isolation_rooms = [r for r in rooms if r.is_isolation]
    undo = undoable(shelter, actor, at)
    if actor is not None:
        shown = ({s.resident_id for s in stays.values()} | {i.resident_id for i in in_rooms.values()}
                 | {u.resident_id for u in undo})
        record("board.view", actor=actor, at=at, target=shelter, resident_ids=sorted(shown))
    return Board(
        shelter=shelter, rooms=list(views.values()), free_by_category=dict(free),
        isolation_free=sum(1 for r in isolation_rooms if r.id not in in_rooms),
        isolation_total=len(isolation_rooms), occupied=occupied, total_beds=len(beds),
        undo=undo,
    )


def undoable(shelter: Shelter, actor, now: datetime) -> list[Undo]:
    """actor's check-outs and ends of isolation in shelter that can still be taken back (two queries)."""
    if actor is None:
        return []
    since = now - UNDO_WINDOW
    items = [
        Undo("check_out", stay.id, stay.resident.alias, stay.ended_at + UNDO_WINDOW, stay.resident_id)
        for stay in db.session.scalars(
            select(Stay).options(joinedload(Stay.resident)).join(Bed).join(Room)
            .where(Room.shelter_id == shelter.id, Stay.end_reason == StayEnd.CHECKED_OUT,
                   Stay.ended_by_id == actor.id, Stay.ended_at > since)
            .order_by(Stay.ended_at.desc()))
    ]
    items += [
        Undo("end_isolation", iso.id, iso.resident.alias, iso.ended_at + UNDO_WINDOW, iso.resident_id)
        for iso in db.session.scalars(
            select(Isolation).options(joinedload(Isolation.resident))
            .join(Stay, and_(Stay.resident_id == Isolation.resident_id, Stay.ended_at.is_(None)))
            .join(Bed, Bed.id == Stay.bed_id).join(Room, Room.id == Bed.room_id)
            .where(Room.shelter_id == shelter.id, Isolation.ended_by_id == actor.id, Isolation.ended_at > since)
            .order_by(Isolation.ended_at.desc()))
    ]
    return items


@dataclass
class MoveTarget:
    bed: Bed
    fits: bool


@dataclass
class IsolationOption:
    value: str
    room: Room | None
    shelter: Shelter | None  # another shelter's room


@dataclass
class Panel:
    """A bed's panel: the bed as it is now and what can be done there."""

    bed: Bed
    state: str
    stay: Stay | None
    hold: Hold | None
    isolation: Isolation | None
    residents_without_bed: list[Resident] = field(default_factory=list)
    move_targets: list[MoveTarget] = field(default_factory=list)
    isolation_rooms: list[Room] = field(default_factory=list)
    other_isolation_rooms: list[Room] = field(default_factory=list)
    may_isolate_in_place: bool = False


def panel(bed_id: int, at: datetime, *, actor) -> Panel:
    """What the panel of a bed shows, read fresh (it also answers a refused action); the read is audited."""
    bed = get_bed(bed_id, actor=actor)
    state = state_of(bed, at)
    stay = open_stay_on(bed)
    view = Panel(bed=bed, state=state, stay=stay, hold=active_hold(bed, at),
                 isolation=open_isolation_of(stay.resident) if stay else None)
    shelter = bed.room.shelter
    if stay is None:
        view.residents_without_bed = residents.expected_residents([shelter.id], at=at)
        record("bed.view", actor=actor, at=at, target=bed,
               resident_ids=[r.id for r in view.residents_without_bed])
        return view
    record("bed.view", actor=actor, at=at, target=bed, resident_ids=[stay.resident_id])
    view.move_targets = sorted(
        (MoveTarget(b, fits(b.category, stay.resident.sex, stay.resident.age_band))
         for b in free_beds(shelter, at, exclude_bed_id=bed.id)),
        key=lambda t: not t.fits)
    if view.isolation is None:
        rooms = free_isolation_rooms(at)
        view.isolation_rooms = [r for r in rooms if r.shelter_id == shelter.id]
        view.other_isolation_rooms = [r for r in rooms if r.shelter_id != shelter.id]
        view.may_isolate_in_place = not db.session.scalar(select(exists().where(
            Bed.room_id == bed.room_id, Bed.id != bed.id,
            or_(exists().where(Stay.bed_id == Bed.id, Stay.ended_at.is_(None)), _held(at)))))
    return view


def free_beds(shelter: Shelter, at: datetime, *, exclude_bed_id: int | None = None) -> list[Bed]:
    """Beds of shelter a resident could be put in now."""
    query = (select(Bed).options(joinedload(Bed.room)).join(Room)
             .where(Room.shelter_id == shelter.id, free_bed_condition(at)).order_by(Room.name, Bed.label))
    if exclude_bed_id is not None:
        query = query.where(Bed.id != exclude_bed_id)
    return list(db.session.scalars(query))


def free_isolation_rooms(at: datetime) -> list[Room]:
    """Isolation rooms of every shelter with nobody in them, with their shelter."""
    taken = select(Isolation.room_id).where(Isolation.ended_at.is_(None))
    return list(db.session.scalars(
        select(Room).options(joinedload(Room.shelter)).join(Shelter)
        .where(Room.kind == RoomKind.ISOLATION, Room.id.not_in(taken)).order_by(Shelter.code_name, Room.name)))


@dataclass
class History:
    stays: list[Stay]
    isolations: list[Isolation]

    @property
    def current_stay(self) -> Stay | None:
        return next((s for s in self.stays if s.ended_at is None), None)

    @property
    def current_isolation(self) -> Isolation | None:
        return next((i for i in self.isolations if i.ended_at is None), None)


def history_of(resident: Resident) -> History:
    """A resident's stays and isolations, newest first, in two queries."""
    stays = list(db.session.scalars(
        select(Stay).options(joinedload(Stay.bed).joinedload(Bed.room).joinedload(Room.shelter))
        .where(Stay.resident_id == resident.id).order_by(Stay.started_at.desc())))
    isolations = list(db.session.scalars(
        select(Isolation).options(joinedload(Isolation.room))
        .where(Isolation.resident_id == resident.id).order_by(Isolation.started_at.desc())))
    return History(stays=stays, isolations=isolations)


def open_stays_of(resident_ids: list[int]) -> dict[int, Stay]:
    """The open stays of these residents (with bed, room and shelter), in one query."""
    if not resident_ids:
        return {}
    return {s.resident_id: s for s in db.session.scalars(
        select(Stay).options(joinedload(Stay.bed).joinedload(Bed.room).joinedload(Room.shelter))
        .where(Stay.resident_id.in_(resident_ids), Stay.ended_at.is_(None)))}
