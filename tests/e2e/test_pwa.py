"""The installable app in Chromium: installability, the offline shell, updates, phone and tablet layout."""
from __future__ import annotations

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import (
    PHONE,
    TABLET,
    assert_no_horizontal_scroll,
    screenshot,
    sign_in,
    wait_for_service_worker,
)

ROLES = ["manager", "trainer", "night", "casemanager", "admin"]

CACHED_URLS = """async (name) => {
    const cache = await caches.open(name);
    return (await cache.keys()).map((r) => new URL(r.url).pathname + new URL(r.url).search);
}"""


def _page(ctx):
    return ctx.pages[0] if ctx.pages else ctx.new_page()


@pytest.mark.parametrize("kind", ["phone", "tablet"])
def test_chromium_finds_the_app_installable(persistent_context, kind):
    ctx = persistent_context(kind, locale="en")
    page = _page(ctx)
    page.goto("/login")
    wait_for_service_worker(page)
    cdp = ctx.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["url"].endswith("/manifest.webmanifest")
    assert manifest["errors"] == []
    assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []


def test_offline_after_one_visit(persistent_context, make_user):
    user = make_user("trainer", locale="en")
    ctx = persistent_context("phone", locale="en")
    page = _page(ctx)
    sign_in(page, user.username, PASSWORD)
    assert page.locator("h1").inner_text() == "Beds"
    cache_name = wait_for_service_worker(page)
    assert cache_name and cache_name.startswith("shelter-shell-")
    page.goto("/account")  # a second page with a signed-in user's data, online
    cached = page.evaluate(CACHED_URLS, cache_name)
    assert "/offline" in cached
    assert any(url.startswith("/static/bundle/app.css?v=") for url in cached)
    # No page that can show resident data is kept: only the offline page and static files.
    assert [url for url in cached if not url.startswith("/static/")] == ["/offline"]
    assert page.evaluate("caches.keys()") == [cache_name]

    # An htmx request with no connection: the page stays, a notice appears where it was asked for.
    page.goto("/")
    page.evaluate("""() => {
        const button = document.createElement("button");
        button.id = "load-more";
        button.textContent = "Load more";
        button.setAttribute("hx-get", "/account");
        button.setAttribute("hx-target", "#main");
        document.querySelector("#main").append(button);
        htmx.process(button);
    }""")
    ctx.set_offline(True)
    page.locator("#load-more").click()
    notice = page.locator("#load-more + .offline-notice")
    notice.wait_for()
    assert notice.get_attribute("role") == "alert"
    assert "No connection" in notice.inner_text()
    assert page.locator("h1").inner_text() == "Beds", "the page is as it was"
    assert page.locator("#net-status").inner_text() == "Offline"
    screenshot(page, "offline-htmx-notice-phone")

    # A navigation with no connection: the cached offline page, its styles and script from the cache.
    static = []
    page.on("response", lambda r: static.append(r) if "/static/" in r.url else None)
    response = page.goto("/account")
    assert response.from_service_worker and response.status == 200
    assert page.url.endswith("/account")
    assert page.locator("h1").inner_text() == "You are offline"
    assert page.locator("#offline-retry").is_visible()
    css_js = [r for r in static if ".css?v=" in r.url or ".js?v=" in r.url]
    assert len(css_js) == 2, [r.url for r in static]  # the bundles: one stylesheet, one script
    assert all(r.from_service_worker for r in css_js), [r.url for r in css_js]
    # Everything else came too: from the service worker, or from the browser's memory of an immutable file.
    assert all(r.status == 200 for r in static), [(r.url, r.status) for r in static]
    assert page.evaluate("getComputedStyle(document.querySelector('.topbar')).position") == "sticky"
    assert page.locator("#net-status").inner_text() == "Offline"  # app.js ran, from the cache
    assert page.locator(".who").count() == 0 and page.locator("nav.appnav").count() == 0
    assert_no_horizontal_scroll(page)
    screenshot(page, "offline-page-phone")

    # The connection returns: the page that failed loads by itself.
    ctx.set_offline(False)
    page.wait_for_function("() => document.querySelector('h1')?.textContent === 'Account'", timeout=15000)
    assert page.locator("#net-status").inner_text() == "Online"


