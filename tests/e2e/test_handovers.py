"""The night on a phone: a round and an incident written offline and sent once, also after the session
ended; the incoming worker reads the handover; the manager's flags on a tablet; signing out with unsent items."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from shelter_app import timeutil
from shelter_app.extensions import db
from shelter_app.handovers import services
from shelter_app.handovers.models import Handover, HandoverEntry, Round, RoundCheck
from shelter_app.shelters.models import Room
from tests import factories
from tests.conftest import PASSWORD, beds_of
from tests.e2e.conftest import assert_no_horizontal_scroll, screenshot as full_screenshot, sign_in
from tests.e2e.test_accessibility import AXE, _axe_page, _serious

INCIDENT = "Shouting in room R1, calmed down"


def screenshot(page, name: str) -> None:
    """From the top of the page (a reload keeps the scroll, and the sticky header would cover the title)."""
    page.evaluate("() => window.scrollTo(0, 0)")
    full_screenshot(page, name)


def _night_house(make_shelter, make_resident, name="Night House"):
    """Two rooms of two beds and an isolation room, two residents in bed, a night round due this minute."""
    shelter = make_shelter(beds=4, beds_per_room=2, isolation_rooms=1, name=name)
    for bed, alias in zip(beds_of(shelter), ("Ala", "Basia")):
        factories.check_in(bed, make_resident(alias, shelter_id=shelter.id))
    local = timeutil.to_local(timeutil.utcnow())
    services.set_times(shelter, day_starts="07:00", night_starts="19:00", curfew="22:00",
                       rounds=f"{local.hour:02d}:{local.minute:02d}", actor=None,
                       at=timeutil.utcnow() - timedelta(days=1))
    db.session.commit()
    rooms = db.session.scalars(select(Room.id).where(Room.shelter_id == shelter.id).order_by(Room.kind, Room.name))
    return shelter, list(rooms)


def _write_offline(page, rooms):
    """Tap every room, count heads and write an incident, with no connection; each waits in the outbox."""
    for room_id in rooms:
        page.locator(f"#room-{room_id}").get_by_role("button", name="All quiet").click()
        page.locator(f"#room-{room_id}.outbox-pending").wait_for()
    page.get_by_label("Residents counted in the house").fill("2")
    page.get_by_role("button", name="Record the headcount").click()
    page.locator("#headcount.outbox-pending").wait_for()
    page.get_by_text("Write an incident").click()
    page.get_by_label("Kind").select_option("conflict")
    page.get_by_label("What happened").fill(INCIDENT)
    page.get_by_label("What was done").fill("Talked to both")
    page.get_by_role("button", name="Record the incident").click()
    page.locator("#outbox-items li").nth(len(rooms) + 1).wait_for()
    assert page.get_by_label("What happened").input_value() == "", "the form is free for the next thing"


def _stored() -> tuple[int, int, int | None, int]:
    """(room records, rounds, the headcount, incidents with the text) as the database has them."""
    db.session.rollback()
    checks = db.session.scalar(select(func.count(RoundCheck.id)))
    rounds = db.session.scalars(select(Round)).all()
    incidents = db.session.scalar(select(func.count(HandoverEntry.id)).where(HandoverEntry.text == INCIDENT))
    return checks, len(rounds), rounds[0].headcount if rounds else None, incidents


def _wait_until_sent(page):
    """Until the device's outbox, as last shown, is empty (every item sent and taken out)."""
    page.wait_for_function("() => document.getElementById('outbox').dataset.count === '0'", timeout=30000)
    assert page.locator("#outbox").is_hidden()
    assert page.evaluate("() => window.shelterOutbox.items().then((items) => items.length)") == 0


def test_offline_round_and_incident_are_stored_once_when_back_online(phone, make_user, make_shelter,
                                                                     make_resident):
    shelter, rooms = _night_house(make_shelter, make_resident)
    user = make_user("night", locale="en", display_name="Nora Night")
    sign_in(phone, user.username, PASSWORD)
    phone.goto(f"/shift/{shelter.id}/rounds")
    assert phone.locator("#round h2").inner_text().startswith("Round of")
    assert_no_horizontal_scroll(phone)
    screenshot(phone, "round-phone")
    for button in phone.locator("#round button").all():
        assert button.bounding_box()["height"] >= 44

    phone.context.set_offline(True)
    _write_offline(phone, rooms)
    box = phone.locator("#outbox")
    assert box.is_visible() and box.locator(".outbox-item").count() == len(rooms) + 2
    assert "not sent yet" in box.inner_text() and "Kept on this device" in box.inner_text()
    assert phone.locator("#net-status").inner_text() == "Offline"
    assert _stored() == (0, 0, None, 0)
    assert_no_horizontal_scroll(phone)
    screenshot(phone, "round-offline-outbox-phone")

    # Back online, the first answer to the incident is lost on the way back: the server stored it, the phone
    # did not hear. It is sent again (same Idempotency-Key) and still stored once.
    sent = []

    def lose_first_answer(route):
        response = route.fetch()
        sent.append(response.status)
        if len(sent) == 1:
            route.abort()
        else:
            route.fulfill(response=response)

    phone.route("**/incidents*", lose_first_answer)
    phone.context.set_offline(False)
    phone.wait_for_function("() => document.getElementById('outbox').dataset.count === '1'")
    assert sent == [200]
    assert _stored() == (len(rooms), 1, 2, 1)
    phone.reload()  # the worker opens the app again: what is left is sent
    _wait_until_sent(phone)
    assert sent == [200, 200]
    assert _stored() == (len(rooms), 1, 2, 1)
    phone.unroute("**/incidents*")
    phone.reload()
    assert phone.locator(".round-room.is-done").count() == len(rooms)
    assert "Headcount 2: it matches." in phone.locator("#headcount").inner_text()
    screenshot(phone, "round-sent-phone")
    phone.goto(f"/shift/{shelter.id}")
    assert INCIDENT in phone.locator("#shift-log").inner_text()
    assert_no_horizontal_scroll(phone)
    screenshot(phone, "shift-after-round-phone")


