"""Hostile input in every URL with an id and every form, as every role: never a 5xx, nothing stored.

Built from the app's URL map and the forms its pages show, so a new route or field is covered without
editing this test: each GET page is read (with real ids) for its <form>s, each field of each form is sent
hostile values with the rest of the form filled in as a person would, each id in each URL is sent values
outside the database's integer range, and each POST route gets bodies a browser's form never sends.

The roles include a night worker of one shelter (A), who gets 404 for every page of shelter B. Hostile
values are shared out across the roles' runs (PER_ROLE each, in turn) so that a full run sends every
value to every field at least once without sending each one in every role's run; the last test checks it.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from itertools import count
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from sqlalchemy import select, text
from werkzeug.exceptions import HTTPException

from shelter_app import timeutil
from shelter_app.auth.permissions import can
from shelter_app.extensions import db
from shelter_app.timeutil import local_input_value
from tests import factories
from tests.conftest import PASSWORD, Client, beds_of, rooms_of
from tests.handovers.scene import write_shift

# "night_one": a night worker of shelter A only (make_user("night", shelters=[a])): B's ids answer 404.
ROLES = ["manager", "trainer", "night", "night_one", "casemanager", "admin"]
STAFF = {"manager", "trainer", "night", "night_one"}
ONE_SHELTER = "night_one"

# Ids a database INTEGER cannot hold, and ids no row has.
HOSTILE_IDS = ["2147483648", "9223372036854775808", "-1", "0"]
NUL = "a\x00b"
CONTROL = "a\x1b[31mb\x07"
BIDI = "Ala\u202eevil"
LONG = "x" * 100_000  # past every field's limit, short of the request's (1 MB)
MEGABYTE = "y" * (1024 * 1024 + 1)
HOSTILE = {
    "text": [NUL, CONTROL, BIDI, LONG],
    "textarea": [NUL, CONTROL, LONG],
    "password": [NUL, LONG],
    "number": ["2147483648", "9223372036854775808", "-1", NUL],
    "select": ["2147483648", "9223372036854775808", "-1", NUL],
    "datetime-local": ["0001-01-01T00:00", "9999-12-31T23:59", "1900-01-01T00:00", NUL],
    "checkbox": [NUL],
    "hidden": ["2147483648", "9223372036854775808", "-1", NUL, LONG],
}
FILE = object()  # stands for a file part sent in a field's place
# A refused request may still write these: the audit of what was refused, sign-in failures, sessions.
MAY_GROW = {"audit_events", "login_failures", "user_sessions"}
REFUSED = {400, 401, 403, 404, 405, 409, 413, 422, 429}
_seq = count(1)
# Each role sends each field (and each URL id, query string and body kind) this many of its hostile values,
# in turn; the first role of the run to meet a field also sends it every value no role sent before it.
PER_ROLE = 2


# --- reading forms off the pages -----------------------------------------------------------

@dataclass
class PageField:
    name: str
    kind: str  # text, textarea, password, number, select, datetime-local, checkbox, hidden, submit
    value: str = ""
    options: list[str] = field(default_factory=list)
    checked: bool = False


@dataclass
class PageForm:
    method: str
    action: str
    fields: list[PageField] = field(default_factory=list)


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[PageForm] = []
        self._form: PageForm | None = None
        self._select: PageField | None = None
        self._textarea: PageField | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._form = PageForm(a.get("method", "get").lower(), a.get("action", ""))
            self.forms.append(self._form)
        elif tag == "option" and self._select is not None:  # an option has a value, not a name
            self._select.options.append(a.get("value", ""))
            if "selected" in a:
                self._select.value = a.get("value", "")
        elif self._form is None or "name" not in a:
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            kind = "text" if kind in ("search", "email", "tel", "url") else kind
            self._form.fields.append(PageField(a["name"], kind, a.get("value", ""), checked="checked" in a))
        elif tag == "button" and a.get("type", "submit") == "submit":
            self._form.fields.append(PageField(a["name"], "submit", a.get("value", "")))
        elif tag == "select":
            self._select = PageField(a["name"], "select")
            self._form.fields.append(self._select)
        elif tag == "textarea":
            self._textarea = PageField(a["name"], "textarea")
            self._form.fields.append(self._textarea)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def forms_of(html: str) -> list[PageForm]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def links_of(html: str) -> list[str]:
    return re.findall(r'(?:href|hx-get|action)="([^"]+)"', html)


# --- what a person would send ----------------------------------------------------------------

def filled(form: PageForm) -> dict[str, list[str]]:
    """The form's fields as a browser sends them, empty ones filled in plausibly (every box ticked)."""
    now = timeutil.utcnow()
    data: dict[str, list[str]] = {}
    for f in form.fields:
        if f.kind == "submit":
            continue
        if f.kind == "checkbox":
            data.setdefault(f.name, []).append(f.value or "y")
            continue
        value = f.value
        if f.kind == "select" and not value:
            value = next((o for o in f.options if o), "")
        elif f.kind == "datetime-local" and not value:
            value = local_input_value(now + timedelta(hours=2))
        elif f.kind == "number" and not value:
            value = "1"
        elif f.kind == "password":
            value = PASSWORD + "!"
        elif f.kind in ("text", "textarea") and not value:
            value = f"Fuzz-{next(_seq)}"
        data[f.name] = [value]
    return data


