"""Fill a database with a national network's data, deterministically, by bulk inserts.

    .venv/bin/python bench/seed.py [--scale 1] [--years 5] [--seed 1] [--sqlite PATH]

Without --sqlite it fills DATABASE_URL (PostgreSQL: COPY), which it empties first (the schema is
dropped and made again by the migrations): never point it at a database whose data you need.
At --scale 1: 300 shelters, 9 000 beds, about 359 000 stays over five years, 340 000 residents and
3.2 million audit events (a valid hash chain); --scale 0.2 is a fifth of it, and --years the length
of the history (the size of everything that grows with time). The same arguments give the same rows.

Accounts for the benchmark (password --password): bench-night, bench-trainer and bench-manager
(staff of the first shelter only, as a night worker of one shelter is), bench-casemanager
(organisation "Bench NGO") and bench-admin; an API token of Bench NGO, BENCH_TOKEN.
"""
from __future__ import annotations

import argparse
import hashlib
import heapq
import json
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BENCH_PASSWORD = "bench password 2026"
BENCH_ORGANISATION = "Bench NGO"
# A partner system's API token of Bench NGO (only its SHA-256 is stored, as for every token).
BENCH_TOKEN = "shk_bench-load-runs-only-not-a-secret"
BEDS_PER_ROOM = 3
# Ten regular rooms of three beds (30 beds) and two isolation rooms per shelter.
ROOM_CATEGORIES = ["woman"] * 15 + ["man"] * 9 + ["family", "family", "child_cot"] * 2
ISOLATION_ROOMS = 2
AUDIT_EVENTS_PER_STAY = 3.2e6 / 359e3  # the ratio measured in the deployment this models
ALIASES = ["Anna", "Maria", "Olena", "Iryna", "Daria", "Ewa", "Nadia", "Sofia", "Amina", "Fatima", "Grace",
           "Joy", "Mihaela", "Elena", "Oksana", "Tetiana", "Ivan", "Pavel", "Andrei", "Samuel", "Kofi", "Ali",
           "Yusuf", "Tomas", "Luis", "Mei", "Linh", "Hoa", "Rosa", "Blessing"]
COUNTRIES = ["Ukraine", "Romania", "Bulgaria", "Vietnam", "Nigeria", "Moldova", "Belarus", "Philippines",
             "Colombia", "Poland", "Uganda", "Nepal"]
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _utc(dt: datetime) -> datetime:
    return dt.astimezone(timezone.utc)


@dataclass
class Rows:
    """Every table's rows, in insert order (parents first), as tuples in `columns` order."""

    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    data: dict[str, list[tuple]] = field(default_factory=dict)

    def table(self, name: str, *columns: str) -> list[tuple]:
        self.columns[name] = columns
        return self.data.setdefault(name, [])


