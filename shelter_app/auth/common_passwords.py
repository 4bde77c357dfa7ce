"""The list of common passwords shipped with the app (see common-passwords.LICENSE for its source)."""
from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

LIST = Path(__file__).with_name("common-passwords.txt.gz")


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    with gzip.open(LIST, "rt", encoding="utf-8") as fh:
        return frozenset(line.strip() for line in fh if line.strip())


def is_common(password: str) -> bool:
    """True if password (ignoring case and surrounding spaces) is on the list."""
    return password.strip().lower() in _common()
