"""Forty wrong passwords at once for one username check at most LOGIN_MAX_FAILURES (6) of them.

A real gunicorn (4 worker processes × 10 threads: all forty requests in flight together) serves the
test database. The password checks are counted inside the server: a ``sitecustomize`` module on the
server's PYTHONPATH wraps argon2's ``PasswordHasher.verify`` (real and dummy checks alike) and appends
a line to a file per call, which the test reads from outside.
"""
from __future__ import annotations

import http.cookiejar
import os
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from shelter_app.auth.models import LoginFailure
from shelter_app.extensions import db
from tests.conftest import CSRF_RE, PASSWORD
from tests.gunicorn_server import gunicorn_server, server_environment  # noqa: F401  (module-scoped fixture)

ATTEMPTS = 40
THREADS_PER_WORKER = 10
MAX_FAILURES = 6

SITECUSTOMIZE = '''\
"""Counts argon2 verifications of this process into the file SHELTER_VERIFY_LOG (tests only)."""
import os

_path = os.environ.get("SHELTER_VERIFY_LOG")
if _path:
    import argon2

    _verify = argon2.PasswordHasher.verify

    def _counted_verify(self, hash, password):
        fd = os.open(_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, b"verify\\n")  # one small O_APPEND write: atomic across processes
        finally:
            os.close(fd)
        return _verify(self, hash, password)

    argon2.PasswordHasher.verify = _counted_verify
'''


@pytest.fixture(scope="module")
def verify_log(tmp_path_factory):
    """The file the server's processes count password checks into; threaded workers for the server."""
    folder = tmp_path_factory.mktemp("verify_counter")
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE)
    log = folder / "verifications.log"
    # gunicorn reads extra settings from GUNICORN_CMD_ARGS: gthread workers, so one process checks many at once.
    with server_environment(
            PYTHONPATH=os.pathsep.join(p for p in (str(folder), os.environ.get("PYTHONPATH")) if p),
            SHELTER_VERIFY_LOG=str(log), GUNICORN_CMD_ARGS=f"--threads {THREADS_PER_WORKER}"):
        yield log


@pytest.fixture(scope="module")
def server(verify_log, gunicorn_server):  # noqa: F811  (the imported fixture)
    """The gunicorn base URL, started after verify_log set up its environment."""
    return gunicorn_server


def _checks(log) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def _login_form(base_url: str):
    """A browser of its own: a cookie jar and the CSRF token of the sign-in page."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    request = urllib.request.Request(base_url + "/login", headers={"Accept-Language": "en"})
    with opener.open(request, timeout=30) as response:
        token = CSRF_RE.search(response.read().decode()).group(1)
    return opener, token


def _post_login(opener, token: str, base_url: str, username: str, password: str) -> tuple[int, str]:
    data = urllib.parse.urlencode({"username": username, "password": password, "csrf_token": token}).encode()
    request = urllib.request.Request(base_url + "/login", data=data, headers={"Accept-Language": "en"})
    try:
        with opener.open(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _storm(base_url: str, username: str, password: str) -> list[tuple[int, str]]:
    """ATTEMPTS sign-ins sent at the same moment (a barrier), each from its own session."""
    with ThreadPoolExecutor(ATTEMPTS) as pool:
        browsers = list(pool.map(lambda _i: _login_form(base_url), range(ATTEMPTS)))
        start = threading.Barrier(ATTEMPTS)

        def attempt(browser):
            opener, token = browser
            start.wait(timeout=30)
            return _post_login(opener, token, base_url, username, password)

        return list(pool.map(attempt, browsers))


def _failures(username: str) -> int:
    db.session.commit()  # a fresh snapshot: the server wrote meanwhile
    return db.session.scalar(select(func.count(LoginFailure.id)).where(LoginFailure.username == username))


def _message(html: str) -> str:
    for sentence in ("Wrong username or password.", "Too many failed attempts."):
        if sentence in html:
            return sentence
    return html[:200]


def test_forty_simultaneous_wrong_passwords_check_at_most_six(server, verify_log, make_user):
    make_user("night", username="target", locale="en")
    before = _checks(verify_log)
    answers = _storm(server, "target", "not the password")
    checks = _checks(verify_log) - before
    statuses = Counter(status for status, _html in answers)
    print(f"known username: {checks} password checks for {ATTEMPTS} attempts; answers {dict(statuses)}")
    assert set(statuses) <= {401, 429}, statuses
    assert 1 <= checks <= MAX_FAILURES
    assert statuses[401] == checks  # every check that ran was a refusal; the rest were paused
    assert _failures("target") == checks
    # Paused now, even for the right password, and without a check.
    opener, token = _login_form(server)
    status, html = _post_login(opener, token, server, "target", PASSWORD)
    assert status == 429 and "Too many failed attempts." in html
    assert _checks(verify_log) - before == checks


def test_unknown_username_is_paused_the_same_way(server, verify_log, make_user):
    make_user("night", username="known", locale="en")
    before = _checks(verify_log)
    unknown = _storm(server, "nobody-at-all", "not the password")
    unknown_checks = _checks(verify_log) - before
    before = _checks(verify_log)
    known = _storm(server, "known", "not the password")
    known_checks = _checks(verify_log) - before
    print(f"unknown username: {unknown_checks} checks, known: {known_checks} checks, {ATTEMPTS} attempts each;"
          f" answers {dict(Counter(s for s, _h in unknown))} and {dict(Counter(s for s, _h in known))}")
    assert 1 <= unknown_checks <= MAX_FAILURES
    assert unknown_checks == known_checks
    # The same answers, in the same numbers: nothing tells whether the username exists.
    summary = lambda answers: Counter((status, _message(html)) for status, html in answers)  # noqa: E731
    assert summary(unknown) == summary(known)
    assert _failures("nobody-at-all") == unknown_checks