def test_offline_retry_button_loads_the_page(persistent_context, make_user):
    user = make_user("trainer", locale="en")
    ctx = persistent_context("tablet", locale="en")
    page = _page(ctx)
    sign_in(page, user.username, PASSWORD)
    wait_for_service_worker(page)
    ctx.set_offline(True)
    page.goto("/account")
    assert page.locator("h1").inner_text() == "You are offline"
    screenshot(page, "offline-page-tablet")
    with page.expect_navigation():
        page.locator("#offline-retry").click()  # still offline: the offline page again
    assert page.url.endswith("/account")
    assert page.locator("h1").inner_text() == "You are offline"
    ctx.set_offline(False)  # back online: the page that failed loads by itself
    page.wait_for_function("() => document.querySelector('h1')?.textContent === 'Account'", timeout=15000)
    page.goto("/offline")  # opened directly, online: "Try again" goes to the start page
    with page.expect_navigation():
        page.locator("#offline-retry").click()
    assert page.url.endswith("/board") and page.locator("h1").inner_text() == "Beds"  # the start page


def test_a_new_release_is_picked_up_and_the_old_cache_deleted(persistent_context, make_user, static_copy):
    user = make_user("manager", locale="en")
    ctx = persistent_context("phone", locale="en")
    page = _page(ctx)
    sign_in(page, user.username, PASSWORD)
    old_cache = wait_for_service_worker(page)
    old_css = [u for u in page.evaluate(CACHED_URLS, old_cache) if u.startswith("/static/css/app.css")]
    assert page.locator("#sw-update").is_hidden()

    # The next release changes a stylesheet: /sw.js now names another cache.
    css = static_copy / "css" / "app.css"
    css.write_text(css.read_text() + "\n.release-marker { order: 2; }\n")
    page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
    prompt = page.locator("#sw-update")
    prompt.wait_for(state="visible")
    assert "new version" in prompt.inner_text()
    assert page.evaluate("caches.keys()").count(old_cache) == 1, "the old cache serves until the person reloads"
    screenshot(page, "update-prompt-phone")

    with page.expect_navigation():
        prompt.get_by_role("button", name="Reload").click()
    page.wait_for_load_state()
    for _ in range(50):  # the old cache goes when the new version activates
        names = page.evaluate("caches.keys()")
        if old_cache not in names:
            break
        page.wait_for_timeout(100)
    assert len(names) == 1 and names[0] != old_cache, names
    new_cache = names[0]
    assert new_cache.startswith("shelter-shell-") and new_cache != old_cache
    new_css = [u for u in page.evaluate(CACHED_URLS, new_cache) if u.startswith("/static/css/app.css")]
    assert new_css and new_css != old_css
    assert page.locator("link[rel=stylesheet][href^='/static/css/app.css']").get_attribute("href") == new_css[0]
    assert page.locator("#sw-update").is_hidden()


LAYOUT_PAGES = ["login", "offline"] + ROLES
BACKGROUNDS = {"light": "rgb(255, 255, 255)", "dark": "rgb(19, 23, 31)"}


@pytest.mark.parametrize("kind", ["phone", "tablet"])
def test_main_pages_fit_the_screen(new_page, make_user, kind):
    viewport = PHONE if kind == "phone" else TABLET
    for name in LAYOUT_PAGES:
        # Layout only: without the service worker's installs, each fresh context loads faster.
        page = new_page(kind, locale="en", service_workers="block")
        if name in ROLES:
            user = make_user(name, locale="en", display_name=f"{name.title()} on duty")
            sign_in(page, user.username, PASSWORD)
            assert page.url.endswith(("/board", "/availability", "/admin/users")), page.url  # where the role's work is
        else:
            page.goto(f"/{name}")
        for scheme, background in BACKGROUNDS.items():
            page.emulate_media(color_scheme=scheme)
            # The dark theme follows the system setting.
            assert page.evaluate("getComputedStyle(document.documentElement).backgroundColor") == background
            assert_no_horizontal_scroll(page)
            status = page.locator("#net-status")
            assert status.is_visible() and status.get_attribute("role") == "status"
            for target in page.locator("header a, header button, nav.appnav a, main button").all():
                if target.is_visible():
                    box = target.bounding_box()
                    assert box["height"] >= 44, (name, target.inner_text(), box)
            if name in ROLES:
                nav = page.locator("nav.appnav").bounding_box()
                main = page.locator("main").bounding_box()
                if kind == "phone":
                    assert nav["y"] + nav["height"] >= viewport["height"] - 2, "bottom navigation on a phone"
                    assert nav["width"] >= viewport["width"] - 2
                else:
                    assert nav["x"] == 0 and nav["width"] < 260, "a side column on a tablet"
                    assert main["x"] >= nav["width"] and main["width"] >= viewport["width"] - nav["width"] - 2
            screenshot(page, f"{name}-{kind}-{scheme}")
        page.context.close()