def route_of(app, path: str, method: str):
    adapter = app.url_map.bind("localhost")
    try:
        return adapter.match(path, method=method)[0]
    except HTTPException:  # no such route, another method, a redirect
        return None


# --- the scene: real rows of every kind a URL names ---------------------------------------------

def build_shelters(make_shelter):
    """Shelter A, with beds in every state once build_world is done, and shelter B."""
    return make_shelter(beds=12, isolation_rooms=2, beds_per_room=4), make_shelter(beds=2, isolation_rooms=1)


def build_world(role, user, a, b, make_resident, make_user):
    """Beds of A in every state, residents, referrals, a token and a second user; their ids."""
    from shelter_app.api import services as api
    from shelter_app.beds import services as beds
    from shelter_app.referrals import services as referrals

    now = timeutil.utcnow()
    bs = beds_of(a)
    actor = user if role in STAFF else None
    r = [make_resident() for _ in range(6)]
    factories.check_in(bs[1], r[1])
    beds.place_hold(bs[2].id, now + timedelta(hours=4), "expected", actor=None, at=now)
    beds.set_out_of_service(bs[3].id, "broken", None, actor=None, at=now)
    factories.check_in(bs[4], r[2])
    factories.isolate(bs[4], rooms_of(a)[0])
    factories.check_in(bs[5], r[3])
    factories.isolate(bs[5], rooms_of(a)[1])
    beds.end_isolation(bs[5].id, actor=actor, now=now)
    factories.check_in(bs[6], r[4])
    factories.check_out(bs[6], actor=actor)
    # bs[8] alone in its room: it may be isolated in place.
    factories.check_in(bs[8], r[5])
    db.session.commit()

    cm = user if role == "casemanager" else make_user("casemanager", organisation="Org A")
    def referral(code, shelter):
        return referrals.create_referral(referrals.ReferralInput(
            shelter=shelter, category="woman", people=1, arrival_from=now,
            arrival_until=now + timedelta(hours=6), code=code), actor=cm, at=now)
    pending = referral(f"P-{next(_seq)}", a.code_name)
    expected = referral(f"E-{next(_seq)}", a.code_name)
    db.session.commit()
    staff = user if role in STAFF else make_user("manager")
    referrals.accept_referral(expected, a, actor=staff, at=now)
    token, _plain = api.create_token("Org A", "fuzz", actor=None, at=now)
    other = make_user("night")
    # A shift in progress in shelter a (r[5] out of the house), with every handover form on some page.
    shift = write_shift(a, writer=staff, other=make_user("night"), resident=r[1], out=r[5], at=now)
    db.session.commit()
    from shelter_app.passkeys.models import Passkey
    from tests.passkeys.authenticator import add_passkey

    for owner in filter(None, (user, other)):
        add_passkey(owner, "phone")
    passkeys = {p.user_id: p.id for p in db.session.scalars(select(Passkey))}
    return {
        "shelter_id": [a.id, b.id], "bed_id": [bed.id for bed in bs] + [bed.id for bed in beds_of(b)],
        "resident_id": [r[1].id, r[0].id, r[5].id], "referral_ref": [pending.public_id, expected.public_id],
        "user_id": [other.id], "token_id": [token.id],
        # The account's own passkey first (its remove form), then the one on the administrator's page.
        "passkey_id": [passkeys[owner.id] for owner in filter(None, (user, other))],
        "handover_id": [shift["handover"]], "entry_id": [shift["entry"]], "task_id": [shift["task"]],
        "duty_id": [shift["duty"]], "room_id": [shift["room"]],
    }


