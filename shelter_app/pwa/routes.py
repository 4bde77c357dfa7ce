"""GET /manifest.webmanifest, GET /sw.js (scope /) and GET /offline; all three need no login."""
from __future__ import annotations

import json

from flask import current_app, make_response, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from ..web import render
from . import bp, shell


@bp.get("/manifest.webmanifest")
def manifest():
    icons = [
        {"src": shell.static_url("icons/icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
        {"src": shell.static_url("icons/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
        {"src": shell.static_url("icons/icon-maskable-512.png"), "sizes": "512x512", "type": "image/png",
         "purpose": "maskable"},
    ]
    body = {
        "id": "/",
        "name": _("Shelter"),
        "short_name": _("Shelter"),
        "description": _("Beds, handovers and reminders for the shelter's staff."),
        "lang": str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"]),
        "dir": "ltr",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": shell.BACKGROUND_COLOR,
        "theme_color": shell.THEME_COLOR,
        "icons": icons,
    }
    response = make_response(json.dumps(body, ensure_ascii=False, indent=1))
    response.mimetype = "application/manifest+json"
    # Asked for at every page load: kept for a day (it holds nothing personal), per language.
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.vary.add("Accept-Language")
    return response


@bp.get("/sw.js")
def service_worker():
    body = render_template(shell.SW_TEMPLATE, version=shell.shell_version(),
                           precache=shell.precache_urls(), offline_url=url_for("pwa.offline"))
    response = make_response(body)
    response.mimetype = "text/javascript"
    response.headers["Service-Worker-Allowed"] = "/"
    # The browser checks for a new release on every navigation.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/offline")
def offline():
    # Cached by the service worker, whoever is signed in: it must hold nothing personal
    # (no name, no navigation, no CSRF token, no flashed message) and no resident data.
    return render("pwa/offline.html", fragment="content", title=_("Offline"), shell_only=True, nav_items=[])
