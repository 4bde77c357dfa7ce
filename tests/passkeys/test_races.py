"""Passkey answers sent at the same moment to a real gunicorn (4 workers): each guarantee holds under load.

One answer replayed by several browsers at once signs in once (its challenge is taken by one DELETE);
answers of a cloned authenticator with the same sign count, each to its own challenge, sign in once
(the counter moves on in one guarded UPDATE).
"""
from __future__ import annotations

import threading
import urllib.error
import urllib.request
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from shelter_app.auth.models import UserSession
from shelter_app.extensions import db
from shelter_app.passkeys.models import Passkey
from tests.auth.test_lockout_race import _login_form
from tests.gunicorn_server import gunicorn_server, server_environment  # noqa: F401  (module-scoped fixture)
from tests.passkeys.authenticator import ORIGIN, RP_ID, add_passkey, sign_in_options

# No more than the failures that pause an account: every answer is checked, none is paused.
BROWSERS = 6


@pytest.fixture(scope="module")
def relying_party_env():
    """The server's relying party, as the test app's (the authenticator signs for http://localhost)."""
    with server_environment(WEBAUTHN_RP_ID=RP_ID, WEBAUTHN_ORIGIN=ORIGIN):
        yield


@pytest.fixture(scope="module")
def server(relying_party_env, gunicorn_server):  # noqa: F811  (the imported fixture)
    return gunicorn_server


def _post(browser, base_url: str, credential: str) -> int:
    opener, token = browser
    data = urllib.parse.urlencode({"credential": credential, "csrf_token": token}).encode()
    request = urllib.request.Request(base_url + "/login/passkey", data=data, headers={"Accept-Language": "en"})
    try:
        with opener.open(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _at_once(base_url: str, answers: list[str]) -> Counter:
    """Each answer from a browser of its own, all sent at the same moment (a barrier)."""
    with ThreadPoolExecutor(len(answers)) as pool:
        browsers = list(pool.map(lambda _i: _login_form(base_url), range(len(answers))))
        start = threading.Barrier(len(answers))

        def send(pair):
            browser, answer = pair
            start.wait(timeout=30)
            return _post(browser, base_url, answer)

        return Counter(pool.map(send, zip(browsers, answers)))


def _open_passkey_sessions() -> int:
    db.session.commit()  # a fresh snapshot: the server wrote meanwhile
    return db.session.scalar(select(func.count(UserSession.id)).where(UserSession.passkey_id.is_not(None)))


def test_one_answer_replayed_at_once_signs_in_once(server, make_user):
    user = make_user("night", locale="en")
    device = add_passkey(user)
    answer = device.get(sign_in_options())
    statuses = _at_once(server, [answer] * BROWSERS)
    print(f"one answer, {BROWSERS} browsers: {dict(statuses)}")
    assert statuses == Counter({200: 1, 401: BROWSERS - 1}), statuses  # 200: the home page after the 303
    assert _open_passkey_sessions() == 1


def test_a_cloned_authenticator_signs_in_once_per_count(server, make_user):
    user = make_user("night", locale="en")
    device = add_passkey(user)
    # Every copy of the key says "5": each to a challenge of its own, so only the counter can tell.
    answers = [device.get(sign_in_options(), count=5) for _ in range(BROWSERS)]
    statuses = _at_once(server, answers)
    print(f"{BROWSERS} answers with one count: {dict(statuses)}")
    assert statuses == Counter({200: 1, 401: BROWSERS - 1}), statuses
    assert _open_passkey_sessions() == 1
    db.session.commit()
    assert db.session.scalar(select(Passkey.sign_count)) == 5
