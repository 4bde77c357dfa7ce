"""First load of a night worker's phone: requests, bytes and time until the bed board shows, and a repeat visit.

    .venv/bin/python bench/first_load.py [--sqlite PATH] [--throttle 4] [--write]

Serves the database (DATABASE_URL, or --sqlite; filled by bench/seed.py) with gunicorn as the Procfile
runs it, then in Debian's Chromium at 390×844 with the CPU slowed down --throttle times (CDP
Emulation.setCPUThrottlingRate): a new phone opens /login, the night worker signs in, the board shows,
the service worker installs and takes over. What crossed the network is counted where it arrives, in
the server's access log (requests and body bytes as sent, compressed), so the service worker's own
downloads are in it and whatever came from a cache is not. Then the repeat visit: the board opened
again in a new tab of the same phone. --write puts the figures into bench/results.md.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run  # noqa: E402  (bench/run.py: the server as the Procfile runs it)
from seed import BENCH_PASSWORD  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
PHONE = {"width": 390, "height": 844}
LOG_FORMAT = "%(m)s %(U)s %(s)s %({content-length}o)s"


def _log_lines(path: Path, start: int) -> list[tuple[str, str, int, int]]:
    lines = path.read_text().splitlines()[start:]
    out = []
    for line in lines:
        parts = line.split()
        if len(parts) == 4 and parts[2].isdigit():
            out.append((parts[0], parts[1], int(parts[2]), int(parts[3]) if parts[3].isdigit() else 0))
    return out


def measure(base_url: str, access_log: Path, throttle: float, username: str) -> dict:
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="shelter-phone-")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=ARGS, headless=True, viewport=PHONE, is_mobile=True,
            has_touch=True, locale="pl-PL", base_url=base_url)
        page = context.pages[0] if context.pages else context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
        before = len(access_log.read_text().splitlines())
        started = time.monotonic()
        page.goto("/login")
        page.locator("#username").fill(username)
        page.locator("#password").fill(BENCH_PASSWORD)
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()
        page.locator("#board").wait_for(state="visible")
        board_visible = time.monotonic() - started
        page.wait_for_function("() => navigator.serviceWorker.controller !== null "
                               "|| navigator.serviceWorker.ready.then(() => false)", timeout=60000)
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        time.sleep(1.0)  # the install's last downloads reach the log
        first = _log_lines(access_log, before)

        before = len(access_log.read_text().splitlines())
        repeat_page = context.new_page()
        started = time.monotonic()
        repeat_page.goto(page.url)
        repeat_page.locator("#board").wait_for(state="visible")
        repeat_visible = time.monotonic() - started
        time.sleep(1.0)
        repeat = _log_lines(access_log, before)
        controlled = repeat_page.evaluate("navigator.serviceWorker.controller !== null")
        context.close()
    return {"first": first, "board_visible": board_visible, "repeat": repeat, "repeat_visible": repeat_visible,
            "controlled": controlled}


def report(result: dict, throttle: float, backend: str) -> str:
    first, repeat = result["first"], result["repeat"]
    lines = [
        f"### First load at 390×844, CPU throttled {throttle:g}× ({backend})",
        "",
        f"Sign-in page, sign-in, the night worker's board and the service worker's install: **{len(first)} "
        f"requests, {sum(b for *_x, b in first) / 1024:.1f} KB** of bodies as sent; board visible "
        f"{result['board_visible']:.1f} s after opening /login. Repeat visit (the board in a new tab, the "
        f"service worker warm{'' if result['controlled'] else ', NOT controlling'}): **{len(repeat)} "
        f"request(s), {sum(b for *_x, b in repeat) / 1024:.1f} KB**, board visible in "
        f"{result['repeat_visible']:.1f} s.",
        "",
        "| first load | status | bytes |", "|---|---:|---:|",
        *[f"| {m} {u} | {s} | {b} |" for m, u, s, b in first],
        "",
        "| repeat visit | status | bytes |", "|---|---:|---:|",
        *[f"| {m} {u} | {s} | {b} |" for m, u, s, b in repeat],
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sqlite", metavar="PATH")
    parser.add_argument("--throttle", type=float, default=4.0)
    parser.add_argument("--user", default="bench-night")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    database_url = f"sqlite:///{Path(args.sqlite).resolve()}" if args.sqlite else os.environ.get("DATABASE_URL")
    if not database_url:
        raise SystemExit("set DATABASE_URL or give --sqlite PATH (a database filled by bench/seed.py)")
    instance = tempfile.mkdtemp(prefix="shelter-first-load-")
    access_log = Path(instance) / "access.log"
    access_log.write_text("")
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": run.SECRET_KEY,
           "SHELTER_INSTANCE_PATH": instance}
    port = run.free_port()
    log = open(Path(instance) / "gunicorn.log", "w")
    server = run.start(None, port, env, log, ("--access-logfile", str(access_log), "--access-logformat", LOG_FORMAT))
    try:
        result = measure(f"http://127.0.0.1:{port}", access_log, args.throttle, args.user)
    finally:
        run.stop(server)
        log.close()
    backend = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
    text = report(result, args.throttle, backend)
    print(text)
    if args.write:
        run.write_results(text, f"first-load {backend.lower()}")


if __name__ == "__main__":
    main()
