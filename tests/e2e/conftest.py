"""Browser tests: Playwright driving Debian's Chromium against a live server of the test app."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 820, "height": 1180}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def live_server(app):
    """The test app served on a free loopback port, in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing in CI: .ci/run installs the chromium package")
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


def _context(browser, live_server, viewport, **kw):
    return browser.new_context(viewport=viewport, base_url=live_server, has_touch=True,
                               is_mobile=viewport is PHONE, **kw)


@pytest.fixture
def new_page(browser, live_server):
    """Factory: new_page("phone" | "tablet", locale="en") -> a page in its own browser context."""
    contexts = []

    def make(kind: str = "phone", **kw):
        ctx = _context(browser, live_server, PHONE if kind == "phone" else TABLET, **kw)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def phone(new_page):
    return new_page("phone")


@pytest.fixture
def tablet(new_page):
    return new_page("tablet")


def sign_in(page, username: str, password: str):
    """Fill the login form as a person would."""
    from shelter_app.extensions import db

    # The test's own open transaction would hold an old snapshot while the server writes.
    db.session.commit()
    page.goto("/login")
    page.get_by_label("Username").or_(page.get_by_label("Nazwa użytkownika")).fill(username)
    page.locator("#password").fill(password)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()


def screenshot(page, name: str) -> None:
    """Write a screenshot for a reviewer to look at (not committed)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def assert_no_horizontal_scroll(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"page scrolls sideways by {overflow}px"


@pytest.fixture
def persistent_context(browser, live_server, tmp_path):
    """Factory: persistent_context("phone" | "tablet", locale="en") -> a context with a profile on disk.

    Service workers, the cache storage and Chromium's installability check behave there as
    in a person's browser.
    """
    contexts = []

    def make(kind: str = "phone", **kw):
        viewport = PHONE if kind == "phone" else TABLET
        ctx = browser.browser_type.launch_persistent_context(
            str(tmp_path / f"profile-{len(contexts)}"), executable_path=CHROMIUM, args=CHROMIUM_ARGS,
            headless=True, viewport=viewport, base_url=live_server, has_touch=True,
            is_mobile=viewport is PHONE, **kw)
        contexts.append(ctx)
        return ctx

    yield make
    for ctx in contexts:
        ctx.close()


def wait_for_service_worker(page) -> str:
    """Wait until the service worker is active and controls page; return the name of its shell cache."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    if not page.evaluate("navigator.serviceWorker.controller !== null"):
        # A page still loading when the first worker activated is not claimed by it; the worker
        # takes it over on its next load.
        page.reload()
    # Functions, not expressions: the CSP forbids the eval a string expression would need.
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    return page.evaluate("""async () => {
        await navigator.serviceWorker.ready;
        const names = await caches.keys();
        return names.find((n) => n.startsWith("shelter-shell-")) || null;
    }""")
