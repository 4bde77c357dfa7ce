"""Who may do what: one table of permissions, read by views, templates and the navigation."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user

from ..extensions import login_manager
from .vocab import STAFF_ROLES, Role

EVERYONE = frozenset(Role)

# permission → the roles that have it. Views and templates ask `can(user, "…")`, never a role name.
PERMISSIONS: dict[str, frozenset[Role]] = {
    "account": EVERYONE,
    "beds.view": STAFF_ROLES,
    "beds.act": STAFF_ROLES,
    # Put a resident in a bed whose category does not fit them, with a written reason.
    "beds.category_override": frozenset({Role.MANAGER, Role.NIGHT}),
    # Date a check-in more than 48 hours back.
    "beds.backdate": frozenset({Role.MANAGER}),
    "residents.view": STAFF_ROLES,
    "residents.create": STAFF_ROLES,
    "residents.edit": frozenset({Role.MANAGER, Role.TRAINER}),
    "resident.identity": frozenset({Role.MANAGER}),
    "shelters.setup": frozenset({Role.MANAGER}),
    # Belong to shelters (assigned by the administrator): their boards, residents and referrals.
    "shelters.member": STAFF_ROLES,
    "referrals.answer": STAFF_ROLES,
    # Shifts and handovers: read the shift page, the rounds and the history; write entries, incidents,
    # observations and tasks, hand over and read a handover.
    "handovers.view": STAFF_ROLES,
    "handovers.write": STAFF_ROLES,
    # Residents going out and coming back.
    "presence.record": STAFF_ROLES,
    # Record the night round, room by room, and its headcount.
    "rounds.record": frozenset({Role.NIGHT, Role.MANAGER}),
    # What the manager on call must act on (an unread handover, a resident missing, a headcount off),
    # and printing a day.
    "handovers.oversee": frozenset({Role.MANAGER}),
    # Shift times, curfew, round times and the rota.
    "shifts.manage": frozenset({Role.MANAGER}),
    "referrals.send": frozenset({Role.CASEMANAGER}),
    "availability.view": frozenset({Role.CASEMANAGER}),
    "api.read": frozenset({Role.CASEMANAGER}),
    "users.manage": frozenset({Role.ADMIN}),
    "api_tokens.manage": frozenset({Role.ADMIN}),
}

# Where each role's work starts: the first permission it has in this list decides.
HOME = [
    ("beds.view", "beds.index"),
    ("availability.view", "availability.index"),
    ("users.manage", "admin.users"),
]


def can(user, permission: str) -> bool:
    """True if user (signed in, active) has permission; an unknown permission is a programming error."""
    roles = PERMISSIONS[permission]
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.role in roles)


def roles_with(permission: str) -> list[str]:
    """The roles that have permission, as stored values (for a query over accounts), in a fixed order."""
    return sorted(role.value for role in PERMISSIONS[permission])


def requires(permission: str):
    """View decorator: visitors go to sign-in, users without permission get 403."""
    if permission not in PERMISSIONS:
        raise KeyError(permission)

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not can(current_user, permission):
                abort(403)
            return view(*args, **kwargs)

        wrapped.permission = permission  # read by the access tests
        return wrapped

    return decorator


def home_endpoint(user) -> str:
    """The endpoint where user's work starts."""
    for permission, endpoint in HOME:
        if can(user, permission):
            return endpoint
    return "main.account"