def test_items_written_offline_wait_for_the_next_sign_in_when_the_session_ended(phone, make_user, make_shelter,
                                                                                 make_resident, travel):
    shelter, rooms = _night_house(make_shelter, make_resident)
    user = make_user("night", locale="en")
    sign_in(phone, user.username, PASSWORD)
    phone.goto(f"/shift/{shelter.id}/rounds")
    phone.context.set_offline(True)
    _write_offline(phone, rooms)
    travel(minutes=31)  # the session ends on the server while the phone is offline
    phone.context.set_offline(False)
    hint = phone.locator("#outbox-hint")
    hint.get_by_text("Your session has ended: sign in again and these are sent.").wait_for()
    assert phone.locator("#outbox .outbox-item").count() == len(rooms) + 2
    assert _stored() == (0, 0, None, 0)
    assert_no_horizontal_scroll(phone)
    screenshot(phone, "outbox-session-ended-phone")
    # On the sign-in page they are still listed; after signing in they go, once.
    phone.goto("/login")
    phone.wait_for_function("(n) => document.getElementById('outbox').dataset.count === String(n)",
                            arg=len(rooms) + 2)
    assert phone.locator("#outbox .outbox-item").count() == len(rooms) + 2
    screenshot(phone, "outbox-on-login-phone")
    sign_in(phone, user.username, PASSWORD)
    _wait_until_sent(phone)
    assert _stored() == (len(rooms), 1, 2, 1)
    phone.reload()
    assert _stored() == (len(rooms), 1, 2, 1)


def test_the_incoming_worker_reads_the_handover(phone, make_user, make_shelter, make_resident):
    shelter = make_shelter(beds=4, beds_per_room=2, isolation_rooms=1, name="Night House")
    ala = make_resident("Ala", shelter_id=shelter.id)
    factories.check_in(beds_of(shelter)[0], ala)
    day = make_user("trainer", locale="en", display_name="Dana Day")
    incoming = make_user("night", locale="en", display_name="Nina Incoming")
    now = timeutil.utcnow()
    services.add_entry(shelter, services.EntryInput(kind="resident", resident_id=ala.id,
                                                    text="Ala saw the doctor; antibiotics at 22:00"),
                       actor=day, at=now - timedelta(hours=2))
    services.add_entry(shelter, services.EntryInput(kind="incident", incident_kind="safety", resident_id=ala.id,
                                                    text="A car waited outside the gate for an hour",
                                                    action_taken="Police informed; gate locked"),
                       actor=day, at=now - timedelta(hours=1))
    services.add_task(shelter, "Give Ala her antibiotics", incoming.id, now + timedelta(hours=3), actor=day, at=now)
    services.hand_over(shelter, "Calm day. Watch the gate tonight.", None, actor=day, at=now)
    db.session.commit()

    sign_in(phone, incoming.username, PASSWORD)
    assert phone.url.endswith(f"/shift/{shelter.id}"), "the app opens on the handover to read"
    article = phone.locator("article.handover-waiting")
    assert "Calm day. Watch the gate tonight." in article.inner_text()
    assert "A car waited outside the gate" in article.inner_text() and "Police informed" in article.inner_text()
    assert "Give Ala her antibiotics" in phone.locator("#tasks").inner_text()
    assert_no_horizontal_scroll(phone)
    screenshot(phone, "handover-to-read-phone")
    button = article.get_by_role("button", name="I have read it")
    assert button.bounding_box()["height"] >= 44
    url_before = phone.url
    button.click()
    phone.get_by_text("You have read the handover.").wait_for()
    assert phone.url == url_before and phone.locator("article.handover-waiting").count() == 0
    db.session.rollback()
    handover = db.session.scalar(select(Handover))
    assert handover.acknowledged_by_id == incoming.id
    phone.reload()
    assert "read by Nina Incoming" in phone.locator(".last-read").inner_text()
    screenshot(phone, "handover-read-phone")
    phone.goto("/")
    assert phone.url.endswith("/board") or f"/board/{shelter.id}" in phone.url


