"""Every main page fits a 360 px wide phone: nothing scrolls sideways."""
from __future__ import annotations

from datetime import timedelta

from tests.conftest import PASSWORD, beds_of
from tests.e2e.conftest import assert_no_horizontal_scroll, sign_in


def test_pages_fit_360_px(browser, live_server, make_user, make_shelter, make_resident):
    from shelter_app import timeutil
    from shelter_app.extensions import db
    from tests import factories

    shelter = make_shelter(beds=8, isolation_rooms=1, name="A shelter with a rather long name for a phone")
    bed = beds_of(shelter)[0]
    resident = make_resident("Aleksandra-Magdalena Długopseudonim", languages="Ukrainian, Russian, English",
                             allergies="penicillin, peanuts, shellfish, latex")
    now = timeutil.utcnow()
    factories.check_in(bed, resident, at=now - timedelta(days=3), now=now)
    db.session.commit()
    pages = {
        "manager": ["/", f"/board/{shelter.id}", f"/beds/{bed.id}", "/residents", f"/residents/{resident.id}",
                    "/residents/new", f"/residents/{resident.id}/edit", "/shelters", f"/shelters/{shelter.id}",
                    "/account"],
        "admin": ["/admin/users"],
    }
    context = browser.new_context(viewport={"width": 360, "height": 740}, base_url=live_server, locale="pl-PL")
    try:
        for role, paths in pages.items():
            page = context.new_page()
            user = make_user(role, locale="pl")
            sign_in(page, user.username, PASSWORD)
            for path in paths:
                assert page.goto(path).status == 200, path
                assert_no_horizontal_scroll(page)
            page.goto(f"/admin/users/{user.id}" if role == "admin" else "/account")
            assert_no_horizontal_scroll(page)
            page.locator("header form button").click()  # sign out before the next role
            page.wait_for_url("**/login")
            page.close()
    finally:
        context.close()
