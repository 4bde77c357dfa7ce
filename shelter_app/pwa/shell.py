"""What the service worker precaches, and the version that names its cache."""
from __future__ import annotations

import hashlib

from flask import current_app, url_for

# Static files of the shell, cached when the service worker installs: what the offline page needs, the
# styles and scripts every page loads (as bundles, or their parts in debug mode). Other files under
# /static/ are cached on first use (their URLs carry a content hash, so they never go stale). The app
# icons are not: the device keeps its own copy when the app is installed; the icon sprite and the
# favicon are in every page (base.html).
PRECACHED_BUNDLES: tuple[str, ...] = ("bundle/app.css", "bundle/app.js")

SW_TEMPLATE = "pwa/sw.js"

THEME_COLOR = "#1f4e5f"  # the icon's tile
BACKGROUND_COLOR = "#13171f"  # the dark theme's page background: a calm splash screen at night


def static_url(filename: str) -> str:
    """A static file's URL with its content hash (the app's own `static_url` helper)."""
    return current_app.jinja_env.globals["static_url"](filename)


def precache_urls() -> list[str]:
    """Every URL the service worker caches on install: the offline page and the shell's files."""
    bundle_urls = current_app.jinja_env.globals["bundle_urls"]
    return [url_for("pwa.offline")] + [url for name in PRECACHED_BUNDLES for url in bundle_urls(name)]


def shell_version() -> str:
    """Changes whenever a precached file or the service worker's own source changes."""
    digest = hashlib.sha256()
    for url in precache_urls():
        digest.update(url.encode() + b"\n")
    source, _filename, _uptodate = current_app.jinja_env.loader.get_source(
        current_app.jinja_env, SW_TEMPLATE)
    digest.update(source.encode())
    return digest.hexdigest()[:16]
