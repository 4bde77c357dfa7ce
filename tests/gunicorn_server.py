"""A real gunicorn server (4 worker processes) on the test database, for tests of concurrent requests.

Use it by importing the fixture into a test module: ``from tests.gunicorn_server import gunicorn_server``.
It lives as long as that module's tests (module scope), so no server outlives the tests that need it.
The server shares the test app's database (SQLite file or PostgreSQL), instance folder and secret
key; it answers at the base URL the fixture yields (``http://127.0.0.1:<port>``).
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 4
START_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthz(base_url: str, timeout: float = 2.0) -> int | None:
    try:
        with urllib.request.urlopen(base_url + "/healthz", timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def _log_tail(path: Path, limit: int = 6000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return text[-limit:]


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM (gunicorn stops its workers gracefully), then SIGKILL to the group it leads."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=STOP_TIMEOUT)
        return
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the server and its workers: the session we started
    except ProcessLookupError:
        pass
    proc.wait(timeout=STOP_TIMEOUT)


@contextmanager
def server_environment(**values: str):
    """Environment variables for a server started inside the block (the variables are put back after it)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="module")
def gunicorn_server(app, tmp_path_factory):
    """Start gunicorn on the test app's database; yield its base URL; stop it afterwards."""
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "SHELTER_INSTANCE_PATH": app.instance_path,
        "SECRET_KEY": app.config["SECRET_KEY"],
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}",
               "--timeout", "60", "shelter_app:create_app()"]
    # A file, not a pipe: nobody reads the log while the tests run, and a full pipe would block the server.
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"gunicorn exited with {proc.returncode} before answering; its log:\n"
                            f"{_log_tail(log_path)}", pytrace=False)
            if _healthz(base_url) == 200:
                break
            if time.monotonic() > deadline:
                pytest.fail(f"gunicorn did not answer GET /healthz with 200 within {START_TIMEOUT:.0f} s; "
                            f"its log:\n{_log_tail(log_path)}", pytrace=False)
            time.sleep(0.1)
        # Every worker loads the app on its own: a few rounds of parallel requests give each the
        # chance to finish booting, so the first race of a test does not meet a half-started server.
        with ThreadPoolExecutor(WORKERS * 2) as pool:
            for _round in range(3):
                list(pool.map(lambda _i: _healthz(base_url, timeout=10), range(WORKERS * 2)))
        yield base_url
    finally:
        _stop(proc)
    if proc.returncode not in (0, -signal.SIGTERM, -signal.SIGKILL):
        # A crash during the tests is worth seeing, but the tests themselves said what broke.
        sys.stderr.write(f"gunicorn ended with {proc.returncode}; its log:\n{_log_tail(log_path)}\n")
