"""Access per role over every route of the app, with real ids: who may, who gets 403, who must sign in.

The matrix walks `app.url_map` itself (GET and POST of every rule), so a new route without a recipe
here fails instead of being skipped. A view's permission is its `permission` attribute (set by
`auth.permissions.requires`, and by the API's own guard); who has it comes from PERMISSIONS.

Each role gets one scene (`world`), built through the services, in which every route has a real
target: a shelter with free, held, out-of-service, occupied and isolated beds, check-outs and ends
of isolation to undo, referrals to accept, decline, check in and withdraw, a resident, a user and an
API token. Requests in a scene are sent in order (reads first), each to its own target.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from shelter_app import timeutil
from shelter_app.auth.permissions import PERMISSIONS
from shelter_app.auth.vocab import Role
from shelter_app.extensions import db
from shelter_app.timeutil import local_input_value
from tests.conftest import PASSWORD, Client, beds_of, rooms_of
from tests.passkeys.authenticator import SoftAuthenticator, add_passkey, registration_options, sign_in_options
from tests.handovers.scene import SECRETS as HANDOVER_SECRETS, write_shift

ROLES = ["manager", "trainer", "night", "casemanager", "admin"]
ANONYMOUS = "anonymous"
ORGANISATION = "Partner Qorg"
STAFF = {"manager", "trainer", "night"}

# Routes anyone may open, signed in or not (no `permission` on their view). Listed one by one:
# a route that is neither here nor guarded fails test_every_route_is_covered.
PUBLIC_ENDPOINTS = {
    "auth.login", "auth.logout", "static", "pwa.manifest", "pwa.service_worker", "pwa.offline",
    "main.healthz", "api.openapi", "passkeys.sign_in_options", "passkeys.sign_in",
}


# --- the scene --------------------------------------------------------------------------------

@dataclass
class World:
    role: str
    client: Client
    ids: dict[str, int | str] = field(default_factory=dict)  # row ids; public ids of referrals
    secrets: dict[str, str] = field(default_factory=dict)  # what a case manager must never read
    token: str = ""  # an API token's plaintext (of ORGANISATION)
    me: object = None  # whose passkeys the account routes act on: the role's user (a visitor: another one)
    devices: dict[str, SoftAuthenticator] = field(default_factory=dict)  # the passkeys' authenticators


def _build_world(role: str, *, app, make_user, make_shelter, make_resident) -> World:
    from shelter_app.api import services as api_tokens
    from shelter_app.beds import services as beds
    from shelter_app.referrals import services as referrals

    if role == ANONYMOUS:
        client, user = Client(app), None
    else:
        user = make_user(role, organisation=ORGANISATION if role == "casemanager" else None, locale="en")
        client = Client(app)
        assert client.login(user.username).status_code == 303
    # Who did the undoable check-out and end of isolation: the signed-in staff member (undo is theirs
    # only); for everyone else another night staff member.
    actor = user if role in STAFF else make_user("night", display_name="Staffname Qnight")
    case_manager = user if role == "casemanager" else make_user("casemanager", organisation=ORGANISATION)
    target_user = make_user("night")

    w = World(role=role, client=client)
    s1 = make_shelter(beds=12, beds_per_room=2, isolation_rooms=3, code_name="Qcode-One",
                      name="Qhouse Realname", address="Qstreet 13 Hiddenville")
    s2 = make_shelter(beds=3, beds_per_room=3, isolation_rooms=0, code_name="Qcode-Two",
                      name="Qhouse Second", address="Qlane 7 Hiddenville")
    # Room names and bed labels distinctive enough to search for in a case manager's pages.
    for shelter in (s1, s2):
        for i, room in enumerate(shelter.rooms):
            room.name = f"Qroom-{shelter.id}-{i}"
            for j, bed in enumerate(room.beds):
                bed.label = f"Qbed-{room.id}-{j}"
    db.session.commit()
    for shelter in (s1, s2):
        w.secrets[f"shelter name {shelter.id}"] = shelter.name
        w.secrets[f"address {shelter.id}"] = shelter.address
        for room in shelter.rooms:
            w.secrets[f"room {room.id}"] = room.name
            for bed in room.beds:
                w.secrets[f"bed {bed.id}"] = bed.label

    (b_checkin, b_hold, b_release, b_oos, b_inservice, b_move, b_move_to, b_checkout, b_isolate, b_endiso,
     b_undo_co, b_undo_ei) = beds_of(s1)
    iso1, iso2, iso3 = rooms_of(s1)

    def resident(key: str, **kw):
        r = make_resident(f"Qalias {key.replace('_', ' ').title()}", **kw)
        w.secrets[f"alias {key}"] = r.alias
        w.secrets[f"code {key}"] = r.code
        return r

    r_page = resident("page", legal_name="Legalname Qkowalska", document_data="Docnumber QX998877")
    w.secrets["legal name"] = "Legalname Qkowalska"
    w.secrets["document"] = "Docnumber QX998877"
    r_waiting = resident("waiting")
    at = timeutil.utcnow()

    def occupy(bed, key):
        r = resident(key)
        beds.check_in(bed.id, beds.CheckIn(resident_id=r.id), actor=actor, now=at)
        return r

    beds.place_hold(b_release.id, at + timedelta(hours=4), "Holdnote Qprivate", actor=actor, at=at)
    beds.set_out_of_service(b_inservice.id, "Oosreason Qmould", None, actor=actor, at=at)
    r_move = occupy(b_move, "move")
    occupy(b_checkout, "checkout")
    r_isolate = occupy(b_isolate, "isolate")
    r_endiso = occupy(b_endiso, "endiso")
    beds.isolate(b_endiso.id, str(iso2.id), "health", "Isonote Qfever", at + timedelta(days=1), actor=actor, now=at)
    occupy(b_undo_co, "undo_co")
    undo_stay = beds.check_out(b_undo_co.id, "other", "", actor=actor, now=at)
    occupy(b_undo_ei, "undo_ei")
    undo_iso = beds.isolate(b_undo_ei.id, str(iso3.id), "health", "", at + timedelta(days=1), actor=actor, now=at)
    db.session.flush()
    beds.end_isolation(b_undo_ei.id, actor=actor, now=at)
    for note in ("Holdnote Qprivate", "Oosreason Qmould", "Isonote Qfever"):
        w.secrets[note] = note

    def referral(code: str, shelter):
        return referrals.create_referral(referrals.ReferralInput(
            shelter=shelter.code_name, category="woman", people=1, arrival_from=at,
            arrival_until=at + timedelta(hours=4), code=code), actor=case_manager, at=at)

    ref_accept = referral("QREF-ACCEPT", s2)
    ref_decline = referral("QREF-DECLINE", s2)
    ref_arrive = referral("QREF-ARRIVE", s2)
    ref_cancel = referral("QREF-CANCEL", s2)
    db.session.flush()
    referrals.accept_referral(ref_arrive, s2, actor=actor, at=at)
    token, w.token = api_tokens.create_token(ORGANISATION, "Partner system", actor=None, at=at)
    # A shift in progress in s1: a round due now, a handover by someone else to read, actor's entry and task.
    shift = write_shift(s1, writer=actor, other=make_user("night", display_name="Staffname Qother"),
                        resident=r_isolate, out=r_endiso, at=at)
    w.secrets.update({s: s for s in HANDOVER_SECRETS})
    db.session.commit()
    # Passkeys: one of the user the administrator looks at, two of the account's own (one to remove, one to
    # sign in with).
    w.me = user or target_user
    w.devices = {"user": add_passkey(target_user, "Qlost phone"), "remove": add_passkey(w.me, "Qold phone"),
                 "sign_in": add_passkey(w.me, "Qnight phone")}
    from shelter_app.passkeys.models import Passkey

    passkey_ids = {p.name: p.id for p in db.session.scalars(select(Passkey))}

    w.ids.update(
        s1=s1.id, s2=s2.id, b_checkin=b_checkin.id, b_hold=b_hold.id, b_release=b_release.id, b_oos=b_oos.id,
        b_inservice=b_inservice.id, b_move=b_move.id, b_move_to=b_move_to.id, b_checkout=b_checkout.id,
        b_isolate=b_isolate.id, b_endiso=b_endiso.id, iso1=iso1.id, undo_stay=undo_stay.id,
        undo_iso=undo_iso.id, r_page=r_page.id, r_waiting=r_waiting.id, ref_accept=ref_accept.public_id,
        ref_decline=ref_decline.public_id, ref_arrive=ref_arrive.public_id, ref_cancel=ref_cancel.public_id, token=token.id,
        user=target_user.id, pk_user=passkey_ids["Qlost phone"], pk_remove=passkey_ids["Qold phone"],
        handover=shift["handover"], entry=shift["entry"], task=shift["task"],
        duty=shift["duty"], room=shift["room"], due=shift["due"], r_out=r_move.id, r_back=r_endiso.id,
        r_missing=r_isolate.id,
    )
    if role == ANONYMOUS:
        client.get("/login")  # a visitor's CSRF token, as a browser would have it
    assert client.csrf, "the client has a CSRF token for its POSTs"
    return w


@pytest.fixture(params=ROLES + [ANONYMOUS])
def world(request, app, make_user, make_shelter, make_resident) -> World:
    return _build_world(request.param, app=app, make_user=make_user, make_shelter=make_shelter,
                        make_resident=make_resident)


@pytest.fixture
def case_manager_world(app, make_user, make_shelter, make_resident) -> World:
    return _build_world("casemanager", app=app, make_user=make_user, make_shelter=make_shelter,
                        make_resident=make_resident)


# --- one recipe per (endpoint, method): the requests that reach it with real ids ---------------

def _later(**delta) -> str:
    return local_input_value(timeutil.utcnow() + timedelta(**delta))


def _resident_form(alias: str) -> dict:
    return {"alias": alias, "sex": "female", "age_band": "adult", "birth_year": "", "country_of_origin": "",
            "languages": "", "dietary_needs": "", "allergies": "", "notes": ""}


# Each recipe: World -> [(url, form data)]. GETs have no data. Their order is the order of the POSTs.
RECIPES: dict[tuple[str, str], object] = {
    ("main.home", "GET"): lambda w: [("/", None)],
    ("main.account", "GET"): lambda w: [("/account", None)],
    ("admin.users", "GET"): lambda w: [("/admin/users", None)],
    ("admin.user_detail", "GET"): lambda w: [(f"/admin/users/{w.ids['user']}", None)],
    ("api_tokens.tokens", "GET"): lambda w: [("/admin/api-tokens", None)],
    ("api.get_availability", "GET"): lambda w: [("/api/v1/availability", None)],
    ("availability.index", "GET"): lambda w: [("/availability", None)],
    ("beds.index", "GET"): lambda w: [("/board", None)],
    ("beds.show", "GET"): lambda w: [(f"/board/{w.ids['s1']}", None), (f"/board/{w.ids['s2']}", None)],
    ("beds.bed", "GET"): lambda w: [(f"/beds/{w.ids[k]}", None) for k in ("b_checkin", "b_move", "b_endiso")],
    ("referrals.index", "GET"): lambda w: [("/referrals", None)],
    ("referrals.new", "GET"): lambda w: [("/referrals/new", None)],
    ("referrals.show", "GET"): lambda w: [(f"/referrals/{w.ids[k]}", None) for k in ("ref_accept", "ref_arrive")],
    ("referrals.inbox", "GET"): lambda w: [("/referrals/inbox", None)],
    ("residents.index", "GET"): lambda w: [("/residents", None)],
    ("residents.new", "GET"): lambda w: [("/residents/new", None)],
    ("residents.show", "GET"): lambda w: [(f"/residents/{w.ids['r_page']}", None)],
    ("residents.edit", "GET"): lambda w: [(f"/residents/{w.ids['r_page']}/edit", None)],
    ("shelters.index", "GET"): lambda w: [("/shelters", None)],
    ("shelters.setup", "GET"): lambda w: [(f"/shelters/{w.ids['s1']}", None)],
    ("handovers.index", "GET"): lambda w: [("/shift", None)],
    ("handovers.shift", "GET"): lambda w: [(f"/shift/{w.ids['s1']}", None), (f"/shift/{w.ids['s2']}", None)],
    ("handovers.rounds", "GET"): lambda w: [(f"/shift/{w.ids['s1']}/rounds", None)],
    ("handovers.presence", "GET"): lambda w: [(f"/shift/{w.ids['s1']}/presence", None)],
    ("handovers.setup", "GET"): lambda w: [(f"/shift/{w.ids['s1']}/setup", None)],
    ("handovers.history", "GET"): lambda w: [("/handovers/history", None),
                                             (f"/handovers/history?kind=incident&shelter_id={w.ids['s1']}", None)],
    ("handovers.print_day", "GET"): lambda w: [(f"/shift/{w.ids['s1']}/print", None)],
    ("handovers.entry", "GET"): lambda w: [(f"/handovers/entries/{w.ids['entry']}", None)],
    # --- POSTs, each with a form that does something when it is allowed
    ("main.account", "POST"): lambda w: [("/account", {"locale": "en"})],
    ("admin.users", "POST"): lambda w: [("/admin/users", {
        "username": "qnewuser", "display_name": "New", "role": "night", "organisation": "", "locale": "en",
        "password": PASSWORD})],
    ("admin.user_detail", "POST"): lambda w: [(f"/admin/users/{w.ids['user']}", {"action": "active"})],
    ("passkeys.register_options", "POST"): lambda w: [("/account/passkeys/options", {})],
    ("passkeys.add", "POST"): lambda w: [("/account/passkeys", {
        "name": "Qnew phone", "credential": SoftAuthenticator().create(registration_options(w.me))})],
    ("passkeys.remove", "POST"): lambda w: [(f"/account/passkeys/{w.ids['pk_remove']}/remove", {})],
    ("passkeys.admin_remove", "POST"): lambda w: [
        (f"/admin/users/{w.ids['user']}/passkeys/{w.ids['pk_user']}/remove", {})],
    ("auth.change_password", "POST"): lambda w: [("/account/password", {
        "current_password": PASSWORD, "new_password": "Qa new passphrase", "new_password_again": "Qa new passphrase"})],
    ("api_tokens.tokens", "POST"): lambda w: [("/admin/api-tokens", {"organisation": "Other org",
                                                                      "label": "Their system"})],
    ("api_tokens.revoke", "POST"): lambda w: [(f"/admin/api-tokens/{w.ids['token']}/revoke", {})],
    ("shelters.index", "POST"): lambda w: [("/shelters", {"code_name": "Qcode-New", "name": "New house",
                                                          "address": "Somewhere 1"})],
    ("shelters.setup", "POST"): lambda w: [(f"/shelters/{w.ids['s1']}", {
        "action": "room", "room-name": "Qroom-new", "room-kind": "regular", "room-room_group": ""})],
    ("residents.new", "POST"): lambda w: [("/residents/new", _resident_form("Qalias Newcomer"))],
    ("residents.edit", "POST"): lambda w: [(f"/residents/{w.ids['r_page']}/edit", _resident_form("Qalias Renamed"))],
    ("beds.check_in", "POST"): lambda w: [(f"/beds/{w.ids['b_checkin']}/check-in",
                                           {"ci-resident_id": w.ids["r_waiting"]})],
    ("beds.hold", "POST"): lambda w: [(f"/beds/{w.ids['b_hold']}/hold", {"h-expires_at": _later(hours=4),
                                                                         "h-note": ""})],
    ("beds.release_hold", "POST"): lambda w: [(f"/beds/{w.ids['b_release']}/release-hold", {})],
    ("beds.out_of_service", "POST"): lambda w: [(f"/beds/{w.ids['b_oos']}/out-of-service",
                                                 {"o-reason": "Leaking roof", "o-until": ""})],
    ("beds.in_service", "POST"): lambda w: [(f"/beds/{w.ids['b_inservice']}/in-service", {})],
    ("beds.move", "POST"): lambda w: [(f"/beds/{w.ids['b_move']}/move", {"m-to_bed_id": w.ids["b_move_to"]})],
    ("beds.check_out", "POST"): lambda w: [(f"/beds/{w.ids['b_checkout']}/check-out",
                                            {"co-reason": "other", "co-destination": "", "co-confirm": "y"})],
    ("beds.isolate", "POST"): lambda w: [(f"/beds/{w.ids['b_isolate']}/isolate", {
        "is-room_id": w.ids["iso1"], "is-reason": "health", "is-expected_end_at": _later(days=2), "is-note": ""})],
    ("beds.end_isolation", "POST"): lambda w: [(f"/beds/{w.ids['b_endiso']}/end-isolation", {"ei-confirm": "y"})],
    ("beds.undo", "POST"): lambda w: [
        (f"/board/{w.ids['s1']}/undo/check_out/{w.ids['undo_stay']}", {}),
        (f"/board/{w.ids['s1']}/undo/end_isolation/{w.ids['undo_iso']}", {})],
    ("handovers.take_shift", "POST"): lambda w: [(f"/shift/{w.ids['s1']}/on-duty", {})],
    ("handovers.add_entry", "POST"): lambda w: [(f"/shift/{w.ids['s1']}/entries", {
        "e-resident_id": w.ids["r_missing"], "e-text": "Asked for a doctor"})],
    ("handovers.add_incident", "POST"): lambda w: [(f"/shift/{w.ids['s1']}/incidents", {
        "i-incident_kind": "conflict", "i-text": "Argument at dinner", "i-action_taken": "", "i-resident_id": "",
        "i-occurred_at": ""})],
    ("handovers.add_task", "POST"): lambda w: [(f"/shift/{w.ids['s1']}/tasks", {
        "t-text": "Call the lawyer", "t-owner_id": w.ids["user"], "t-due_at": _later(hours=3)})],
    ("handovers.complete_task", "POST"): lambda w: [(f"/handovers/tasks/{w.ids['task']}/done", {})],
    ("handovers.acknowledge", "POST"): lambda w: [(f"/handovers/{w.ids['handover']}/acknowledge", {})],
    ("handovers.edit_entry", "POST"): lambda w: [(f"/handovers/entries/{w.ids['entry']}/edit",
                                                  {"ed-text": "Better words"})],
    ("handovers.correct_entry", "POST"): lambda w: [(f"/handovers/entries/{w.ids['entry']}/correct",
                                                     {"co-text": "A correction"})],
    ("handovers.add_observation", "POST"): lambda w: [(f"/handovers/residents/{w.ids['r_page']}/observations",
                                                       {"ob-text": "Fever 38.5", "ob-observed_at": ""})],
    ("handovers.record_room", "POST"): lambda w: [(f"/handovers/rooms/{w.ids['room']}/round", {
        f"r{w.ids['room']}-due": w.ids["due"], f"r{w.ids['room']}-status": "quiet", f"r{w.ids['room']}-note": ""})],
    ("handovers.record_headcount", "POST"): lambda w: [(f"/shift/{w.ids['s1']}/rounds/headcount", {
        "hc-due": w.ids["due"], "hc-headcount": "5"})],
    ("handovers.go_out", "POST"): lambda w: [(f"/handovers/residents/{w.ids['r_out']}/out", {
        f"out{w.ids['r_out']}-expected_back_at": _later(hours=2)})],
    ("handovers.gone_without_notice", "POST"): lambda w: [(f"/handovers/residents/{w.ids['r_missing']}/missing", {
        f"miss{w.ids['r_missing']}-note": ""})],
    ("handovers.come_back", "POST"): lambda w: [(f"/handovers/residents/{w.ids['r_back']}/back", {})],
    ("handovers.hand_over", "POST"): lambda w: [(f"/shift/{w.ids['s1']}/hand-over", {"h-note": "Quiet shift."})],
    # After the round's recipes: new times start the rounds again from now.
    ("handovers.setup", "POST"): lambda w: [(f"/shift/{w.ids['s1']}/setup", {
        "day_starts": "07:00", "night_starts": "19:00", "curfew": "22:00", "rounds": "23:00, 02:00"})],
    ("handovers.assign_duty", "POST"): lambda w: [(f"/shift/{w.ids['s1']}/duties", {
        "d-shift_date": timeutil.to_local(timeutil.utcnow()).date().isoformat(), "d-shift_kind": "day",
        "d-user_id": w.ids["user"]})],
    ("handovers.remove_duty", "POST"): lambda w: [(f"/handovers/duties/{w.ids['duty']}/remove", {})],
    ("referrals.new", "POST"): lambda w: [("/referrals/new", {
        "shelter": "", "category": "woman", "people": "1", "arrival_from": _later(minutes=0),
        "arrival_until": _later(hours=4), "languages": "", "note": "", "code": "QREF-NEW"})],
    ("referrals.cancel", "POST"): lambda w: [(f"/referrals/{w.ids['ref_cancel']}/cancel", {"confirm": "y"})],
    ("referrals.accept", "POST"): lambda w: [(f"/referrals/{w.ids['ref_accept']}/accept",
                                              {f"accept{w.ids['ref_accept']}-shelter_id": w.ids["s2"]})],
    ("referrals.decline", "POST"): lambda w: [(f"/referrals/{w.ids['ref_decline']}/decline", {
        f"decline{w.ids['ref_decline']}-shelter_id": w.ids["s2"], f"decline{w.ids['ref_decline']}-reason": "no_bed",
        f"decline{w.ids['ref_decline']}-note": ""})],
    ("referrals.check_in", "POST"): lambda w: [(f"/referrals/{w.ids['ref_arrive']}/check-in", {
        f"arrive{w.ids['ref_arrive']}-shelter_id": w.ids["s2"], f"arrive{w.ids['ref_arrive']}-alias": "Qalias Arrived",
        f"arrive{w.ids['ref_arrive']}-sex": "female", f"arrive{w.ids['ref_arrive']}-age_band": "adult"})],
}

# Public routes: what everyone, signed in or not, may ask (never 403/5xx; never 401 but for a wrong
# password). POST /logout is sent last, on its own (it ends the session the matrix runs in).
PUBLIC_RECIPES: dict[tuple[str, str], object] = {
    ("main.healthz", "GET"): lambda w: [("/healthz", None)],
    ("static", "GET"): lambda w: [("/static/css/app.css", None)],
    ("pwa.manifest", "GET"): lambda w: [("/manifest.webmanifest", None)],
    ("pwa.service_worker", "GET"): lambda w: [("/sw.js", None)],
    ("pwa.offline", "GET"): lambda w: [("/offline", None)],
    ("api.openapi", "GET"): lambda w: [("/api/v1/openapi.json", None)],
    ("auth.login", "GET"): lambda w: [("/login", None)],
    ("auth.login", "POST"): lambda w: [("/login", {"username": "qnobody", "password": "wrong password"})],
    ("auth.logout", "POST"): lambda w: [("/logout", {})],
    ("passkeys.sign_in_options", "POST"): lambda w: [("/login/passkey/options", {})],
    ("passkeys.sign_in", "POST"): lambda w: [("/login/passkey", {
        "credential": w.devices["sign_in"].get(sign_in_options())})],
}


def _route_methods(app):
    """(endpoint, method, rule) for every rule of the app, GET and POST (and any other but HEAD/OPTIONS)."""
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, rule.rule))
    return found


def _permission(app, endpoint: str) -> str | None:
    return getattr(app.view_functions[endpoint], "permission", None)


def _allowed(role: str, permission: str) -> bool:
    return role != ANONYMOUS and Role(role) in PERMISSIONS[permission]


def _table_counts() -> dict[str, int]:
    """Row counts of every table (the audit log apart from records of refusals), and the refusals, in one query."""
    names = sorted(t.name for t in db.metadata.sorted_tables)
    counts = [f'(SELECT count(*) FROM "{n}")' if n != "audit_events" else
              "(SELECT count(*) FROM audit_events WHERE action <> 'access.denied')" for n in names]
    counts.append("(SELECT count(*) FROM audit_events WHERE action = 'access.denied')")
    row = db.session.execute(text("SELECT " + ", ".join(counts))).one()
    db.session.commit()
    return dict(zip(names + ["refusals recorded"], row))


def _send(w: World, method: str, url: str, data):
    if method == "GET":
        return w.client.get(url)
    if method == "POST":
        return w.client.post(url, data)
    return w.client.request(method, url)


# --- the matrix -------------------------------------------------------------------------------

def test_every_route_is_covered(app):
    """Every rule is public (listed) or guarded by a known permission, and has a recipe with real ids."""
    problems = []
    for endpoint, method, rule in _route_methods(app):
        permission = _permission(app, endpoint)
        if endpoint in PUBLIC_ENDPOINTS:
            if permission is not None:
                problems.append(f"{method} {rule}: listed as public but guarded by {permission!r}")
            elif (endpoint, method) not in PUBLIC_RECIPES:
                problems.append(f"{method} {rule}: public, but no request for it in PUBLIC_RECIPES")
            continue
        if permission is None:
            problems.append(f"{method} {rule} ({endpoint}): no `permission` on its view and not in PUBLIC_ENDPOINTS")
        elif permission not in PERMISSIONS:
            problems.append(f"{method} {rule}: unknown permission {permission!r}")
        if (endpoint, method) not in RECIPES:
            problems.append(f"{method} {rule} ({endpoint}): no recipe with real ids in RECIPES")
    assert not problems, "\n".join(problems)
    known = {(e, m) for e, m, _r in _route_methods(app)}
    stale = sorted(set(RECIPES) - known) + sorted(set(PUBLIC_RECIPES) - known)
    assert not stale, f"recipes for routes that no longer exist: {stale}"
    assert set(ROLES) == {r.value for r in Role}, "the matrix runs every role"


def test_role_matrix(app, world):
    """Every guarded route × this role: 403 if its permission leaves the role out, else an answer.

    Visitors: a redirect to /login for a page, 401 for a POST or the API. Nothing is ever a 5xx, and a
    refused request changes no row (row counts, the audit log's included, are the same after it).
    """
    w, role = world, world.role
    problems = []
    cases = 0
    order = list(RECIPES)  # reads first, then the POSTs in the order of RECIPES
    routes = sorted(_route_methods(app), key=lambda r: order.index(r[:2]) if r[:2] in RECIPES else -1)
    for endpoint, method, rule in routes:
        if endpoint in PUBLIC_ENDPOINTS:
            continue
        recipe = RECIPES.get((endpoint, method))
        if recipe is None:  # test_every_route_is_covered names it
            problems.append(f"{method} {rule}: no recipe")
            continue
        permission = _permission(app, endpoint)
        allowed = _allowed(role, permission)
        for url, data in recipe(w):
            cases += 1
            before = None if allowed else _table_counts()
            response = _send(w, method, url, data)
            status = response.status_code
            where = f"{role} {method} {url} [{permission}] -> {status}"
            if status >= 500:
                problems.append(f"{where}: server error")
            elif role == ANONYMOUS:
                if url.startswith("/api/") or method != "GET":
                    if status != 401:
                        problems.append(f"{where}: a visitor must get 401")
                elif status not in (302, 303) or not response.headers["Location"].startswith("/login"):
                    problems.append(f"{where}: a visitor must be sent to /login")
            elif not allowed:
                if status != 403:
                    problems.append(f"{where}: {role} lacks {permission!r} and must get 403")
            elif status in (401, 403):
                problems.append(f"{where}: {role} has {permission!r} and must get in")
            elif status not in (200, 204, 302, 303):
                problems.append(f"{where}: allowed, but refused ({response.get_data(as_text=True)[:300]!r}); "
                                f"the recipe's target or form is wrong")
            if before is not None:
                after = _table_counts()
                refusals = after.pop("refusals recorded") - before.pop("refusals recorded")
                changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
                if changed:
                    problems.append(f"{where}: a refused request changed rows {changed}")
                if role != ANONYMOUS and refusals != 1:
                    problems.append(f"{where}: {refusals} 'access.denied' audit events, expected 1")
    for (endpoint, method), recipe in PUBLIC_RECIPES.items():
        if endpoint == "auth.logout":
            continue
        for url, data in recipe(w):
            cases += 1
            status = _send(w, method, url, data).status_code
            refused_sign_in = (endpoint, method) == ("auth.login", "POST") and status == 401
            if status >= 500 or status == 403 or (status == 401 and not refused_sign_in):
                problems.append(f"{role} {method} {url} (public) -> {status}")
    # The passkey sign-in above started a new session: its CSRF token is on the page a browser lands on.
    w.client.get("/account")
    cases += 1
    response = w.client.post("/logout", {})
    if response.status_code != 303:
        problems.append(f"{role} POST /logout -> {response.status_code}")
    if role != ANONYMOUS and w.client.get("/account").status_code not in (302, 303):
        problems.append(f"{role}: still signed in after POST /logout")
    assert cases > 40
    assert not problems, f"{len(problems)} of {cases} cases wrong:\n" + "\n".join(problems)


def test_case_manager_never_sees_resident_data(app, case_manager_world):
    """Every answer a case manager can get from a GET (full page and htmx fragment; the pages they may
    open, their referrals, the refusals of the others), and the API with a token, names no resident,
    room, bed, address or staff-only shelter name."""
    w = case_manager_world
    assert len(w.secrets) > 20
    pages = {}  # url -> whether the case manager may open it
    for endpoint, method, _rule in _route_methods(app):
        if method != "GET":
            continue
        if endpoint in PUBLIC_ENDPOINTS:
            pages.update((url, True) for url, _data in PUBLIC_RECIPES[(endpoint, "GET")](w))
        else:
            allowed = _allowed("casemanager", _permission(app, endpoint))
            pages.update((url, allowed) for url, _data in RECIPES[(endpoint, "GET")](w))
    pages.update((f"/referrals/{w.ids[k]}", True) for k in ("ref_decline", "ref_cancel"))
    assert {"/availability", "/referrals", "/referrals/new", "/api/v1/availability", "/account"} <= {
        url for url, allowed in pages.items() if allowed}
    answers = []
    for url, allowed in pages.items():
        for htmx in (False, True):
            response = w.client.get(url, htmx=htmx)
            expected = (200, 204, 302, 303) if allowed else (403,)
            assert response.status_code in expected, (url, htmx, response.status_code)
            answers.append((f"GET {url}{' (htmx)' if htmx else ''}", response.get_data(as_text=True)))
    response = w.client.get("/api/v1/availability", headers={"Authorization": f"Bearer {w.token}"})
    assert response.status_code == 200
    answers.append(("GET /api/v1/availability (token)", response.get_data(as_text=True)))
    leaks = [f"{what}: shows {name} {secret!r}" for what, body in answers
             for name, secret in w.secrets.items() if secret in body]
    assert not leaks, "\n".join(leaks)
    assert "Qcode-One" in dict(answers)["GET /availability"], "a shelter is shown by its code name"


# --- navigation and the 403 page --------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_navigation_shows_only_reachable_pages(app, login_as, role):
    c = login_as(role)
    html = c.get("/account").get_data(as_text=True)
    nav = re.search(r'<nav class="appnav".*?</nav>', html, re.DOTALL).group(0)
    links = re.findall(r'<a href="([^"]+)"', nav)
    assert links, "a signed-in user has a navigation"
    for link in links:
        assert c.get(link).status_code in (200, 302, 303), (role, link)
    assert ("/admin/users" in links) == (role == "admin")
    adapter = app.url_map.bind("localhost")
    for link in links:
        endpoint, _args = adapter.match(link.split("?")[0], method="GET")
        permission = _permission(app, endpoint)
        assert permission is None or _allowed(role, permission), (role, link, permission)


def test_403_page_is_in_the_layout(login_as):
    c = login_as("night", locale="en")
    response = c.get("/admin/users")
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "Not allowed" in html and 'class="appnav"' in html
