"""Shelter operations app."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, request, url_for
from flask_login import current_user

from .config import build_config

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Build the app; config overrides the environment-derived defaults."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=os.environ.get("SHELTER_INSTANCE_PATH") or str(ROOT / "instance"),
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(build_config(app.instance_path))
    if config:
        app.config.update(config)
    if app.config["TRUST_PROXY"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    register_extensions(app)
    from .converters import register_converters

    register_converters(app)  # before the blueprints: a rule takes its converters when added
    register_blueprints(app)
    from .errors import register_errors
    from .security import register_security

    register_errors(app)
    register_security(app)
    register_template_helpers(app)
    register_request_hooks(app)
    from .cli import register_cli

    register_cli(app)
    from .static_files import register_static_files

    register_static_files(app)
    return app


def register_extensions(app: Flask) -> None:
    from .extensions import babel, compress, csrf, db, htmx, login_manager, migrate

    db.init_app(app)
    compress.init_app(app)
    from .db import render_item

    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True,
                     compare_type=True, render_item=render_item)
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = None  # the server-side session is the protection
    babel.init_app(app, locale_selector=_select_locale, timezone_selector=lambda: "Europe/Warsaw")
    from . import models  # noqa: F401  (every model registered on the metadata)
    from .auth import access  # noqa: F401  (session loader)


def _select_locale() -> str:
    from flask import has_request_context

    if not has_request_context():
        return "pl"
    if current_user and current_user.is_authenticated:
        return current_user.locale
    from flask import current_app

    return request.accept_languages.best_match(list(current_app.config["LANGUAGES"])) or "pl"


def register_blueprints(app: Flask) -> None:
    from .api.routes import bp as api_bp, tokens_bp as api_tokens_bp
    from .auth.routes import admin_bp, bp as auth_bp
    from .availability.routes import bp as availability_bp
    from .main import bp as main_bp
    from .pwa import bp as pwa_bp
    from .beds.routes import bp as beds_bp
    from .passkeys.routes import bp as passkeys_bp
    from .handovers import bp as handovers_bp
    from .referrals.routes import bp as referrals_bp
    from .residents.routes import bp as residents_bp
    from .shelters.routes import bp as shelters_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(beds_bp)
    app.register_blueprint(shelters_bp)
    app.register_blueprint(residents_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(passkeys_bp)
    app.register_blueprint(pwa_bp)
    app.register_blueprint(availability_bp)
    app.register_blueprint(referrals_bp)
    app.register_blueprint(handovers_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(api_tokens_bp)


def register_request_hooks(app: Flask) -> None:
    from .db import write_intent

    @app.before_request
    def _transaction_kind():
        # Every request, GET included: a page may read and then write (the audit of a resident
        # page, a session's last-seen time), and on SQLite a read transaction that then writes
        # fails at once if another request wrote in between.
        write_intent.set(True)

    @app.teardown_request
    def _transaction_kind_done(exc=None):
        # The thread may serve other work next (a test, a CLI command): no write lock by default.
        write_intent.set(False)


def register_template_helpers(app: Flask) -> None:
    from uuid import uuid4

    from flask_babel import format_datetime, get_locale

    from .auth.permissions import can
    from .labels import labels
    from .nav import nav_for

    from .static_files import built_hash, bundle_parts, content_hash

    static_hashes: dict[str, str] = {}

    def static_url(filename: str) -> str:
        """A static file's URL versioned by its content, so a release is picked up at once."""
        digest = built_hash(app, filename) or static_hashes.get(filename)
        if digest is None or app.debug:
            digest = static_hashes[filename] = content_hash(Path(app.static_folder) / filename)
        return url_for("static", filename=filename, v=digest)

    inlined: dict[str, str] = {}

    def static_text(filename: str) -> str:
        """A small static file's text, to put into the page itself: one request fewer on a slow phone."""
        if filename not in inlined or app.debug:
            inlined[filename] = (Path(app.static_folder) / filename).read_text(encoding="utf-8")
        return inlined[filename]

    def inline_svg(filename: str):
        """An SVG file's markup without its XML namespace line, for the page (the icon sprite)."""
        from markupsafe import Markup

        return Markup(static_text(filename))

    data_uris: dict[str, str] = {}

    def svg_data_uri(filename: str) -> str:
        """An SVG file as a data: URI (the favicon), so the browser asks for no file."""
        from urllib.parse import quote

        if filename not in data_uris or app.debug:
            data_uris[filename] = "data:image/svg+xml," + quote(" ".join(static_text(filename).split()),
                                                                safe=" =:/'")
        return data_uris[filename]

    app.jinja_env.globals["static_url"] = static_url
    # bundle_urls("bundle/app.css"): the one file every page loads (its parts in debug mode).
    app.jinja_env.globals["bundle_urls"] = lambda name: [static_url(part) for part in bundle_parts(app, name)]
    app.jinja_env.globals["inline_svg"] = inline_svg
    app.jinja_env.globals["svg_data_uri"] = svg_data_uri
    app.jinja_env.globals["can"] = can
    from .passkeys.relying_party import relying_party

    app.jinja_env.globals["passkeys_enabled"] = lambda: relying_party() is not None
    # A fresh one-time token for each rendered form (web.act does a form sent twice once).
    app.jinja_env.globals["form_token"] = lambda: uuid4().hex
    # Labels of stored values, translated once per request: labels.category["woman"].
    app.jinja_env.globals["labels"] = labels
    # Macros as a global, so a block rendered alone (htmx fragment) can use them too.
    app.jinja_env.globals["m"] = app.jinja_env.get_template("_macros.html").module

    @app.context_processor
    def inject():
        return {
            "nav_items": nav_for(current_user),
            "current_locale": str(get_locale() or "pl"),
        }

    app.jinja_env.filters["local_dt"] = lambda v, fmt="short": format_datetime(v, fmt) if v else ""
