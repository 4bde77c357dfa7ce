"""The bed rules at the HTTP level: category guard, time bounds, confirm and undo, isolation, double taps,
refusals that show the bed as it is, and hostile ids. Each action as a full page (303) and as htmx (200)."""
from __future__ import annotations

import re
from datetime import timedelta
from uuid import uuid4

import pytest
from sqlalchemy import func, select

from shelter_app import timeutil
from shelter_app.audit.models import AuditEvent
from shelter_app.beds.models import Isolation, Stay
from shelter_app.beds.vocab import BACKDATE_LIMIT, FUTURE_TOLERANCE, OVERRIDE_REASON_MAX, UNDO_WINDOW
from shelter_app.extensions import db
from shelter_app.residents.models import Resident
from tests.conftest import beds_of, rooms_of

HTMX = pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])


def _local(dt):
    return timeutil.local_input_value(dt)


def _html(response) -> str:
    return response.get_data(as_text=True)


def _now():
    return timeutil.utcnow()


def _succeeded(response, htmx: bool, location: str | None = None) -> str:
    """Assert the action succeeded as a page (303) or as htmx (200 board fragment); the body it answered."""
    body = _html(response)
    if htmx:
        assert response.status_code == 200, body
        assert body.lstrip().startswith('<div id="board"') and "<html" not in body
    else:
        assert response.status_code == 303, body
        if location is not None:
            assert response.headers["Location"] == location
    return body


def _refused(response, status: int, htmx: bool) -> str:
    """Assert a refusal with status, as a whole page or (htmx) the panel retargeted; the body."""
    body = _html(response)
    assert response.status_code == status, body[:2000]
    if htmx:
        assert "<html" not in body
    else:
        assert "<html" in body
    return body


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


@pytest.fixture
def night(login_as):
    return login_as("night", locale="en")


@pytest.fixture
def add_bed():
    """add_bed(shelter, category, room_name="M") -> a bed of category in a new regular room of shelter."""
    from shelter_app.shelters import services as shelters

    def add(shelter, category: str, room_name: str = "M"):
        at = timeutil.utcnow()
        db.session.commit()
        room = shelters.create_room(shelter, room_name, "regular", None, actor=None, at=at)
        bed = shelters.create_bed(room, "M1", category, actor=None, at=at)
        db.session.commit()
        return bed

    return add


# --- 1. category guard ----------------------------------------------------------------------------

@HTMX
def test_a_man_is_refused_a_womans_bed_naming_the_field(night, login_as, make_shelter, make_resident, htmx):
    bed = beds_of(make_shelter(beds=1))[0]
    tom = make_resident("Tom", sex="male")
    # night staff may override: the refusal points at the reason they would have to give
    response = night.post(f"/beds/{bed.id}/check-in", {"ci-resident_id": tom.id}, htmx=htmx)
    body = _refused(response, 422, htmx)
    assert "Tom does not fit a bed of the category" in body
    assert 'id="ci-override_reason-error"' in body
    # a trainer may not override: the refusal points at the resident, and a reason does not help
    trainer = login_as("trainer", locale="en")
    for data in ({"ci-resident_id": tom.id},
                 {"ci-resident_id": tom.id, "ci-override": "y", "ci-override_reason": "Only bed tonight"}):
        response = trainer.post(f"/beds/{bed.id}/check-in", data, htmx=htmx)
        body = _refused(response, 422, htmx)
        assert 'id="ci-resident_id-error"' in body and "Tom does not fit" in body
    # a new arrival who is a man is refused the same way, and no record of him is left behind
    response = night.post(f"/beds/{bed.id}/check-in", {"ci-new_alias": "Max", "ci-new_sex": "male",
                                                      "ci-new_age_band": "adult"}, htmx=htmx)
    body = _refused(response, 422, htmx)
    assert 'id="ci-override_reason-error"' in body and 'value="Max"' in body
    assert _count(Stay) == 0
    assert _count(Resident, Resident.alias == "Max") == 0


@HTMX
def test_an_override_with_a_reason_is_let_through_and_audited(night, make_shelter, make_resident, htmx):
    shelter = make_shelter(beds=1)
    bed = beds_of(shelter)[0]
    tom = make_resident("Tom", sex="male")
    # a reason without the tick is not an override
    no_tick = night.post(f"/beds/{bed.id}/check-in", {"ci-resident_id": tom.id, "ci-override_reason": "Why"},
                         htmx=htmx)
    _refused(no_tick, 422, htmx)
    # the tick without a reason is not one either
    no_reason = night.post(f"/beds/{bed.id}/check-in", {"ci-resident_id": tom.id, "ci-override": "y"}, htmx=htmx)
    assert 'id="ci-override_reason-error"' in _refused(no_reason, 422, htmx)
    assert _count(Stay) == 0
    reason = "Only free bed tonight, police will move him tomorrow"
    response = night.post(f"/beds/{bed.id}/check-in", {"ci-resident_id": tom.id, "ci-override": "y",
                                                      "ci-override_reason": reason}, htmx=htmx)
    _succeeded(response, htmx, f"/board/{shelter.id}#bed-{bed.id}")
    stay = db.session.scalar(select(Stay))
    assert (stay.bed_id, stay.resident_id, stay.ended_at) == (bed.id, tom.id, None)
    [event] = _events("stay.check_in")
    assert event.details["category_override"] == reason
    assert event.actor_id == night.user.id


