"""Two staff act on one bed at the same moment, through a real gunicorn server (4 worker processes).

For every pair of bed actions (start state, action A, action B) both requests are fired at once from
two threads behind a barrier, by two signed-in users, each on its own connection (so on two workers).
Whatever the interleaving, the bed must end in exactly one legal state, every answer must be 200 or
409 (never 5xx), the loser of two actions that exclude each other gets a 409 showing a message and the
bed's panel as it now is, and no change is made twice (the audit log has one event per change).
Some pairs span two beds: a move to X against a check-in to, a hold on or out of service of X, two
occupants moved to X, an isolation in place of A's room against a check-in to or a hold on X in the same
room (a room isolated in place takes nobody else), and the end (or the undone end) of A's occupant's
isolation against isolating X's occupant into that same isolation room. The undo of a check-out or of an
end of isolation is raced too; its id is read once the start state is set.

Everything goes through HTTP and raw SQL on the tables, so the test does not depend on how the
application code is organised. RACE_TRIALS (default 5) sets the number of trials per pair.
"""
from __future__ import annotations

import os
import re
import threading
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.client import HTTPConnection, HTTPMessage
from typing import Callable
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from sqlalchemy import bindparam, inspect, text

from shelter_app import timeutil
from shelter_app.extensions import db
from tests.gunicorn_server import gunicorn_server  # noqa: F401  (the fixture, used by name)

TRIALS = int(os.environ.get("RACE_TRIALS") or 5)
PASSWORD = "two taps at the same time"
HTTP_TIMEOUT = 60  # seconds, per request: generous, a slow CI machine must not make the test flaky
SETUP_OK = (200, 204, 303)  # a setup POST ends in a redirect (HX-Redirect for htmx); the rows are checked after

# The 409 of a transaction the database aborted (deadlock, serialization) or a constraint refused (web.act).
LOST_RACE = "Someone else changed this at the same moment. Look at it again and retry."

# Start states with a second occupant, r3: in X (whose occupant is isolated into A's occupant's room) or Y.
SECOND_OCCUPANT = {"isolated_other": "X", "isolation_ended": "X", "two_occupied": "Y"}

# What the bed's panel says about its state (the user's language is English).
STATE_TEXT = {"free": "free", "held": "held", "occupied": "occupied", "out": "out of service",
              "blocked": "blocked (room isolated)"}


# --- a browser made of the standard library ------------------------------------------------

@dataclass
class Answer:
    status: int
    headers: HTTPMessage
    body: str


CSRF_PATTERNS = (
    re.compile(r'"X-CSRFToken": "([^"]+)"'),
    re.compile(r'<input[^>]*\bname="csrf_token"[^>]*\bvalue="([^"]+)"'),
    re.compile(r'<input[^>]*\bvalue="([^"]+)"[^>]*\bname="csrf_token"'),
)


class Prepared:
    """A request whose connection is already open: sending it is all that is left."""

    def __init__(self, browser: Browser, conn: HTTPConnection, method: str, path: str, body: bytes | None,
                 headers: dict[str, str]):
        self.browser, self.conn, self.method, self.path = browser, conn, method, path
        self.body, self.headers = body, headers

    def send(self) -> Answer:
        try:
            self.conn.request(self.method, self.path, body=self.body, headers=self.headers)
            response = self.conn.getresponse()
            body = response.read().decode("utf-8", "replace")
        finally:
            self.conn.close()
        self.browser.remember(response.headers, body)
        return Answer(response.status, response.headers, body)


