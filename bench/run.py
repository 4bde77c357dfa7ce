"""Load benchmark: the app as the Procfile runs it, against a bare Flask route under the same settings.

    .venv/bin/python bench/run.py [--sqlite PATH] [--seed-scale S] [--duration 5] [--rounds 3] [--write]
    .venv/bin/python bench/run.py --smoke        (a few seconds on tiny data: CI runs this)

It serves the database in DATABASE_URL (or the SQLite file --sqlite), filled by bench/seed.py
(--seed-scale fills it first; that empties it), with gunicorn started from the Procfile's `web`
line, on loopback only, and in the same run a bare Flask route (bench/bare.py) with the same
gunicorn settings. wrk (Debian's package) then loads each page in interleaved rounds at 1 and at
8 connections, signed in as the seed's bench accounts, with `Accept-Encoding: gzip, br`.

For each page it reports requests/s, p50/p95/p99 latency, the ratio of its requests/s to the bare
route's and to the app's one-statement /account page in the same run, bytes per response as sent
(compressed) and uncompressed, and SQL statements per request (counted in-process on the same
database with the same session). Also: redirects from sign-in to the board, and the gunicorn
workers' memory (peak and after the load). --write puts the table into bench/results.md (the
section of this database); the figures are medians over the rounds. The whole run stops by itself
after --max-seconds.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from seed import BENCH_PASSWORD, BENCH_TOKEN  # noqa: E402
from shelter_app.config import psycopg_url  # noqa: E402

SECRET_KEY = "bench-run-secret"
LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests": %d, "duration_us": %d, "bytes": %d, "socket_errors": %d, '
    .. '"status_errors": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


@dataclass
class Target:
    name: str
    path: str
    user: str | None  # bench account whose session the request carries; None: none
    headers: dict[str, str] = field(default_factory=dict)
    server: str = "app"  # "app" or "bare"


@dataclass
class Measured:
    rps: list[float] = field(default_factory=list)
    p50: list[float] = field(default_factory=list)
    p95: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    bytes_per_response: list[float] = field(default_factory=list)


# --- servers -----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def procfile_web() -> list[str]:
    """The Procfile's web command as arguments (the port and the address are filled in by start())."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return shlex.split(line.split(":", 1)[1])
    raise SystemExit("Procfile has no web line")


