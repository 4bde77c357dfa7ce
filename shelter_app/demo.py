"""Demo data for `shelter-app demo` and `seed-demo`: idempotent."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from .auth.models import User
from .auth.passwords import hash_password
from .auth.services import create_user, validate_password
from .beds import services as occupancy
from .extensions import db
from .handovers import services as handovers
from .handovers.models import Round, RoundCheck, ShiftSettings
from .handovers.vocab import ROUND_LATE_AFTER
from .referrals import services as referrals
from .residents import services as residents
from .shelters import services as shelters
from .shelters.models import Shelter, ShelterStaff

ALL_SHELTERS = ("Przystań", "Latarnia")  # code names of the demo shelters (DEMO_SHELTERS below)

# (username, role, name, organisation, code names of the shelters a staff account belongs to)
DEMO_USERS = [
    ("manager", "manager", "Kierownik (demo)", None, ALL_SHELTERS),
    ("trainer", "trainer", "Trener (demo)", None, ALL_SHELTERS),
    ("night", "night", "Dyżur nocny (demo)", None, ALL_SHELTERS),
    # Sees one shelter only: another shelter's board, residents and referrals answer "not found".
    ("night-przystan", "night", "Dyżur nocny, tylko Przystań (demo)", None, ("Przystań",)),
    ("casemanager", "casemanager", "Case manager (demo)", "Partner NGO (demo)", ()),
    ("admin", "admin", "Administrator (demo)", None, ()),
]


def seed_demo(password: str, *, at: datetime) -> list[tuple[str, str]]:
    """Create the demo users (or reset their password to password) and demo data; the logins."""
    validate_password(password)
    for username, role, name, organisation, _shelters in DEMO_USERS:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            create_user(username, password, role, display_name=name, organisation=organisation, at=at)
        else:
            user.password_hash = hash_password(password)
            user.active = True
    if db.session.scalar(select(Shelter.id).limit(1)) is None:
        _seed_shelters(at)
        _seed_referrals(at)
    _assign_shelters(at)
    if db.session.scalar(select(ShiftSettings.shelter_id).limit(1)) is None:
        _seed_shifts(at)
    return [(u, r if len(codes) != 1 else f"{r}, {codes[0]} only") for u, r, _n, _o, codes in DEMO_USERS]


def _assign_shelters(at: datetime) -> None:
    """Demo staff accounts that belong to no shelter yet are given theirs (an administrator's later choice stays)."""
    for username, _role, _name, _organisation, codes in DEMO_USERS:
        user = db.session.scalar(select(User).where(User.username == username))
        if not codes or db.session.scalar(select(ShelterStaff.shelter_id).where(ShelterStaff.user_id == user.id)
                                          .limit(1)) is not None:
            continue
        ids = list(db.session.scalars(select(Shelter.id).where(Shelter.code_name.in_(codes))))
        if ids:
            shelters.set_staff_shelters(user, ids, actor=None, at=at)


# (room, kind, group, [(bed label, category), ...])
DEMO_SHELTERS = [
    ("Przystań", "Dom Północ", "ul. Przykładowa 1, 00-001 Warszawa (demo)", [
        ("1", "regular", "women", [("A", "woman"), ("B", "woman"), ("C", "woman"), ("D", "woman")]),
        ("2", "regular", "women", [("A", "woman"), ("B", "woman"), ("C", "woman")]),
        ("3", "regular", "families", [("A", "family"), ("B", "family"), ("C", "child_cot"), ("D", "child_cot")]),
        ("4", "regular", "men", [("A", "man"), ("B", "man"), ("C", "man")]),
        ("5", "regular", "men", [("A", "man"), ("B", "man")]),
        ("Izolatka", "isolation", None, []),
    ]),
    ("Latarnia", "Dom Południe", "ul. Testowa 2, 00-002 Warszawa (demo)", [
        ("A", "regular", "women", [("1", "woman"), ("2", "woman"), ("3", "woman"), ("4", "woman")]),
        ("B", "regular", "women", [("1", "woman"), ("2", "woman"), ("3", "woman")]),
        ("C", "regular", "families", [("1", "family"), ("2", "family"), ("3", "child_cot")]),
        ("D", "regular", "men", [("1", "man"), ("2", "man"), ("3", "man")]),
    ]),
]

DEMO_RESIDENTS = [
    ("Ania", "female", "Ukrainian, Russian", "", "gluten", "sexual"),
    ("Mira", "female", "Romanian", "halal", "", "labour"),
    ("Lena", "female", "Vietnamese", "", "peanuts", "labour"),
    ("Sol", "female", "Spanish, English", "vegetarian", "", "sexual"),
    ("Iva", "female", "Bulgarian", "", "", "begging"),
    ("Nadia", "female", "Ukrainian", "", "penicillin", "sexual"),
    ("Tomek", "male", "Polish", "", "", "labour"),
    ("Emil", "male", "Romanian, Hungarian", "", "", "criminality"),
    ("Dan", "male", "Moldovan, Romanian", "diabetic", "", "labour"),
    ("Kiri", "female", "Tagalog, English", "", "shellfish", "labour"),
    ("Asel", "female", "Kyrgyz, Russian", "halal", "", "sexual"),
    ("Oleh", "male", "Ukrainian", "", "", "labour"),
]


def _seed_shelters(at: datetime) -> None:
    """Two shelters, about 30 beds, a dozen residents: a board that looks like a real night."""
    beds_by_shelter = []
    for code_name, name, address, rooms in DEMO_SHELTERS:
        shelter = shelters.create_shelter(code_name, name, address, actor=None, at=at)
        beds = []
        for room_name, kind, group, bed_specs in rooms:
            room = shelters.create_room(shelter, room_name, kind, group, actor=None, at=at)
            for label, category in bed_specs:
                beds.append(shelters.create_bed(room, label, category, actor=None, at=at))
        beds_by_shelter.append((shelter, beds))

    first_shelter, first_beds = beds_by_shelter[0]
    second_shelter, second_beds = beds_by_shelter[1]
    women = [b for b in first_beds if b.category == "woman"] + [b for b in second_beds if b.category == "woman"]
    men = [b for b in first_beds if b.category == "man"] + [b for b in second_beds if b.category == "man"]
    for i, (alias, sex, languages, diet, allergies, form) in enumerate(DEMO_RESIDENTS):
        bed = (women if sex == "female" else men).pop(0)
        occupancy.check_in(bed.id, occupancy.CheckIn(new_arrival=residents.ResidentInput(
            alias=alias, sex=sex, languages=languages, interpreter_needed="Polish" not in languages,
            dietary_needs=diet, allergies=allergies, exploitation_forms=(form,)),
            at=at - timedelta(days=3 + 5 * i)), actor=None, now=at)
        if alias == "Nadia":
            isolation_room = next(r for r in first_shelter.rooms if r.is_isolation)
            occupancy.isolate(bed.id, str(isolation_room.id), "health", "", at + timedelta(days=2), actor=None, now=at)
    free_family = next(b for b in first_beds if b.category == "family")
    occupancy.place_hold(free_family.id, at + timedelta(hours=5), "", actor=None, at=at)
    occupancy.set_out_of_service(men[-1].id, "Broken frame", at + timedelta(days=2), actor=None, at=at)


def _seed_referrals(at: datetime) -> None:
    """One referral waiting for an answer and one accepted, so both sides have something to see."""
    case_manager = db.session.scalar(select(User).where(User.username == "casemanager"))
    first_shelter = db.session.scalar(select(Shelter).order_by(Shelter.code_name))
    waiting = referrals.ReferralInput(
        shelter=None, category="woman", people=1, arrival_from=at + timedelta(minutes=40),
        arrival_until=at + timedelta(hours=3), languages="Romanian", interpreter_needed=True,
        needs=("medication",), note="Police escort, arrives by car.", code="POL-2611-A")
    referrals.create_referral(waiting, actor=case_manager, at=at - timedelta(minutes=10))
    accepted = referrals.ReferralInput(
        shelter=first_shelter.code_name, category="woman", people=1, arrival_from=at + timedelta(hours=1),
        arrival_until=at + timedelta(hours=6), languages="Ukrainian", code="NGO-2611-B")
    referral = referrals.create_referral(accepted, actor=case_manager, at=at - timedelta(hours=1))
    referrals.accept_referral(referral, first_shelter, actor=None, at=at - timedelta(minutes=45))


def _seed_shifts(at: datetime) -> None:
    """Shift times and night rounds, the rota, last night's rounds, and the day's handover waiting for the night."""
    users = {u.username: u for u in db.session.scalars(select(User))}
    for shelter in db.session.scalars(select(Shelter).order_by(Shelter.id)):
        handovers.set_times(shelter, day_starts="07:00", night_starts="19:00", curfew="22:00",
                            rounds="23:00, 02:00, 05:00", actor=None, at=at - timedelta(days=2))
        _seed_past_rounds(shelter, users["night"], at)
    house = db.session.scalar(select(Shelter).where(Shelter.code_name == ALL_SHELTERS[0]))
    if house is None:
        return
    times = handovers.times_of(house.id)
    now = handovers.shift_at(times, at)
    later = handovers.next_shift(times, now)
    for shift in (now, later):
        handovers.assign_duty(house, users["manager"].id, shift.day, shift.kind, actor=None, at=at)
        worker = users["night"] if shift.kind == "night" else users["trainer"]
        handovers.assign_duty(house, worker.id, shift.day, shift.kind, actor=None, at=at)
    in_bed = {r.alias: r for r, _stay in handovers.current_residents(house)}
    writer = users["trainer"]
    written = at - timedelta(hours=3)
    if "Mira" in in_bed:
        handovers.add_entry(house, handovers.EntryInput(
            kind="resident", resident_id=in_bed["Mira"].id,
            text="Appointment with the lawyer moved to Thursday 10:00; she knows. Interpreter (Romanian) booked."),
            actor=writer, at=written)
    if "Nadia" in in_bed:
        handovers.add_observation(in_bed["Nadia"].id, "Fever 38.2 °C, paracetamol 500 mg given.",
                                  written + timedelta(minutes=30), actor=writer, at=written + timedelta(minutes=30))
        handovers.add_task(house, "Take Nadia's temperature again and write it down", users["night"].id,
                           later.starts_at + timedelta(hours=4), actor=writer, at=written)
    handovers.add_entry(house, handovers.EntryInput(
        kind="incident", incident_kind="safety", occurred_at=written + timedelta(hours=1),
        text="A man asked at the gate for “the Ukrainian girl”. Nobody was named.",
        action_taken="Told him nothing, did not open. Police informed; the gate stays locked."),
        actor=writer, at=written + timedelta(hours=1))
    if "Sol" in in_bed:
        handovers.go_out(in_bed["Sol"].id, at + timedelta(hours=2), actor=writer, at=at - timedelta(hours=1))
    handovers.hand_over(house, "Calm day apart from the man at the gate: keep it locked tonight. Nadia feverish, "
                               "in isolation.", None, actor=writer, at=at - timedelta(minutes=10))


def _seed_past_rounds(shelter, night, at: datetime) -> None:
    """The night rounds of the last day, done: nothing is flagged late in a fresh demo."""
    times = handovers.times_of(shelter.id)
    rooms = [room.id for room in shelter.rooms]
    expected = handovers.in_house_count(shelter.id)
    # Those already late by now; one due less than 20 minutes ago is still for the night worker to do.
    for due in handovers.round_moments(times, at - timedelta(days=1), at - ROUND_LATE_AFTER):
        done = due + timedelta(minutes=12)
        the_round = Round(shelter_id=shelter.id, due_at=due, started_at=due + timedelta(minutes=2), headcount=expected,
                          expected=expected, headcount_at=done, headcount_by_id=night.id)
        db.session.add(the_round)
        db.session.flush()
        db.session.add_all(RoundCheck(round_id=the_round.id, room_id=room, status="quiet", note="",
                                      checked_at=due + timedelta(minutes=2 + i), by_id=night.id)
                           for i, room in enumerate(rooms))