def generate(*, scale: float, years: float, seed: int, now: datetime, password_hash: str) -> Rows:
    """All rows of the network, deterministic in (scale, years, seed, now)."""
    from shelter_app.audit.chain import GENESIS, event_hash

    rnd = random.Random(seed)
    rows = Rows()
    start = now - timedelta(days=365.25 * years)
    n_shelters = max(1, round(300 * scale))

    shelters = rows.table("shelters", "id", "code_name", "name", "address", "created_at")
    rooms = rows.table("rooms", "id", "shelter_id", "name", "kind", "room_group")
    beds = rows.table("beds", "id", "room_id", "label", "category", "out_of_service_reason",
                      "out_of_service_since", "out_of_service_until")
    users = rows.table("users", "id", "username", "display_name", "role", "password_hash", "active", "locale",
                       "organisation", "created_at")
    staff = rows.table("shelter_staff", "user_id", "shelter_id")
    residents = rows.table("residents", "id", "code", "shelter_id", "alias", "sex", "age_band", "birth_year",
                           "country_of_origin", "languages", "interpreter_needed", "exploitation_forms",
                           "dietary_needs", "allergies", "notes", "legal_name", "document_data", "created_at",
                           "anonymised_at")
    stays = rows.table("stays", "id", "resident_id", "bed_id", "started_at", "ended_at", "end_reason",
                       "checkout_reason", "destination", "referral_code", "started_by_id", "ended_by_id")
    isolations = rows.table("isolations", "id", "resident_id", "room_id", "reason", "note", "started_at",
                            "expected_end_at", "ended_at", "started_by_id", "ended_by_id")
    referrals = rows.table("referrals", "id", "public_id", "organisation", "created_by_id", "shelter_id",
                           "category", "people", "arrival_from", "arrival_until", "languages",
                           "interpreter_needed", "needs", "note", "code", "status", "created_at", "answered_at",
                           "answered_by_id", "decline_reason", "decline_note", "cancelled_at", "stay_id")
    holds = rows.table("holds", "id", "bed_id", "expires_at", "note", "created_at", "created_by_id", "released_at",
                       "release_reason", "referral_id")
    tokens = rows.table("api_tokens", "id", "organisation", "label", "prefix", "token_hash", "created_at",
                        "created_by_id", "last_used_at", "revoked_at", "revoked_by_id")
    sessions = rows.table("user_sessions", "id", "token_hash", "user_id", "created_at", "last_seen_at", "ended_at",
                          "end_reason")
    submissions = rows.table("form_submissions", "id", "user_id", "token", "path", "created_at", "message",
                             "location")
    changes = rows.table("availability_changes", "id", "shelter_id", "at")
    events: list[tuple] = []  # (at, actor_id, action, target_type, target_id, details)

    # --- accounts ---------------------------------------------------------------------------
    def user(username, role, organisation=None, display=None) -> int:
        uid = len(users) + 1
        users.append((uid, username, display or username, role, password_hash, True, "en", organisation, start))
        return uid

    admin = user("bench-admin", "admin")
    bench_staff = [user(f"bench-{role}", role) for role in ("night", "trainer", "manager")]
    case_managers = [user("bench-casemanager", "casemanager", BENCH_ORGANISATION)]
    organisations = [BENCH_ORGANISATION] + [f"Partner {i}" for i in range(1, max(2, round(40 * scale)))]
    for i, org in enumerate(organisations[1:], start=1):
        for j in range(3):
            case_managers.append(user(f"cm-{i}-{j}", "casemanager", org))
    cm_org = {uid: users[uid - 1][7] for uid in case_managers}
    tokens.append((1, BENCH_ORGANISATION, "bench", BENCH_TOKEN[:10], hashlib.sha256(BENCH_TOKEN.encode()).hexdigest(),
                   start, admin, None, None, None))

    codes: set[str] = set()

    def resident_code() -> str:
        while True:
            code = "R-" + "".join(rnd.choice(CODE_ALPHABET) for _ in range(6))
            if code not in codes:
                codes.add(code)
                return code

    retention = now - timedelta(days=730)
    stay_id = iso_id = hold_id = ref_id = 0
    for s in range(1, n_shelters + 1):
        shelters.append((s, f"Code-{s:03d}", f"Shelter house {s}", f"Street {s}, Town {s % 17}", start))
        shelter_users = [user(f"s{s}-{role}{k}", role) for role, k in
                         (("manager", ""), ("trainer", ""), ("night", 1), ("night", 2))]
        staff.extend((uid, s) for uid in shelter_users)
        if s == 1:
            staff.extend((uid, s) for uid in bench_staff)
            shelter_users += bench_staff
        regular_rooms, iso_rooms, shelter_beds = [], [], []
        for r in range(len(ROOM_CATEGORIES) // BEDS_PER_ROOM):
            room_id = len(rooms) + 1
            rooms.append((room_id, s, f"Room {r + 1}", "regular", None))
            regular_rooms.append(room_id)
            for b in range(BEDS_PER_ROOM):
                bed_id = len(beds) + 1
                category = ROOM_CATEGORIES[r * BEDS_PER_ROOM + b]
                beds.append((bed_id, room_id, "ABC"[b], category, None, None, None))
                shelter_beds.append((bed_id, category))
        holds_before, isolations_before = len(holds), len(isolations)
        for r in range(ISOLATION_ROOMS):
            room_id = len(rooms) + 1
            rooms.append((room_id, s, f"Isolation {r + 1}", "isolation", None))
            iso_rooms.append(room_id)

        # Each bed's history: stays of ~5 weeks with gaps of ~11 days; the last one may still be open.
        periods = []  # (started_at, ended_at or None, bed_id, category)
        for bed_id, category in shelter_beds:
            t = start + timedelta(days=rnd.uniform(0, 20))
            while t < now:
                length = timedelta(days=max(0.5, rnd.lognormvariate(3.3, 0.7)))
                end = t + length
                periods.append((t, None if end >= now else end, bed_id, category))
                if end >= now:
                    break
                t = end + timedelta(days=rnd.expovariate(1 / 11.0))
        periods.sort(key=lambda p: p[0])

        # Residents in start order: one in 20 stays is someone coming back (their earlier stay ended).
        ended: list[tuple[datetime, int]] = []  # heap of (ended_at, resident_id) not yet free to return
        returning: list[int] = []
        for started, ended_at, bed_id, category in periods:
            while ended and ended[0][0] < started:
                returning.append(heapq.heappop(ended)[1])
            if returning and rnd.random() < 1 / 20:
                rid = returning.pop(rnd.randrange(len(returning)))
                rid_row = residents[rid - 1]
                residents[rid - 1] = rid_row[:2] + (s,) + rid_row[3:]
            else:
                rid = len(residents) + 1
                child = category == "child_cot" or (category == "family" and rnd.random() < 0.3)
                sex = {"woman": "female", "man": "male"}.get(category) or rnd.choice(("female", "male"))
                birth_year = started.year - rnd.randint(0, 12) if child else None
                residents.append((
                    rid, resident_code(), s, f"{rnd.choice(ALIASES)} {rid % 97}", sex, "child" if child else "adult",
                    birth_year, rnd.choice(COUNTRIES), "", rnd.random() < 0.3,
                    json.dumps(rnd.sample(["labour", "sexual", "criminality", "begging"], 1)), "",
                    rnd.choice(["", "", "", "peanuts", "lactose"]), "", None, None,
                    _utc(started - timedelta(hours=1)), None))
            stay_id += 1
            actor = rnd.choice(shelter_users)
            stays.append((stay_id, rid, bed_id, started, ended_at, "checked_out" if ended_at else None,
                          "other" if ended_at else None, "" if ended_at else None, None, actor,
                          rnd.choice(shelter_users) if ended_at else None))
            events.append((started, actor, "stay.check_in", "stays", stay_id,
                           {"resident_id": rid, "bed_id": bed_id}))
            if ended_at:
                heapq.heappush(ended, (ended_at, rid))
                events.append((ended_at, actor, "stay.check_out", "stays", stay_id,
                               {"resident_id": rid, "reason": "other"}))

        # Isolations: one stay in 30 spends a few days of it in an isolation room that is free then.
        room_free_at = {room_id: start for room_id in iso_rooms}
        for stay in stays[len(stays) - len(periods):]:
            if rnd.random() >= 1 / 30:
                continue
            sid, rid, _bed, started, ended_at = stay[:5]
            begin = started + timedelta(hours=rnd.uniform(2, 48))
            finish = begin + timedelta(days=rnd.uniform(1, 7))
            if ended_at is not None and finish >= ended_at:
                continue
            room_id = next((r for r in iso_rooms if room_free_at[r] < begin), None)
            if room_id is None:
                continue
            still = finish >= now
            if still and ended_at is not None:
                continue
            iso_id += 1
            isolations.append((iso_id, rid, room_id, "health", "", begin, finish + timedelta(days=1),
                               None if still else finish, shelter_users[0], None if still else shelter_users[0]))
            room_free_at[room_id] = finish if not still else now + timedelta(days=3650)
            events.append((begin, shelter_users[0], "isolation.start", "isolations", iso_id, {"room_id": room_id}))
            if not still:
                events.append((finish, shelter_users[0], "isolation.end", "isolations", iso_id, {}))

        # Referrals over the years: most arrive (a hold used at check-in), some are declined, withdrawn
        # or never answered before their window passed.
        shelter_stays = stays[len(stays) - len(periods):]
        for stay in rnd.sample(shelter_stays, k=min(len(shelter_stays), round(len(shelter_stays) * 0.12))):
            sid, rid, bed_id, started = stay[:4]
            if started > now - timedelta(hours=6):
                continue
            ref_id += 1
            cm = rnd.choice(case_managers)
            created = started - timedelta(hours=rnd.uniform(2, 20))
            fate = rnd.random()
            status, answered, stay_link, decline = "arrived", created + timedelta(minutes=25), sid, None
            if fate < 0.15:
                status, stay_link, decline = "declined", None, "no_bed"
            elif fate < 0.22:
                status, answered, stay_link = "cancelled", None, None
            elif fate < 0.30:
                status, answered, stay_link = "pending", None, None
            category = next(c for b, c in shelter_beds if b == bed_id)
            referrals.append((
                ref_id, hashlib.sha256(f"{seed}-{ref_id}".encode()).hexdigest()[:20], cm_org[cm], cm,
                s if rnd.random() < 0.7 or status == "arrived" else None, category, 1, created,
                started + timedelta(hours=1), "", False, "[]", "", f"REF-{ref_id}", status, created, answered,
                shelter_users[0] if answered else None, decline, "", created + timedelta(hours=1)
                if status == "cancelled" else None, stay_link))
            events.append((created, cm, "referral.create", "referrals", ref_id, {"category": category}))
            if status == "arrived":
                hold_id += 1
                holds.append((hold_id, bed_id, started + timedelta(hours=1), "", answered, shelter_users[0],
                              started, "used", ref_id))
                events.append((answered, shelter_users[0], "referral.accept", "referrals", ref_id,
                               {"hold_id": hold_id, "bed_id": bed_id}))
                events.append((started, shelter_users[0], "referral.arrive", "referrals", ref_id, {"stay_id": sid}))

        # Holds staff placed themselves over the years (all released or used by now).
        for _ in range(round(len(periods) * 0.05)):
            bed_id, _category = rnd.choice(shelter_beds)
            created = start + timedelta(days=rnd.uniform(0, (now - start).days - 2))
            hold_id += 1
            holds.append((hold_id, bed_id, created + timedelta(hours=4), "", created, shelter_users[0],
                          created + timedelta(hours=rnd.uniform(0.5, 4)), "released", None))
            events.append((created, shelter_users[0], "hold.place", "holds", hold_id, {"bed_id": bed_id}))

        # What staff changed in this shelter's availability, as the bed actions note it.
        moments = sorted([p[0] for p in periods] + [p[1] for p in periods if p[1] is not None]
                         + [h[4] for h in holds[holds_before:]] + [h[6] for h in holds[holds_before:]]
                         + [i[5] for i in isolations[isolations_before:]]
                         + [i[7] for i in isolations[isolations_before:] if i[7]])
        first = len(changes) + 1
        changes.extend([(first + k, s, at) for k, at in enumerate(moments)])

        # Someone waiting for a bed, recorded today.
        for _ in range(2):
            rid = len(residents) + 1
            residents.append((rid, resident_code(), s, f"Waiting {rid % 97}", "female", "adult", None, "Ukraine",
                              "", False, "[]", "", "", "", None, None, now - timedelta(hours=2), None))

    # Pending referrals now: to a few shelters and to any shelter.
    for k in range(5):
        ref_id += 1
        cm = case_managers[k % len(case_managers)]
        referrals.append((ref_id, hashlib.sha256(f"{seed}-{ref_id}".encode()).hexdigest()[:20], cm_org[cm], cm,
                          None if k % 2 else 1 + (k * 7) % n_shelters, "woman", 1, now - timedelta(minutes=20),
                          now + timedelta(hours=5), "", False, "[]", "", f"NOW-{ref_id}", "pending",
                          now - timedelta(minutes=40), None, None, None, "", None, None))

    # Residents whose last stay ended over two years ago were anonymised by retention.
    last_end: dict[int, datetime | None] = {}
    for stay in stays:
        last_end[stay[1]] = stay[4]
    for i, row in enumerate(residents):
        end = last_end.get(row[0], now)
        if end is not None and end < retention:
            residents[i] = row[:3] + ("—",) + row[4:8] + ("", False) + row[10:11] + ("", "", "", None, None) \
                + row[16:17] + (end + timedelta(days=730),)

    # Sessions and one-time form tokens (both grow with every sign-in and every form sent).
    staff_ids = [uid for uid, _s in staff]
    for k in range(round(200_000 * scale)):
        at = start + timedelta(seconds=rnd.uniform(0, (now - start).total_seconds() - 7200))
        sessions.append((k + 1, hashlib.sha256(f"s{seed}-{k}".encode()).hexdigest(), rnd.choice(staff_ids), at,
                         at + timedelta(minutes=30), at + timedelta(minutes=40), "idle"))
    for k in range(round(300_000 * scale)):
        at = start + timedelta(seconds=rnd.uniform(0, (now - start).total_seconds()))
        submissions.append((k + 1, rnd.choice(staff_ids), f"{seed:04x}{k:028x}", "/beds/1/check-in", at, "", ""))

    # The audit log: every change above, and the reads of a working network, to the measured total.
    shelter_of_user = dict((uid, s) for uid, s in staff)
    reads = max(0, round(len(stays) * AUDIT_EVENTS_PER_STAY) - len(events))
    span = (now - start).total_seconds()
    kinds = [("board.view", "shelters"), ("bed.view", "beds"), ("resident.view", "residents"),
             ("residents.list", None), ("auth.login", "users")]
    for _ in range(reads):
        at = start + timedelta(seconds=rnd.uniform(0, span))
        actor = rnd.choice(staff_ids)
        action, target_type = kinds[rnd.randrange(len(kinds))]
        target_id = {"shelters": shelter_of_user[actor], "beds": rnd.randint(1, len(beds)),
                     "residents": rnd.randint(1, len(residents)), "users": actor, None: None}[target_type]
        events.append((at, actor, action, target_type, target_id, {"resident_ids": [rnd.randint(1, len(residents))]}))
    events.sort(key=lambda e: e[0])
    audit = rows.table("audit_events", "id", "at", "actor_id", "action", "target_type", "target_id", "details",
                       "prev_hash", "hash")
    prev = GENESIS
    for i, (at, actor, action, target_type, target_id, details) in enumerate(events, start=1):
        digest = event_hash(prev, at=at, actor_id=actor, action=action, target_type=target_type,
                            target_id=target_id, details=details)
        audit.append((i, at, actor, action, target_type, target_id, json.dumps(details), prev, digest))
        prev = digest
    return rows


# --- writing ----------------------------------------------------------------------------------

def _sqlite_value(value):
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, bool):
        return int(value)
    return value


