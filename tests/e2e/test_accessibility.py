"""axe-core on the main pages at phone and tablet size, light and dark: no serious or critical violations."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")

# (name, role that opens it or None for a visitor, path). A page joins the check with one line,
# e.g. the bed board: ("board", "night", "/board").
PAGES = [
    ("login", None, "/login"),
    ("offline", None, "/offline"),
    ("home-manager", "manager", "/"),
    ("home-trainer", "trainer", "/"),
    ("home-night", "night", "/"),
    ("home-casemanager", "casemanager", "/"),
    ("home-admin", "admin", "/"),
    ("account-night", "night", "/account"),
]

RUN_AXE = """async (selector) => {
    const result = await axe.run(selector || document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map((n) => n.target.join(" ")),
    }));
}"""


def _serious(page, selector: str | None = None) -> list[dict]:
    return [v for v in page.evaluate(RUN_AXE, selector) if v["impact"] in SERIOUS]


def _axe_page(new_page, kind: str):
    # axe.min.js is injected as an inline script, which the app's CSP rightly refuses: bypassed
    # in this test's browser context only. Reduced motion: no colour transition is caught
    # half-way when the colour scheme switches.
    return new_page(kind, locale="en", bypass_csp=True, service_workers="block", reduced_motion="reduce")


@pytest.mark.parametrize("kind", ["phone", "tablet"])
@pytest.mark.parametrize(("name", "role", "path"), PAGES, ids=[p[0] for p in PAGES])
def test_no_serious_accessibility_violations(new_page, make_user, kind, name, role, path):
    page = _axe_page(new_page, kind)
    if role:
        user = make_user(role, locale="en", display_name=f"{role.title()} on duty")
        sign_in(page, user.username, PASSWORD)
    response = page.goto(path)
    assert response.status == 200, f"{path} answered {response.status}"
    page.add_script_tag(path=str(AXE))
    assert page.evaluate("typeof axe.run") == "function"
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        violations = _serious(page)
        assert violations == [], f"{name} at {kind} size, {scheme}: {violations}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_offline_indicator_notice_and_update_prompt_are_accessible(new_page, make_user, scheme):
    page = _axe_page(new_page, "phone")
    user = make_user("night", locale="en")
    sign_in(page, user.username, PASSWORD)
    page.emulate_media(color_scheme=scheme)
    page.add_script_tag(path=str(AXE))
    page.evaluate("""() => {
        const button = document.createElement("button");
        button.id = "load-more";
        button.textContent = "Load more";
        button.setAttribute("hx-get", "/account");
        document.querySelector("#main").append(button);
        htmx.process(button);
        document.getElementById("sw-update").hidden = false;
    }""")
    page.context.set_offline(True)
    page.locator("#load-more").click()
    page.locator(".offline-notice").wait_for()
    assert page.locator("#net-status").inner_text() == "Offline"
    for part in ("#net-status", ".offline-notice", "#sw-update"):
        assert page.locator(part).is_visible()
        assert _serious(page, part) == [], part


def test_the_check_catches_a_planted_violation(new_page):
    page = _axe_page(new_page, "phone")
    page.goto("/login")
    page.add_script_tag(path=str(AXE))
    page.evaluate("""() => {
        const button = document.createElement("button");
        button.id = "unnamed";  // a button with no name: axe's "button-name", critical
        document.querySelector("#main").append(button);
    }""")
    assert {v["id"] for v in _serious(page)} == {"button-name"}


@pytest.mark.parametrize("kind", ["phone", "tablet"])
def test_bed_board_and_an_open_bed_panel(new_page, make_user, make_shelter, make_resident, kind):
    from datetime import timedelta

    from shelter_app import timeutil
    from shelter_app.extensions import db
    from shelter_app.beds import services as bed_services
    from tests import factories
    from tests.conftest import beds_of, rooms_of

    shelter = make_shelter(beds=6, isolation_rooms=1)
    beds = beds_of(shelter)
    now = timeutil.utcnow()
    ala = make_resident("Ala", languages="Ukrainian", allergies="nuts")
    factories.check_in(beds[0], ala, now=now)
    factories.isolate(beds[0], rooms_of(shelter)[0], now=now)
    bed_services.place_hold(beds[1].id, now + timedelta(hours=2), "", actor=None, at=now)
    bed_services.set_out_of_service(beds[2].id, "Leak", None, actor=None, at=now)
    db.session.commit()
    occupied, free = beds[0].id, beds[3].id

    page = _axe_page(new_page, kind)
    user = make_user("night", locale="en")
    sign_in(page, user.username, PASSWORD)
    assert page.goto(f"/board/{shelter.id}").status == 200
    page.add_script_tag(path=str(AXE))
    for bed_id in (occupied, free):
        page.locator(f"#bed-{bed_id}").click()
        page.locator("#panel .panel-head").wait_for()
        page.locator("#panel details").first.evaluate("d => d.open = true")
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            violations = _serious(page)
            assert violations == [], f"board, bed {bed_id}, {kind}, {scheme}: {violations}"
        page.locator("#panel .panel-close").click()  # the sheet covers the beds on a phone
        page.locator("#panel .panel-head").wait_for(state="detached")
