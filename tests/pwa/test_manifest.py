"""The web app manifest and the head tags that make the app installable."""
from __future__ import annotations

import re
import struct
import zlib

import pytest


def _png(data: bytes) -> tuple[int, int, list[list[tuple[int, ...]]]]:
    """Width, height and pixel rows of an 8-bit, non-interlaced RGB or RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, colour, _c, _f, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - channels] if x >= channels else 0
            b = prev[x]
            c = prev[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + a) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + b) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append([tuple(line[x:x + channels]) for x in range(0, stride, channels)])
        prev = line
    return width, height, rows


def test_manifest_has_what_an_installable_app_needs(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json(force=True)
    assert manifest["id"] == "/"
    assert manifest["start_url"] == "/"
    assert manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["name"] and manifest["short_name"]
    assert len(manifest["short_name"]) <= 12, "short_name fits under a home-screen icon"
    for key in ("theme_color", "background_color"):
        assert re.fullmatch(r"#[0-9a-f]{6}", manifest[key]), key
    icons = {(i["sizes"], i["purpose"]): i for i in manifest["icons"]}
    assert set(icons) == {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}
    for icon in icons.values():
        assert icon["type"] == "image/png"
        assert icon["src"].startswith("/static/icons/") and "?v=" in icon["src"]


def test_manifest_follows_the_browsers_language(client):
    english = client.get("/manifest.webmanifest", headers={"Accept-Language": "en"}).get_json(force=True)
    polish = client.get("/manifest.webmanifest", headers={"Accept-Language": "pl"}).get_json(force=True)
    assert english["lang"] == "en" and polish["lang"] == "pl"
    response = client.get("/manifest.webmanifest")
    assert "Accept-Language" in response.headers["Vary"]


@pytest.mark.parametrize("purpose", ["any", "maskable"])
def test_icons_are_pngs_of_their_declared_size(client, purpose):
    manifest = client.get("/manifest.webmanifest").get_json(force=True)
    for icon in (i for i in manifest["icons"] if i["purpose"] == purpose):
        response = client.get(icon["src"])
        assert response.status_code == 200
        assert response.mimetype == "image/png"
        width, height, _rows = _png(response.data)
        assert f"{width}x{height}" == icon["sizes"]


def test_maskable_icon_is_full_bleed_with_the_motif_inside_the_safe_zone(client):
    manifest = client.get("/manifest.webmanifest").get_json(force=True)
    src = next(i["src"] for i in manifest["icons"] if i["purpose"] == "maskable")
    width, height, rows = _png(client.get(src).data)
    background = rows[0][0][:3]
    centre, safe_radius = width / 2, 0.4 * width  # the maskable-icon spec's safe zone
    drawn_outside = 0
    drawn_inside = 0
    for y in range(0, height, 4):
        for x in range(0, width, 4):
            pixel = rows[y][x]
            assert len(pixel) == 3 or pixel[3] == 255, "a maskable icon has no transparent pixels"
            inside = (x - centre) ** 2 + (y - centre) ** 2 <= safe_radius ** 2
            if pixel[:3] != background:
                drawn_inside += inside
                drawn_outside += not inside
    assert drawn_outside == 0, "nothing but background outside the safe zone"
    assert drawn_inside > 1000, "the motif is drawn"


def test_pages_link_the_manifest_and_the_ios_tags(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest">' in html
    assert re.search(r'<link rel="apple-touch-icon" href="/static/icons/apple-touch-icon\.png\?v=\w+">', html)
    assert '<meta name="apple-mobile-web-app-capable" content="yes">' in html
    assert '<meta name="apple-mobile-web-app-title" content="' in html
    assert '<meta name="apple-mobile-web-app-status-bar-style"' in html
    assert html.count('<meta name="theme-color"') == 2  # light and dark


def test_apple_touch_icon_is_opaque_180px(client):
    html = client.get("/login").get_data(as_text=True)
    src = re.search(r'rel="apple-touch-icon" href="([^"]+)"', html).group(1)
    width, height, rows = _png(client.get(src).data)
    assert (width, height) == (180, 180)
    assert all(len(p) == 3 or p[3] == 255 for row in rows for p in row), "iOS shows transparency as black"
