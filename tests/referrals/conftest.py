"""Helpers for referral tests: a case manager's form, filled in."""
from __future__ import annotations

from datetime import timedelta

import pytest

from shelter_app import timeutil
from shelter_app.timeutil import local_input_value


def referral_form(**overrides) -> dict:
    """The fields of /referrals/new as a browser sends them (arrival in the next hours)."""
    now = timeutil.utcnow()
    data = {
        "shelter": "", "category": "woman", "people": "1",
        "arrival_from": local_input_value(now), "arrival_until": local_input_value(now + timedelta(hours=4)),
        "languages": "Ukrainian", "note": "", "code": "CASE-1",
    }
    data.update(overrides)
    return data


@pytest.fixture
def send_referral():
    """send_referral(case_manager_client, **fields) -> the referral's public id (asserts the 303)."""

    def send(cm, **overrides) -> str:
        response = cm.post("/referrals/new", referral_form(**overrides))
        assert response.status_code == 303, response.get_data(as_text=True)[-2000:]
        return response.headers["Location"].rsplit("/", 1)[1]

    return send
