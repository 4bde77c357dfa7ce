"""Shifts and who is on duty, handovers, tasks, night rounds and presence, and the flags they raise.

Times a shelter sets (shift starts, curfew, round times) are wall-clock minutes in Warsaw; every
moment stored is UTC. What two people can do at once is decided by the database: a guarded UPDATE
(…WHERE acknowledged_at IS NULL) or a unique index, so one of two acknowledgements, task completions
or taps on one room wins and the other is told who was first. An entry sent again with the same
client key (a phone's outbox replaying it) is the entry already stored.

The seam for notifications: `flags(shelter, now)` lists what needs someone now, and
`flag_recipients(shelter, flag, at)` says who (those on duty who may act, else the shelter's staff
who may); `raise_safety_incidents(shelter, now)` turns a resident not back by the curfew into an
incident. Pages call them; a clock can call them the same way.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import format_datetime, gettext as _
from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from ..audit.services import record
from ..auth.models import User
from ..auth.permissions import can
from ..beds.models import Stay
from ..errors import Conflict, DomainError, Forbidden, NotFound
from ..extensions import db
from ..residents.models import Resident
from ..residents.services import get_resident
from ..shelters.models import Bed, Room, Shelter, ShelterStaff
from ..shelters.services import in_scope
from ..timeutil import NonexistentLocalTime, local_to_utc, to_local
from ..validation import clean_text
from .models import (DutyAssignment, Handover, HandoverEntry, Outing, Round, RoundCheck, RoundTime, ShiftSettings,
                     Task)
from .vocab import (ACK_FLAG_AFTER, ACTION_MAX, CLIENT_KEY_MAX, DEFAULT_CURFEW, DEFAULT_DAY_STARTS,
                    DEFAULT_NIGHT_STARTS, EDIT_WINDOW, ENTRY_TEXT_MAX, FUTURE_TOLERANCE, HEADCOUNT_MAX,
                    HISTORY_LIMIT, HISTORY_MAX_DAYS, MINUTES_PER_DAY, NOTE_MAX, PAST_LIMIT, ROOM_NOTE_MAX, ROTA_DAYS,
                    ROUND_EARLY, ROUND_LATE_AFTER, ROUND_LOOKBACK, ROUND_RECORDABLE, ROUND_TIMES_MAX, TASK_DUE_MAX,
                    TASK_TEXT_MAX, EntryKind, FlagKind, HistoryKind, IncidentKind, RoomStatus, ShiftKind)

# --- times -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Times:
    """A shelter's shift starts, curfew and round times, as minutes after local midnight.

    since: when they were set (rounds before that are not expected of anyone).
    """

    day_starts: int = DEFAULT_DAY_STARTS
    night_starts: int = DEFAULT_NIGHT_STARTS
    curfew: int = DEFAULT_CURFEW
    rounds: tuple[int, ...] = ()
    since: datetime | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Shift:
    """One shift of a shelter: the kind that starts on `day`, from starts_at until ends_at (UTC)."""

    kind: str
    day: date
    starts_at: datetime
    ends_at: datetime


def times_of(shelter_id: int) -> Times:
    """The shelter's times (the defaults where it set none), in one query."""
    rows = db.session.execute(
        select(ShiftSettings, RoundTime.minute).select_from(Shelter)
        .outerjoin(ShiftSettings, ShiftSettings.shelter_id == Shelter.id)
        .outerjoin(RoundTime, RoundTime.shelter_id == Shelter.id)
        .where(Shelter.id == shelter_id).order_by(RoundTime.minute)).all()
    settings = rows[0][0] if rows else None
    rounds = tuple(minute for _s, minute in rows if minute is not None)
    if settings is None:
        return Times(rounds=rounds)
    return Times(settings.day_starts, settings.night_starts, settings.curfew, rounds, since=settings.updated_at)


