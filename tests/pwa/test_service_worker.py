"""/sw.js: served from the root with its scope, caching the shell under a content-derived name."""
from __future__ import annotations

import json
import re

from shelter_app.pwa import shell


def _precache(body: str) -> list[str]:
    return json.loads(re.search(r"const PRECACHE = (\[.*?\]);", body).group(1))


def _cache_name(body: str) -> str:
    return re.search(r'const CACHE = CACHE_PREFIX \+ "([0-9a-f]+)";', body).group(1)


def test_sw_is_served_from_the_root_with_its_headers(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/"
    assert response.headers["Cache-Control"] == "no-cache"
    body = response.get_data(as_text=True)
    assert 'addEventListener("fetch"' in body and 'addEventListener("install"' in body


def test_sw_needs_no_login_and_is_the_same_for_everyone(client, login_as):
    anonymous = client.get("/sw.js").get_data(as_text=True)
    signed_in = login_as("night").get("/sw.js").get_data(as_text=True)
    assert anonymous == signed_in


def test_sw_precaches_the_shell_and_no_page_but_offline(app, client):
    body = client.get("/sw.js").get_data(as_text=True)
    urls = _precache(body)
    bundle_urls = app.jinja_env.globals["bundle_urls"]
    with app.test_request_context():
        expected = set(bundle_urls("bundle/app.css") + bundle_urls("bundle/app.js"))
    assert expected <= set(urls) and len(expected) == 2, "the styles and the scripts, one file each"
    # The app icons are the device's to keep when the app is installed: not downloaded at every install.
    assert not [u for u in urls if ".png" in u]
    assert [u for u in urls if not u.startswith("/static/")] == ["/offline"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url


def test_the_login_page_uses_the_urls_the_sw_precaches(client):
    urls = set(_precache(client.get("/sw.js").get_data(as_text=True)))
    html = client.get("/login").get_data(as_text=True)
    assets = re.findall(r'(?:href|src)="(/static/[^"]+\.(?:css|js)\?v=\w+)"', html)
    assert assets and set(assets) <= urls


def test_cache_name_is_stable_while_nothing_changes(client):
    first = _cache_name(client.get("/sw.js").get_data(as_text=True))
    second = _cache_name(client.get("/sw.js").get_data(as_text=True))
    assert first == second and len(first) == 16


def test_cache_name_changes_when_a_precached_file_changes(client, static_copy):
    before = client.get("/sw.js").get_data(as_text=True)
    css = static_copy / "css" / "app.css"
    css.write_text(css.read_text() + "\n/* next release */\n")
    after = client.get("/sw.js").get_data(as_text=True)
    assert _cache_name(before) != _cache_name(after)
    changed = set(_precache(after)) - set(_precache(before))
    assert len(changed) == 1 and changed.pop().startswith("/static/css/app.css?v=")


def test_cache_name_changes_with_the_sw_source(app, monkeypatch):
    with app.test_request_context():
        before = shell.shell_version()
        loader = app.jinja_env.loader
        original = loader.get_source

        def edited(env, name):
            source, filename, uptodate = original(env, name)
            return (source + "\n// changed\n" if name == shell.SW_TEMPLATE else source), filename, uptodate

        monkeypatch.setattr(loader, "get_source", edited)
        assert shell.shell_version() != before