@HTMX
def test_an_over_long_override_reason_is_refused(night, make_shelter, make_resident, htmx):
    bed = beds_of(make_shelter(beds=1))[0]
    tom = make_resident("Tom", sex="male")
    response = night.post(f"/beds/{bed.id}/check-in", {
        "ci-resident_id": tom.id, "ci-override": "y", "ci-override_reason": "x" * (OVERRIDE_REASON_MAX + 1)},
        htmx=htmx)
    body = _refused(response, 422, htmx)
    assert 'id="ci-override_reason-error"' in body
    assert _count(Stay) == 0 and _events("stay.check_in") == []


@HTMX
def test_a_man_is_not_moved_into_a_womans_bed_without_a_reason(night, login_as, make_shelter, make_resident,
                                                               add_bed, htmx):
    shelter = make_shelter(beds=1)
    womans = beds_of(shelter)[0]
    mans = add_bed(shelter, "man")
    tom = make_resident("Tom", sex="male")
    assert night.post(f"/beds/{mans.id}/check-in", {"ci-resident_id": tom.id}).status_code == 303
    refused = night.post(f"/beds/{mans.id}/move", {"m-to_bed_id": womans.id}, htmx=htmx)
    body = _refused(refused, 422, htmx)
    assert "Tom does not fit a bed of the category" in body and 'id="m-override_reason-error"' in body
    trainer = login_as("trainer", locale="en")
    by_trainer = trainer.post(f"/beds/{mans.id}/move", {"m-to_bed_id": womans.id, "m-override": "y",
                                                         "m-override_reason": "No other bed"}, htmx=htmx)
    assert 'id="m-to_bed_id-error"' in _refused(by_trainer, 422, htmx)
    too_long = night.post(f"/beds/{mans.id}/move", {"m-to_bed_id": womans.id, "m-override": "y",
                                                     "m-override_reason": "y" * (OVERRIDE_REASON_MAX + 1)}, htmx=htmx)
    assert 'id="m-override_reason-error"' in _refused(too_long, 422, htmx)
    assert [s.bed_id for s in db.session.scalars(select(Stay).where(Stay.ended_at.is_(None)))] == [mans.id]
    ok = night.post(f"/beds/{mans.id}/move", {"m-to_bed_id": womans.id, "m-override": "y",
                                               "m-override_reason": "Leak in the men's room"}, htmx=htmx)
    _succeeded(ok, htmx, f"/board/{shelter.id}#bed-{mans.id}")
    assert [s.bed_id for s in db.session.scalars(select(Stay).where(Stay.ended_at.is_(None)))] == [womans.id]
    [event] = _events("stay.move")
    assert event.details["category_override"] == "Leak in the men's room"


@pytest.mark.parametrize("category, who, fits", [
    ("child_cot", {"sex": "female", "age_band": "adult"}, False),  # an adult in a cot
    ("child_cot", {"sex": "male", "age_band": "adult"}, False),
    ("child_cot", {"sex": "male", "age_band": "child", "birth_year": 2022}, True),
    ("child_cot", {"sex": "female", "age_band": "child", "birth_year": 2020}, True),
    ("family", {"sex": "male", "age_band": "adult"}, True),  # a family room takes anyone
    ("family", {"sex": "female", "age_band": "child", "birth_year": 2019}, True),
    ("family", {"sex": "other", "age_band": "adult"}, True),
    ("woman", {"sex": "female", "age_band": "child", "birth_year": 2018}, False),  # the age band counts too
    ("man", {"sex": "male", "age_band": "child", "birth_year": 2018}, False),
    ("woman", {"sex": "other", "age_band": "adult"}, True),
])
def test_the_category_guard_reads_sex_and_age_band(night, login_as, make_shelter, make_resident, add_bed, category,
                                                   who, fits):
    shelter = make_shelter(beds=0, isolation_rooms=0)
    bed = add_bed(shelter, category)
    person = make_resident("Kim", **who)
    trainer = login_as("trainer", locale="en")  # may not override: a misfit is refused at the resident
    response = trainer.post(f"/beds/{bed.id}/check-in", {"ci-resident_id": person.id})
    if fits:
        assert response.status_code == 303, _html(response)
        assert _count(Stay, Stay.bed_id == bed.id, Stay.ended_at.is_(None)) == 1
        return
    body = _refused(response, 422, False)
    assert "Kim does not fit a bed of the category" in body and 'id="ci-resident_id-error"' in body
    assert _count(Stay) == 0
    # a night worker may put them there anyway, with a reason that goes to the audit log
    ok = night.post(f"/beds/{bed.id}/check-in", {"ci-resident_id": person.id, "ci-override": "y",
                                                 "ci-override_reason": "Mother and child together"})
    assert ok.status_code == 303
    [event] = _events("stay.check_in")
    assert event.details["category_override"] == "Mother and child together"


