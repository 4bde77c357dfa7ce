"""Demo data for `shelter-app demo` and `seed-demo`: idempotent."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from .auth.models import User
from .auth.passwords import hash_password
from .auth.services import create_user, validate_password
from .extensions import db

DEMO_USERS = [
    ("manager", "manager", "Kierownik (demo)", None),
    ("trainer", "trainer", "Trener (demo)", None),
    ("night", "night", "Dyżur nocny (demo)", None),
    ("casemanager", "casemanager", "Case manager (demo)", "Partner NGO (demo)"),
    ("admin", "admin", "Administrator (demo)", None),
]


def seed_demo(password: str, *, at: datetime) -> list[tuple[str, str]]:
    """Create the demo users (or reset their password to password) and demo data; the logins."""
    validate_password(password)
    for username, role, name, organisation in DEMO_USERS:
        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            create_user(username, password, role, display_name=name, organisation=organisation, at=at)
        else:
            user.password_hash = hash_password(password)
            user.active = True
    return [(u, r) for u, r, _n, _o in DEMO_USERS]