def moment(day: date, minute: int) -> datetime:
    """Local wall-clock `minute` of `day` as UTC; a time the clocks skip counts as an hour later."""
    naive = datetime.combine(day, time(minute // 60, minute % 60))
    try:
        return local_to_utc(naive)
    except NonexistentLocalTime:
        return local_to_utc(naive + timedelta(hours=1))


def shift_of(times: Times, kind: str, day: date) -> Shift:
    """The shift of kind that starts on day."""
    if kind == ShiftKind.DAY:
        return Shift(ShiftKind.DAY.value, day, moment(day, times.day_starts), moment(day, times.night_starts))
    return Shift(ShiftKind.NIGHT.value, day, moment(day, times.night_starts),
                 moment(day + timedelta(days=1), times.day_starts))


def shift_at(times: Times, at: datetime) -> Shift:
    """The shift that `at` falls in."""
    today = to_local(at).date()
    if at < moment(today, times.day_starts):
        return shift_of(times, ShiftKind.NIGHT, today - timedelta(days=1))
    if at < moment(today, times.night_starts):
        return shift_of(times, ShiftKind.DAY, today)
    return shift_of(times, ShiftKind.NIGHT, today)


def next_shift(times: Times, shift: Shift) -> Shift:
    if shift.kind == ShiftKind.DAY:
        return shift_of(times, ShiftKind.NIGHT, shift.day)
    return shift_of(times, ShiftKind.DAY, shift.day + timedelta(days=1))


def round_moments(times: Times, start: datetime, end: datetime) -> list[datetime]:
    """The shelter's round times falling in [start, end] since they were set, oldest first."""
    if not times.rounds:
        return []
    if times.since is not None:
        start = max(start, times.since)
        if start > end:
            return []
    first, last = to_local(start).date() - timedelta(days=1), to_local(end).date() + timedelta(days=1)
    found = set()
    day = first
    while day <= last:
        for minute in times.rounds:
            at = moment(day, minute)
            if start <= at <= end:
                found.add(at)
        day += timedelta(days=1)
    return sorted(found)


def curfew_after(times: Times, at: datetime) -> datetime:
    """The first curfew after `at`."""
    day = to_local(at).date()
    curfew = moment(day, times.curfew)
    return curfew if curfew > at else moment(day + timedelta(days=1), times.curfew)


def _hm(value: datetime) -> str:
    return format_datetime(value, "HH:mm")


def _when(value: datetime) -> str:
    return format_datetime(value, "short")


def in_night_order(times: Times) -> list[int]:
    """The round times as a night runs: from the start of the night shift on (23:00, 02:00, 05:00)."""
    return sorted(times.rounds, key=lambda minute: (minute - times.night_starts) % MINUTES_PER_DAY)


def minutes_text(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def parse_minutes(value: str, field_name: str) -> int:
    """'7:00' or '07:00' → minutes after midnight; else the field's error."""
    try:
        hours, minutes = (value or "").strip().split(":")
        if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and len(hours) <= 2):
            raise ValueError
        h, m = int(hours), int(minutes)
        if not (0 <= h < 24 and 0 <= m < 60):
            raise ValueError
    except ValueError:
        raise DomainError(_("Enter a time as HH:MM, e.g. 07:00."), field=field_name) from None
    return h * 60 + m


# --- shift settings and who is on duty -----------------------------------------------------------

def _first_to(model, row_id: int, unset, **values) -> bool:
    """One guarded UPDATE: set values on the row while the column `unset` is still NULL.

    False if someone else set it first: of two people acting at once exactly one gets True (PostgreSQL
    re-checks the condition once the other's transaction ends; SQLite runs one writer at a time).
    """
    done = db.session.execute(update(model).where(model.id == row_id, unset.is_(None)).values(**values)
                              .execution_options(synchronize_session=False))
    return done.rowcount == 1


def _of_actor(query, model, row_id: int, actor, missing: str):
    """The row of model with row_id if it belongs to one of actor's shelters; else a 404, as a missing one."""
    row = db.session.scalar(query.where(model.id == row_id, in_scope(model.shelter_id, actor)))
    if row is None:
        raise NotFound(missing)
    return row


def set_times(shelter: Shelter, *, day_starts: str, night_starts: str, curfew: str, rounds: str, actor,
              at: datetime) -> Times:
    """Set the shelter's shift starts, curfew and round times (e.g. "23:00, 02:00, 05:00")."""
    day = parse_minutes(day_starts, "day_starts")
    night = parse_minutes(night_starts, "night_starts")
    curfew_minute = parse_minutes(curfew, "curfew")
    if day >= night:
        raise DomainError(_("The night shift starts after the day shift (e.g. day 07:00, night 19:00)."),
                          field="night_starts")
    parts = [p for p in (rounds or "").replace(";", ",").split(",") if p.strip()]
    minutes = sorted({parse_minutes(p, "rounds") for p in parts})
    if len(minutes) > ROUND_TIMES_MAX:
        raise DomainError(_("Set at most %(n)d round times.", n=ROUND_TIMES_MAX), field="rounds")
    settings = db.session.get(ShiftSettings, shelter.id, with_for_update=True)
    if settings is None:
        settings = ShiftSettings(shelter_id=shelter.id)
        db.session.add(settings)
    settings.day_starts, settings.night_starts, settings.curfew = day, night, curfew_minute
    settings.updated_at, settings.updated_by_id = at, getattr(actor, "id", None)
    have = {t.minute: t for t in db.session.scalars(select(RoundTime).where(RoundTime.shelter_id == shelter.id))}
    for minute, row in have.items():
        if minute not in minutes:
            db.session.delete(row)
    db.session.add_all(RoundTime(shelter_id=shelter.id, minute=m) for m in minutes if m not in have)
    db.session.flush()
    record("shifts.update", actor=actor, at=at, target=shelter, day_starts=day, night_starts=night,
           curfew=curfew_minute, rounds=minutes)
    return Times(day, night, curfew_minute, tuple(minutes), since=at)


def staff_of(shelter: Shelter, permission: str | None = None) -> list[User]:
    """Active staff accounts of the shelter (with permission, if given), by name."""
    users = db.session.scalars(
        select(User).join(ShelterStaff, ShelterStaff.user_id == User.id)
        .where(ShelterStaff.shelter_id == shelter.id, User.active).order_by(User.display_name, User.id)).all()
    return [u for u in users if permission is None or can(u, permission)]


def _staff_member(shelter: Shelter, user_id: int | None, field_name: str) -> User:
    user = db.session.scalar(
        select(User).join(ShelterStaff, ShelterStaff.user_id == User.id)
        .where(ShelterStaff.shelter_id == shelter.id, User.id == user_id, User.active))
    if user is None:
        raise DomainError(_("Choose someone of this shelter's staff from the list."), field=field_name)
    return user


def on_duty(shelter: Shelter, at: datetime, *, times: Times | None = None) -> list[User]:
    """Who is on duty in shelter at `at`: the people on the rota of the shift `at` falls in (with their roles).

    Other parts of the app call this (reminders go to them); an empty list means nobody is on the rota.
    """
    shift = shift_at(times or times_of(shelter.id), at)
    return list(db.session.scalars(
        select(User).join(DutyAssignment, DutyAssignment.user_id == User.id)
        .where(DutyAssignment.shelter_id == shelter.id, DutyAssignment.shift_date == shift.day,
               DutyAssignment.shift_kind == shift.kind, User.active)
        .order_by(User.display_name, User.id)))


def assign_duty(shelter: Shelter, user_id: int | None, day: date | None, kind: str, *, actor, at: datetime,
                times: Times | None = None) -> DutyAssignment:
    """Put a staff member of the shelter on the rota of one shift (today's or one in the next two weeks)."""
    user = _staff_member(shelter, user_id, "user_id")
    if kind not in ShiftKind.values():
        raise DomainError(_("Choose the day or the night shift."), field="shift_kind")
    if day is None:
        raise DomainError(_("Enter the date."), field="shift_date")
    current = shift_at(times or times_of(shelter.id), at)
    if not (current.day - timedelta(days=1) <= day <= current.day + timedelta(days=ROTA_DAYS)):
        raise DomainError(_("Plan shifts from yesterday up to %(n)d days ahead.", n=ROTA_DAYS), field="shift_date")
    duty = DutyAssignment(shelter_id=shelter.id, user_id=user.id, shift_date=day, shift_kind=kind, assigned_at=at,
                          assigned_by_id=getattr(actor, "id", None))
    try:
        with db.session.begin_nested():
            db.session.add(duty)
            db.session.flush()
    except IntegrityError:
        raise Conflict(_("%(name)s is already on that shift.", name=user.display_name), field="user_id") from None
    record("duty.assign", actor=actor, at=at, target=duty, shelter_id=shelter.id, user_id=user.id,
           shift_date=day.isoformat(), shift_kind=kind)
    return duty


def take_current_shift(shelter: Shelter, *, actor, at: datetime) -> Shift:
    """The person says they are on duty now: on the rota of the current shift (once)."""
    times = times_of(shelter.id)
    shift = shift_at(times, at)
    mine = db.session.scalar(select(DutyAssignment.id).where(
        DutyAssignment.shelter_id == shelter.id, DutyAssignment.user_id == actor.id,
        DutyAssignment.shift_date == shift.day, DutyAssignment.shift_kind == shift.kind))
    if mine is None:
        assign_duty(shelter, actor.id, shift.day, shift.kind, actor=actor, at=at, times=times)
    return shift


def get_duty(duty_id: int, *, actor) -> DutyAssignment:
    """Someone's duty on the rota of one of actor's shelters, else a 404."""
    return _of_actor(select(DutyAssignment).options(joinedload(DutyAssignment.user)), DutyAssignment, duty_id,
                     actor, _("No such duty."))


def remove_duty(duty_id: int, *, actor, at: datetime) -> DutyAssignment:
    """Take someone off the rota of a shift."""
    duty = get_duty(duty_id, actor=actor)
    db.session.delete(duty)
    db.session.flush()
    record("duty.remove", actor=actor, at=at, shelter_id=duty.shelter_id, user_id=duty.user_id,
           shift_date=duty.shift_date.isoformat(), shift_kind=duty.shift_kind)
    return duty


@dataclass
class RotaShift:
    shift: Shift
    duties: list[DutyAssignment]


def rota(shelter: Shelter, times: Times, at: datetime, days: int = 4) -> list[RotaShift]:
    """The shifts from the current one for `days` days, with who is on each (one query)."""
    current = shift_at(times, at)
    shifts = [current]
    while len(shifts) < days * 2:
        shifts.append(next_shift(times, shifts[-1]))
    duties = db.session.scalars(
        select(DutyAssignment).options(joinedload(DutyAssignment.user))
        .where(DutyAssignment.shelter_id == shelter.id, DutyAssignment.shift_date >= current.day,
               DutyAssignment.shift_date <= shifts[-1].day)
        .order_by(DutyAssignment.assigned_at)).all()
    by_shift = defaultdict(list)
    for duty in duties:
        by_shift[(duty.shift_date, duty.shift_kind)].append(duty)
    return [RotaShift(s, by_shift[(s.day, s.kind)]) for s in shifts]


# --- residents of a shelter -------------------------------------------------------------------------

def current_residents(shelter: Shelter) -> list[tuple[Resident, Stay]]:
    """The residents in a bed of the shelter now, by alias, with their stay (bed and room)."""
    return list(db.session.execute(
        select(Resident, Stay).join(Stay, and_(Stay.resident_id == Resident.id, Stay.ended_at.is_(None)))
        .join(Bed, Bed.id == Stay.bed_id).join(Room, Room.id == Bed.room_id)
        .options(joinedload(Stay.bed).joinedload(Bed.room))
        .where(Room.shelter_id == shelter.id).order_by(Resident.alias, Resident.id)).tuples())


def _resident_of(shelter: Shelter, resident_id: int | None, *, actor, field_name: str = "resident_id") -> Resident:
    """A resident whose record belongs to shelter (and actor sees), else the field's error."""
    if resident_id is None:
        raise DomainError(_("Choose a resident from the list."), field=field_name)
    resident = get_resident(resident_id, actor=actor, field=field_name)
    if resident.shelter_id != shelter.id or resident.anonymised_at is not None:
        raise DomainError(_("Choose a resident of this shelter from the list."), field=field_name)
    return resident


def in_house_count(shelter_id: int) -> int:
    """Residents in a bed of the shelter who are not out now."""
    out = exists().where(Outing.resident_id == Stay.resident_id, Outing.came_back_at.is_(None))
    return db.session.scalar(
        select(func.count(Stay.id)).join(Bed, Bed.id == Stay.bed_id).join(Room, Room.id == Bed.room_id)
        .where(Room.shelter_id == shelter_id, Stay.ended_at.is_(None), ~out))


# --- handovers ----------------------------------------------------------------------------------

def get_handover(handover_id: int, *, actor) -> Handover:
    """A handover of one of actor's shelters, else a 404."""
    return _of_actor(select(Handover), Handover, handover_id, actor, _("No such handover."))


def open_handover_of(shelter_id: int) -> Handover | None:
    """The shelter's handover being written, if any."""
    return db.session.scalar(select(Handover).where(Handover.shelter_id == shelter_id,
                                                    Handover.handed_over_at.is_(None)))


def open_handover(shelter: Shelter, *, at: datetime) -> Handover:
    """The shelter's handover being written; started now if there is none (two at once make one)."""
    found = open_handover_of(shelter.id)
    if found is not None:
        return found
    shift = shift_at(times_of(shelter.id), at)
    handover = Handover(shelter_id=shelter.id, shift_kind=shift.kind, shift_date=shift.day, opened_at=at, note="")
    try:
        with db.session.begin_nested():
            db.session.add(handover)
            db.session.flush()
    except IntegrityError:
        # Another request opened it in the meantime (it waited on the unique index): use that one.
        found = open_handover_of(shelter.id)
        if found is None:
            raise
        return found
    return handover


def hand_over(shelter: Shelter, note: str, handover_id: int | None, *, actor, at: datetime) -> Handover:
    """End the shift's handover with its general note; the incoming shift then reads it.

    handover_id is the one the page showed as being written (None: nothing was written yet); if
    someone handed it over meanwhile, the person is told instead of handing over a second one.
    """
    note = clean_text(note, "note", max_len=NOTE_MAX, required=True)
    if handover_id is not None:
        handover = db.session.scalar(select(Handover).where(Handover.id == handover_id,
                                                            Handover.shelter_id == shelter.id)
                                     .with_for_update().execution_options(populate_existing=True))
        if handover is None:
            raise DomainError(_("Reload the page and try again."), field="note")
        if handover.handed_over_at is not None:
            by = db.session.get(User, handover.handed_over_by_id)
            raise Conflict(_("%(name)s handed this over at %(t)s. Add what is missing as an entry.",
                             name=by.display_name, t=_hm(handover.handed_over_at)))
    else:
        handover = open_handover(shelter, at=at)
    if not _first_to(Handover, handover.id, Handover.handed_over_at, note=note,
                     handed_over_at=max(at, handover.opened_at), handed_over_by_id=actor.id):
        raise Conflict(_("Someone handed this over at the same moment. Add what is missing as an entry."))
    db.session.refresh(handover)
    record("handover.hand_over", actor=actor, at=at, target=handover, shelter_id=shelter.id)
    return handover


def acknowledge(handover_id: int, *, actor, at: datetime) -> Handover:
    """The incoming person has read the handover. Once: a second person is told who read it first."""
    handover = get_handover(handover_id, actor=actor)
    if handover.handed_over_at is None:
        raise Conflict(_("This handover is still being written."))
    if handover.handed_over_by_id == actor.id:
        raise Forbidden(_("You handed this over yourself: the next shift reads it."))
    # Handed over stays handed over (the database refuses the change), so the one condition is enough.
    first = _first_to(Handover, handover.id, Handover.acknowledged_at, acknowledged_at=at, acknowledged_by_id=actor.id)
    db.session.refresh(handover)
    if not first:
        reader = db.session.get(User, handover.acknowledged_by_id)
        raise Conflict(_("%(name)s read this handover at %(t)s.", name=reader.display_name,
                         t=_hm(handover.acknowledged_at)))
    record("handover.acknowledge", actor=actor, at=at, target=handover, shelter_id=handover.shelter_id)
    return handover


def waiting_for(actor, at: datetime) -> list[Handover]:
    """Handed-over handovers of actor's shelters that nobody has read yet and actor did not write, newest first."""
    return list(db.session.scalars(
        select(Handover).options(joinedload(Handover.handed_over_by), joinedload(Handover.shelter))
        .where(in_scope(Handover.shelter_id, actor), Handover.handed_over_at.is_not(None),
               Handover.acknowledged_at.is_(None), Handover.handed_over_by_id != actor.id)
        .order_by(Handover.handed_over_at.desc())))


# --- entries ------------------------------------------------------------------------------------

def _client_key(value: str | None) -> str | None:
    value = (value or "").strip()
    return value[:CLIENT_KEY_MAX] or None


def _time_written(value: datetime | None, now: datetime, field_name: str) -> datetime:
    if value is None:
        return now
    if value > now + FUTURE_TOLERANCE:
        raise DomainError(_("This time is in the future."), field=field_name)
    if value < now - PAST_LIMIT:
        raise DomainError(_("Write down what happened in the last two days; older things go to the manager."),
                          field=field_name)
    return min(value, now)


def _earlier_entry(actor, client_key: str | None) -> HandoverEntry | None:
    if client_key is None or actor is None:
        return None
    return db.session.scalar(select(HandoverEntry).where(HandoverEntry.author_id == actor.id,
                                                         HandoverEntry.client_key == client_key))


@dataclass
class EntryInput:
    kind: str
    text: str = ""
    resident_id: int | None = None
    incident_kind: str | None = None
    occurred_at: datetime | None = None
    action_taken: str = ""


def _store_entry(shelter: Shelter, values: dict, *, actor, at: datetime, client_key: str | None) -> HandoverEntry:
    """Add an entry to the shelter's open handover: once per (author, client key)."""
    earlier = _earlier_entry(actor, client_key)
    if earlier is not None:
        return earlier
    handover = open_handover(shelter, at=at)
    entry = HandoverEntry(handover_id=handover.id, shelter_id=shelter.id, author_id=getattr(actor, "id", None),
                          created_at=at, client_key=client_key, **values)
    try:
        with db.session.begin_nested():
            db.session.add(entry)
            db.session.flush()
    except IntegrityError:
        earlier = _earlier_entry(actor, client_key)  # the same entry, sent twice at once
        if earlier is None:
            raise
        return earlier
    record("handover.entry", actor=actor, at=at, target=entry, shelter_id=shelter.id, kind=entry.kind,
           resident_id=entry.resident_id, incident_kind=entry.incident_kind, corrects_id=entry.corrects_id,
           outing_id=entry.outing_id)
    return entry


def add_entry(shelter: Shelter, data: EntryInput, *, actor, at: datetime,
              client_key: str | None = None) -> HandoverEntry:
    """An entry about a resident, an incident, or an observation, in the shelter's open handover."""
    if data.kind not in EntryKind.values():
        raise DomainError(_("Choose what kind of entry this is."), field="kind")
    values = {"kind": data.kind, "occurred_at": _time_written(data.occurred_at, at, "occurred_at")}
    if data.kind == EntryKind.INCIDENT:
        if data.incident_kind not in IncidentKind.values():
            raise DomainError(_("Choose the kind of incident."), field="incident_kind")
        values["incident_kind"] = data.incident_kind
        values["text"] = clean_text(data.text, "text", max_len=ENTRY_TEXT_MAX, required=True)
        values["action_taken"] = clean_text(data.action_taken, "action_taken", max_len=ACTION_MAX)
        if data.resident_id is not None:
            values["resident_id"] = _resident_of(shelter, data.resident_id, actor=actor).id
    else:
        values["text"] = clean_text(data.text, "text", max_len=ENTRY_TEXT_MAX, required=True)
        values["resident_id"] = _resident_of(shelter, data.resident_id, actor=actor).id
    return _store_entry(shelter, values, actor=actor, at=at, client_key=_client_key(client_key))


def add_observation(resident_id: int, text: str, observed_at: datetime | None, *, actor, at: datetime,
                    client_key: str | None = None) -> HandoverEntry:
    """A short timed note about one resident ("fever 38.5 °C at 02:00, paracetamol given"), in the handover
    of the resident's shelter."""
    resident = get_resident(resident_id, actor=actor)
    if resident.shelter_id is None:
        raise Conflict(_("%(alias)s belongs to no shelter yet: check them in first.", alias=resident.alias))
    shelter = db.session.get(Shelter, resident.shelter_id)
    return add_entry(shelter, EntryInput(kind=EntryKind.OBSERVATION, text=text, resident_id=resident.id,
                                         occurred_at=observed_at), actor=actor, at=at, client_key=client_key)


def get_entry(entry_id: int, *, actor) -> HandoverEntry:
    """An entry of one of actor's shelters (with its handover, author, resident), else a 404."""
    query = select(HandoverEntry).options(joinedload(HandoverEntry.handover), joinedload(HandoverEntry.author),
                                          joinedload(HandoverEntry.resident), joinedload(HandoverEntry.outing))
    return _of_actor(query, HandoverEntry, entry_id, actor, _("No such entry."))


def is_final(entry: HandoverEntry, handover: Handover, at: datetime) -> bool:
    """True once the entry's handover was read, or the entry is 24 hours old: it can only be corrected."""
    return handover.acknowledged_at is not None or entry.created_at <= at - EDIT_WINDOW


def may_edit(entry: HandoverEntry, actor, at: datetime) -> bool:
    return entry.author_id == getattr(actor, "id", None) and not is_final(entry, entry.handover, at)


def edit_entry(entry_id: int, text: str, action_taken: str, *, actor, at: datetime) -> HandoverEntry:
    """Change one's own entry while its handover is unread and it is less than 24 hours old.

    The earlier wording is kept in the audit log. The database refuses the change on its own too.
    """
    entry = get_entry(entry_id, actor=actor)
    if entry.author_id != actor.id:
        raise Forbidden(_("Only its author changes an entry; add a correction instead."))
    if is_final(entry, entry.handover, at):
        raise Conflict(_("This entry is final (read by the next shift, or 24 hours old): add a correction."))
    text = clean_text(text, "text", max_len=ENTRY_TEXT_MAX, required=True)
    action_taken = clean_text(action_taken, "action_taken", max_len=ACTION_MAX) if entry.kind == EntryKind.INCIDENT else ""
    previous = {"text": entry.text, "action_taken": entry.action_taken}
    read = exists().where(Handover.id == HandoverEntry.handover_id, Handover.acknowledged_at.is_not(None))
    done = db.session.execute(
        update(HandoverEntry).where(HandoverEntry.id == entry.id, HandoverEntry.created_at > at - EDIT_WINDOW, ~read)
        .values(text=text, action_taken=action_taken, edited_at=at).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict(_("This entry became final a moment ago (the next shift read it): add a correction."))
    db.session.refresh(entry)
    record("handover.entry_edit", actor=actor, at=at, target=entry, previous=previous)
    return entry


def correct_entry(entry_id: int, text: str, action_taken: str, *, actor, at: datetime,
                  client_key: str | None = None) -> HandoverEntry:
    """A correction: a new entry, in the current handover, that refers to the old one (which stays as it was)."""
    original = get_entry(entry_id, actor=actor)
    shelter = db.session.get(Shelter, original.shelter_id)
    values = {
        "kind": original.kind, "incident_kind": original.incident_kind, "resident_id": original.resident_id,
        "occurred_at": original.occurred_at, "corrects_id": original.id,
        "text": clean_text(text, "text", max_len=ENTRY_TEXT_MAX, required=True),
        "action_taken": (clean_text(action_taken, "action_taken", max_len=ACTION_MAX)
                         if original.kind == EntryKind.INCIDENT else ""),
    }
    return _store_entry(shelter, values, actor=actor, at=at, client_key=_client_key(client_key))


def corrections_of(entry_ids) -> dict[int, list[HandoverEntry]]:
    """The corrections of these entries, oldest first, by the entry they correct (one query)."""
    ids = sorted(set(entry_ids))
    if not ids:
        return {}
    found = defaultdict(list)
    for correction in db.session.scalars(
            select(HandoverEntry).options(joinedload(HandoverEntry.author))
            .where(HandoverEntry.corrects_id.in_(ids)).order_by(HandoverEntry.created_at, HandoverEntry.id)):
        found[correction.corrects_id].append(correction)
    return dict(found)


def _entries_query():
    return select(HandoverEntry).options(joinedload(HandoverEntry.resident), joinedload(HandoverEntry.author),
                                         joinedload(HandoverEntry.outing))


def entries_of(handover_ids) -> dict[int, list[HandoverEntry]]:
    """The entries of these handovers, in the order they happened, by handover (one query)."""
    ids = sorted(set(handover_ids))
    if not ids:
        return {}
    found = defaultdict(list)
    for entry in db.session.scalars(_entries_query().where(HandoverEntry.handover_id.in_(ids))
                                    .order_by(HandoverEntry.occurred_at, HandoverEntry.id)):
        found[entry.handover_id].append(entry)
    return dict(found)


def entries_about(resident: Resident, limit: int = 30) -> list[HandoverEntry]:
    """Observations, incidents and entries about a resident, newest first (one query)."""
    return list(db.session.scalars(_entries_query().where(HandoverEntry.resident_id == resident.id)
                                   .order_by(HandoverEntry.occurred_at.desc(), HandoverEntry.id.desc())
                                   .limit(limit)))


# --- tasks ----------------------------------------------------------------------------------------

def add_task(shelter: Shelter, text: str, owner_id: int | None, due_at: datetime | None, *, actor, at: datetime,
             client_key: str | None = None) -> Task:
    """An open task with an owner and a due time; it stays on every shift's page until done."""
    text = clean_text(text, "text", max_len=TASK_TEXT_MAX, required=True)
    owner = _staff_member(shelter, owner_id, "owner_id")
    if due_at is None:
        raise DomainError(_("Enter when it is due."), field="due_at")
    if due_at < at - FUTURE_TOLERANCE:
        raise DomainError(_("The due time has passed already."), field="due_at")
    if due_at > at + TASK_DUE_MAX:
        raise DomainError(_("A task is due within 60 days."), field="due_at")
    key = _client_key(client_key)
    if key is not None:
        earlier = db.session.scalar(select(Task).where(Task.created_by_id == actor.id, Task.client_key == key))
        if earlier is not None:
            return earlier
    handover = open_handover(shelter, at=at)
    task = Task(shelter_id=shelter.id, handover_id=handover.id, text=text, owner_id=owner.id, due_at=due_at,
                created_by_id=actor.id, created_at=at, client_key=key)
    db.session.add(task)
    db.session.flush()
    record("task.create", actor=actor, at=at, target=task, shelter_id=shelter.id, owner_id=owner.id)
    return task


def get_task(task_id: int, *, actor) -> Task:
    """A task of one of actor's shelters, else a 404."""
    return _of_actor(select(Task), Task, task_id, actor, _("No such task."))


def complete_task(task_id: int, *, actor, at: datetime) -> Task:
    """Mark a task done. Once: a second person is told who did it first."""
    task = get_task(task_id, actor=actor)
    first = _first_to(Task, task.id, Task.done_at, done_at=max(at, task.created_at), done_by_id=actor.id)
    db.session.refresh(task)
    if not first:
        by = db.session.get(User, task.done_by_id)
        raise Conflict(_("%(name)s marked this task done at %(t)s.", name=by.display_name, t=_hm(task.done_at)))
    record("task.done", actor=actor, at=at, target=task, shelter_id=task.shelter_id)
    return task


def open_tasks(shelter_id: int) -> list[Task]:
    """The shelter's tasks not done yet, the earliest due first (one query)."""
    return list(db.session.scalars(select(Task).options(joinedload(Task.owner))
                                   .where(Task.shelter_id == shelter_id, Task.done_at.is_(None))
                                   .order_by(Task.due_at, Task.id)))


# --- night rounds ----------------------------------------------------------------------------------

def epoch_minutes(value: datetime) -> int:
    """A round's time as it travels in a form: whole minutes since 1970 (UTC)."""
    return int(value.timestamp()) // 60


def recordable_rounds(times: Times, at: datetime) -> list[datetime]:
    """The round times that can be recorded at `at`: from half an hour before each until three hours after."""
    return round_moments(times, at - ROUND_RECORDABLE, at + ROUND_EARLY)


def round_due(times: Times, due_minutes: int | None, at: datetime) -> datetime:
    """The round time a form names, if it can be recorded now; else the field's error."""
    for candidate in recordable_rounds(times, at):
        if epoch_minutes(candidate) == due_minutes:
            return candidate
    raise DomainError(_("This round can no longer be recorded (or is not known): reload the page."), field="due")


def current_round_time(times: Times, at: datetime) -> datetime | None:
    """The round to record now: the latest that can still be recorded (None: no round now)."""
    found = recordable_rounds(times, at)
    return found[-1] if found else None


def next_round_time(times: Times, at: datetime) -> datetime | None:
    """The next round time after `at` (None without round times)."""
    found = round_moments(times, at, at + timedelta(days=2))
    return found[0] if found else None


def _round_for(shelter: Shelter, due_at: datetime, at: datetime) -> Round:
    """The round of this time, started now if nobody started it yet (two at once make one)."""
    query = select(Round).where(Round.shelter_id == shelter.id, Round.due_at == due_at)
    found = db.session.scalar(query)
    if found is not None:
        return found
    row = Round(shelter_id=shelter.id, due_at=due_at, started_at=at)
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        found = db.session.scalar(query)
        if found is None:
            raise
        return found
    return row


def get_room(room_id: int, *, actor) -> Room:
    """A room (with its shelter) of one of actor's shelters, else a 404."""
    return _of_actor(select(Room).options(joinedload(Room.shelter)), Room, room_id, actor, _("No such room."))


def _shelter_room(shelter: Shelter, room_id: int | None) -> Room:
    room = db.session.scalar(select(Room).where(Room.id == room_id, Room.shelter_id == shelter.id))
    if room is None:
        raise DomainError(_("Choose a room of this shelter."), field="room_id")
    return room


def record_room(shelter: Shelter, due_minutes: int | None, room_id: int | None, status: str, note: str, *, actor,
                at: datetime, client_key: str | None = None) -> RoundCheck:
    """One tap in a night round: this room, all quiet or something to note. One record per room and round."""
    if status not in RoomStatus.values():
        raise DomainError(_("Choose all quiet or something to note."), field="status")
    note = clean_text(note, "note", max_len=ROOM_NOTE_MAX)
    key = _client_key(client_key)
    if key is not None:
        earlier = db.session.scalar(select(RoundCheck).where(RoundCheck.by_id == actor.id,
                                                             RoundCheck.client_key == key))
        if earlier is not None:
            return earlier
    times = times_of(shelter.id)
    due_at = round_due(times, due_minutes, at)
    room = _shelter_room(shelter, room_id)
    the_round = _round_for(shelter, due_at, at)
    check = RoundCheck(round_id=the_round.id, room_id=room.id, status=status, note=note, checked_at=at,
                       by_id=actor.id, client_key=key)
    try:
        with db.session.begin_nested():
            db.session.add(check)
            db.session.flush()
    except IntegrityError:
        earlier = db.session.scalar(select(RoundCheck).options(joinedload(RoundCheck.by))
                                    .where(RoundCheck.round_id == the_round.id, RoundCheck.room_id == room.id))
        if earlier is None:
            raise
        if earlier.by_id == actor.id and key is not None and earlier.client_key == key:
            return earlier
        raise Conflict(_("Room %(room)s was recorded at %(t)s by %(name)s (%(status)s).", room=room.name,
                         t=_hm(earlier.checked_at), name=earlier.by.display_name,
                         status=RoomStatus(earlier.status).label)) from None
    record("round.room", actor=actor, at=at, target=check, shelter_id=shelter.id, due_at=due_at.isoformat(),
           room_id=room.id, status=status)
    return check


def record_headcount(shelter: Shelter, due_minutes: int | None, headcount: int | None, *, actor, at: datetime,
                     client_key: str | None = None) -> Round:
    """The round's headcount, compared with the residents the app has in the house (a mismatch is flagged)."""
    if headcount is None or not 0 <= headcount <= HEADCOUNT_MAX:
        raise DomainError(_("Enter how many residents you counted."), field="headcount")
    key = _client_key(client_key)
    if key is not None:
        earlier = db.session.scalar(select(Round).where(Round.headcount_by_id == actor.id,
                                                        Round.headcount_key == key))
        if earlier is not None:
            return earlier
    times = times_of(shelter.id)
    due_at = round_due(times, due_minutes, at)
    the_round = _round_for(shelter, due_at, at)
    expected = in_house_count(shelter.id)
    first = _first_to(Round, the_round.id, Round.headcount, headcount=headcount, expected=expected, headcount_at=at,
                      headcount_by_id=actor.id, headcount_key=key)
    db.session.refresh(the_round)
    if not first:
        by = db.session.get(User, the_round.headcount_by_id)
        raise Conflict(_("The headcount of this round was recorded at %(t)s by %(name)s: %(n)d.",
                         t=_hm(the_round.headcount_at), name=by.display_name, n=the_round.headcount))
    record("round.headcount", actor=actor, at=at, target=the_round, shelter_id=shelter.id,
           headcount=headcount, expected=expected)
    return the_round


@dataclass
class RoundView:
    due_at: datetime
    round: Round | None
    rooms: int  # rooms in the shelter

    @property
    def checked(self) -> int:
        return len(self.round.checks) if self.round else 0

    @property
    def complete(self) -> bool:
        return self.round is not None and self.round.headcount is not None and self.checked >= self.rooms

    def late(self, now: datetime) -> bool:
        return not self.complete and now >= self.due_at + ROUND_LATE_AFTER

    @property
    def done_at(self) -> datetime | None:
        if not self.complete:
            return None
        return max([self.round.headcount_at] + [c.checked_at for c in self.round.checks])


def rounds_between(shelter: Shelter, times: Times, start: datetime, end: datetime) -> list[RoundView]:
    """The rounds due in [start, end]: those recorded and those expected, newest first (three queries)."""
    rooms = db.session.scalar(select(func.count(Room.id)).where(Room.shelter_id == shelter.id))
    rows = {r.due_at: r for r in db.session.scalars(
        select(Round).options(selectinload(Round.checks).joinedload(RoundCheck.by),
                              selectinload(Round.checks).joinedload(RoundCheck.room))
        .where(Round.shelter_id == shelter.id, Round.due_at >= start, Round.due_at <= end))}
    due = sorted(set(round_moments(times, start, end)) | set(rows))
    return [RoundView(d, rows.get(d), rooms) for d in reversed(due)]


# --- presence -----------------------------------------------------------------------------------------

def _stay_of(resident_id: int, *, actor) -> tuple[Resident, Stay]:
    """A resident actor sees, in a bed now (with bed, room and shelter), else a 404 or a conflict."""
    resident = get_resident(resident_id, actor=actor)
    stay = db.session.scalar(select(Stay).options(joinedload(Stay.bed).joinedload(Bed.room))
                             .where(Stay.resident_id == resident.id, Stay.ended_at.is_(None)))
    if stay is None:
        raise Conflict(_("%(alias)s is not checked in.", alias=resident.alias))
    return resident, stay


def shelter_of_resident(resident_id: int, *, actor) -> Shelter:
    """The shelter of a resident actor sees: where their bed is now, else where their record belongs."""
    resident = get_resident(resident_id, actor=actor)
    shelter_id = db.session.scalar(
        select(Room.shelter_id).join(Bed, Bed.room_id == Room.id).join(Stay, Stay.bed_id == Bed.id)
        .where(Stay.resident_id == resident.id, Stay.ended_at.is_(None))) or resident.shelter_id
    shelter = db.session.get(Shelter, shelter_id) if shelter_id is not None else None
    if shelter is None:
        raise Conflict(_("%(alias)s belongs to no shelter yet: check them in first.", alias=resident.alias))
    return shelter


def open_outing_of(resident_id: int) -> Outing | None:
    return db.session.scalar(select(Outing).where(Outing.resident_id == resident_id, Outing.came_back_at.is_(None))
                             .execution_options(populate_existing=True))


def _refuse_if_out(resident: Resident) -> None:
    outing = open_outing_of(resident.id)
    if outing is not None:
        raise Conflict(_("%(alias)s is out since %(t)s.", alias=resident.alias, t=_hm(outing.went_out_at)))


def _store_outing(outing: Outing, resident: Resident) -> None:
    try:
        with db.session.begin_nested():
            db.session.add(outing)
            db.session.flush()
    except IntegrityError:
        raise Conflict(_("%(alias)s was recorded as out a moment ago.", alias=resident.alias)) from None


def go_out(resident_id: int, expected_back_at: datetime | None, *, actor, at: datetime) -> Outing:
    """A resident goes out, saying when they will be back."""
    resident, stay = _stay_of(resident_id, actor=actor)
    if expected_back_at is None:
        raise DomainError(_("Enter when they expect to be back."), field="expected_back_at")
    if expected_back_at <= at:
        raise DomainError(_("The expected return must be later than now."), field="expected_back_at")
    if expected_back_at > at + timedelta(days=3):
        raise DomainError(_("Expected back within three days; a longer absence is a check-out."),
                          field="expected_back_at")
    _refuse_if_out(resident)
    outing = Outing(shelter_id=stay.bed.room.shelter_id, resident_id=resident.id, went_out_at=at,
                    expected_back_at=expected_back_at, without_notice=False, out_by_id=actor.id)
    _store_outing(outing, resident)
    record("outing.out", actor=actor, at=at, target=outing, resident_id=resident.id,
           expected_back_at=expected_back_at.isoformat())
    return outing


def gone_without_notice(resident_id: int, note: str, *, actor, at: datetime) -> HandoverEntry:
    """A resident is gone and nobody was told: recorded as out, and a safety incident for the manager on call."""
    resident, stay = _stay_of(resident_id, actor=actor)
    note = clean_text(note, "note", max_len=ENTRY_TEXT_MAX)
    _refuse_if_out(resident)
    outing = Outing(shelter_id=stay.bed.room.shelter_id, resident_id=resident.id, went_out_at=at,
                    expected_back_at=None, without_notice=True, out_by_id=actor.id)
    _store_outing(outing, resident)
    record("outing.without_notice", actor=actor, at=at, target=outing, resident_id=resident.id)
    shelter = db.session.get(Shelter, outing.shelter_id)
    return _store_entry(shelter, {"kind": EntryKind.INCIDENT.value, "incident_kind": IncidentKind.SAFETY.value,
                                  "resident_id": resident.id, "occurred_at": at, "text": note,
                                  "outing_id": outing.id}, actor=actor, at=at, client_key=None)


def come_back(resident_id: int, *, actor, at: datetime) -> Outing:
    """A resident is back in the house."""
    resident = get_resident(resident_id, actor=actor)
    outing = open_outing_of(resident.id)
    if outing is None:
        raise Conflict(_("%(alias)s is not recorded as out.", alias=resident.alias))
    if not _first_to(Outing, outing.id, Outing.came_back_at, came_back_at=max(at, outing.went_out_at),
                     back_by_id=actor.id):
        raise Conflict(_("%(alias)s was recorded as back a moment ago.", alias=resident.alias))
    db.session.refresh(outing)
    record("outing.back", actor=actor, at=at, target=outing, resident_id=resident.id)
    return outing


def open_outings(shelter_id: int) -> list[Outing]:
    """Who of the shelter is out now, with the resident, the longest out first (one query)."""
    return list(db.session.scalars(select(Outing).options(joinedload(Outing.resident))
                                   .where(Outing.shelter_id == shelter_id, Outing.came_back_at.is_(None))
                                   .order_by(Outing.went_out_at, Outing.id)))


def raise_safety_incidents(shelter: Shelter, now: datetime, *, times: Times | None = None,
                           outings: list[Outing] | None = None) -> list[HandoverEntry]:
    """A resident not back by the curfew becomes a safety incident in the handover (once per outing)."""
    times = times or times_of(shelter.id)
    outings = open_outings(shelter.id) if outings is None else outings
    due = [o for o in outings if not o.without_notice and now >= curfew_after(times, o.went_out_at)]
    if not due:
        return []
    raised = set(db.session.scalars(select(HandoverEntry.outing_id)
                                    .where(HandoverEntry.outing_id.in_([o.id for o in due]))))
    made = []
    for outing in due:
        if outing.id in raised:
            continue
        values = {"kind": EntryKind.INCIDENT.value, "incident_kind": IncidentKind.SAFETY.value,
                  "resident_id": outing.resident_id, "occurred_at": curfew_after(times, outing.went_out_at),
                  "text": "", "outing_id": outing.id}
        try:
            with db.session.begin_nested():
                made.append(_store_entry(shelter, values, actor=None, at=now, client_key=None))
        except IntegrityError:  # raised by another request at the same moment
            continue
    return made


@dataclass
class Presence:
    inside: list[tuple[Resident, Stay]]
    out: list[tuple[Outing, Stay | None]]


def presence(residents: list[tuple[Resident, Stay]], outings: list[Outing]) -> Presence:
    """Who of the residents is in the house, and who of them is out (with their stay)."""
    stays = {r.id: s for r, s in residents}
    out_ids = {o.resident_id for o in outings}
    return Presence(inside=[(r, s) for r, s in residents if r.id not in out_ids],
                    out=[(o, stays.get(o.resident_id)) for o in outings])


# --- flags: what needs someone now -------------------------------------------------------------------

@dataclass
class Flag:
    """Something that needs attention: who must act (a permission), since when, and where to look."""

    kind: str
    key: str  # stable while it lasts: a notification is sent once per key
    message: str
    since: datetime
    audience: str  # the permission of those who must act
    endpoint: str
    values: dict = field(default_factory=dict)
    resident_id: int | None = None


def unread_handovers(shelter_id: int) -> list[Handover]:
    """The shelter's handed-over handovers nobody has read yet, newest first, with who wrote them (one query)."""
    return list(db.session.scalars(
        select(Handover).options(joinedload(Handover.handed_over_by))
        .where(Handover.shelter_id == shelter_id, Handover.handed_over_at.is_not(None),
               Handover.acknowledged_at.is_(None)).order_by(Handover.handed_over_at.desc())))


def flags(shelter: Shelter, now: datetime, *, times: Times | None = None, outings: list[Outing] | None = None,
          unread: list[Handover] | None = None) -> list[Flag]:
    """Everything that needs someone in shelter now, the oldest first (a few queries, whatever the numbers).

    Unread handovers after 30 minutes, rounds not complete 20 minutes after their time, a headcount that
    did not match, residents gone without notice, not back by the curfew or later than expected, tasks
    overdue. Notifications call this (and flag_recipients) the way the pages do.
    """
    times = times or times_of(shelter.id)
    outings = open_outings(shelter.id) if outings is None else outings
    unread = unread_handovers(shelter.id) if unread is None else unread
    found: list[Flag] = []
    for handover in (h for h in unread if h.handed_over_at <= now - ACK_FLAG_AFTER):
        found.append(Flag(FlagKind.UNACKNOWLEDGED, f"handover-{handover.id}", _(
            "The handover of %(name)s (%(t)s) has not been read for more than 30 minutes.",
            name=handover.handed_over_by.display_name, t=_hm(handover.handed_over_at)),
            handover.handed_over_at + ACK_FLAG_AFTER, "handovers.oversee", "handovers.shift",
            {"shelter_id": shelter.id}))
    # Without round times no round is expected (nor flagged).
    views = rounds_between(shelter, times, now - ROUND_LOOKBACK, now) if times.rounds else []
    for view in views:
        if view.late(now):
            found.append(Flag(FlagKind.ROUND_LATE, f"round-{shelter.id}-{epoch_minutes(view.due_at)}", _(
                "The night round of %(t)s is not recorded.", t=_hm(view.due_at)),
                view.due_at + ROUND_LATE_AFTER, "rounds.record", "handovers.rounds", {"shelter_id": shelter.id}))
    counted = next((v for v in views if v.round is not None and v.round.headcount is not None), None)
    if counted is not None and counted.round.mismatch:
        found.append(Flag(FlagKind.HEADCOUNT, f"headcount-{counted.round.id}", _(
            "Headcount at the round of %(t)s: %(n)d counted, %(e)d in the house by the app.",
            t=_hm(counted.due_at), n=counted.round.headcount, e=counted.round.expected),
            counted.round.headcount_at, "handovers.oversee", "handovers.presence", {"shelter_id": shelter.id}))
    for outing in outings:
        alias = outing.resident.alias
        curfew = curfew_after(times, outing.went_out_at)
        where = ("handovers.presence", {"shelter_id": shelter.id})
        if outing.without_notice:
            found.append(Flag(FlagKind.WITHOUT_NOTICE, f"outing-{outing.id}", _(
                "%(alias)s is gone without notice since %(t)s.", alias=alias, t=_when(outing.went_out_at)),
                outing.went_out_at, "handovers.oversee", *where, resident_id=outing.resident_id))
        elif now >= curfew:
            found.append(Flag(FlagKind.CURFEW, f"outing-{outing.id}", _(
                "%(alias)s is not back by the curfew (%(t)s).", alias=alias, t=_hm(curfew)),
                curfew, "handovers.oversee", *where, resident_id=outing.resident_id))
        elif outing.expected_back_at is not None and now >= outing.expected_back_at:
            found.append(Flag(FlagKind.LATE_BACK, f"late-{outing.id}", _(
                "%(alias)s was expected back at %(t)s.", alias=alias, t=_hm(outing.expected_back_at)),
                outing.expected_back_at, "presence.record", *where, resident_id=outing.resident_id))
    for task in db.session.scalars(select(Task).options(joinedload(Task.owner))
                                   .where(Task.shelter_id == shelter.id, Task.done_at.is_(None), Task.due_at <= now)
                                   .order_by(Task.due_at)):
        found.append(Flag(FlagKind.TASK_OVERDUE, f"task-{task.id}", _(
            "Task for %(name)s was due at %(t)s: %(text)s", name=task.owner.display_name, t=_when(task.due_at),
            text=task.text), task.due_at, "handovers.write", "handovers.shift", {"shelter_id": shelter.id}))
    return sorted(found, key=lambda f: f.since)


def flag_recipients(shelter: Shelter, flag: Flag, at: datetime) -> list[User]:
    """Who is to be told of a flag: those on duty who may act on it, else every staff member of the shelter who may.

    For an unread handover or a resident missing this is the manager on call: the manager on the rota now,
    or the shelter's managers.
    """
    duty = [u for u in on_duty(shelter, at) if can(u, flag.audience)]
    return duty or staff_of(shelter, flag.audience)


def flags_for(user, found: list[Flag]) -> list[Flag]:
    """The flags user may act on."""
    return [f for f in found if can(user, f.audience)]


# --- the pages' read models -------------------------------------------------------------------------

@dataclass
class HandoverView:
    handover: Handover
    entries: list[HandoverEntry]
    late: bool = False  # handed over and unread for longer than the manager is given to notice


@dataclass
class ShiftPage:
    shelter: Shelter
    times: Times
    shift: Shift
    on_duty: list[User]
    waiting: list[HandoverView]          # handed over, not read yet (actor's to read), newest first
    unread_own: list[Handover]           # actor's own handovers nobody has read yet
    last_read: HandoverView | None       # the latest handover that was read
    writing: HandoverView | None         # the one being written
    tasks: list[Task]
    corrections: dict[int, list[HandoverEntry]]
    flags: list[Flag]
    residents: list[tuple[Resident, Stay]]
    staff: list[User]
    round_time: datetime | None
    presence_out: int


def shift_page(shelter: Shelter, now: datetime, *, actor) -> ShiftPage:
    """Everything the shift page shows, in a fixed number of queries; the read is audited."""
    times = times_of(shelter.id)
    outings = open_outings(shelter.id)
    raise_safety_incidents(shelter, now, times=times, outings=outings)
    unread = unread_handovers(shelter.id)
    last_read = db.session.scalar(
        select(Handover).options(joinedload(Handover.handed_over_by), joinedload(Handover.acknowledged_by))
        .where(Handover.shelter_id == shelter.id, Handover.acknowledged_at.is_not(None))
        .order_by(Handover.handed_over_at.desc()).limit(1))
    writing = open_handover_of(shelter.id)
    waiting = [h for h in unread if h.handed_over_by_id != actor.id]
    shown = waiting + ([last_read] if last_read else []) + ([writing] if writing else [])
    entries = entries_of(h.id for h in shown)
    corrections = corrections_of(e.id for items in entries.values() for e in items)
    residents = current_residents(shelter)
    page = ShiftPage(
        shelter=shelter, times=times, shift=shift_at(times, now), on_duty=on_duty(shelter, now, times=times),
        waiting=[HandoverView(h, entries.get(h.id, []), late=h.handed_over_at <= now - ACK_FLAG_AFTER)
                 for h in waiting],
        unread_own=[h for h in unread if h.handed_over_by_id == actor.id],
        last_read=HandoverView(last_read, entries.get(last_read.id, [])) if last_read else None,
        writing=HandoverView(writing, entries.get(writing.id, [])) if writing else None,
        tasks=open_tasks(shelter.id), corrections=corrections,
        flags=flags_for(actor, flags(shelter, now, times=times, outings=outings, unread=unread)),
        residents=residents, staff=staff_of(shelter), round_time=current_round_time(times, now),
        presence_out=len(outings))
    seen = {e.resident_id for items in entries.values() for e in items} | {r.id for r, _s in residents}
    seen |= {e.resident_id for items in corrections.values() for e in items}
    record("shift.view", actor=actor, at=now, target=shelter, resident_ids=sorted(i for i in seen if i))
    return page


@dataclass
class RoundsPage:
    shelter: Shelter
    times: Times
    current: RoundView | None  # the round that can be recorded now
    next_at: datetime | None
    rooms: list[Room]
    recent: list[RoundView]
    residents: list[tuple[Resident, Stay]]


def rounds_page(shelter: Shelter, now: datetime, *, actor) -> RoundsPage:
    """The round to record now with its rooms, and the rounds of the last day; the read is audited."""
    times = times_of(shelter.id)
    recent = rounds_between(shelter, times, now - timedelta(days=1), now + ROUND_EARLY)
    due = current_round_time(times, now)
    # Regular rooms first (a round walks them), then isolation rooms.
    rooms = list(db.session.scalars(select(Room).where(Room.shelter_id == shelter.id)
                                    .order_by(Room.kind.desc(), Room.name)))
    residents = current_residents(shelter)
    record("rounds.view", actor=actor, at=now, target=shelter, resident_ids=sorted(r.id for r, _s in residents))
    return RoundsPage(shelter=shelter, times=times, current=next((v for v in recent if v.due_at == due), None),
                      next_at=next_round_time(times, now), rooms=rooms, recent=recent, residents=residents)


@dataclass
class PresencePage:
    shelter: Shelter
    times: Times
    presence: Presence
    flags: list[Flag]


def presence_page(shelter: Shelter, now: datetime, *, actor) -> PresencePage:
    """Who is in the house and who is out, with what is late; the read is audited."""
    times = times_of(shelter.id)
    outings = open_outings(shelter.id)
    raise_safety_incidents(shelter, now, times=times, outings=outings)
    residents = current_residents(shelter)
    found = [f for f in flags(shelter, now, times=times, outings=outings) if f.resident_id is not None]
    record("presence.view", actor=actor, at=now, target=shelter,
           resident_ids=sorted({r.id for r, _s in residents} | {o.resident_id for o in outings}))
    return PresencePage(shelter=shelter, times=times, presence=presence(residents, outings), flags=found)


@dataclass
class BoardNotice:
    """What the bed board shows on top: handovers waiting to be read, and the flags for the user."""

    waiting: list[Handover]
    flags: list[Flag]


def board_notice(shelter: Shelter, now: datetime, *, actor) -> BoardNotice:
    """The handover banner and flags on top of a shelter's bed board (a fixed few queries)."""
    times = times_of(shelter.id)
    outings = open_outings(shelter.id)
    raise_safety_incidents(shelter, now, times=times, outings=outings)
    unread = unread_handovers(shelter.id)
    waiting = [h for h in unread if h.handed_over_by_id != actor.id]
    return BoardNotice(waiting=waiting, flags=flags_for(actor, flags(shelter, now, times=times, outings=outings,
                                                                     unread=unread)))


def shelter_with_waiting_handover(actor, now: datetime) -> int | None:
    """The shelter of the newest handover actor has to read, if any (where the app opens for them)."""
    waiting = waiting_for(actor, now)
    return waiting[0].shelter_id if waiting else None


# --- history and the printed day ---------------------------------------------------------------------

@dataclass
class HistoryFilter:
    shelter_ids: list[int]
    start: datetime
    end: datetime
    kind: str | None = None
    resident_id: int | None = None


@dataclass
class HistoryItem:
    at: datetime
    kind: str  # HistoryKind
    entry: HandoverEntry | None = None
    handover: Handover | None = None
    round: RoundView | None = None
    outing: Outing | None = None
    shelter_id: int | None = None


@dataclass
class History:
    items: list[HistoryItem]
    corrections: dict[int, list[HandoverEntry]]
    truncated: bool


def history_residents(shelter_ids: list[int], limit: int = 500) -> list[Resident]:
    """Residents whose record belongs to these shelters (for the history's filter), by alias."""
    return list(db.session.scalars(select(Resident).where(Resident.shelter_id.in_(shelter_ids),
                                                          Resident.anonymised_at.is_(None))
                                   .order_by(Resident.alias, Resident.id).limit(limit)))


def history_range(day_from: date | None, day_to: date | None, today: date, default_days: int) -> tuple[date, date]:
    """The days a history shows: both ends given or defaulted, in order, at most a year."""
    day_to = day_to or today
    day_from = day_from or day_to - timedelta(days=default_days - 1)
    if day_from > day_to:
        raise DomainError(_("The first day comes before the last."), field="day_from")
    if (day_to - day_from).days >= HISTORY_MAX_DAYS:
        raise DomainError(_("Choose at most a year."), field="day_from")
    return day_from, day_to


def day_bounds(day_from: date, day_to: date) -> tuple[datetime, datetime]:
    """From local midnight of the first day until local midnight after the last, in UTC."""
    return moment(day_from, 0), moment(day_to + timedelta(days=1), 0)


def history(f: HistoryFilter, *, actor, at: datetime) -> History:
    """Handovers, entries, incidents, observations, rounds and outings in the filter, newest first; audited."""
    items: list[HistoryItem] = []
    truncated = False
    kinds = set(HistoryKind.values()) if f.kind is None else {f.kind}
    if f.resident_id is not None:
        kinds &= {HistoryKind.INCIDENT, HistoryKind.RESIDENT, HistoryKind.OBSERVATION, HistoryKind.PRESENCE}
    entry_kinds = [k for k in (EntryKind.INCIDENT, EntryKind.RESIDENT, EntryKind.OBSERVATION) if k.value in kinds]
    if entry_kinds:
        query = (_entries_query().where(HandoverEntry.shelter_id.in_(f.shelter_ids),
                                        HandoverEntry.kind.in_([k.value for k in entry_kinds]),
                                        HandoverEntry.occurred_at >= f.start, HandoverEntry.occurred_at < f.end)
                 .order_by(HandoverEntry.occurred_at.desc(), HandoverEntry.id.desc()).limit(HISTORY_LIMIT + 1))
        if f.resident_id is not None:
            query = query.where(HandoverEntry.resident_id == f.resident_id)
        entries = list(db.session.scalars(query))
        truncated |= len(entries) > HISTORY_LIMIT
        items += [HistoryItem(e.occurred_at, e.kind, entry=e, shelter_id=e.shelter_id) for e in entries[:HISTORY_LIMIT]]
    if HistoryKind.HANDOVER in kinds:
        handovers = list(db.session.scalars(
            select(Handover).options(joinedload(Handover.handed_over_by), joinedload(Handover.acknowledged_by))
            .where(Handover.shelter_id.in_(f.shelter_ids), Handover.handed_over_at >= f.start,
                   Handover.handed_over_at < f.end)
            .order_by(Handover.handed_over_at.desc()).limit(HISTORY_LIMIT + 1)))
        truncated |= len(handovers) > HISTORY_LIMIT
        items += [HistoryItem(h.handed_over_at, HistoryKind.HANDOVER, handover=h, shelter_id=h.shelter_id)
                  for h in handovers[:HISTORY_LIMIT]]
    if HistoryKind.ROUND in kinds:
        for shelter in db.session.scalars(select(Shelter).where(Shelter.id.in_(f.shelter_ids))):
            views = rounds_between(shelter, times_of(shelter.id), f.start, min(f.end, at))
            items += [HistoryItem(v.due_at, HistoryKind.ROUND, round=v, shelter_id=shelter.id)
                      for v in views[:HISTORY_LIMIT]]
    if HistoryKind.PRESENCE in kinds:
        query = (select(Outing).options(joinedload(Outing.resident))
                 .where(Outing.shelter_id.in_(f.shelter_ids), Outing.went_out_at >= f.start, Outing.went_out_at < f.end)
                 .order_by(Outing.went_out_at.desc()).limit(HISTORY_LIMIT + 1))
        if f.resident_id is not None:
            query = query.where(Outing.resident_id == f.resident_id)
        outings = list(db.session.scalars(query))
        truncated |= len(outings) > HISTORY_LIMIT
        items += [HistoryItem(o.went_out_at, HistoryKind.PRESENCE, outing=o, shelter_id=o.shelter_id)
                  for o in outings[:HISTORY_LIMIT]]
    items.sort(key=lambda i: i.at, reverse=True)
    corrections = corrections_of(i.entry.id for i in items if i.entry)
    shown = {i.entry.resident_id for i in items if i.entry} | {i.outing.resident_id for i in items if i.outing}
    record("history.view", actor=actor, at=at, shelter_ids=f.shelter_ids, kind=f.kind, resident_id=f.resident_id,
           start=f.start.isoformat(), end=f.end.isoformat(), resident_ids=sorted(i for i in shown if i))
    return History(items=items, corrections=corrections, truncated=truncated)


@dataclass
class PrintedDay:
    shelter: Shelter
    day: date
    handovers: list[HandoverView]
    loose: list[HandoverEntry]  # entries of the day in handovers of other days
    rounds: list[RoundView]
    outings: list[Outing]
    tasks: list[Task]
    corrections: dict[int, list[HandoverEntry]]


def printed_day(shelter: Shelter, day: date, *, actor, at: datetime) -> PrintedDay:
    """Everything of one local day of a shelter, for a manager to print; the read is audited."""
    start, end = day_bounds(day, day)
    handovers = list(db.session.scalars(
        select(Handover).options(joinedload(Handover.handed_over_by), joinedload(Handover.acknowledged_by))
        .where(Handover.shelter_id == shelter.id, Handover.handed_over_at >= start, Handover.handed_over_at < end)
        .order_by(Handover.handed_over_at)))
    entries = entries_of(h.id for h in handovers)
    ids = {h.id for h in handovers}
    loose = [e for e in db.session.scalars(
        _entries_query().where(HandoverEntry.shelter_id == shelter.id, HandoverEntry.occurred_at >= start,
                               HandoverEntry.occurred_at < end).order_by(HandoverEntry.occurred_at))
             if e.handover_id not in ids]
    outings = list(db.session.scalars(
        select(Outing).options(joinedload(Outing.resident))
        .where(Outing.shelter_id == shelter.id, Outing.went_out_at < end,
               or_(Outing.came_back_at.is_(None), Outing.came_back_at >= start)).order_by(Outing.went_out_at)))
    tasks = list(db.session.scalars(
        select(Task).options(joinedload(Task.owner), joinedload(Task.done_by))
        .where(Task.shelter_id == shelter.id, Task.created_at < end,
               or_(Task.done_at.is_(None), Task.done_at >= start)).order_by(Task.due_at)))
    all_entries = [e for items in entries.values() for e in items] + loose
    corrections = corrections_of(e.id for e in all_entries)
    shown = {e.resident_id for e in all_entries} | {o.resident_id for o in outings}
    record("day.print", actor=actor, at=at, target=shelter, day=day.isoformat(),
           resident_ids=sorted(i for i in shown if i))
    return PrintedDay(shelter=shelter, day=day,
                      handovers=[HandoverView(h, entries.get(h.id, [])) for h in handovers], loose=loose,
                      rounds=list(reversed(rounds_between(shelter, times_of(shelter.id), start, min(end, at)))),
                      outings=outings, tasks=tasks, corrections=corrections)


def entry_page(entry_id: int, *, actor, at: datetime) -> tuple[HandoverEntry, list[HandoverEntry]]:
    """An entry with its corrections; the read is audited."""
    entry = get_entry(entry_id, actor=actor)
    corrections = corrections_of([entry.id]).get(entry.id, [])
    record("handover.entry_view", actor=actor, at=at, target=entry, resident_id=entry.resident_id)
    return entry, corrections