def test_the_move_list_shows_the_beds_that_fit_first(night, make_shelter, make_resident, add_bed):
    shelter = make_shelter(beds=1, isolation_rooms=0)
    [first_bed] = beds_of(shelter)  # R1 · B1, a woman's bed
    cot = add_bed(shelter, "child_cot", room_name="A-cots")  # listed first by room name, but does not fit
    mans = add_bed(shelter, "man", room_name="B-men")
    family = add_bed(shelter, "family", room_name="C-family")
    womans = add_bed(shelter, "woman", room_name="D-women")
    ala = make_resident("Ala")
    _checked_in(night, womans, ala)
    panel = _html(night.get(f"/beds/{womans.id}"))
    select_html = panel[panel.index('name="m-to_bed_id"'):]
    select_html = select_html[:select_html.index("</select>")]
    offered = re.findall(r'<option[^>]*value="(\d+)"[^>]*>([^<]*)</option>', select_html)
    order = [int(value) for value, _label in offered]
    fitting, misfits = [family.id, first_bed.id], [cot.id, mans.id]
    assert order == fitting + misfits, offered
    assert [label.endswith("does not fit") for _v, label in offered] == [False, False, True, True]
    assert "Beds that fit come first." in panel


# --- 2. check-in time bounds ----------------------------------------------------------------------

NEW = {"ci-new_alias": "Mira", "ci-new_sex": "female", "ci-new_age_band": "adult"}


@HTMX
def test_a_check_in_in_the_future_is_refused_beyond_the_tolerance(night, make_shelter, htmx):
    shelter = make_shelter(beds=2)
    b1, b2 = beds_of(shelter)
    future = _now() + FUTURE_TOLERANCE + timedelta(minutes=10)
    response = night.post(f"/beds/{b1.id}/check-in", {**NEW, "ci-at": _local(future)}, htmx=htmx)
    body = _refused(response, 422, htmx)
    assert "This time is in the future." in body and 'id="ci-at-error"' in body
    assert 'value="Mira"' in body and f'value="{_local(future)}"' in body  # what was typed is kept
    assert _count(Stay) == 0 and _count(Resident) == 0
    # a minute or two ahead (a clock a little fast) is within the tolerance
    slightly = _now() + FUTURE_TOLERANCE - timedelta(minutes=2)
    ok = night.post(f"/beds/{b2.id}/check-in", {**NEW, "ci-at": _local(slightly)}, htmx=htmx)
    _succeeded(ok, htmx, f"/board/{shelter.id}#bed-{b2.id}")


@HTMX
def test_backdating_within_the_limit_is_fine_beyond_it_refused(night, make_shelter, make_resident, htmx):
    shelter = make_shelter(beds=2)
    b1, b2 = beds_of(shelter)
    ala, ola = make_resident("Ala"), make_resident("Ola")
    within = _now() - BACKDATE_LIMIT + timedelta(hours=1)
    ok = night.post(f"/beds/{b1.id}/check-in", {"ci-resident_id": ala.id, "ci-at": _local(within)}, htmx=htmx)
    _succeeded(ok, htmx, f"/board/{shelter.id}#bed-{b1.id}")
    assert _local(db.session.scalar(select(Stay)).started_at) == _local(within)
    beyond = _now() - BACKDATE_LIMIT - timedelta(hours=1)
    for data in ({"ci-resident_id": ola.id, "ci-at": _local(beyond)},
                 {"ci-resident_id": ola.id, "ci-at": _local(beyond), "ci-confirm_backdate": "y"}):
        refused = night.post(f"/beds/{b2.id}/check-in", data, htmx=htmx)
        body = _refused(refused, 422, htmx)
        assert 'id="ci-at-error"' in body and "at most 48 hours back" in body
        assert f'value="{_local(beyond)}"' in body
    assert _count(Stay) == 1


@HTMX
def test_a_check_in_before_the_persons_previous_stay_ended_is_refused_at_the_field(night, make_shelter,
                                                                                   make_resident, htmx):
    shelter = make_shelter(beds=2)
    first, second = beds_of(shelter)
    ala = make_resident("Ala")
    assert night.post(f"/beds/{first.id}/check-in", {"ci-resident_id": ala.id,
                                                     "ci-at": _local(_now() - timedelta(hours=10))}).status_code == 303
    _checked_out(night, first)
    ended = db.session.scalar(select(Stay.ended_at).where(Stay.resident_id == ala.id))
    before_it_ended = ended - timedelta(hours=2)  # within 48 hours, on a bed never used: only her stay is in the way
    refused = night.post(f"/beds/{second.id}/check-in", {"ci-resident_id": ala.id, "ci-at": _local(before_it_ended)},
                         htmx=htmx)
    body = _refused(refused, 422, htmx)
    assert 'id="ci-at-error"' in body and "Ala was still in another bed then" in body
    assert f'value="{_local(before_it_ended)}"' in body
    assert _count(Stay, Stay.resident_id == ala.id) == 1
    after_it = night.post(f"/beds/{second.id}/check-in", {"ci-resident_id": ala.id,
                                                          "ci-at": _local(ended + timedelta(minutes=1))}, htmx=htmx)
    _succeeded(after_it, htmx, f"/board/{shelter.id}#bed-{second.id}")


