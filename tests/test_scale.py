"""At national scale: the main pages run the same SQL statements whatever the amount of data, and
availability reads nothing whose size grows with the years of history.

The data comes from bench/seed.py (the benchmark's own generator), at two sizes in one test: the same
network at 1× and at 10× the rows, and the same shelters with one and with five years of history.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from sqlalchemy import event, select, text

from shelter_app import timeutil
from shelter_app.availability.services import availability
from shelter_app.extensions import db
from shelter_app.referrals.models import Referral
from tests.conftest import Client, _empty_database

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import seed  # noqa: E402  (bench/seed.py)

# Tables whose rows pile up with the years; the current state lives elsewhere or in a bounded part of them.
HISTORY = {"stays", "holds", "isolations", "referrals", "audit_events", "availability_changes", "residents",
           "user_sessions", "form_submissions"}


def _fill(app, *, scale: float, years: float = 5) -> None:
    _empty_database()
    rows = seed.generate(scale=scale, years=years, seed=7, now=timeutil.utcnow(),
                         password_hash=_hash(app))
    seed.write(db.engine, rows)
    db.session.remove()


def _hash(app) -> str:
    from shelter_app.auth.passwords import hash_password

    return hash_password(seed.BENCH_PASSWORD)


def _pages() -> list[tuple[str, str, dict, str]]:
    """(account, path, headers, name) of every main page, aimed at rows of the first shelter."""
    resident = db.session.scalar(text(
        "SELECT s.resident_id FROM stays s JOIN beds b ON b.id = s.bed_id JOIN rooms r ON r.id = b.room_id "
        "WHERE r.shelter_id = 1 AND s.ended_at IS NULL ORDER BY s.resident_id LIMIT 1"))
    occupied = db.session.scalar(text(
        "SELECT s.bed_id FROM stays s JOIN beds b ON b.id = s.bed_id JOIN rooms r ON r.id = b.room_id "
        "WHERE r.shelter_id = 1 AND s.ended_at IS NULL ORDER BY s.bed_id LIMIT 1"))
    free = db.session.scalar(text(
        "SELECT b.id FROM beds b JOIN rooms r ON r.id = b.room_id WHERE r.shelter_id = 1 AND r.kind = 'regular' "
        "AND NOT EXISTS (SELECT 1 FROM stays s WHERE s.bed_id = b.id AND s.ended_at IS NULL) ORDER BY b.id LIMIT 1"))
    referral = db.session.scalar(select(Referral.public_id).where(Referral.organisation == seed.BENCH_ORGANISATION)
                                 .order_by(Referral.id.desc()).limit(1))
    db.session.commit()
    assert resident and occupied and free and referral, "the seed has an occupied and a free bed in shelter 1"
    htmx = {"HX-Request": "true"}
    return [
        ("bench-night", "/board/1", {}, "board"), ("bench-night", "/board/1", htmx, "board (htmx)"),
        ("bench-night", f"/beds/{free}", htmx, "free bed's panel"),
        ("bench-night", f"/beds/{occupied}", htmx, "occupied bed's panel"),
        ("bench-manager", f"/residents/{resident}", {}, "resident page"),
        ("bench-manager", f"/residents/{resident}/edit", {}, "resident's edit form"),
        ("bench-night", "/residents", {}, "residents list"), ("bench-night", "/residents?q=anna", htmx, "search"),
        ("bench-night", "/referrals/inbox", {}, "referrals inbox"), ("bench-night", "/account", {}, "account"),
        ("bench-night", "/shift/1", {}, "shift page"), ("bench-night", "/shift/1/rounds", {}, "night round"),
        ("bench-night", "/shift/1/presence", {}, "who is in the house"),
        ("bench-casemanager", "/availability", {}, "availability page"),
        ("bench-casemanager", "/referrals", {}, "case manager's referrals"),
        ("bench-casemanager", f"/referrals/{referral}", {}, "a referral"),
        (None, "/api/v1/availability", {"Authorization": f"Bearer {seed.BENCH_TOKEN}"}, "availability API"),
        ("bench-admin", "/admin/users", {}, "users"),
    ]


def _statements(app) -> dict[str, int]:
    counts = {}
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith("BEGIN"):  # SQLite's own BEGIN IMMEDIATE
            seen.append(statement)

    clients: dict[str | None, Client] = {}
    for account, path, headers, name in _pages():
        if account not in clients:
            clients[account] = Client(app)
            if account:
                assert clients[account].login(account, seed.BENCH_PASSWORD).status_code == 303
        client = clients[account]
        client.get(path, headers=headers)  # warm: the first request of a session does more
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            seen.clear()
            response = client.get(path, headers=headers)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        assert response.status_code == 200, (account, path, response.status_code)
        counts[name] = len(seen)
    return counts


def test_main_pages_take_the_same_statements_at_10_times_the_data(app):
    _fill(app, scale=0.005)
    small = _statements(app)
    _fill(app, scale=0.05)
    large = _statements(app)
    assert large == small
    assert max(small.values()) <= 20, small


def _availability_statements() -> list[tuple[str, dict]]:
    seen: list[tuple[str, dict]] = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        availability(timeutil.utcnow())
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    db.session.commit()
    return [(s, p) for s, p in seen if s.lstrip().upper().startswith("SELECT")]


def _rows_read_postgresql(statements) -> dict[str, int]:
    """Per table, the rows the plans of statements read (rows returned + rows a filter removed)."""
    read: dict[str, int] = {}

    def walk(node):
        table = node.get("Relation Name")
        if table:
            rows = (node.get("Actual Rows", 0) + node.get("Rows Removed by Filter", 0)) * node.get("Actual Loops", 1)
            read[table] = read.get(table, 0) + rows
        for child in node.get("Plans", []):
            walk(child)

    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        # On tables this small the planner would scan a whole table even where an index reads only what is
        # open now; at national scale it does not. Scans are made the last resort so the plans show what the
        # statements need to read, not what is cheapest on a few thousand rows.
        cursor.execute("SET LOCAL enable_seqscan = off")
        for statement, parameters in statements:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
            plan = cursor.fetchone()[0]
            walk((plan if isinstance(plan, list) else json.loads(plan))[0]["Plan"])
        raw.rollback()
    finally:
        raw.close()
    return read


def _full_scans_sqlite(statements) -> set[str]:
    """Tables a statement reads whole (SQLite's "SCAN table" without an index)."""
    scans = set()
    with db.engine.connect() as conn:
        for statement, parameters in statements:
            for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters):
                found = re.match(r"SCAN (\w+)(?: AS \w+)?$", row[-1])
                if found:
                    scans.add(found.group(1))
    return scans


@pytest.mark.parametrize("years", [5])
def test_availability_reads_nothing_that_grows_with_history(app, years):
    _fill(app, scale=0.02, years=1)
    one_year = _availability_statements()
    if db.engine.dialect.name == "postgresql":
        read_one = _rows_read_postgresql(one_year)
    else:
        assert _full_scans_sqlite(one_year) & HISTORY == set()
    _fill(app, scale=0.02, years=years)
    five_years = _availability_statements()
    assert [s for s, _p in five_years] == [s for s, _p in one_year], "the same statements"
    if db.engine.dialect.name == "postgresql":
        read_five = _rows_read_postgresql(five_years)
        for table in HISTORY:
            # Within a fifth of each other: what is open now, not what piled up (5× the history).
            assert read_five.get(table, 0) <= 1.2 * read_one.get(table, 0) + 50, (table, read_one, read_five)
    else:
        assert _full_scans_sqlite(five_years) & HISTORY == set()
