"""Closed sets of stored values with their labels, read by models, forms, templates, OpenAPI and CHECKs."""
from __future__ import annotations

import enum

from wtforms.fields.choices import SelectChoice


class Vocab(enum.StrEnum):
    """A stored value with its label: `WOMAN = "woman", _l("Woman")`."""

    def __new__(cls, value: str, label=None):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label if label is not None else value
        return member

    @classmethod
    def values(cls) -> tuple[str, ...]:
        return tuple(m.value for m in cls)

    @classmethod
    def labels(cls) -> dict[str, str]:
        """value → label, translated now (once per page, not once per row)."""
        return {m.value: str(m.label) for m in cls}

    @classmethod
    def choices(cls, *, blank=None) -> list[SelectChoice]:
        """Options of a select field, optionally after an empty "choose" entry."""
        options = [SelectChoice(m.value, m.label) for m in cls]
        return ([SelectChoice("", blank)] if blank is not None else []) + options

    @classmethod
    def check(cls, column: str, *, nullable: bool = False) -> str:
        """The SQL of a CHECK constraint allowing exactly these values."""
        allowed = f"{column} IN ({', '.join(repr(v) for v in cls.values())})"
        return f"{column} IS NULL OR {allowed}" if nullable else allowed