@HTMX
def test_a_manager_backdates_further_only_with_the_confirm_tick(login_as, make_shelter, make_resident, htmx):
    manager = login_as("manager", locale="en")
    shelter = make_shelter(beds=1)
    bed = beds_of(shelter)[0]
    ala = make_resident("Ala")
    beyond = _now() - BACKDATE_LIMIT - timedelta(hours=3)
    unconfirmed = manager.post(f"/beds/{bed.id}/check-in", {"ci-resident_id": ala.id, "ci-at": _local(beyond)},
                               htmx=htmx)
    body = _refused(unconfirmed, 422, htmx)
    assert 'id="ci-confirm_backdate-error"' in body and f'value="{_local(beyond)}"' in body
    assert _count(Stay) == 0
    confirmed = manager.post(f"/beds/{bed.id}/check-in", {"ci-resident_id": ala.id, "ci-at": _local(beyond),
                                                         "ci-confirm_backdate": "y"}, htmx=htmx)
    _succeeded(confirmed, htmx, f"/board/{shelter.id}#bed-{bed.id}")
    assert _local(db.session.scalar(select(Stay)).started_at) == _local(beyond)


@HTMX
@pytest.mark.parametrize("value", ["0001-01-01T00:00", "9999-12-31T23:59", "1999-06-01T12:00", "2101-01-01T00:00",
                                   "1999-12-31T23:59", "0000-01-01T00:00", "2024-13-45T99:99", "yesterday"])
def test_absurd_check_in_dates_are_the_fields_error_never_a_500(night, make_shelter, value, htmx):
    bed = beds_of(make_shelter(beds=1))[0]
    response = night.post(f"/beds/{bed.id}/check-in", {**NEW, "ci-new_birth_year": "", "ci-at": value}, htmx=htmx)
    body = _refused(response, 422, htmx)
    assert 'id="ci-at-error"' in body
    assert 'value="Mira"' in body and f'value="{value}"' in body  # the valid fields (and the bad one) kept
    assert _count(Stay) == 0 and _count(Resident) == 0


# --- 3. confirm ticks and undo --------------------------------------------------------------------

def _checked_in(client, bed, resident):
    assert client.post(f"/beds/{bed.id}/check-in", {"ci-resident_id": resident.id}).status_code == 303
    return db.session.scalar(select(Stay).where(Stay.bed_id == bed.id, Stay.ended_at.is_(None)))


def _checked_out(client, bed):
    response = client.post(f"/beds/{bed.id}/check-out", {"co-reason": "own_accommodation", "co-confirm": "y"})
    assert response.status_code == 303, _html(response)


@HTMX
def test_check_out_needs_the_tick(night, make_shelter, make_resident, htmx):
    bed = beds_of(make_shelter(beds=1))[0]
    stay = _checked_in(night, bed, make_resident("Ala"))
    response = night.post(f"/beds/{bed.id}/check-out", {"co-reason": "left", "co-destination": "NGO X"}, htmx=htmx)
    body = _refused(response, 422, htmx)
    assert 'id="co-confirm-error"' in body and "Tick to confirm the check-out." in body and 'value="NGO X"' in body
    db.session.refresh(stay)
    assert stay.ended_at is None


@HTMX
def test_the_one_who_checked_out_can_undo_it_from_the_board(night, make_shelter, make_resident, htmx):
    shelter = make_shelter(beds=1)
    bed = beds_of(shelter)[0]
    stay = _checked_in(night, bed, make_resident("Ala"))
    _checked_out(night, bed)
    board = _html(night.get(f"/board/{shelter.id}"))
    url = f"/board/{shelter.id}/undo/check_out/{stay.id}"
    assert f'action="{url}"' in board and "You checked out Ala." in board
    response = night.post(url, {"form_token": uuid4().hex}, htmx=htmx)
    body = _succeeded(response, htmx, f"/board/{shelter.id}#board")
    if htmx:
        assert "The check-out of Ala is undone." in body and f'action="{url}"' not in body
    db.session.refresh(stay)
    assert (stay.ended_at, stay.end_reason, stay.checkout_reason) == (None, None, None)
    assert len(_events("stay.check_out_undone")) == 1


def test_the_board_audits_the_aliases_of_its_undo_list(night, make_shelter, make_resident):
    shelter = make_shelter(beds=2, isolation_rooms=1)
    out_bed, iso_bed = beds_of(shelter)
    ala, ola = make_resident("Ala"), make_resident("Ola")
    _checked_in(night, out_bed, ala)
    _checked_out(night, out_bed)
    _checked_in(night, iso_bed, ola)
    started = night.post(f"/beds/{iso_bed.id}/isolate", {"is-room_id": rooms_of(shelter)[0].id, "is-reason": "health",
                                                         "is-expected_end_at": _local(_now() + timedelta(days=1))})
    assert started.status_code == 303
    assert night.post(f"/beds/{iso_bed.id}/end-isolation", {"ei-confirm": "y"}).status_code == 303
    board = _html(night.get(f"/board/{shelter.id}"))
    assert "You checked out Ala." in board  # not in a bed any more: shown only in the undo list
    seen = _events("board.view")[-1]
    assert seen.target_id == shelter.id and seen.details["resident_ids"] == sorted([ala.id, ola.id])


