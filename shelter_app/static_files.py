"""Static files: served by WhiteNoise, compressed ahead of time, kept by browsers for a year when the URL names them.

Every page links a static file as `/static/<file>?v=<hash of its content>` (the `static_url` helper): such a
URL never changes meaning, so it is served `immutable` with a year's max-age. A request without the
current hash (an old page, a typed address) is served `no-cache`. Gzip and Brotli copies are made once
per release into the instance folder (keyed by the content of the whole static folder), so nothing is
compressed while a request waits. In debug mode (development, and the tests that edit static files)
Flask serves the folder as it is on disk.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import parse_qs

from flask import Flask

YEAR = 365 * 24 * 3600
HASH_LENGTH = 12  # of the `v` a URL carries (static_url)

# What every page loads, as one file of each kind (two requests, not six, on a slow phone): made at build
# time from these parts, in this order. In debug mode the pages link the parts themselves.
BUNDLES: dict[str, tuple[str, ...]] = {
    "bundle/app.css": ("vendor/pico/pico.min.css", "css/app.css", "css/board.css", "css/referrals.css",
                       "css/handovers.css"),
    "bundle/app.js": ("vendor/htmx/htmx.min.js", "js/app.js", "js/passkeys.js", "js/handovers.js", "js/outbox.js"),
}


def content_hash(path: Path) -> str:
    """The version a static file's URL carries: the start of the SHA-256 of its content."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:HASH_LENGTH]


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix not in (".gz", ".br"))


def build(static: Path, instance: Path) -> tuple[Path, dict[str, str]]:
    """A compressed copy of the static folder for its current content, and each file's hash by URL path.

    Made once per content: workers starting at the same moment each build in a temporary folder and the
    first rename wins.
    """
    from whitenoise.compress import Compressor

    bundles = {name: b"\n".join((static / part).read_bytes() for part in parts) for name, parts in BUNDLES.items()}
    hashes = {"/static/" + p.relative_to(static).as_posix(): content_hash(p) for p in _files(static)}
    hashes.update({"/static/" + name: hashlib.sha256(data).hexdigest()[:HASH_LENGTH] for name, data in bundles.items()})
    digest = hashlib.sha256("".join(f"{k}={v}\n" for k, v in sorted(hashes.items())).encode()).hexdigest()[:16]
    target = instance / "static-build" / digest
    if not target.is_dir():
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{digest}-", dir=target.parent))
        copy = scratch / "static"
        shutil.copytree(static, copy)
        for name, data in bundles.items():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            (copy / name).write_bytes(data)
        compressor = Compressor(quiet=True)
        for path in _files(copy):
            if compressor.should_compress(path.name):
                compressor.compress(str(path))
        try:
            os.rename(copy, target)
        except OSError:  # another worker's build is there already (the same content)
            pass
        shutil.rmtree(scratch, ignore_errors=True)
        for old in target.parent.iterdir():  # earlier releases' copies
            if old != target and not old.name.startswith("."):
                shutil.rmtree(old, ignore_errors=True)
    return target, hashes


class StaticFiles:
    """WSGI middleware: /static/… from the compressed copy, immutable when `v` is the file's hash."""

    def __init__(self, app: Flask, app_wsgi, root: Path, hashes: dict[str, str]):
        from whitenoise import WhiteNoise

        self.app = app
        self.app_wsgi = app_wsgi
        self.hashes = hashes
        self.versioned = WhiteNoise(None, root=str(root), prefix="/static/", max_age=YEAR,
                                    immutable_file_test=lambda path, url: True, allow_all_origins=False)
        self.unversioned = WhiteNoise(None, root=str(root), prefix="/static/", max_age=None,
                                      allow_all_origins=False, add_headers_function=_no_cache)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if self.app.debug or not path.startswith("/static/") or path not in self.hashes:
            return self.app_wsgi(environ, start_response)
        version = parse_qs(environ.get("QUERY_STRING", "")).get("v", [None])[0]
        server = self.versioned if version == self.hashes[path] else self.unversioned
        return server.serve(server.files[path], environ, start_response)


def _no_cache(headers, path, url) -> None:
    headers["Cache-Control"] = "no-cache"


def register_static_files(app: Flask) -> None:
    """Put the static files' server in front of the app (in debug mode Flask serves them, as on disk)."""
    root, hashes = build(Path(app.static_folder), Path(app.instance_path))
    app.wsgi_app = app.extensions["static_files"] = StaticFiles(app, app.wsgi_app, root, hashes)


def built_hash(app: Flask, filename: str) -> str | None:
    """The hash of a static file (or bundle) as built for this release; None in debug mode or if unknown."""
    served = app.extensions.get("static_files")
    if served is None or app.debug:
        return None
    return served.hashes.get("/static/" + filename)


def bundle_parts(app: Flask, name: str) -> tuple[str, ...]:
    """The files a page links for a bundle: the bundle itself, or in debug mode its parts."""
    if app.debug or "static_files" not in app.extensions:
        return BUNDLES[name]
    return (name,)
