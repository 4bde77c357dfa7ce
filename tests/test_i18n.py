"""Polish is complete, compiled and current; pages speak the user's language."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
DIR = ROOT / "shelter_app" / "translations"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _po(lang="pl"):
    with open(DIR / lang / "LC_MESSAGES" / "messages.po", "rb") as fh:
        return read_po(fh)


def _forms(value) -> tuple[str, ...]:
    """A message's id or string as a tuple: plural messages have several forms."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def test_every_string_is_translated_into_polish_with_its_placeholders():
    catalog = _po()
    missing = [m.id for m in catalog if m.id and not all(_forms(m.string))]
    assert missing == []
    assert catalog.num_plurals == 3
    for message in catalog:
        if message.id:
            expected = set(PLACEHOLDER.findall(_forms(message.id)[-1]))
            for form in _forms(message.string):
                assert set(PLACEHOLDER.findall(form)) == expected, message.id


def test_compiled_catalog_matches_the_po_file():
    with open(DIR / "pl" / "LC_MESSAGES" / "messages.mo", "rb") as fh:
        compiled = {_forms(m.id): _forms(m.string) for m in read_mo(fh) if m.id}
    source = {_forms(m.id): _forms(m.string) for m in _po() if m.id and not m.fuzzy}
    assert compiled == source, "run scripts/translations compile"


def test_catalog_template_is_current(tmp_path):
    out = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run([str(pybabel), "extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext",
                    "-o", str(out), "--no-location", "shelter_app", "templates"], cwd=ROOT, check=True, capture_output=True)
    with open(out, "rb") as fh:
        extracted = {_forms(m.id) for m in read_po(fh) if m.id}
    known = {_forms(m.id) for m in _po() if m.id}
    assert len(extracted) > 100  # the extraction itself worked
    assert extracted - known == set(), "new strings: run scripts/translations update and translate them"


def test_polish_by_default_and_english_on_request(client, login_as):
    assert "Zaloguj" in client.raw.get("/login").get_data(as_text=True)  # no Accept-Language: Polish
    assert "Sign in" in client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    c = login_as("admin", locale="pl")
    assert "Użytkownicy" in c.get("/admin/users").get_data(as_text=True)