@HTMX
def test_undo_of_a_check_out_is_refused_after_the_window(night, make_shelter, make_resident, travel, htmx):
    shelter = make_shelter(beds=1)
    bed = beds_of(shelter)[0]
    stay = _checked_in(night, bed, make_resident("Ala"))
    _checked_out(night, bed)
    travel(minutes=UNDO_WINDOW.total_seconds() / 60 + 1)
    url = f"/board/{shelter.id}/undo/check_out/{stay.id}"
    assert f'action="{url}"' not in _html(night.get(f"/board/{shelter.id}"))
    body = _refused(night.post(url, {}, htmx=htmx), 409, htmx)
    assert "This check-out can no longer be undone here." in body
    db.session.refresh(stay)
    assert stay.ended_at is not None


@HTMX
def test_undo_of_a_check_out_by_someone_else_is_refused(night, login_as, make_shelter, make_resident, htmx):
    shelter = make_shelter(beds=1)
    bed = beds_of(shelter)[0]
    stay = _checked_in(night, bed, make_resident("Ala"))
    _checked_out(night, bed)
    other = login_as("night", locale="en")
    url = f"/board/{shelter.id}/undo/check_out/{stay.id}"
    assert f'action="{url}"' not in _html(other.get(f"/board/{shelter.id}"))
    body = _refused(other.post(url, {}, htmx=htmx), 409, htmx)
    assert "This check-out can no longer be undone here." in body
    db.session.refresh(stay)
    assert stay.ended_at is not None


@HTMX
def test_undo_of_a_check_out_is_refused_when_the_bed_was_taken(night, make_shelter, make_resident, htmx):
    shelter = make_shelter(beds=1)
    bed = beds_of(shelter)[0]
    stay = _checked_in(night, bed, make_resident("Ala"))
    _checked_out(night, bed)
    newcomer = _checked_in(night, bed, make_resident("Ola"))
    body = _refused(night.post(f"/board/{shelter.id}/undo/check_out/{stay.id}", {}, htmx=htmx), 409, htmx)
    assert "This bed is already taken." in body
    db.session.refresh(stay)
    db.session.refresh(newcomer)
    assert stay.ended_at is not None and newcomer.ended_at is None


def _isolated(client, bed, room_choice, *, note=""):
    response = client.post(f"/beds/{bed.id}/isolate", {
        "is-room_id": room_choice, "is-reason": "health", "is-note": note,
        "is-expected_end_at": _local(_now() + timedelta(days=2))})
    assert response.status_code == 303, _html(response)[:3000]
    return db.session.scalar(select(Isolation).where(Isolation.ended_at.is_(None)).order_by(Isolation.id.desc()))


@HTMX
def test_end_of_isolation_needs_the_tick_and_can_be_undone(night, make_shelter, make_resident, htmx):
    shelter = make_shelter(beds=1, isolation_rooms=1)
    bed = beds_of(shelter)[0]
    _checked_in(night, bed, make_resident("Ala"))
    isolation = _isolated(night, bed, rooms_of(shelter)[0].id)
    unconfirmed = night.post(f"/beds/{bed.id}/end-isolation", {}, htmx=htmx)
    body = _refused(unconfirmed, 422, htmx)
    assert 'id="ei-confirm-error"' in body and "Tick to confirm the end of the isolation." in body
    db.session.refresh(isolation)
    assert isolation.ended_at is None
    ended = night.post(f"/beds/{bed.id}/end-isolation", {"ei-confirm": "y"}, htmx=htmx)
    _succeeded(ended, htmx, f"/board/{shelter.id}#bed-{bed.id}")
    db.session.refresh(isolation)
    assert isolation.ended_at is not None
    url = f"/board/{shelter.id}/undo/end_isolation/{isolation.id}"
    assert f'action="{url}"' in _html(night.get(f"/board/{shelter.id}"))
    undone = night.post(url, {}, htmx=htmx)
    body = _succeeded(undone, htmx, f"/board/{shelter.id}#board")
    if htmx:
        assert "The isolation of Ala goes on." in body
    db.session.refresh(isolation)
    assert isolation.ended_at is None and isolation.ended_by_id is None


@HTMX
def test_undo_of_an_end_of_isolation_late_or_by_another_is_refused(night, login_as, make_shelter, make_resident,
                                                                   travel, htmx):
    shelter = make_shelter(beds=1, isolation_rooms=1)
    bed = beds_of(shelter)[0]
    _checked_in(night, bed, make_resident("Ala"))
    isolation = _isolated(night, bed, rooms_of(shelter)[0].id)
    assert night.post(f"/beds/{bed.id}/end-isolation", {"ei-confirm": "y"}).status_code == 303
    url = f"/board/{shelter.id}/undo/end_isolation/{isolation.id}"
    other = login_as("trainer", locale="en")
    body = _refused(other.post(url, {}, htmx=htmx), 409, htmx)
    assert "This end of isolation can no longer be undone here." in body
    travel(minutes=6)
    body = _refused(night.post(url, {}, htmx=htmx), 409, htmx)
    assert "This end of isolation can no longer be undone here." in body
    assert f'action="{url}"' not in _html(night.get(f"/board/{shelter.id}"))
    db.session.refresh(isolation)
    assert isolation.ended_at is not None