def start(app_spec: str | None, port: int, env: dict, log, extra: tuple[str, ...] = ()) -> subprocess.Popen:
    """gunicorn as the Procfile runs it, bound to loopback on port; app_spec replaces the app (baseline);
    extra arguments come last (the last of a repeated option wins)."""
    args = procfile_web()
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    out = [gunicorn if args[0] == "gunicorn" else args[0]]
    for arg in args[1:]:
        if arg.startswith("0.0.0.0:"):
            arg = f"127.0.0.1:{port}"
        if app_spec and arg == "shelter_app:create_app()":
            arg = app_spec
        out.append(arg)
    if app_spec:
        out += ["--chdir", str(BENCH)]
    out += list(extra)
    process = subprocess.Popen(out, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log,
                               start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz" if not app_spec else "/")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            pass
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited ({process.returncode}); see its log")
        time.sleep(0.3)
    raise SystemExit("gunicorn did not answer within 60 s")


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def workers_memory(master: subprocess.Popen) -> list[dict[str, int]]:
    """VmRSS and VmHWM (peak) in MB of each gunicorn worker (the master's children)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid != master.pid:
                continue
            status = (entry / "status").read_text()
        except (OSError, ValueError, IndexError):
            continue
        values = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.M))
        found.append({k: int(v) // 1024 for k, v in values.items()})
    return found


# --- a client of the standard library ----------------------------------------------------------

class Session:
    """One signed-in person: a cookie jar of one cookie, as a browser would keep it."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        content = response.read()
        for raw in response.headers.get_all("Set-Cookie") or []:
            name, _sep, rest = raw.partition("=")
            value = rest.split(";", 1)[0]
            if value and "max-age=0" not in raw.lower():
                self.cookies[name.strip()] = value
            else:
                self.cookies.pop(name.strip(), None)
        conn.close()
        return response, content

    def sign_in(self, username: str) -> int:
        """Sign in with the seed's password; returns the redirects from the sign-in to a page."""
        _response, page = self.request("GET", "/login")
        token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"', page)
        csrf = (token.group(1) or token.group(2)).decode()
        response, _body = self.request("POST", "/login", {"username": username, "password": BENCH_PASSWORD,
                                                          "csrf_token": csrf})
        if response.status != 303:
            raise SystemExit(f"sign-in of {username} answered {response.status}")
        hops = 0
        while response.status in (301, 302, 303, 307, 308):
            hops += 1
            response, _body = self.request("GET", urlsplit(response.headers["Location"]).path)
        if response.status != 200:
            raise SystemExit(f"{username}'s start page answered {response.status}")
        return hops


# --- load ----------------------------------------------------------------------------------------

def wrk(port: int, target: Target, cookie: str | None, connections: int, duration: float, lua: Path) -> dict:
    headers = {"Accept-Encoding": "gzip, br", **target.headers}
    if cookie:
        headers["Cookie"] = cookie
    args = ["wrk", f"-t{min(connections, 2)}", f"-c{connections}", f"-d{max(1, round(duration))}s", "--timeout", "10s",
            "-s", str(lua)]
    for key, value in headers.items():
        args += ["-H", f"{key}: {value}"]
    args.append(f"http://127.0.0.1:{port}{target.path}")
    result = subprocess.run(args, capture_output=True, text=True, timeout=duration + 60)
    line = next((l for l in result.stdout.splitlines() if l.startswith("{")), None)
    if result.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed on {target.name}: {result.stdout}\n{result.stderr}")
    return json.loads(line)


def check_page(port: int, target: Target, cookie: str | None) -> tuple[int, int, int]:
    """(status, bytes as sent compressed, bytes uncompressed) of one request, as wrk will send it."""
    sizes = []
    for encoding in ("gzip, br", "identity"):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        headers = {"Accept-Encoding": encoding, **target.headers}
        if cookie:
            headers["Cookie"] = cookie
        conn.request("GET", target.path, headers=headers)
        response = conn.getresponse()
        body = response.read()
        sizes.append((response.status, len(body)))
        conn.close()
    return sizes[0][0], sizes[0][1], sizes[1][1]


def statements_per_request(database_url: str, targets: list[Target], cookies: dict[str, str],
                           instance: str) -> dict[str, int]:
    """SQL statements of each page, counted in-process on the same database, with the same session."""
    os.environ["SHELTER_INSTANCE_PATH"] = instance
    from sqlalchemy import event

    from shelter_app import create_app
    from shelter_app.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": SECRET_KEY})
    counts: dict[str, int] = {}
    with app.app_context():
        engine = db.engine
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a, **k: seen.append(a[2]))
    # Each request in its own app context, as in the server (g, and the signed-in user, are per request).
    for target in targets:
        if target.server != "app":
            continue
        client = app.test_client()
        if target.user:
            client.set_cookie("shelter_session", cookies[target.user].split("=", 1)[1])
        client.get(target.path, headers=target.headers)  # warm: first-request work is not the page's
        seen.clear()
        response = client.get(target.path, headers=target.headers)
        assert response.status_code == 200, (target.name, response.status_code)
        counts[target.name] = len(seen)
    engine.dispose()
    return counts


def pick_ids(database_url: str) -> dict[str, int]:
    """Rows of the bench accounts' shelter (the first) to aim the pages at."""
    from sqlalchemy import create_engine, text

    engine = create_engine(psycopg_url(database_url))
    with engine.connect() as conn:
        resident = conn.scalar(text(
            "SELECT s.resident_id FROM stays s JOIN beds b ON b.id = s.bed_id JOIN rooms r ON r.id = b.room_id "
            "WHERE r.shelter_id = 1 AND s.ended_at IS NULL ORDER BY s.resident_id LIMIT 1"))
        free_bed = conn.scalar(text(
            "SELECT b.id FROM beds b JOIN rooms r ON r.id = b.room_id WHERE r.shelter_id = 1 AND r.kind = 'regular' "
            "AND NOT EXISTS (SELECT 1 FROM stays s WHERE s.bed_id = b.id AND s.ended_at IS NULL) "
            "AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.bed_id = b.id AND h.released_at IS NULL) "
            "ORDER BY b.id LIMIT 1"))
        counts = {t: conn.scalar(text(f"SELECT count(*) FROM {t}")) for t in
                  ("shelters", "beds", "stays", "residents", "audit_events")}
    engine.dispose()
    if resident is None or free_bed is None:
        raise SystemExit("the database has no occupied and no free bed in shelter 1: seed it (bench/seed.py)")
    return {"resident": resident, "free_bed": free_bed, **{f"rows_{k}": v for k, v in counts.items()}}


