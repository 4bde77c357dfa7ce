"""The referral block keeps the bed board's statement count fixed, however many referrals wait."""
from __future__ import annotations

from sqlalchemy import event

from shelter_app.extensions import db
from tests.factories import make_shelter


def _statements(call) -> int:
    seen = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith("BEGIN"):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = call()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(seen)


def _referrals(cm, send_referral, shelter, staff, n, *, accept):
    for _ in range(n):
        referral_id = send_referral(cm, code=f"Q-{next(_codes)}", shelter=shelter.code_name)
        if accept:
            response = staff.post(f"/referrals/{referral_id}/accept",
                                  {f"accept{referral_id}-shelter_id": shelter.id}, htmx=True)
            assert response.status_code == 200


_codes = iter(range(10_000))


def test_board_statements_do_not_grow_with_referrals(login_as, send_referral):
    shelter, _beds = make_shelter(beds={"woman": 30})
    cm = login_as("casemanager", organisation="NGO One")
    staff = login_as("night")
    _referrals(cm, send_referral, shelter, staff, 1, accept=True)
    _referrals(cm, send_referral, shelter, staff, 1, accept=False)
    few = _statements(lambda: staff.get(f"/board/{shelter.id}"))
    fragment_few = _statements(lambda: staff.get(f"/board/{shelter.id}", htmx=True))
    _referrals(cm, send_referral, shelter, staff, 12, accept=True)
    _referrals(cm, send_referral, shelter, staff, 15, accept=False)
    many_page = staff.get(f"/board/{shelter.id}").get_data(as_text=True)
    assert many_page.count('class="referral referral-expected"') == 13
    assert many_page.count('class="referral"') + many_page.count('class="referral referral-overdue"') == 16
    assert _statements(lambda: staff.get(f"/board/{shelter.id}")) == few
    assert _statements(lambda: staff.get(f"/board/{shelter.id}", htmx=True)) == fragment_few
