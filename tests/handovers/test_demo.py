"""`shelter-app demo` shows the feature: shift times, the rota, last night's rounds and a handover to read."""
from __future__ import annotations

from sqlalchemy import func, select

from shelter_app import timeutil
from shelter_app.extensions import db
from shelter_app.handovers import services
from shelter_app.handovers.models import Handover, HandoverEntry, RoundTime, Task
from shelter_app.shelters.models import Shelter
from tests.conftest import Client

PASSWORD = "demo password 123"


def test_the_demo_seeds_shifts_and_a_handover_to_read(app):
    runner = app.test_cli_runner()
    for _ in range(2):  # idempotent
        result = runner.invoke(args=["seed-demo"], env={"SHELTER_DEMO_PASSWORD": PASSWORD})
        assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count(RoundTime.id))) == 6
    assert db.session.scalar(select(func.count(Handover.id)).where(Handover.acknowledged_at.is_(None),
                                                                 Handover.handed_over_at.is_not(None))) == 1
    assert db.session.scalar(select(func.count(HandoverEntry.id))) == 3
    assert db.session.scalar(select(func.count(Task.id))) == 1
    house = db.session.scalar(select(Shelter).where(Shelter.code_name == "Przystań"))
    now = timeutil.utcnow()
    assert {u.username for u in services.on_duty(house, now)} >= {"manager"}
    # Last night's rounds are done: nothing late in a fresh demo, whatever the hour.
    assert [f for f in services.flags(house, now) if f.kind in ("round_late", "headcount")] == []
    night = Client(app)
    night.csrf = None
    response = night.post("/login", {"username": "night", "password": PASSWORD}, headers={"Accept-Language": "en"})
    assert response.status_code == 303
    start = night.get("/")
    assert start.headers["Location"].endswith(f"/shift/{house.id}")
    assert "A man asked at the gate" in night.get(f"/shift/{house.id}").get_data(as_text=True)