def targets_for(ids: dict[str, int]) -> list[Target]:
    htmx = {"HX-Request": "true"}
    return [
        Target("bare Flask", "/", None, server="bare"),
        Target("/account", "/account", "bench-night"),
        Target("bed board /board/1", "/board/1", "bench-night"),
        Target("free bed's panel (htmx)", f"/beds/{ids['free_bed']}", "bench-night", htmx),
        Target("resident page", f"/residents/{ids['resident']}", "bench-manager"),
        Target("residents list", "/residents", "bench-night"),
        Target("residents search", "/residents?q=anna", "bench-night"),
        Target("availability API (Bearer)", "/api/v1/availability", None, {"Authorization": f"Bearer {BENCH_TOKEN}"}),
        Target("case manager's /availability", "/availability", "bench-casemanager"),
    ]


def run(args) -> str:
    database_url = os.environ.get("DATABASE_URL", "")
    if args.sqlite:
        database_url = f"sqlite:///{Path(args.sqlite).resolve()}"
    if not database_url:
        raise SystemExit("set DATABASE_URL or give --sqlite PATH (a database filled by bench/seed.py)")
    instance = tempfile.mkdtemp(prefix="shelter-bench-")
    if args.seed_scale:
        from seed import seed

        seed(scale=args.seed_scale, years=args.years, seed_value=1, database_url=database_url
             if not args.sqlite else None, sqlite_path=args.sqlite, password=BENCH_PASSWORD, quiet=args.smoke)
    sql_url = psycopg_url(database_url)
    ids = pick_ids(database_url)
    targets = targets_for(ids)
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": SECRET_KEY, "SHELTER_INSTANCE_PATH": instance}
    env.pop("MIGRATIONS_DATABASE_URL", None)
    lua = Path(instance) / "report.lua"
    lua.write_text(LUA)
    log = open(Path(instance) / "gunicorn.log", "w")
    app_port, bare_port = free_port(), free_port()
    app = start(None, app_port, env, log)
    bare = start("bare:app", bare_port, env, log)
    try:
        sessions, hops = {}, {}
        for user in ("bench-night", "bench-manager", "bench-casemanager"):
            session = Session(app_port)
            hops[user] = session.sign_in(user)
            sessions[user] = session
        memory_signed_in = workers_memory(app)
        cookies = {u: f"shelter_session={s.cookies['shelter_session']}" for u, s in sessions.items()}
        sizes = {}
        for target in targets:
            port = bare_port if target.server == "bare" else app_port
            status, sent, raw = check_page(port, target, cookies.get(target.user))
            if status != 200:
                raise SystemExit(f"{target.name} ({target.path}) answered {status}: the figures would be of "
                                 "an error page")
            sizes[target.name] = (sent, raw)
        measured = {(t.name, c): Measured() for t in targets for c in args.connections}
        for _round in range(args.rounds):
            for connections in args.connections:
                for target in targets:
                    port = bare_port if target.server == "bare" else app_port
                    result = wrk(port, target, cookies.get(target.user), connections, args.duration, lua)
                    if result["status_errors"] or result["socket_errors"]:
                        raise SystemExit(f"{target.name} at {connections}: {result}")
                    if not result["requests"]:  # not one answer within the duration: slower than that
                        result.update(p50_us=float("nan"), p95_us=float("nan"), p99_us=float("nan"), requests=0)
                    m = measured[(target.name, connections)]
                    m.rps.append(result["requests"] / (result["duration_us"] / 1e6))
                    m.p50.append(result["p50_us"] / 1000)
                    m.p95.append(result["p95_us"] / 1000)
                    m.p99.append(result["p99_us"] / 1000)
                    m.bytes_per_response.append(result["bytes"] / max(1, result["requests"]))
        for target in targets:  # the session is still valid after the load: it measured real pages
            port = bare_port if target.server == "bare" else app_port
            assert check_page(port, target, cookies.get(target.user))[0] == 200, target.name
        memory_after = workers_memory(app)
    finally:
        stop(app)
        stop(bare)
        log.close()
    statements = statements_per_request(sql_url, targets, cookies, instance)
    return report(args, database_url, ids, targets, measured, sizes, statements, hops, memory_signed_in,
                  memory_after)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                   if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = ""
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, AttributeError):
        pass
    return f"{os.cpu_count()} × {cpu}{mem}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def report(args, database_url, ids, targets, measured, sizes, statements, hops, memory_signed_in,
           memory_after) -> str:
    backend = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
    lines = [
        f"### {backend}: {ids['rows_shelters']} shelters, {ids['rows_beds']} beds, {ids['rows_stays']} stays, "
        f"{ids['rows_residents']} residents, {ids['rows_audit_events']} audit events",
        "",
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC · {machine()} · gunicorn as the Procfile's `web` line · "
        f"wrk, {args.rounds} interleaved rounds of {args.duration:g} s per page and connection count "
        f"(medians) · command: `{' '.join(shlex.quote(a) for a in sys.argv)}`"
        + (" with DATABASE_URL set" if not args.sqlite else ""),
        "",
        "| page | conn. | req/s | p50 ms | p95 ms | p99 ms | × bare | × /account | bytes sent (raw) | SQL |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for connections in args.connections:
        bare = _median(measured[("bare Flask", connections)].rps)
        account = _median(measured[("/account", connections)].rps)
        for target in targets:
            m = measured[(target.name, connections)]
            rps = _median(m.rps)
            sent, raw = sizes[target.name]
            lines.append(
                f"| {target.name} | {connections} | {rps:.0f} | {_median(m.p50):.1f} | {_median(m.p95):.1f} | "
                f"{_median(m.p99):.1f} | {rps / bare:.1%} | {rps / account:.0%} | {sent} ({raw}) | "
                f"{statements.get(target.name, '–')} |")
    peak = max((w.get("VmHWM", 0) for w in memory_signed_in + memory_after), default=0)
    after = max((w.get("VmRSS", 0) for w in memory_after), default=0)
    lines += [
        "",
        f"Sign-in to the start page: {', '.join(f'{u} {n} redirect(s)' for u, n in hops.items())}. "
        f"Gunicorn workers: {after} MB resident after the load, {peak} MB peak (signing in included).",
    ]
    return "\n".join(lines)


def write_results(text: str, backend: str) -> None:
    """Put text into bench/results.md between this backend's markers (the rest of the file is kept)."""
    path = BENCH / "results.md"
    content = path.read_text() if path.exists() else "# Benchmark results\n"
    begin, end = f"<!-- run.py: {backend} -->", f"<!-- /run.py: {backend} -->"
    block = f"{begin}\n{text}\n{end}"
    if begin in content:
        content = re.sub(re.escape(begin) + r".*?" + re.escape(end), lambda _m: block, content, flags=re.S)
    else:
        content = content.rstrip() + "\n\n" + block + "\n"
    path.write_text(content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sqlite", metavar="PATH", help="the SQLite file to serve (else DATABASE_URL)")
    parser.add_argument("--seed-scale", type=float, help="fill the database first (bench/seed.py; empties it)")
    parser.add_argument("--years", type=float, default=5.0, help="with --seed-scale: the history's length")
    parser.add_argument("--duration", type=int, default=5, help="seconds per page, connection count and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=lambda s: [int(x) for x in s.split(",")], default=[1, 8])
    parser.add_argument("--max-seconds", type=int, default=1800, help="the run stops itself after this")
    parser.add_argument("--write", action="store_true", help="put the table into bench/results.md")
    parser.add_argument("--smoke", action="store_true", help="tiny data, short rounds: checks the benchmark runs")
    args = parser.parse_args()
    if args.smoke:
        if not args.sqlite and not os.environ.get("DATABASE_URL"):
            args.sqlite = str(Path(tempfile.mkdtemp(prefix="shelter-smoke-")) / "smoke.db")
        args.seed_scale = args.seed_scale or 0.01
        args.duration, args.rounds, args.write = 1, 1, False
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(SystemExit("bench/run.py: time is up")))
    signal.alarm(args.max_seconds)
    text = run(args)
    print(text)
    if args.write:
        write_results(text, "postgresql" if not args.sqlite else "sqlite")


if __name__ == "__main__":
    main()
