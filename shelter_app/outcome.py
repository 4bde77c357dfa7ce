"""What a successful action answers (its own module: the action path and the one-time form tokens both use it)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Outcome:
    """What a successful action answers: a message for the person, and where its result is seen."""

    message: str
    location: str
