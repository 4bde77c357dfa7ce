"""A shelter with residents in bed and night-round times, and the staff who work there."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest

from shelter_app import timeutil
from shelter_app.extensions import db
from shelter_app.handovers import services
from tests import factories
from tests.conftest import beds_of

SET_AT = datetime(2025, 1, 1, tzinfo=timezone.utc)


@dataclass
class House:
    shelter: object
    residents: list
    beds: list
    rooms: list
    ids: dict = field(default_factory=dict)


@pytest.fixture
def house(make_shelter, make_resident):
    """A shelter of 4 beds in 2 rooms and 1 isolation room; Ala, Basia, Cyra in bed; rounds 23:00, 02:00, 05:00."""
    shelter = make_shelter(beds=4, beds_per_room=2, isolation_rooms=1, name="House Night")
    beds = beds_of(shelter)
    residents = []
    for bed, alias in zip(beds, ("Ala", "Basia", "Cyra")):
        resident = make_resident(alias, shelter_id=shelter.id)
        factories.check_in(bed, resident)
        residents.append(resident)
    # Set long ago: every night the tests move the clock to expects its rounds.
    services.set_times(shelter, day_starts="07:00", night_starts="19:00", curfew="22:00",
                       rounds="23:00, 02:00, 05:00", actor=None, at=SET_AT)
    db.session.commit()
    return House(shelter=shelter, residents=residents, beds=beds, rooms=list(shelter.rooms))


@pytest.fixture
def at_local():
    """Set the app's clock to a local Warsaw wall-clock time: at_local(2026, 1, 14, 23, 5)."""

    def move(*parts):
        target = timeutil.local_to_utc(datetime(*parts))
        timeutil.offset = timedelta(0)
        timeutil.offset = target - timeutil.utcnow()
        return target

    return move


def json_post(client, url, data, key):
    """A POST as the phone's outbox sends it: JSON wanted, an Idempotency-Key, the CSRF token in a header."""
    return client.post(url, data, csrf=False, headers={"Accept": "application/json", "Idempotency-Key": key,
                                                        "X-CSRFToken": client.csrf})