# --- 4. isolation -----------------------------------------------------------------------------------

def _isolate(client, bed, room_choice, htmx=False, **extra):
    return client.post(f"/beds/{bed.id}/isolate", {
        "is-room_id": room_choice, "is-reason": "safety",
        "is-expected_end_at": _local(_now() + timedelta(days=1)), **extra}, htmx=htmx)


@HTMX
def test_isolation_in_a_room_of_this_shelter(night, make_shelter, make_resident, htmx):
    shelter = make_shelter(beds=2, isolation_rooms=1)
    bed = beds_of(shelter)[0]
    room = rooms_of(shelter)[0]
    _checked_in(night, bed, make_resident("Ala"))
    body = _succeeded(_isolate(night, bed, room.id, htmx), htmx, f"/board/{shelter.id}#bed-{bed.id}")
    if htmx:
        assert "Ala is in isolation in Iso1." in body
    isolation = db.session.scalar(select(Isolation))
    assert isolation.room_id == room.id and isolation.ended_at is None


@HTMX
def test_isolation_in_a_room_of_another_shelter(night, make_shelter, make_resident, htmx):
    here = make_shelter(beds=2, isolation_rooms=0)
    there = make_shelter(beds=1, isolation_rooms=1, name="Far house")
    bed = beds_of(here)[0]
    room = rooms_of(there)[0]
    _checked_in(night, bed, make_resident("Ala"))
    panel = _html(night.get(f"/beds/{bed.id}"))
    assert f'value="{room.id}"' in panel and "Far house · Iso1" in panel
    _succeeded(_isolate(night, bed, room.id, htmx), htmx, f"/board/{here.id}#bed-{bed.id}")
    isolation = db.session.scalar(select(Isolation))
    assert isolation.room_id == room.id
    # the other shelter's board shows its isolation room taken
    assert "iso-taken" in _html(night.get(f"/board/{there.id}"))


@HTMX
def test_isolation_in_place_blocks_the_rooms_other_beds(night, login_as, make_shelter, make_resident, htmx):
    shelter = make_shelter(beds=4, beds_per_room=2, isolation_rooms=0)
    r1b1, r1b2, r2b1, r2b2 = beds_of(shelter)
    ala, ola = make_resident("Ala"), make_resident("Ola")
    _checked_in(night, r1b1, ala)
    assert 'value="here"' in _html(night.get(f"/beds/{r1b1.id}"))  # alone in the room: in place is offered
    _succeeded(_isolate(night, r1b1, "here", htmx), htmx, f"/board/{shelter.id}#bed-{r1b1.id}")
    isolation = db.session.scalar(select(Isolation))
    assert isolation.room_id == r1b1.room_id and isolation.ended_at is None
    board = _html(night.get(f"/board/{shelter.id}"))
    assert "isolated in place" in board
    assert f'id="bed-{r1b2.id}" class="bed bed-blocked"' in board
    assert f'id="bed-{r2b1.id}" class="bed bed-free"' in board
    assert "2 free of 4 beds" in board
    refused = night.post(f"/beds/{r1b2.id}/check-in", {"ci-resident_id": ola.id}, htmx=htmx)
    body = _refused(refused, 409, htmx)
    assert "This room is isolated" in body
    assert _count(Stay, Stay.resident_id == ola.id) == 0
    moved = night.post(f"/beds/{r1b1.id}/move", {"m-to_bed_id": r1b2.id}, htmx=htmx)
    _refused(moved, 409, htmx)
    held = night.post(f"/beds/{r1b2.id}/hold", {"h-expires_at": _local(_now() + timedelta(hours=2))}, htmx=htmx)
    _refused(held, 409, htmx)
    # availability counts only the free beds of the other room
    partner = login_as("casemanager", locale="en")
    [entry] = [s for s in partner.get("/api/v1/availability").get_json()["shelters"]
               if s["code_name"] == shelter.code_name]
    assert entry["free_beds"]["woman"] == 2 and entry["free_beds_total"] == 2
    # once the isolation ends, the room's bed is free again
    assert night.post(f"/beds/{r1b1.id}/end-isolation", {"ei-confirm": "y"}).status_code == 303
    assert f'id="bed-{r1b2.id}" class="bed bed-free"' in _html(night.get(f"/board/{shelter.id}"))


NO_ROOM_HERE = "No isolation room is free in this shelter."
IN_PLACE_OFFER = "You can isolate the resident in place"
OTHERS_OFFER = "Other shelters have free isolation rooms; they are listed below."


@pytest.mark.parametrize("alone, elsewhere", [(True, True), (True, False), (False, True)],
                         ids=["alone-and-elsewhere", "alone-only", "shared-but-elsewhere"])
