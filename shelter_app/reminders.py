"""The clock's round: claim due reminders and send them.

No domain creates reminders yet (the appointments issue does); until then a round sends nothing.
"""
from __future__ import annotations


def send_due_reminders() -> int:
    """Send every due reminder once; the number sent."""
    return 0