def write(engine, rows: Rows) -> None:
    """Insert every table's rows in one transaction: COPY on PostgreSQL, executemany on SQLite."""
    raw = engine.raw_connection()
    try:
        if engine.dialect.name == "postgresql":
            cursor = raw.cursor()
            for table, data in rows.data.items():
                columns = rows.columns[table]
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in data:
                        copy.write_row(row)
                if "id" in columns and data:
                    cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", (len(data),))
            raw.commit()
            cursor.execute("ANALYZE")
            raw.commit()
        else:
            cursor = raw.cursor()
            cursor.execute("BEGIN")
            for table, data in rows.data.items():
                columns = rows.columns[table]
                marks = ", ".join("?" for _ in columns)
                cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                                   ([_sqlite_value(v) for v in row] for row in data))
            cursor.execute("COMMIT")
            cursor.execute("ANALYZE")
    finally:
        raw.close()


def _create_postgres_database(uri: str) -> None:
    """Create the database uri names if it does not exist yet (as the test suite does)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(uri)
    if not url.drivername.startswith("postgresql"):
        return
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}):
            conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    engine.dispose()


def seed(*, scale: float, years: float, seed_value: int, database_url: str | None, sqlite_path: str | None,
         password: str, now: datetime | None = None, quiet: bool = False) -> dict[str, int]:
    """Empty the database, migrate it, fill it; returns the row count of each table."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    os.environ.setdefault("SHELTER_INSTANCE_PATH", tempfile.mkdtemp(prefix="shelter-seed-"))
    from shelter_app import create_app
    from shelter_app.auth.passwords import hash_password
    from shelter_app.extensions import db

    if sqlite_path:
        Path(sqlite_path).unlink(missing_ok=True)
        uri = f"sqlite:///{Path(sqlite_path).resolve()}"
    else:
        from shelter_app.config import psycopg_url

        uri = psycopg_url(database_url or os.environ["DATABASE_URL"])
        _create_postgres_database(uri)
    app = create_app({"SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "seed"})
    clock = time.monotonic()
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("DROP SCHEMA public CASCADE"))
            db.session.execute(text("CREATE SCHEMA public"))
            db.session.commit()
        upgrade()
        now = now or datetime.now(timezone.utc).replace(microsecond=0)
        rows = generate(scale=scale, years=years, seed=seed_value, now=now, password_hash=hash_password(password))
        if not quiet:
            print(f"generated in {time.monotonic() - clock:.0f} s: "
                  + ", ".join(f"{t} {len(d)}" for t, d in rows.data.items()), flush=True)
        write(db.engine, rows)
        db.engine.dispose()
    if not quiet:
        print(f"written in {time.monotonic() - clock:.0f} s", flush=True)
    return {table: len(data) for table, data in rows.data.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 300 shelters; 0.2 = 60")
    parser.add_argument("--years", type=float, default=5.0, help="length of the history")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sqlite", metavar="PATH", help="fill this SQLite file instead of DATABASE_URL")
    parser.add_argument("--password", default=BENCH_PASSWORD, help="of the bench-* accounts")
    args = parser.parse_args()
    if not args.sqlite and not os.environ.get("DATABASE_URL"):
        parser.error("set DATABASE_URL (it is emptied first) or give --sqlite PATH")
    seed(scale=args.scale, years=args.years, seed_value=args.seed, database_url=None, sqlite_path=args.sqlite,
         password=args.password)


if __name__ == "__main__":
    main()