def test_signing_out_warns_about_unsent_items_then_clears_them(phone, make_user, make_shelter, make_resident):
    shelter, rooms = _night_house(make_shelter, make_resident)
    user = make_user("night", locale="en")
    sign_in(phone, user.username, PASSWORD)
    phone.goto(f"/shift/{shelter.id}/rounds")
    phone.context.set_offline(True)
    phone.locator(f"#room-{rooms[0]}").get_by_role("button", name="All quiet").click()
    phone.locator(f"#room-{rooms[0]}.outbox-pending").wait_for()
    phone.get_by_role("button", name="Sign out").click()
    dialog = phone.locator("#outbox-logout")
    dialog.wait_for()
    assert "Waiting to be sent: 1. Signing out now deletes them from this device." in dialog.inner_text()
    screenshot(phone, "outbox-sign-out-warning-phone")
    dialog.get_by_role("button", name="Stay signed in").click()
    assert phone.locator("#outbox .outbox-item").count() == 1
    phone.route("**/round", lambda route: route.abort())  # back online, but the server stays out of reach
    phone.context.set_offline(False)
    phone.get_by_role("button", name="Sign out").click()
    dialog.get_by_role("button", name="Sign out and delete them").click()
    phone.wait_for_url("**/login")
    assert phone.evaluate("() => window.shelterOutbox.items().then((items) => items.length)") == 0
    assert _stored()[0] == 0


@pytest.mark.parametrize("kind", ["phone", "tablet"])
def test_the_manager_sees_the_flags_and_the_shift_pages_fit(new_page, make_user, make_shelter, make_resident,
                                                            travel, kind):
    shelter, rooms = _night_house(make_shelter, make_resident, name=f"Flag House {kind}")
    writer = make_user("night", locale="en", display_name="Nora Night")
    manager = make_user("manager", locale="en", display_name="Maria Manager")
    now = timeutil.utcnow()
    residents = [r for r, _s in services.current_residents(shelter)]
    services.add_entry(shelter, services.EntryInput(kind="incident", incident_kind="health", text="Fever at 02:00",
                                                    action_taken="Paracetamol", resident_id=residents[0].id),
                       actor=writer, at=now)
    services.gone_without_notice(residents[1].id, "Took her bag", actor=writer, at=now)
    services.hand_over(shelter, "Basia gone; Ala feverish.", None, actor=writer, at=now)
    services.add_task(shelter, "Call Basia's case manager", manager.id, now + timedelta(hours=1), actor=writer,
                      at=now)
    db.session.commit()
    travel(minutes=31)  # the handover unread for half an hour, the round twenty minutes late
    page = _axe_page(new_page, kind)
    sign_in(page, manager.username, PASSWORD)
    page.goto(f"/shift/{shelter.id}")
    flags = page.locator(".flags-box").inner_text()
    assert "has not been read for more than 30 minutes" in flags and "is gone without notice" in flags
    assert "is not recorded" in flags
    assert_no_horizontal_scroll(page)
    screenshot(page, f"shift-manager-flags-{kind}")
    page.goto(f"/board/{shelter.id}")
    assert "is gone without notice" in page.locator(".board-handover").inner_text()
    screenshot(page, f"board-flags-{kind}")
    for path, name in [(f"/shift/{shelter.id}", "shift"), (f"/shift/{shelter.id}/rounds", "rounds"),
                       (f"/shift/{shelter.id}/presence", "presence"), (f"/shift/{shelter.id}/setup", "setup"),
                       (f"/handovers/history?shelter_id={shelter.id}", "history"),
                       (f"/shift/{shelter.id}/print", "print")]:
        assert page.goto(path).status == 200, path
        assert_no_horizontal_scroll(page)
        page.add_script_tag(path=str(AXE))
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            assert _serious(page) == [], f"{name} at {kind} size, {scheme}"
        page.emulate_media(color_scheme="light")
        screenshot(page, f"{name}-{kind}")


def test_the_offline_page_lists_what_waits_to_be_sent(persistent_context, make_user, make_shelter, make_resident):
    from tests.e2e.conftest import wait_for_service_worker

    shelter, rooms = _night_house(make_shelter, make_resident)
    user = make_user("night", locale="en")
    ctx = persistent_context("phone", locale="en")
    page = ctx.pages[0] if ctx.pages else ctx.new_page()
    sign_in(page, user.username, PASSWORD)
    page.goto(f"/shift/{shelter.id}/rounds")
    wait_for_service_worker(page)
    ctx.set_offline(True)
    page.locator(f"#room-{rooms[0]}").get_by_role("button", name="All quiet").click()
    page.locator(f"#room-{rooms[0]}.outbox-pending").wait_for()
    page.goto(f"/shift/{shelter.id}")  # no connection: the service worker answers with the offline page
    waiting = page.locator("#outbox-unsent")
    waiting.wait_for()
    assert "Round" in waiting.inner_text() and "All quiet" in waiting.inner_text()
    assert page.locator("#outbox").count() == 0, "the cached page holds no outbox of its own"
    screenshot(page, "offline-page-outbox-phone")
    ctx.set_offline(False)
    page.wait_for_url(f"**/shift/{shelter.id}")  # the offline page loads the page again by itself
    _wait_until_sent(page)
    assert _stored()[0] == 1