def test_with_no_isolation_room_free_the_panel_says_so_and_offers_what_can_be_done(night, make_shelter,
                                                                                   make_resident, alone, elsewhere):
    here = make_shelter(beds=2, beds_per_room=2, isolation_rooms=1)
    taken = make_resident("Ola")
    b1, b2 = beds_of(here)
    _checked_in(night, b2, taken)
    assert _isolate(night, b2, rooms_of(here)[0].id).status_code == 303  # the shelter's one isolation room is taken
    if alone:  # Ala gets a room of her own (a second regular room)
        from tests.factories import make_bed, make_room

        b1 = make_bed(make_room(here, "Single"), "S1")
        db.session.commit()
    ala = make_resident("Ala")
    _checked_in(night, b1, ala)
    if elsewhere:
        there = make_shelter(beds=1, isolation_rooms=1, name="Far house")
        far_room = rooms_of(there)[0]
    panel = _html(night.get(f"/beds/{b1.id}"))
    assert NO_ROOM_HERE in panel
    assert (IN_PLACE_OFFER in panel) is alone and ('value="here"' in panel) is alone
    assert (OTHERS_OFFER in panel) is elsewhere
    if elsewhere:
        assert f'value="{far_room.id}"' in panel and "Far house · Iso1" in panel


def test_with_no_room_free_anywhere_and_a_shared_room_the_panel_says_what_to_do(night, make_shelter, make_resident):
    shelter = make_shelter(beds=2, beds_per_room=2, isolation_rooms=0)
    b1, b2 = beds_of(shelter)
    _checked_in(night, b1, make_resident("Ala"))
    _checked_in(night, b2, make_resident("Ola"))
    panel = _html(night.get(f"/beds/{b1.id}"))
    assert NO_ROOM_HERE in panel and IN_PLACE_OFFER not in panel and OTHERS_OFFER not in panel
    assert "Move the resident to a room of their own first" in panel
    assert f'action="/beds/{b1.id}/isolate"' not in panel


@HTMX
@pytest.mark.parametrize("other", ["occupied", "held"])
def test_isolation_in_place_is_refused_when_the_room_is_shared(night, make_shelter, make_resident, other, htmx):
    shelter = make_shelter(beds=2, isolation_rooms=0)
    b1, b2 = beds_of(shelter)
    _checked_in(night, b1, make_resident("Ala"))
    if other == "occupied":
        _checked_in(night, b2, make_resident("Ola"))
    else:
        assert night.post(f"/beds/{b2.id}/hold", {
            "h-expires_at": _local(_now() + timedelta(hours=3))}).status_code == 303
    assert 'value="here"' not in _html(night.get(f"/beds/{b1.id}"))
    body = _refused(_isolate(night, b1, "here", htmx), 409, htmx)
    assert "Others sleep in this room or are expected" in body
    assert _count(Isolation) == 0


# --- 5. double submission ---------------------------------------------------------------------------

@HTMX
def test_a_double_tap_checks_in_once_and_answers_success_twice(night, make_shelter, make_resident, htmx):
    shelter = make_shelter(beds=1)
    bed = beds_of(shelter)[0]
    ala, ola = make_resident("Ala"), make_resident("Ola")
    token = uuid4().hex
    first = night.post(f"/beds/{bed.id}/check-in", {"ci-resident_id": ala.id, "form_token": token}, htmx=htmx)
    second = night.post(f"/beds/{bed.id}/check-in", {"ci-resident_id": ala.id, "form_token": token}, htmx=htmx)
    location = f"/board/{shelter.id}#bed-{bed.id}"
    for response in (first, second):
        body = _succeeded(response, htmx, location)
        if htmx:
            assert "Ala checked in to bed B1." in body
    assert _count(Stay) == 1 and len(_events("stay.check_in")) == 1
    # another form (another token) on the now occupied bed is refused
    third = night.post(f"/beds/{bed.id}/check-in", {"ci-resident_id": ola.id, "form_token": uuid4().hex}, htmx=htmx)
    assert "This bed is already taken." in _refused(third, 409, htmx)
    assert _count(Stay) == 1


@HTMX
def test_a_double_tap_checks_out_once(night, make_shelter, make_resident, htmx):
    shelter = make_shelter(beds=1)
    bed = beds_of(shelter)[0]
    _checked_in(night, bed, make_resident("Ala"))
    data = {"co-reason": "left", "co-confirm": "y", "form_token": uuid4().hex}
    for _ in range(2):
        _succeeded(night.post(f"/beds/{bed.id}/check-out", data, htmx=htmx), htmx,
                   f"/board/{shelter.id}#bed-{bed.id}")
    assert len(_events("stay.check_out")) == 1


# --- 6. refusals show the bed as it is, and keep what was typed --------------------------------------

@HTMX
def test_a_conflict_shows_the_message_and_the_beds_current_panel(night, make_shelter, make_resident, htmx):
    shelter = make_shelter(beds=2)
    b1 = beds_of(shelter)[0]
    _checked_in(night, b1, make_resident("Ala"))
    ola = make_resident("Ola")
    response = night.post(f"/beds/{b1.id}/check-in", {"ci-resident_id": ola.id}, htmx=htmx)
    body = _refused(response, 409, htmx)
    assert "This bed is already taken." in body
    assert "Room R1 · bed B1" in body and 'class="state state-occupied"' in body and "Ala" in body
    assert f'action="/beds/{b1.id}/check-out"' in body  # the panel of an occupied bed, not the stale check-in form
    if htmx:
        assert response.headers["HX-Retarget"] == "#panel" and response.headers["HX-Reswap"] == "innerHTML"


