"""Fixtures: one migrated database per run (SQLite file, or DATABASE_URL), emptied after each test."""
from __future__ import annotations

import contextvars
import os
import re
import shutil
from datetime import timedelta

import pytest
from sqlalchemy import text

from shelter_app import create_app, timeutil
from shelter_app.config import database_url
from shelter_app.extensions import db
from shelter_app.pwa.shell import precache_urls

from tests import factories
from tests.factories import PASSWORD  # noqa: F401  (imported from here by many tests)


def _test_database_url(tmp_path_factory) -> str:
    if os.environ.get("DATABASE_URL"):
        return database_url("unused")
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")


def _scratch_postgres_database(url: str) -> str:
    """A new empty database beside DATABASE_URL's, for this run only: runs side by side never meet."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_run{os.getpid()}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(url: str) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    scratch = make_url(url)
    engine = create_engine(scratch.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    os.environ["SHELTER_INSTANCE_PATH"] = str(instance)
    url = _test_database_url(tmp_path_factory)
    if url.startswith("postgresql"):
        url = _scratch_postgres_database(url)
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": url,
        # Cheap hashes: the suite signs in hundreds of times.
        "ARGON2_PARAMS": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
        # The test client's requests come from http://localhost (tests/passkeys/authenticator.py).
        "WEBAUTHN_RP_ID": "localhost",
        "WEBAUTHN_ORIGIN": "http://localhost",
    })
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()
    if url.startswith("postgresql"):
        _drop_postgres_database(url)


def _empty_database() -> None:
    """Remove every row, keeping the schema (and the append-only triggers) as migrated."""
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        # The owner lifts the audit log's wall against TRUNCATE for the clean-up only (same transaction).
        db.session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_truncate"))
        db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        db.session.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_truncate"))
    else:
        # The append-only triggers refuse DELETE; lift them for the clean-up only.
        triggers = db.session.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
        for name, _sql in triggers:
            db.session.execute(text(f'DROP TRIGGER "{name}"'))
        for table in tables:
            db.session.execute(text(f'DELETE FROM "{table}"'))
        for _name, sql in triggers:
            db.session.execute(text(sql))
    db.session.commit()


@pytest.fixture(autouse=True)
def _db_session(app):
    with app.app_context():
        yield
        db.session.rollback()
        db.session.remove()
        _empty_database()
    timeutil.offset = timedelta(0)


@pytest.fixture
def travel():
    """Move the app's clock forward: travel(minutes=31)."""

    def move(**delta):
        timeutil.offset += timedelta(**delta)

    return move


@pytest.fixture
def make_user(app):
    """Factory: make_user(role="night", username=..., password=..., active=True, shelters=None) (factories.make_user).

    A staff user belongs to every shelter (and to every shelter made later), unless given the list of
    its shelters: make_user("night", shelters=[a]).
    """
    factories.scoped_staff.clear()
    return factories.make_user


CSRF_RE = re.compile(r'(?:name="csrf_token" type="hidden" value="|"X-CSRFToken": ")([^"]+)"')


class Client:
    """The Flask test client plus the CSRF token of the last page, as a browser would have it.

    It asks for English unless told otherwise (tests read English sentences); users' own
    language setting still wins once signed in.
    """

    def __init__(self, app):
        self.app = app
        self.raw = app.test_client()
        self.csrf: str | None = None

    def _isolated(self, call, *args, **kw):
        """Run one request in its own app context, as a real server would."""
        db.session.commit()  # what the test set up is visible, and it holds no lock
        response = contextvars.Context().run(call, *args, **kw)
        db.session.expire_all()  # the test then reads what the request wrote
        return response

    def _remember(self, response):
        if response.mimetype == "text/html":
            found = CSRF_RE.search(response.get_data(as_text=True))
            if found:
                self.csrf = found.group(1)
        return response

    def get(self, url, *, htmx=False, **kw):
        headers = {"Accept-Language": "en", **kw.pop("headers", {})}
        if htmx:
            headers["HX-Request"] = "true"
        return self._remember(self._isolated(self.raw.get, url, headers=headers, **kw))

    def post(self, url, data=None, *, htmx=False, csrf=True, **kw):
        headers = {"Accept-Language": "en", **kw.pop("headers", {})}
        if csrf and self.csrf is None:
            self.get("/login")
        if htmx:
            headers["HX-Request"] = "true"
            if csrf:
                headers["X-CSRFToken"] = self.csrf
        data = dict(data or {})
        if csrf and not htmx and "json" not in kw:
            data.setdefault("csrf_token", self.csrf)
        return self._remember(self._isolated(self.raw.post, url, data=data, headers=headers, **kw))

    def request(self, method, url, **kw):
        return self._remember(self._isolated(self.raw.open, url, method=method, **kw))

    def login(self, username: str, password: str = PASSWORD):
        self.csrf = None
        response = self.post("/login", {"username": username, "password": password})
        page, hops = response, 0
        while page.status_code in (302, 303) and hops < 3:
            page, hops = self.get(page.headers["Location"]), hops + 1
        return response


@pytest.fixture
def client(app):
    return Client(app)


@pytest.fixture
def login_as(app, make_user):
    """A client signed in as a new user of role: login_as("manager")."""

    def sign_in(role: str, **kw) -> Client:
        user = make_user(role, **kw)
        c = Client(app)
        response = c.login(user.username)
        assert response.status_code == 303, response.get_data(as_text=True)
        c.user = user
        return c

    return sign_in


@pytest.fixture
def static_copy(app, tmp_path, monkeypatch):
    """The app serves a copy of its static folder that the test may edit; hashes are recomputed.

    In debug mode, as in development: files come from disk and pages link the bundles' parts.
    """
    app.debug = True
    try:
        with app.test_request_context():
            real_urls = precache_urls()
    finally:
        app.debug = False
    static = tmp_path / "static"
    shutil.copytree(app.static_folder, static)
    monkeypatch.setattr(app, "static_folder", str(static))
    monkeypatch.setattr(app, "debug", True)  # static_url hashes a file again on every call
    yield static
    monkeypatch.undo()
    # static_url remembers the hashes it computed: put back those of the real files.
    app.debug = True
    try:
        with app.test_request_context():
            assert precache_urls() == real_urls, "the real files' hashes are back for later tests"
    finally:
        app.debug = False


@pytest.fixture
def make_shelter(app):
    """Factory: make_shelter(beds=4, isolation_rooms=1, category="woman", beds_per_room=4) -> Shelter
    (factories.make_shelter_of_rooms).

    Every staff user belongs to it, except those made with the list of their shelters.
    """
    factories.scoped_staff.clear()
    return factories.make_shelter_of_rooms


@pytest.fixture
def make_resident(app):
    """Factory: make_resident(alias="Ala", **fields) -> Resident (factories.make_resident)."""
    return factories.make_resident


def beds_of(shelter):
    """The shelter's beds, in board order."""
    from sqlalchemy import select

    from shelter_app.shelters.models import Bed, Room

    return list(db.session.scalars(
        select(Bed).join(Room).where(Room.shelter_id == shelter.id).order_by(Room.name, Bed.label)))


def rooms_of(shelter, kind="isolation"):
    from sqlalchemy import select

    from shelter_app.shelters.models import Room

    return list(db.session.scalars(
        select(Room).where(Room.shelter_id == shelter.id, Room.kind == kind).order_by(Room.name)))
