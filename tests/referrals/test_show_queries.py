"""A case manager's referral page runs a fixed number of statements, none of them from its template."""
from __future__ import annotations

from contextlib import contextmanager

from flask import before_render_template, template_rendered
from sqlalchemy import event

from shelter_app.extensions import db
from tests.factories import make_shelter


@contextmanager
def statements_while_rendering(app):
    """(every statement, those run while a template renders) of the requests made inside."""
    every: list[str] = []
    rendering: list[str] = []
    depth = [0]

    def started(sender, template, context, **extra):
        depth[0] += 1

    def finished(sender, template, context, **extra):
        depth[0] -= 1

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("BEGIN"):
            return
        every.append(statement)
        if depth[0]:
            rendering.append(statement)

    before_render_template.connect(started, app)
    template_rendered.connect(finished, app)
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield every, rendering
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
        template_rendered.disconnect(finished, app)
        before_render_template.disconnect(started, app)


def _show(app, cm, public_id):
    cm.get(f"/referrals/{public_id}")  # warm: the session's last use is written here
    with statements_while_rendering(app) as (every, rendering):
        page = cm.get(f"/referrals/{public_id}")
    assert page.status_code == 200
    return len(every), rendering


def test_the_referral_page_reads_its_shelter_with_the_referral(app, login_as, send_referral):
    shelter, _beds = make_shelter(code_name="Harbour", beds={"woman": 2})
    cm = login_as("casemanager", organisation="NGO One", locale="en")
    staff = login_as("night")
    to_shelter = send_referral(cm, shelter=shelter.code_name, code="Q-1")
    to_any = send_referral(cm, code="Q-2")
    accepted = send_referral(cm, shelter=shelter.code_name, code="Q-3")
    answer = staff.post(f"/referrals/{accepted}/accept", {f"accept{accepted}-shelter_id": shelter.id}, htmx=True)
    assert answer.status_code == 200

    counts = {}
    for name, public_id in (("to a shelter", to_shelter), ("to any shelter", to_any), ("accepted", accepted)):
        counts[name], rendering = _show(app, cm, public_id)
        assert rendering == [], f"the page of a referral {name} queries from its template: {rendering}"
    assert len(set(counts.values())) == 1, counts
    assert "Harbour holds a bed until" in cm.get(f"/referrals/{accepted}").get_data(as_text=True)