@HTMX
def test_a_refused_isolation_keeps_what_was_typed(night, make_shelter, make_resident, htmx):
    shelter = make_shelter(beds=1, isolation_rooms=1)
    bed = beds_of(shelter)[0]
    room = rooms_of(shelter)[0]
    _checked_in(night, bed, make_resident("Ala"))
    response = night.post(f"/beds/{bed.id}/isolate", {
        "is-room_id": room.id, "is-reason": "safety", "is-note": "Stays in her room", "is-expected_end_at": "soon"},
        htmx=htmx)
    body = _refused(response, 422, htmx)
    assert 'id="is-expected_end_at-error"' in body
    assert 'value="Stays in her room"' in body and 'value="soon"' in body
    assert f'<option selected value="{room.id}">' in body or f'value="{room.id}" selected' in body
    assert '<option selected value="safety">' in body or 'value="safety" selected' in body


# --- 7. hostile ids ---------------------------------------------------------------------------------

HOSTILE_BED_IDS = ["0", "2147483648", "9223372036854775807", "9223372036854775808", "99999999999999999999999"]


@HTMX
@pytest.mark.parametrize("bed_id", HOSTILE_BED_IDS)
@pytest.mark.parametrize("slug,data", [
    ("check-in", {"ci-new_alias": "X", "ci-new_sex": "female", "ci-new_age_band": "adult"}),
    ("move", {"m-to_bed_id": "1"}),
    ("check-out", {"co-reason": "left", "co-confirm": "y"}),
    ("isolate", {"is-room_id": "here", "is-reason": "health"}),
    ("end-isolation", {"ei-confirm": "y"}),
    ("hold", {"h-expires_at": "2030-01-01T10:00"}),
], ids=lambda v: v if isinstance(v, str) else "")
def test_hostile_bed_ids_are_404(night, make_shelter, bed_id, slug, data, htmx):
    make_shelter(beds=1)
    response = night.post(f"/beds/{bed_id}/{slug}", data, htmx=htmx)
    assert response.status_code == 404, _html(response)[:2000]
    assert _count(Stay) == 0 and _count(Resident) == 0


@pytest.mark.parametrize("path", ["/beds/0", "/beds/2147483648", "/beds/9223372036854775808"])
def test_hostile_bed_ids_in_the_panel_are_404(night, path):
    assert night.get(path).status_code == 404


BAD_IDS = ["abc", "1.5", "-1", "0", "2147483648", "9223372036854775808", "99999999999999999999999", "1e3",
           "0x10", "1 OR 1=1", "\x00", "%00", "[]"]


@HTMX
@pytest.mark.parametrize("value", BAD_IDS)
def test_hostile_resident_ids_are_the_fields_error(night, make_shelter, make_resident, value, htmx):
    bed = beds_of(make_shelter(beds=1))[0]
    make_resident("Ala")
    response = night.post(f"/beds/{bed.id}/check-in", {"ci-resident_id": value}, htmx=htmx)
    assert response.status_code in (404, 422), _html(response)[:2000]
    if response.status_code == 422:
        assert 'id="ci-resident_id-error"' in _html(response)
    assert _count(Stay) == 0


@HTMX
@pytest.mark.parametrize("value", BAD_IDS)
def test_hostile_to_bed_ids_are_the_fields_error(night, make_shelter, make_resident, value, htmx):
    bed = beds_of(make_shelter(beds=2))[0]
    stay = _checked_in(night, bed, make_resident("Ala"))
    response = night.post(f"/beds/{bed.id}/move", {"m-to_bed_id": value}, htmx=htmx)
    assert response.status_code in (404, 422), _html(response)[:2000]
    if response.status_code == 422:
        assert 'id="m-to_bed_id-error"' in _html(response)
    db.session.refresh(stay)
    assert stay.ended_at is None and _count(Stay) == 1


@HTMX
@pytest.mark.parametrize("value", BAD_IDS)
def test_hostile_isolation_room_ids_are_the_fields_error(night, make_shelter, make_resident, value, htmx):
    bed = beds_of(make_shelter(beds=2, isolation_rooms=1))[0]
    _checked_in(night, bed, make_resident("Ala"))
    response = _isolate(night, bed, value, htmx)
    assert response.status_code in (404, 422), _html(response)[:2000]
    if response.status_code == 422:
        assert 'id="is-room_id-error"' in _html(response)
    assert _count(Isolation) == 0


@HTMX
@pytest.mark.parametrize("kind", ["check_out", "end_isolation"])
@pytest.mark.parametrize("item_id", ["0", "2147483648", "9223372036854775808"])
def test_hostile_undo_ids_are_404(night, make_shelter, kind, item_id, htmx):
    shelter = make_shelter(beds=1)
    assert night.post(f"/board/{shelter.id}/undo/{kind}/{item_id}", {}, htmx=htmx).status_code == 404
    assert night.post(f"/board/{item_id}/undo/{kind}/1", {}, htmx=htmx).status_code == 404