class Browser:
    """One person signed in on one device: a session cookie and a CSRF token, nothing else shared."""

    def __init__(self, base_url: str, who: str):
        parts = urlsplit(base_url)
        self.host, self.port, self.who = parts.hostname, parts.port, who
        self.cookies: dict[str, str] = {}
        self.csrf: str | None = None

    def remember(self, headers: HTTPMessage, body: str) -> None:
        for raw in headers.get_all("Set-Cookie") or []:
            first, _sep, attributes = raw.partition(";")
            name, _sep, value = first.strip().partition("=")
            attributes = attributes.lower().replace(" ", "")
            if not value or "max-age=0" in attributes or "1970" in attributes:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        for pattern in CSRF_PATTERNS:
            found = pattern.search(body)
            if found:
                self.csrf = found.group(1)
                break

    def prepare(self, method: str, path: str, fields: dict | None = None) -> Prepared:
        headers = {"Accept-Language": "en"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if method == "POST":
            # form_token: one per request, so the app can tell a double submission from a second person.
            body = urlencode({**(fields or {}), "form_token": uuid.uuid4().hex}).encode()
            headers.update({"Content-Type": "application/x-www-form-urlencoded", "HX-Request": "true"})
            if self.csrf:
                headers["X-CSRFToken"] = self.csrf
        conn = HTTPConnection(self.host, self.port, timeout=HTTP_TIMEOUT)
        conn.connect()
        return Prepared(self, conn, method, path, body, headers)

    def get(self, path: str, *, follow: int = 5) -> Answer:
        answer = self.prepare("GET", path).send()
        while follow and answer.status in (301, 302, 303, 307, 308) and answer.headers.get("Location"):
            target = urlsplit(urljoin(f"http://{self.host}:{self.port}{path}", answer.headers["Location"]))
            path = target.path + (f"?{target.query}" if target.query else "")
            answer, follow = self.prepare("GET", path).send(), follow - 1
        return answer

    def post(self, path: str, fields: dict | None = None) -> Answer:
        return self.prepare("POST", path, fields).send()

    def sign_in(self, username: str, password: str) -> None:
        page = self.get("/login")
        assert page.status == 200 and self.csrf, f"GET /login: {page.status}\n{page.body[:2000]}"
        answer = self.post("/login", {"username": username, "password": password, "csrf_token": self.csrf})
        # A redirect to the start page: a 303, or for htmx a 204 with HX-Redirect.
        assert answer.status in (303, 204), f"sign-in of {username}: {answer.status}\n{answer.body[-2000:]}"
        assert "shelter_session" in self.cookies, f"sign-in of {username} set no session cookie"
        self.csrf = None  # the session changed at sign-in: take the token of a page of the new session
        page = self.get("/board")
        assert page.status == 200 and self.csrf, f"GET /board as {username}: {page.status}\n{page.body[:2000]}"


# --- what the two racing requests do -------------------------------------------------------

@dataclass(frozen=True)
class Act:
    """One bed action: kind, the bed in its URL (trial role "A" or "X"), the bed it moves to."""

    kind: str
    bed: str = "A"
    to: str | None = None

    def __str__(self) -> str:
        where = "" if self.bed == "A" else f" on bed {self.bed}"
        return f"{self.kind}{where}" + (f"->{self.to}" if self.to else "")

    def request(self, trial: Trial, resident: str) -> tuple[str, dict]:
        """Path and form fields; resident is the trial role of whom a check-in puts in the bed.

        An undo names the stay or isolation of r0 the start state ended: read from the database now.
        """
        path = f"/beds/{trial.beds[self.bed]}/"
        now = timeutil.utcnow()
        if self.kind in ("undo_check_out", "undo_end_isolation"):
            table, ended = (("stays", "end_reason = 'checked_out'") if self.kind == "undo_check_out"
                            else ("isolations", "ended_at IS NOT NULL"))
            row_id = _scalar(f"SELECT max(id) FROM {table} WHERE resident_id = :r AND {ended}",
                             r=trial.residents["r0"])
            db.session.rollback()
            assert row_id is not None, f"trial {trial.n}: nothing of r0's to undo in {table}"
            return f"/board/{trial.shelter}/undo/{self.kind.removeprefix('undo_')}/{row_id}", {}
        if self.kind == "check_in":
            return path + "check-in", {"ci-resident_id": trial.residents[resident]}
        if self.kind == "hold":
            return path + "hold", {"h-expires_at": timeutil.local_input_value(now + timedelta(hours=4)),
                                   "h-note": ""}
        if self.kind == "release":
            return path + "release-hold", {}
        if self.kind == "out":
            return path + "out-of-service", {"o-reason": "broken", "o-until": ""}
        if self.kind == "in_service":
            return path + "in-service", {}
        if self.kind == "move":
            return path + "move", {"m-to_bed_id": trial.beds[self.to]}
        if self.kind == "check_out":
            return path + "check-out", {"co-reason": "other", "co-destination": "", "co-confirm": "y"}
        if self.kind in ("isolate", "isolate_here"):
            # In an isolation room of its own, or in place: the occupant's room is isolated ("here").
            return path + "isolate", {
                "is-room_id": trial.room if self.kind == "isolate" else "here", "is-reason": "health", "is-note": "",
                "is-expected_end_at": timeutil.local_input_value(now + timedelta(days=3))}
        if self.kind == "end_isolation":
            return path + "end-isolation", {"ei-confirm": "y"}
        raise AssertionError(f"unknown action {self.kind}")


@dataclass(frozen=True)
class Pair:
    """Two actions on one bed from one start state, and what must hold afterwards.

    exclusive: exactly one may succeed (one 200, one 409). Otherwise must_win names the action that
    succeeds in every order ("a" or "b"); the other may succeed too (200) or be refused (409).
    final(w, a_won, b_won) checks the end state for the statuses seen.
    """

    start: str  # free | held | out | occupied | isolated (occupied and in an isolation room)
    a: Act
    b: Act
    exclusive: bool
    final: Callable
    must_win: str | None = None
    # The trial's isolation room is made before the dorm (a lower room id): rooms are locked in id order, and
    # this is the order in which an end of isolation once waited in a circle with an isolation into its room.
    iso_first: bool = False

    @property
    def id(self) -> str:
        return f"{self.start}:{self.a}||{self.b}".replace(" ", "_")

    def bed_roles(self) -> list[str]:
        roles = {"A"} | {x for act in (self.a, self.b) for x in (act.bed, act.to) if x}
        return sorted(roles)

    def resident_roles(self) -> list[str]:
        """r0 in A at the start, r3 in X or Y at the start, r1/r2 checked in by A/B."""
        roles = ["r0"] if self.start != "free" and self.start not in ("held", "out") else []
        roles += [r for r, act in (("r1", self.a), ("r2", self.b)) if act.kind == "check_in"]
        roles += ["r3"] if self.start in SECOND_OCCUPANT else []
        return roles

    def needs_room(self) -> bool:
        """Each trial has an isolation room of its own."""
        return (self.start in ("isolated", "isolated_other", "isolation_ended")
                or "isolate" in (self.a.kind, self.b.kind))

    def own_rooms(self) -> bool:
        """Each trial's beds are in a regular room of their own (a room isolated in place holds one trial)."""
        return "isolate_here" in (self.a.kind, self.b.kind)


@dataclass
class Trial:
    n: int
    beds: dict[str, int]       # role ("A", "X", "Y") -> bed id
    labels: dict[str, str]     # role -> bed label
    residents: dict[str, int]  # role ("r0"/"r3" occupants at the start, "r1"/"r2" checked in by A/B) -> id
    room: int | None           # the room this trial isolates in: its isolation room, or its own regular room
    shelter: int               # the trial's shelter (an undo is addressed through its board)


# --- reading the database ------------------------------------------------------------------

def _db_time(value):
    """A UTC moment as the column stores it: naive text-comparable on SQLite, aware on PostgreSQL."""
    if db.engine.dialect.name == "sqlite":
        return value.astimezone(timezone.utc).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def _rows(sql: str, **params) -> list:
    statement = text(sql)
    expanding = [bindparam(k, expanding=True) for k, v in params.items() if isinstance(v, (list, tuple))]
    if expanding:
        statement = statement.bindparams(*expanding)
    return list(db.session.execute(statement, params).all())


def _scalar(sql: str, **params):
    rows = _rows(sql, **params)
    return rows[0][0] if rows else None


def _shown(row) -> tuple:
    """A row for a failure message, its times as text."""
    return tuple(str(v) if isinstance(v, datetime) else v for v in row)


class World:
    """The trial's beds, residents and isolation room as the database has them now; collects problems."""

    def __init__(self, trial: Trial, actors: dict[int, str] | None = None):
        db.session.rollback()  # a fresh snapshot: the server wrote meanwhile
        self.t, self.actors = trial, actors or {}
        self.now = _db_time(timeutil.utcnow())
        self.problems: list[str] = []
        self._role_of_bed = {v: k for k, v in trial.beds.items()}
        self._role_of_resident = {v: k for k, v in trial.residents.items()}

    def close(self) -> None:
        db.session.rollback()

    # names a person can read in a failure message
    def bed_name(self, bed_id) -> str:
        role = self._role_of_bed.get(bed_id)
        return f"bed {role} ({self.t.labels[role]}, id {bed_id})" if role else f"bed id {bed_id}"

    def resident_name(self, resident_id) -> str:
        role = self._role_of_resident.get(resident_id)
        return f"{role} (id {resident_id})" if role else f"resident id {resident_id}"

    # facts
    def open_stays_on(self, bed_id) -> list[int]:
        return [r for (r,) in _rows("SELECT resident_id FROM stays WHERE bed_id = :b AND ended_at IS NULL "
                                    "ORDER BY id", b=bed_id)]

    def out_of_service(self, bed_id) -> str | None:
        return _scalar("SELECT out_of_service_reason FROM beds WHERE id = :b AND out_of_service_reason IS NOT NULL "
                       "AND (out_of_service_until IS NULL OR out_of_service_until > :now)", b=bed_id, now=self.now)

    def active_holds(self, bed_id) -> list[int]:
        return [h for (h,) in _rows("SELECT id FROM holds WHERE bed_id = :b AND released_at IS NULL "
                                    "AND expires_at > :now ORDER BY id", b=bed_id, now=self.now)]

    def holds(self, role: str) -> list[tuple[bool, str | None]]:
        """Every hold of the bed: (released, release reason)."""
        return [(released is not None, reason) for released, reason in _rows(
            "SELECT released_at, release_reason FROM holds WHERE bed_id = :b ORDER BY id", b=self.t.beds[role])]

    def isolated_in_room_of(self, bed_id) -> list[int]:
        """The residents isolated (open isolation) in the room of bed_id: an isolation in place."""
        return [r for (r,) in _rows("SELECT i.resident_id FROM isolations i JOIN beds b ON b.room_id = i.room_id "
                                    "WHERE b.id = :b AND i.ended_at IS NULL ORDER BY i.id", b=bed_id)]

    def state(self, role: str) -> str:
        """free | held | occupied | out | blocked, as the board computes it (in that order)."""
        bed_id = self.t.beds[role]
        if self.open_stays_on(bed_id):
            return "occupied"
        if self.out_of_service(bed_id):
            return "out"
        if self.active_holds(bed_id):
            return "held"
        if self.isolated_in_room_of(bed_id):
            return "blocked"
        return "free"

    def occupants(self, role: str) -> list[str]:
        return [self._role_of_resident.get(r, f"id {r}") for r in self.open_stays_on(self.t.beds[role])]

    def beds_of(self, resident: str) -> list[str]:
        """Where the resident has an open stay: bed roles of this trial (or other ids)."""
        return [self._role_of_bed.get(b, f"bed id {b}") for (b,) in _rows(
            "SELECT bed_id FROM stays WHERE resident_id = :r AND ended_at IS NULL ORDER BY id",
            r=self.t.residents[resident])]

    def stays(self, resident: str) -> list[tuple[str, str | None]]:
        """The resident's stays in order: (bed role, end reason or None while open)."""
        return [(self._role_of_bed.get(b, f"bed id {b}"), reason) for b, reason in _rows(
            "SELECT bed_id, end_reason FROM stays WHERE resident_id = :r ORDER BY id", r=self.t.residents[resident])]

    def stay_ids(self, resident: str) -> list[int]:
        return [i for (i,) in _rows("SELECT id FROM stays WHERE resident_id = :r ORDER BY id",
                                    r=self.t.residents[resident])]

    def isolations(self, resident: str) -> list[tuple[bool, bool]]:
        """The resident's isolations: (in this trial's room, still open)."""
        return [(room == self.t.room, ended is None) for room, ended in _rows(
            "SELECT room_id, ended_at FROM isolations WHERE resident_id = :r ORDER BY id",
            r=self.t.residents[resident])]

    def audits(self, action: str, table: str, target_id) -> int:
        return _scalar("SELECT count(*) FROM audit_events WHERE action = :a AND target_type = :t "
                       "AND target_id = :i", a=action, t=table, i=target_id)

    # judging
    def expect(self, what: str, actual, expected) -> None:
        if actual != expected:
            self.problems.append(f"{what}: {actual!r}, expected {expected!r}")

    def problem(self, message: str) -> None:
        self.problems.append(message)

    def describe(self) -> str:
        """The trial's rows, for a failure message."""
        t, lines = self.t, []
        beds, residents = list(t.beds.values()), list(t.residents.values()) or [-1]
        for role, bed_id in sorted(t.beds.items()):
            holds = _rows("SELECT id, expires_at, released_at, release_reason FROM holds WHERE bed_id = :b "
                          "ORDER BY id", b=bed_id)
            oos = _rows("SELECT out_of_service_reason, out_of_service_since FROM beds WHERE id = :b", b=bed_id)
            lines.append(f"    {self.bed_name(bed_id)}: state {self.state(role)}, open stays of "
                         f"{[self.resident_name(r) for r in self.open_stays_on(bed_id)]}, out of service "
                         f"(reason, since) {_shown(oos[0])}, holds (id, expires, released, reason) "
                         f"{[_shown(h) for h in holds]}")
        stays = _rows("SELECT id, resident_id, bed_id, started_at, ended_at, end_reason, checkout_reason FROM stays "
                      "WHERE bed_id IN :beds OR resident_id IN :residents ORDER BY id", beds=beds, residents=residents)
        for s in stays:
            lines.append(f"    stay {s[0]}: {self.resident_name(s[1])} in {self.bed_name(s[2])} from {s[3]} to {s[4]}, "
                         f"end_reason {s[5]!r}, checkout_reason {s[6]!r}")
        isolations = _rows("SELECT id, resident_id, room_id, started_at, ended_at FROM isolations "
                           "WHERE resident_id IN :residents OR room_id = :room ORDER BY id",
                           residents=residents, room=t.room or -1)
        for i in isolations:
            lines.append(f"    isolation {i[0]}: {self.resident_name(i[1])} in room {i[2]} from {i[3]} to {i[4]}")
        audit = _rows("SELECT action, target_type, target_id, actor_id FROM audit_events "
                      "WHERE action NOT IN ('resident.create', 'resident.view', 'bed.create', 'room.create', "
                      "'shelter.create') AND (target_type, target_id) IN (SELECT 'stays', id FROM stays WHERE "
                      "bed_id IN :beds OR resident_id IN :residents UNION ALL SELECT 'holds', id FROM holds WHERE "
                      "bed_id IN :beds UNION ALL SELECT 'isolations', id FROM isolations WHERE resident_id IN "
                      ":residents UNION ALL SELECT 'beds', id FROM beds WHERE id IN :beds) ORDER BY id",
                      beds=beds, residents=residents)
        lines.append("    audit events: " + ", ".join(
            f"{action} {table}#{target} by {self.actors.get(actor, f'user {actor}')}"
            for action, table, target, actor in audit))
        return "\n".join(lines)


def check_invariants(w: World) -> None:
    """The legal states, whatever happened: one state per bed, one place per person, one change per row."""
    t = w.t
    beds, residents = list(t.beds.values()), list(t.residents.values()) or [-1]
    for bed_id in beds:
        stays = w.open_stays_on(bed_id)
        oos, holds = w.out_of_service(bed_id), w.active_holds(bed_id)
        name = w.bed_name(bed_id)
        if len(stays) > 1:
            w.problem(f"{name} has {len(stays)} open stays (residents {stays})")
        if stays and oos:
            w.problem(f"{name} is occupied (open stay of {w.resident_name(stays[0])}) AND out of service "
                      f"(reason {oos!r})")
        if stays and holds:
            w.problem(f"{name} is occupied (open stay of {w.resident_name(stays[0])}) AND held (hold ids {holds})")
        if oos and holds:
            w.problem(f"{name} is out of service (reason {oos!r}) AND held (hold ids {holds})")
        unreleased = _scalar("SELECT count(*) FROM holds WHERE bed_id = :b AND released_at IS NULL", b=bed_id)
        if unreleased > 1:
            w.problem(f"{name} has {unreleased} unreleased holds")
        # A room isolated in place is its one occupant's: no other bed of it is occupied or held.
        for isolated in w.isolated_in_room_of(bed_id):
            others = [r for r in stays if r != isolated]
            if others or holds:
                w.problem(f"{name} is in a room isolated in place for {w.resident_name(isolated)}, yet it is "
                          f"occupied by {[w.resident_name(r) for r in others]} or held (hold ids {holds})")
    for resident_id in t.residents.values():
        name = w.resident_name(resident_id)
        open_stays = _scalar("SELECT count(*) FROM stays WHERE resident_id = :r AND ended_at IS NULL", r=resident_id)
        if open_stays > 1:
            w.problem(f"{name} has {open_stays} open stays")
        open_isolations = _scalar("SELECT count(*) FROM isolations WHERE resident_id = :r AND ended_at IS NULL",
                                  r=resident_id)
        if open_isolations > 1:
            w.problem(f"{name} has {open_isolations} open isolations")
        if open_isolations and not open_stays:
            w.problem(f"{name} is in isolation (open isolation) but checked in nowhere (no open stay)")
    if t.room is not None:
        in_room = _scalar("SELECT count(*) FROM isolations WHERE room_id = :r AND ended_at IS NULL", r=t.room)
        if in_room > 1:
            w.problem(f"isolation room {t.room} has {in_room} open isolations")
    # Each change is made once: a stay is ended by one request, a hold released once, an isolation ended once.
    stays = _rows("SELECT id, resident_id, ended_at, end_reason, checkout_reason FROM stays "
                  "WHERE bed_id IN :beds OR resident_id IN :residents ORDER BY id", beds=beds, residents=residents)
    for stay_id, resident_id, ended_at, end_reason, checkout_reason in stays:
        # An undone check-out leaves its event and one 'stay.check_out_undone' after it.
        check_outs, undone = w.audits("stay.check_out", "stays", stay_id), w.audits("stay.check_out_undone", "stays",
                                                                                      stay_id)
        expected = 1 if end_reason == "checked_out" else 0
        if check_outs - undone != expected or undone > check_outs:
            w.problem(f"stay {stay_id} ({w.resident_name(resident_id)}, end_reason {end_reason!r}) has {check_outs} "
                      f"'stay.check_out' and {undone} 'stay.check_out_undone' audit events, expected {expected} net")
        if end_reason == "checked_out" and checkout_reason is None:
            w.problem(f"stay {stay_id} is checked out without a checkout_reason")
        if end_reason == "moved":
            if checkout_reason is not None:
                w.problem(f"stay {stay_id} ended by a move carries checkout_reason {checkout_reason!r}")
            followers = _scalar("SELECT count(*) FROM stays WHERE resident_id = :r AND started_at = :at AND id <> :s",
                                r=resident_id, at=ended_at, s=stay_id)
            if followers != 1:
                w.problem(f"stay {stay_id} ended by a move is followed by {followers} stays of "
                          f"{w.resident_name(resident_id)}, expected 1")
    for hold_id, released_at in _rows("SELECT id, released_at FROM holds WHERE bed_id IN :beds", beds=beds):
        releases, expected = w.audits("hold.release", "holds", hold_id), int(released_at is not None)
        if releases != expected:
            w.problem(f"hold {hold_id} (released: {released_at is not None}) has {releases} 'hold.release' audit "
                      f"events, expected {expected}")
    for iso_id, ended_at in _rows("SELECT id, ended_at FROM isolations WHERE resident_id IN :residents",
                                  residents=residents):
        ends, expected = w.audits("isolation.end", "isolations", iso_id), int(ended_at is not None)
        undone = w.audits("isolation.end_undone", "isolations", iso_id)
        if ends - undone != expected or undone > ends:
            w.problem(f"isolation {iso_id} (ended: {ended_at is not None}) has {ends} 'isolation.end' and {undone} "
                      f"'isolation.end_undone' audit events, expected {expected} net")


# --- the end states that may follow each pair ------------------------------------------------

def _free_check_in_check_in(w, a_won, b_won):
    winner, loser = ("r1", "r2") if a_won else ("r2", "r1")
    w.expect("occupants of A", w.occupants("A"), [winner])
    w.expect(f"open stays of the other resident {loser}", w.beds_of(loser), [])
    w.expect("holds of A", w.holds("A"), [])


def _free_check_in_hold(w, a_won, b_won):
    w.expect("occupants of A", w.occupants("A"), ["r1"])
    # The hold, if placed first, was used up by the check-in; placed second, it was refused.
    w.expect("holds of A (released, reason)", w.holds("A"), [(True, "used")] if b_won else [])


def _free_check_in_out(w, a_won, b_won):
    if a_won:
        w.expect("occupants of A", w.occupants("A"), ["r1"])
        w.expect("A out of service (reason)", w.out_of_service(w.t.beds["A"]), None)
    else:
        w.expect("state of A", w.state("A"), "out")
        w.expect("open stays of r1", w.beds_of("r1"), [])


def _free_hold_hold(w, a_won, b_won):
    w.expect("state of A", w.state("A"), "held")
    w.expect("holds of A (released, reason)", w.holds("A"), [(False, None)])


def _free_hold_out(w, a_won, b_won):
    if a_won:
        w.expect("state of A", w.state("A"), "held")
        w.expect("A out of service (reason)", w.out_of_service(w.t.beds["A"]), None)
        w.expect("holds of A (released, reason)", w.holds("A"), [(False, None)])
    else:
        w.expect("state of A", w.state("A"), "out")
        w.expect("holds of A (released, reason)", w.holds("A"), [])


def _free_out_out(w, a_won, b_won):
    w.expect("state of A", w.state("A"), "out")
    w.expect("'bed.out_of_service' audit events of A", w.audits("bed.out_of_service", "beds", w.t.beds["A"]), 1)


def _held_check_in_release(w, a_won, b_won):
    w.expect("occupants of A", w.occupants("A"), ["r1"])
    # Released first: a free bed is checked in to. Checked in first: the check-in used the hold up.
    w.expect("holds of A (released, reason)", w.holds("A"), [(True, "released" if b_won else "used")])


def _held_release_release(w, a_won, b_won):
    w.expect("state of A", w.state("A"), "free")
    w.expect("holds of A (released, reason)", w.holds("A"), [(True, "released")])


def _held_check_in_check_in(w, a_won, b_won):
    winner, loser = ("r1", "r2") if a_won else ("r2", "r1")
    w.expect("occupants of A", w.occupants("A"), [winner])
    w.expect(f"open stays of the other resident {loser}", w.beds_of(loser), [])
    w.expect("holds of A (released, reason)", w.holds("A"), [(True, "used")])


def _held_release_out(w, a_won, b_won):
    w.expect("holds of A (released, reason)", w.holds("A"), [(True, "released")])
    # Out of service is refused while the hold is on, accepted once it is released.
    w.expect("state of A", w.state("A"), "out" if b_won else "free")


def _out_in_in(w, a_won, b_won):
    w.expect("state of A", w.state("A"), "free")
    w.expect("'bed.in_service' audit events of A", w.audits("bed.in_service", "beds", w.t.beds["A"]), 1)


def _out_in_check_in(w, a_won, b_won):
    w.expect("A out of service (reason)", w.out_of_service(w.t.beds["A"]), None)
    w.expect("occupants of A", w.occupants("A"), ["r2"] if b_won else [])


def _occupied_check_out_check_out(w, a_won, b_won):
    w.expect("state of A", w.state("A"), "free")
    w.expect("stays of r0 (bed, end_reason)", w.stays("r0"), [("A", "checked_out")])


def _occupied_check_out_move(w, a_won, b_won):
    w.expect("state of A", w.state("A"), "free")
    if a_won:
        w.expect("stays of r0 (bed, end_reason)", w.stays("r0"), [("A", "checked_out")])
        w.expect("state of X", w.state("X"), "free")
    else:
        w.expect("stays of r0 (bed, end_reason)", w.stays("r0"), [("A", "moved"), ("X", None)])


def _occupied_move_move(w, a_won, b_won):
    target = "X" if a_won else "Y"
    w.expect("state of A", w.state("A"), "free")
    w.expect("stays of r0 (bed, end_reason)", w.stays("r0"), [("A", "moved"), (target, None)])
    other = "Y" if target == "X" else "X"
    if other in w.t.beds:
        w.expect(f"state of {other}", w.state(other), "free")


def _occupied_move_move_same(w, a_won, b_won):
    w.expect("state of A", w.state("A"), "free")
    w.expect("stays of r0 (bed, end_reason)", w.stays("r0"), [("A", "moved"), ("X", None)])


def _occupied_check_out_isolate(w, a_won, b_won):
    w.expect("stays of r0 (bed, end_reason)", w.stays("r0"), [("A", "checked_out")])
    # Isolated first: the check-out ended the isolation too. Checked out first: nobody to isolate.
    w.expect("isolations of r0 (in the room, open)", w.isolations("r0"), [(True, False)] if b_won else [])


def _occupied_isolate_isolate(w, a_won, b_won):
    w.expect("occupants of A", w.occupants("A"), ["r0"])
    w.expect("isolations of r0 (in the room, open)", w.isolations("r0"), [(True, True)])


def _occupied_move_isolate(w, a_won, b_won):
    w.expect("stays of r0 (bed, end_reason)", w.stays("r0"), [("A", "moved"), ("X", None)])
    # Isolated first, then moved: still in isolation. Moved first: the isolation asked for a bed now empty.
    w.expect("isolations of r0 (in the room, open)", w.isolations("r0"), [(True, True)] if b_won else [])


def _isolated_end_end(w, a_won, b_won):
    w.expect("occupants of A", w.occupants("A"), ["r0"])
    w.expect("isolations of r0 (in the room, open)", w.isolations("r0"), [(True, False)])


def _isolated_end_check_out(w, a_won, b_won):
    w.expect("stays of r0 (bed, end_reason)", w.stays("r0"), [("A", "checked_out")])
    w.expect("isolations of r0 (in the room, open)", w.isolations("r0"), [(True, False)])


def _cross_move_check_in(w, a_won, b_won):
    if a_won:
        w.expect("stays of r0 (bed, end_reason)", w.stays("r0"), [("A", "moved"), ("X", None)])
        w.expect("open stays of r2", w.beds_of("r2"), [])
        w.expect("state of A", w.state("A"), "free")
    else:
        w.expect("stays of r0 (bed, end_reason)", w.stays("r0"), [("A", None)])
        w.expect("occupants of X", w.occupants("X"), ["r2"])


def _in_place_check_in(w, a_won, b_won):
    if a_won:  # isolated in place first: the room takes nobody else
        w.expect("isolations of r0 (in the room, open)", w.isolations("r0"), [(True, True)])
        w.expect("state of X", w.state("X"), "blocked")
        w.expect("open stays of r2", w.beds_of("r2"), [])
    else:  # checked in first: r0 no longer sleeps alone, the room cannot be isolated in place
        w.expect("isolations of r0 (in the room, open)", w.isolations("r0"), [])
        w.expect("occupants of X", w.occupants("X"), ["r2"])
    w.expect("occupants of A", w.occupants("A"), ["r0"])


def _in_place_hold(w, a_won, b_won):
    if a_won:
        w.expect("isolations of r0 (in the room, open)", w.isolations("r0"), [(True, True)])
        w.expect("state of X", w.state("X"), "blocked")
        w.expect("holds of X (released, reason)", w.holds("X"), [])
    else:
        w.expect("isolations of r0 (in the room, open)", w.isolations("r0"), [])
        w.expect("holds of X (released, reason)", w.holds("X"), [(False, None)])
    w.expect("occupants of A", w.occupants("A"), ["r0"])


def _isolated_end_isolate_other(w, a_won, b_won):
    w.expect("isolations of r0 (in the room, open)", w.isolations("r0"), [(True, False)])
    # Ended first, the room was free for X's occupant; isolated first, the room was still r0's.
    w.expect("isolations of r3 (in the room, open)", w.isolations("r3"), [(True, True)] if b_won else [])
    w.expect("occupants of A, X", (w.occupants("A"), w.occupants("X")), (["r0"], ["r3"]))


def _undo_check_out_check_in(w, a_won, b_won):
    if a_won:
        w.expect("occupants of A", w.occupants("A"), ["r1"])
        w.expect("stays of r0 (bed, end_reason)", w.stays("r0"), [("A", "checked_out")])
    else:
        w.expect("occupants of A", w.occupants("A"), ["r0"])
        w.expect("stays of r0 (bed, end_reason)", w.stays("r0"), [("A", None)])
        w.expect("open stays of r1", w.beds_of("r1"), [])
    w.expect("'stay.check_out_undone' audit events", sum(w.audits("stay.check_out_undone", "stays", stay_id)
                                                       for stay_id in w.stay_ids("r0")), 0 if a_won else 1)


def _undo_end_isolation_isolate(w, a_won, b_won):
    if a_won:  # X's occupant took the room: r0's isolation stays ended
        w.expect("isolations of r3 (in the room, open)", w.isolations("r3"), [(True, True)])
        w.expect("isolations of r0 (in the room, open)", w.isolations("r0"), [(True, False)])
    else:
        w.expect("isolations of r0 (in the room, open)", w.isolations("r0"), [(True, True)])
        w.expect("isolations of r3 (in the room, open)", w.isolations("r3"), [])
    w.expect("occupants of A, X", (w.occupants("A"), w.occupants("X")), (["r0"], ["r3"]))


def _check_out_then_check_in(w, a_won, b_won):
    w.expect("stays of r0 (bed, end_reason)", w.stays("r0"), [("A", "checked_out")])
    w.expect("occupants of A", w.occupants("A"), ["r2"] if b_won else [])


def _check_out_then_hold(w, a_won, b_won):
    w.expect("stays of r0 (bed, end_reason)", w.stays("r0"), [("A", "checked_out")])
    w.expect("state of A", w.state("A"), "held" if b_won else "free")
    w.expect("holds of A (released, reason)", w.holds("A"), [(False, None)] if b_won else [])


def _check_out_then_out(w, a_won, b_won):
    w.expect("stays of r0 (bed, end_reason)", w.stays("r0"), [("A", "checked_out")])
    w.expect("state of A", w.state("A"), "out" if b_won else "free")


def _move_hold_x(w, a_won, b_won):
    if a_won:
        w.expect("stays of r0 (bed, end_reason)", w.stays("r0"), [("A", "moved"), ("X", None)])
        w.expect("holds of X (released, reason)", w.holds("X"), [])
    else:
        w.expect("stays of r0 (bed, end_reason)", w.stays("r0"), [("A", None)])
        w.expect("holds of X (released, reason)", w.holds("X"), [(False, None)])


def _move_out_x(w, a_won, b_won):
    if a_won:
        w.expect("stays of r0 (bed, end_reason)", w.stays("r0"), [("A", "moved"), ("X", None)])
        w.expect("X out of service (reason)", w.out_of_service(w.t.beds["X"]), None)
    else:
        w.expect("stays of r0 (bed, end_reason)", w.stays("r0"), [("A", None)])
        w.expect("state of X", w.state("X"), "out")


def _two_moved_to_one_bed(w, a_won, b_won):
    moved, stayed = ("r0", "r3") if a_won else ("r3", "r0")
    came_from = {"r0": "A", "r3": "Y"}
    w.expect(f"stays of {moved} (bed, end_reason)", w.stays(moved), [(came_from[moved], "moved"), ("X", None)])
    w.expect(f"stays of {stayed} (bed, end_reason)", w.stays(stayed), [(came_from[stayed], None)])
    w.expect("occupants of X", w.occupants("X"), [moved])


def _in_service_hold(w, a_won, b_won):
    w.expect("A out of service (reason)", w.out_of_service(w.t.beds["A"]), None)
    w.expect("state of A", w.state("A"), "held" if b_won else "free")
    w.expect("holds of A (released, reason)", w.holds("A"), [(False, None)] if b_won else [])


PAIRS = [
    # a free bed
    Pair("free", Act("check_in"), Act("check_in"), True, _free_check_in_check_in),
    Pair("free", Act("check_in"), Act("hold"), False, _free_check_in_hold, must_win="a"),
    Pair("free", Act("check_in"), Act("out"), True, _free_check_in_out),
    Pair("free", Act("hold"), Act("hold"), True, _free_hold_hold),
    Pair("free", Act("hold"), Act("out"), True, _free_hold_out),
    Pair("free", Act("out"), Act("out"), True, _free_out_out),
    # a held bed
    Pair("held", Act("check_in"), Act("release"), False, _held_check_in_release, must_win="a"),
    Pair("held", Act("release"), Act("release"), True, _held_release_release),
    Pair("held", Act("check_in"), Act("check_in"), True, _held_check_in_check_in),
    Pair("held", Act("release"), Act("out"), False, _held_release_out, must_win="a"),
    # a bed out of service
    Pair("out", Act("in_service"), Act("in_service"), True, _out_in_in),
    Pair("out", Act("in_service"), Act("check_in"), False, _out_in_check_in, must_win="a"),
    # an occupied bed
    Pair("occupied", Act("check_out"), Act("check_out"), True, _occupied_check_out_check_out),
    Pair("occupied", Act("check_out"), Act("move", to="X"), True, _occupied_check_out_move),
    Pair("occupied", Act("move", to="X"), Act("move", to="Y"), True, _occupied_move_move),
    Pair("occupied", Act("move", to="X"), Act("move", to="X"), True, _occupied_move_move_same),
    Pair("occupied", Act("check_out"), Act("isolate"), False, _occupied_check_out_isolate, must_win="a"),
    Pair("occupied", Act("isolate"), Act("isolate"), True, _occupied_isolate_isolate),
    Pair("occupied", Act("move", to="X"), Act("isolate"), False, _occupied_move_isolate, must_win="a"),
    # an occupied bed whose occupant is in isolation
    Pair("isolated", Act("end_isolation"), Act("end_isolation"), True, _isolated_end_end),
    Pair("isolated", Act("end_isolation"), Act("check_out"), False, _isolated_end_check_out, must_win="b"),
    # across two beds: the occupant of A is moved to X while a new arrival is checked in to X
    Pair("occupied", Act("move", to="X"), Act("check_in", bed="X"), True, _cross_move_check_in),
    # across two beds of one room: the occupant of A is isolated in place while X is taken or held
    Pair("occupied", Act("isolate_here"), Act("check_in", bed="X"), True, _in_place_check_in),
    Pair("occupied", Act("isolate_here"), Act("hold", bed="X"), True, _in_place_hold),
    # the bed being freed by a check-out is taken, held or put out of service at once
    Pair("occupied", Act("check_out"), Act("check_in"), False, _check_out_then_check_in, must_win="a"),
    Pair("occupied", Act("check_out"), Act("hold"), False, _check_out_then_hold, must_win="a"),
    Pair("occupied", Act("check_out"), Act("out"), False, _check_out_then_out, must_win="a"),
    # the bed a move goes to is held or put out of service meanwhile; two occupants moved to one free bed
    Pair("occupied", Act("move", to="X"), Act("hold", bed="X"), True, _move_hold_x),
    Pair("occupied", Act("move", to="X"), Act("out", bed="X"), True, _move_out_x),
    Pair("two_occupied", Act("move", to="X"), Act("move", bed="Y", to="X"), True, _two_moved_to_one_bed),
    # back in service while it is held
    Pair("out", Act("in_service"), Act("hold"), False, _in_service_hold, must_win="a"),
    # A's occupant's isolation ends while X's occupant is isolated into that room (the room made first)
    Pair("isolated_other", Act("end_isolation"), Act("isolate", bed="X"), False, _isolated_end_isolate_other,
         must_win="a", iso_first=True),
    # undo (by the manager, who did it in the start state) against what the freed bed or room is used for
    Pair("checked_out", Act("check_in"), Act("undo_check_out"), True, _undo_check_out_check_in),
    Pair("isolation_ended", Act("isolate", bed="X"), Act("undo_end_isolation"), True, _undo_end_isolation_isolate,
         iso_first=True),
]

START_STATE = {"free": "free", "held": "held", "out": "out", "occupied": "occupied", "isolated": "occupied",
               "isolated_other": "occupied", "isolation_ended": "occupied", "two_occupied": "occupied",
               "checked_out": "free"}


# --- setting the scene over HTTP ---------------------------------------------------------------

def _setup_post(browser: Browser, path: str, fields: dict, what: str) -> None:
    answer = browser.post(path, fields)
    assert answer.status in SETUP_OK, f"setup: {what}: {answer.status}\n{answer.body[-3000:]}"
    if len(browser.cookies.get("shelter_session", "")) > 1500:
        # Each setup step flashes a message for the page a browser would go to next: show one, so the
        # messages do not pile up in the session cookie.
        browser.get("/shelters")


def join_shelter(user_ids: list[int], shelter_id: int) -> None:
    """Both racing users work in the new shelter: staff see only their own shelters' beds (others: 404).

    The manager who creates a shelter belongs to it; the night staff are added here, as an administrator
    would on the Users page. Written directly: membership is the scene, not what is tested.
    """
    if not inspect(db.engine).has_table("shelter_staff"):  # an app without shelter membership: all see all
        return
    for user_id in user_ids:
        db.session.execute(text(
            "INSERT INTO shelter_staff (user_id, shelter_id) SELECT :u, :s WHERE NOT EXISTS "
            "(SELECT 1 FROM shelter_staff WHERE user_id = :u AND shelter_id = :s)"), {"u": user_id, "s": shelter_id})
    db.session.commit()


def build_trials(manager: Browser, pair: Pair, trials: int, staff: list[int]) -> list[Trial]:
    """A new shelter (staff: its users) with its rooms, the beds, isolation rooms and residents of every trial."""
    code = f"race-{uuid.uuid4().hex[:10]}"
    _setup_post(manager, "/shelters", {"code_name": code, "name": f"House {code}", "address": "Secret street 1"},
                "create the shelter")
    shelter_id = _scalar("SELECT id FROM shelters WHERE code_name = :c", c=code)
    db.session.rollback()
    assert shelter_id is not None, f"setup: shelter {code} not found after creating it"
    join_shelter(staff, shelter_id)
    setup = f"/shelters/{shelter_id}"
    dorms = [f"Dorm{n:03d}" for n in range(trials)] if pair.own_rooms() else ["Dorm"]

    def add_dorms():
        for dorm in dorms:
            _setup_post(manager, setup, {"action": "room", "room-name": dorm, "room-kind": "regular",
                                         "room-room_group": ""}, f"add the room {dorm}")

    if not pair.iso_first:
        add_dorms()
    for n in range(trials):
        if pair.needs_room():
            _setup_post(manager, setup, {"action": "room", "room-name": f"Iso{n:03d}", "room-kind": "isolation",
                                         "room-room_group": ""}, f"add isolation room {n}")
    if pair.iso_first:
        add_dorms()
    rooms = dict(_rows("SELECT name, id FROM rooms WHERE shelter_id = :s", s=shelter_id))
    db.session.rollback()
    wanted_rooms = set(dorms) | ({f"Iso{n:03d}" for n in range(trials)} if pair.needs_room() else set())
    assert wanted_rooms <= set(rooms), f"setup: rooms missing after adding them: {sorted(wanted_rooms - set(rooms))}"
    for n in range(trials):
        for role in pair.bed_roles():
            dorm = dorms[n] if pair.own_rooms() else "Dorm"
            _setup_post(manager, setup, {"action": "bed", "bed-room_id": rooms[dorm], "bed-label": f"bed{n:03d}{role}",
                                         "bed-category": "woman"}, f"add bed {role} of trial {n}")
        for role in pair.resident_roles():
            _setup_post(manager, "/residents/new", {"alias": f"{code}-{n:03d}-{role}", "sex": "female",
                                                    "age_band": "adult"}, f"add resident {role} of trial {n}")
    beds = dict(_rows("SELECT b.label, b.id FROM beds b JOIN rooms r ON r.id = b.room_id WHERE r.shelter_id = :s",
                      s=shelter_id))
    residents = dict(_rows("SELECT alias, id FROM residents WHERE alias LIKE :p", p=f"{code}-%"))
    db.session.rollback()
    missing = [f"bed{n:03d}{role}" for n in range(trials) for role in pair.bed_roles()
               if f"bed{n:03d}{role}" not in beds]
    missing += [f"{code}-{n:03d}-{role}" for n in range(trials) for role in pair.resident_roles()
                if f"{code}-{n:03d}-{role}" not in residents]
    assert not missing, f"setup: beds or residents missing after adding them: {missing}"
    result = []
    for n in range(trials):
        labels = {role: f"bed{n:03d}{role}" for role in pair.bed_roles()}
        result.append(Trial(
            n=n, beds={role: beds[label] for role, label in labels.items()}, labels=labels,
            residents={role: residents[f"{code}-{n:03d}-{role}"] for role in pair.resident_roles()},
            room=(rooms[f"Iso{n:03d}"] if pair.needs_room()
                  else rooms[dorms[n]] if pair.own_rooms() else None),
            shelter=shelter_id))
    if pair.iso_first:
        assert all(t.room < rooms[dorm] for t in result for dorm in dorms), "setup: isolation rooms made first"
    return result


def set_start(manager: Browser, pair: Pair, trial: Trial) -> None:
    """Bring bed A into the pair's start state with the bed actions themselves, one after the other."""
    second = SECOND_OCCUPANT.get(pair.start)
    steps = {"free": [], "held": [(Act("hold"), "r0")], "out": [(Act("out"), "r0")],
             "occupied": [(Act("check_in"), "r0")],
             "isolated": [(Act("check_in"), "r0"), (Act("isolate"), "r0")],
             "isolated_other": [(Act("check_in"), "r0"), (Act("isolate"), "r0"), (Act("check_in", bed="X"), "r3")],
             "isolation_ended": [(Act("check_in"), "r0"), (Act("isolate"), "r0"), (Act("end_isolation"), "r0"),
                                 (Act("check_in", bed="X"), "r3")],
             "two_occupied": [(Act("check_in"), "r0"), (Act("check_in", bed="Y"), "r3")],
             "checked_out": [(Act("check_in"), "r0"), (Act("check_out"), "r0")]}[pair.start]
    for act, resident in steps:
        path, fields = act.request(trial, resident)
        answer = manager.post(path, fields)
        assert answer.status == 200, (f"[{pair.id}] trial {trial.n}: setting the start state, {act} answered "
                                      f"{answer.status}\n{answer.body[-3000:]}")
    w = World(trial)
    try:
        assert w.state("A") == START_STATE[pair.start], f"[{pair.id}] trial {trial.n}: start state\n{w.describe()}"
        if pair.start in ("isolated", "isolated_other", "isolation_ended"):
            wanted = [(True, pair.start != "isolation_ended")]
            assert w.isolations("r0") == wanted, f"[{pair.id}] trial {trial.n}: start\n{w.describe()}"
        if second:
            assert w.occupants(second) == ["r3"], f"[{pair.id}] trial {trial.n}: start\n{w.describe()}"
    finally:
        w.close()


# --- the race ---------------------------------------------------------------------------------

def race(first: Prepared, second: Prepared) -> tuple[Answer, Answer]:
    """Send both requests at the same moment from two threads; both connections are open beforehand."""
    prepared = (first, second)
    answers: list[Answer | None] = [None, None]
    errors: list[BaseException | None] = [None, None]
    barrier = threading.Barrier(2, timeout=30)

    def run(i: int) -> None:
        try:
            barrier.wait()
            answers[i] = prepared[i].send()
        except BaseException as exc:  # reported by the main thread
            errors[i] = exc

    threads = [threading.Thread(target=run, args=(i,), name=f"race-{i}", daemon=True) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=HTTP_TIMEOUT + 30)
    assert not any(thread.is_alive() for thread in threads), "a racing request did not finish"
    for i, error in enumerate(errors):
        if error is not None:
            raise AssertionError(f"racing request {'AB'[i]} failed: {error!r}") from error
    return answers[0], answers[1]


ALERT_RE = re.compile(r'<(\w+)\b[^>]*(?:\bclass="[^"]*\bnotice-error\b[^"]*"|\brole="alert")[^>]*>(.*?)</\1>', re.S)
STATE_RE = re.compile(r'<[^>]*\bclass="state\b[^"]*"[^>]*>\s*([^<]*?)\s*<', re.S)
TAG_RE = re.compile(r"<[^>]+>")


def check_refusal(w: World, side: str, act: Act, answer: Answer, allowed_states: set[str]) -> None:
    """A 409 says why (an alert) and shows the bed's panel (for an undo, the board): its label and its state
    as it now is."""
    body, label = answer.body, w.t.labels[act.bed]
    alert = ALERT_RE.search(body)
    message = TAG_RE.sub("", alert.group(2)).strip() if alert else ""
    if not message:
        w.problem(f"the 409 to {side} ({act}) shows no message (no notice-error / role=alert with text): "
                  f"{body[:1500]!r}")
    if label not in body:
        w.problem(f"the 409 to {side} ({act}) does not show the bed's label {label!r}: {body[:1500]!r}")
    if act.kind.startswith("undo_"):  # answered from the board: the bed's tile carries its state
        tile = re.search(r'<a\b[^>]*\bid="bed-' + str(w.t.beds[act.bed]) + r'"[^>]*>', body)
        shown_states = set(re.findall(r"\bbed-(\w+)\b", tile.group(0))) if tile else set()
        if not shown_states & allowed_states:
            w.problem(f"the 409 to {side} ({act}) shows the bed's tile as {tile.group(0) if tile else None!r}, "
                      f"expected one of {sorted(allowed_states)} (message {message!r})")
        return
    found = STATE_RE.search(body)
    shown = found.group(1) if found else None
    wanted = sorted(STATE_TEXT[s] for s in allowed_states)
    if shown not in wanted:
        w.problem(f"the 409 to {side} ({act}) shows the bed as {shown!r}, expected one of {wanted} "
                  f"(message {message!r})")


def refusal_message(answer: Answer) -> str:
    """What a refusal says (its alert), with this test's generated names made generic."""
    alert = ALERT_RE.search(answer.body)
    said = TAG_RE.sub("", alert.group(2)).strip() if alert else f"(no alert) {answer.body[-300:]}"
    return re.sub(r"race-[0-9a-f]+-\d{3}-(r\d)", r"\1", re.sub(r"bed\d{3}([AXY])", r"\1", said))


def judge(pair: Pair, trial: Trial, a: Answer, b: Answer, actors: dict[int, str]) -> list[str]:
    """Every problem of one trial, each a sentence with the pair, trial, statuses and the state seen."""
    w = World(trial, actors)
    try:
        statuses = (a.status, b.status)
        for side, act, answer in (("A", pair.a, a), ("B", pair.b, b)):
            if answer.status >= 500:
                w.problem(f"{side} ({act}) answered {answer.status}: {answer.body[-800:]!r}")
            elif answer.status not in (200, 409):
                w.problem(f"{side} ({act}) answered {answer.status}, expected 200 or 409 "
                          f"(it said {refusal_message(answer)!r})")
        a_won, b_won = a.status == 200, b.status == 200
        if pair.exclusive:
            expected_ok = sorted(statuses) == [200, 409]
            if not expected_ok:
                w.problem(f"statuses {statuses}: exactly one 200 and one 409 expected")
        else:
            must = {"a": a, "b": b}[pair.must_win]
            expected_ok = must.status == 200 and {a.status, b.status} <= {200, 409}
            if must.status != 200:
                w.problem(f"{pair.must_win.upper()} must succeed in every order, answered {must.status}")
        check_invariants(w)
        if expected_ok:
            pair.final(w, a_won, b_won)
        for side, act, answer in (("A", pair.a, a), ("B", pair.b, b)):
            if answer.status == 409 and refusal_message(answer) == LOST_RACE:
                # What the app answers when the database aborts a transaction (a deadlock) or a unique index
                # refuses a row: the locks, taken in one order, should have made the loser see why instead.
                w.problem(f"{side} ({act}) lost to the database, not to the rules (a deadlock or a constraint "
                          f"caught what the locks should have): {LOST_RACE!r}")
            if answer.status == 409:
                allowed = {w.state(act.bed)}
                if not pair.exclusive:  # refused before the other action changed the bed, or after
                    allowed.add(START_STATE[pair.start] if act.bed == "A" else "free")
                check_refusal(w, side, act, answer, allowed)
        if not w.problems:
            return []
        head = (f"[{pair.id}] trial {trial.n}: A={pair.a} (night) -> {a.status}, B={pair.b} (manager) -> "
                f"{b.status}")
        return [head + "\n  - " + "\n  - ".join(w.problems) + "\n  state now:\n" + w.describe()]
    finally:
        w.close()


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.id)
def test_two_bed_actions_at_once_leave_one_legal_state(pair, gunicorn_server, make_user):
    night_user = make_user("night", password=PASSWORD, locale="en")
    manager_user = make_user("manager", password=PASSWORD, locale="en")
    night, manager = Browser(gunicorn_server, "night"), Browser(gunicorn_server, "manager")
    night.sign_in(night_user.username, PASSWORD)
    manager.sign_in(manager_user.username, PASSWORD)
    actors = {night_user.id: "night (A)", manager_user.id: "manager (B)"}
    db.session.rollback()  # from here on the test reads only what it asks for, each time in a fresh snapshot

    outcomes: Counter[tuple[int, int]] = Counter()
    refusals: Counter[str] = Counter()
    problems: list[str] = []
    for trial in build_trials(manager, pair, TRIALS, staff=list(actors)):
        set_start(manager, pair, trial)
        path_a, fields_a = pair.a.request(trial, "r1")
        path_b, fields_b = pair.b.request(trial, "r2")
        a, b = race(night.prepare("POST", path_a, fields_a), manager.prepare("POST", path_b, fields_b))
        outcomes[(a.status, b.status)] += 1
        for side, answer in (("A", a), ("B", b)):
            if answer.status != 200:
                refusals[f"{side} {answer.status} {refusal_message(answer)!r}"] += 1
        problems += judge(pair, trial, a, b, actors)

    seen = ", ".join(f"A={sa} B={sb} x{count}" for (sa, sb), count in sorted(outcomes.items()))
    said = "; ".join(f"{refusal} x{count}" for refusal, count in sorted(refusals.items())) or "none"
    print(f"{pair.id} on {db.engine.dialect.name}: {seen}; refusals: {said}")
    if problems:
        pytest.fail(f"{pair.id} on {db.engine.dialect.name}: {len(problems)} of {TRIALS} trials went wrong "
                    f"(outcomes: {seen}; refusals: {said})\n" + "\n".join(problems), pytrace=False)