def counts() -> dict[str, int]:
    tables = [t.name for t in db.metadata.sorted_tables if t.name not in MAY_GROW]
    row = db.session.execute(text("SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in tables))).one()
    db.session.commit()
    return dict(zip(tables, row, strict=True))


def urls_of(rule, ids: dict, *, every: bool) -> list[tuple[str, dict]]:
    """URLs of rule with real ids (every one of them for each argument if every, else the first), each with
    the values it was built from."""
    from itertools import product

    choices = [[(arg, v) for v in values][: None if every else 1] for arg, values in _choices(rule, ids).items()]
    return [(_build(rule, dict(combo)), dict(combo)) for combo in product(*choices)]


def _choices(rule, ids: dict) -> dict[str, list]:
    """Per argument of rule: each word of an any(...), or the scene's ids (1 for an id it has no row for)."""
    return {arg: sorted(rule._converters[arg].items) if hasattr(rule._converters[arg], "items")
            else ids.get(arg, [1]) for arg in sorted(rule.arguments)}


def _build(rule, values: dict) -> str:
    """rule's path with values put in as they are (hostile ones included: no converter sees them)."""
    path = rule.rule
    for arg, value in values.items():
        path = re.sub(r"<(?:[^<>:]+:)?" + re.escape(arg) + r">", str(value), path)
    return path


# What the roles' runs sent so far in this test session: (what, endpoint, name) -> (how many hostile values
# it has, the indexes of those sent). Filled as requests go out; test_every_hostile_value_reached_every_field
# reads it after the roles' runs.
SENT: dict[tuple, tuple[list, set[int]]] = {}
RAN: set[str] = set()  # the roles whose runs took place


def share(key: tuple, values: list, start: int) -> list[tuple[int, object]]:
    """(index, value) of the values this role sends to key: PER_ROLE of them in turn from start, and every
    value no role before it in this run sent, so that across a run each value reaches each field once."""
    _values, sent = SENT.setdefault(key, (values, set()))
    mine = {(start + i) % len(values) for i in range(min(PER_ROLE, len(values)))}
    return [(i, values[i]) for i in sorted(mine | (set(range(len(values))) - sent))]


def sent(key: tuple, index: int) -> None:
    SENT[key][1].add(index)


class Fuzzer:
    """Checks each answer and the row counts after it; remembers what it covered and what failed."""

    def __init__(self, role: str):
        self.role = role
        self.before = counts()
        self.sent = 0
        self.covered_routes: set[str] = set()
        self.covered_fields: set[tuple[str, str]] = set()
        self.failures: list[str] = []

    def check(self, response, what: str, *, refused: bool = True, expect: set[int] | None = None):
        """Check one answer; a failure is noted (and the count taken again) so the run goes on to show all."""
        self.sent += 1
        status = response.status_code
        if status >= 500:
            self.failures.append(f"{what} -> {status} (the traceback is in the captured log)")
        elif expect is not None and status not in expect:
            self.failures.append(f"{what} -> {status} (expected {sorted(expect)})")
        elif expect is None and refused and status not in REFUSED:
            self.failures.append(f"{what} was accepted ({status})")
        now = counts()
        if now != self.before:
            self.failures.append(f"{what} stored rows: " + str(
                {t: (self.before[t], n) for t, n in now.items() if n != self.before[t]}))
            self.before = now
        return response


# --- the test ---------------------------------------------------------------------------------

def sign_in(app, role, a, make_user) -> tuple[Client, object]:
    c = Client(app)
    if role is None:
        return c, None
    kw = {"organisation": "Org A"} if role == "casemanager" else {"shelters": [a]} if role == ONE_SHELTER else {}
    user = make_user("night" if role == ONE_SHELTER else role, **kw)
    assert c.login(user.username).status_code == 303
    return c, user


@pytest.mark.parametrize("role", [*ROLES, None], ids=[*ROLES, "anonymous"])
def test_hostile_input_is_refused_everywhere(app, role, make_user, make_shelter, make_resident):
    a, b = build_shelters(make_shelter)
    c, user = sign_in(app, role, a, make_user)
    ids = build_world(role, user, a, b, make_resident, make_user)
    # What a worker of A only must not reach: each of B's ids answers 404, as a missing one.
    foreign = {("shelter_id", b.id)} | {("bed_id", bed.id) for bed in beds_of(b)} if role == ONE_SHELTER else set()
    fz = Fuzzer(str(role))
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]

    # 1. Every page, with real ids: read its forms and the query parameters its links use.
    pages: dict[str, str] = {}
    forms: dict[tuple, tuple[PageForm, str]] = {}
    params: dict[str, set[str]] = {}
    for rule in rules:
        if "GET" not in rule.methods:
            continue
        for url, values in urls_of(rule, ids, every=True):
            of_b = foreign & set(values.items())
            # B's ids answer as missing ones (404), where the role may open the page at all (else 403).
            expect = ({404} if can(user, app.view_functions[rule.endpoint].permission) else {403}) if of_b else None
            response = fz.check(c.get(url), f"GET {url}" + (f" (B's {sorted(of_b)})" if of_b else ""),
                                refused=False, expect=expect)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            html = response.get_data(as_text=True)
            pages[url] = html
            for form in forms_of(html):
                target = form.action or url
                endpoint = route_of(app, urlsplit(target).path, form.method.upper())
                if endpoint is None:
                    continue
                names = tuple(sorted(re.sub(r"\d+", "#", f.name) for f in form.fields))
                forms.setdefault((endpoint, form.method, names), (form, target))
            for link in links_of(html):
                parts = urlsplit(link.replace("&amp;", "&"))
                if parts.query and not parts.netloc:
                    params.setdefault(parts.path, set()).update(k for k, _v in parse_qsl(parts.query))

    # Hostile values are dealt out in turn (by role and by field), PER_ROLE at a time; a value no role has
    # sent to a field yet in this run goes out too (see share), so a full run sends every one everywhere.
    turn = count(ROLES.index(role) * 7 if role in ROLES else 3)

    def deal(key: tuple, values: list) -> list[tuple[int, object]]:
        return share(key, values, next(turn))

    # 2. Ids in every URL: outside the integer range, or naming nothing, they answer 404 before any view.
    for rule in rules:
        real = {arg: values[0] for arg, values in _choices(rule, ids).items()}
        for arg in [a for a in sorted(rule.arguments) if not hasattr(rule._converters[a], "items")]:
            fz.covered_routes.add(rule.endpoint)
            for method in sorted(rule.methods & {"GET", "POST"}):
                key = ("url", rule.endpoint, arg, method)
                for i, bad in deal(key, HOSTILE_IDS):
                    url = _build(rule, {**real, arg: bad})
                    response = c.get(url) if method == "GET" else c.post(url, {})
                    fz.check(response, f"{method} {url}", expect={404})
                    sent(key, i)

    # 3. Query strings: every parameter a page links with, and the usual ones, hostile.
    for url in pages:
        names = params.get(urlsplit(url).path, set()) | {"q", "next", "shelter_id", "polling_since", "page"}
        key = ("query", route_of(app, urlsplit(url).path, "GET"), "")
        for i, bad in deal(key, [NUL, "9223372036854775808", CONTROL, BIDI]):
            target = f"{url}?{urlencode({n: bad for n in sorted(names)})}"
            fz.check(c.get(target), f"GET {target[:120]}", refused=False)
            sent(key, i)

    # 4. Every field of every form, hostile values one at a time, the rest filled in as a person would.
    for (endpoint, method, _names), (form, target) in sorted(forms.items(), key=lambda kv: kv[0][:2]):
        base = filled(form)
        fz.covered_routes.add(endpoint)
        send = _sender(c, method)
        for f in {f.name: f for f in form.fields}.values():  # a group of checkboxes is one field
            if f.kind == "submit" or f.name == "csrf_token":
                continue
            kind = f.kind if f.kind in HOSTILE else "text"
            if kind == "hidden" and not f.value.isdigit():  # a token or a word, not an id
                kind = "password"
            key = ("field", endpoint, re.sub(r"\d+", "#", f.name))
            fz.covered_fields.add(key[1:])
            for i, bad in deal(key, HOSTILE[kind] + ([FILE] if method == "post" else [])):
                if bad is FILE:
                    # A file where text is expected.
                    data = {k: v[0] if len(v) == 1 else v for k, v in base.items()}
                    data[f.name] = (io.BytesIO(b"\x00\x01 binary"), "evil.bin")
                    what = f"POST {target} {f.name}=<file>"
                    response = fz.check(c.post(target, data, csrf=False, content_type="multipart/form-data"), what)
                else:
                    what = f"{method.upper()} {target} {f.name}={bad[:30]!r}"
                    response = fz.check(send(target, {**base, f.name: [bad]}), what, refused=method == "post")
                sent(key, i)
                # -1 is a number like any other to the form; the service refuses it, maybe for the whole form.
                if method == "post" and response.status_code == 422 and f.kind != "hidden" and bad != "-1":
                    fz.failures += filter(None, [_not_named(response, f, None if bad is FILE else bad, what)])
        if method == "post":
            # The whole request too large: refused before any field is read.
            fz.check(c.post(target, {**{k: v[0] for k, v in base.items()}, "zz": MEGABYTE}, csrf=False),
                     f"POST {target} 1 MB")

    # 5. Every POST route, with real ids: bodies no browser form sends (CSRF passed in the header,
    #    so that what is checked is the body). Sign-out last: it ends the session.
    token = c.csrf or ""
    posts = [r for r in rules if "POST" in r.methods]
    posts.sort(key=lambda r: r.endpoint == "auth.logout")
    bodies = [
        ("JSON garbage", '{"alias": {"$ne": 1}, "people": [1e400', "application/json"),
        ("JSON object", '{"confirm": true, "alias": 5, "shelter_id": 9e99, "to_bed_id": [1, 2]}', "application/json"),
        ("text/plain", "alias=Ala&confirm=y", "text/plain"),
        ("a file part", None, "multipart/form-data"),
    ]
    for rule in posts:
        fz.covered_routes.add(rule.endpoint)
        refused = rule.endpoint != "auth.logout"
        key = ("body", rule.endpoint, "")
        for url, _values in urls_of(rule, ids, every=False):
            for i, (name, body, content_type) in deal(key, bodies):
                if body is None:
                    response = c.post(url, {"confirm": (io.BytesIO(b"y"), "y.txt"), "csrf_token": token}, csrf=False,
                                      content_type=content_type)
                else:
                    response = c.request("POST", url, data=body, content_type=content_type,
                                         headers={"X-CSRFToken": token, "Accept-Language": "en"})
                fz.check(response, f"POST {url} {name}", refused=refused)
                sent(key, i)

    # Every POST route this role may use showed its form on some page, and that form was fuzzed.
    fuzzed = {endpoint for endpoint, _m, _n in forms}
    usable = {r.endpoint for r in posts if (perm := getattr(app.view_functions[r.endpoint], "permission", None))
              and user is not None and can(user, perm)}
    assert usable <= fuzzed, f"no form found on any page for {sorted(usable - fuzzed)}"
    assert {r.endpoint for r in rules if r.arguments} <= fz.covered_routes
    assert not fz.failures, f"{len(fz.failures)} of {fz.sent} requests as {role}:\n" + "\n".join(fz.failures[:60])
    RAN.add(role or "anonymous")
    print(f"{role}: {fz.sent} requests, {len(forms)} forms, {len(fz.covered_fields)} fields")


def test_every_hostile_value_reached_every_field():
    """After the roles' runs (above, in this file's order): every field, URL id, query string and POST route
    any role met got each of its hostile values at least once."""
    if not SENT:
        pytest.skip("no role's run took place in this session")
    missing = {key: [values[i] for i in range(len(values)) if i not in done]
               for key, (values, done) in SENT.items() if len(done) < len(values)}
    assert not missing, f"{len(missing)} of {len(SENT)} never got some of their values: " + "; ".join(
        f"{key}: {[str(v)[:20] for v in left]}" for key, left in sorted(missing.items())[:40])
    # Fields one role alone meets: a share per role would have left them values short.
    for role, key, wanted in [
            ("anonymous", ("field", "auth.login", "username"), [NUL, FILE]),
            ("casemanager", ("field", "referrals.new", "arrival_from"), ["0001-01-01T00:00", FILE])]:
        if role in RAN:
            values, done = SENT[key]
            got = [values[i] for i in done]
            assert all(any(w is v for v in got) for w in wanted), (key, [str(v)[:20] for v in got])


def _sender(c: Client, method: str):
    if method == "post":
        return lambda url, data: c.post(url, data, csrf=False)
    return lambda url, data: c.get(url, query_string=data)


def _not_named(response, f: PageField, bad: str | None, what: str) -> str | None:
    """None if the refusal is shown at the field (aria-invalid) with what was typed kept; else what is wrong."""
    html = response.get_data(as_text=True)
    tag = re.search(r"<(?:input|select|textarea)\b[^>]*\bname=\"" + re.escape(f.name) + r"\"[^>]*>", html)
    if tag is None:  # the form is no longer on the page the refusal shows
        return None
    # The error is at the field: marked on it, or on the fieldset of a group of checkboxes.
    fieldset = html.rfind("<fieldset", 0, tag.start())
    group = html[fieldset:html.index(">", fieldset) + 1] if fieldset > html.rfind("</fieldset", 0, tag.start()) else ""
    if 'aria-invalid="true"' not in tag.group(0) and 'aria-invalid="true"' not in group:
        return f"{what}: 422 without an error at the field: {tag.group(0)[:200]}"
    if bad is not None and f.kind in ("text", "textarea", "number", "datetime-local") and bad not in html:
        return f"{what}: what was typed is not shown again"
    return None


def test_every_form_takes_the_shared_checks():
    """Every form of the app derives from shelter_app.forms.Form, where the hostile-input checks live."""
    import importlib
    import pkgutil

    import flask_wtf

    import shelter_app
    from shelter_app.forms import Form

    for info in pkgutil.walk_packages(shelter_app.__path__, "shelter_app."):
        importlib.import_module(info.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = [cls for cls in subclasses(flask_wtf.FlaskForm) if cls.__module__.startswith("shelter_app.")]
    assert ours
    assert [cls for cls in ours if not issubclass(cls, Form)] == []
