"""The navigation of each user: only what their permissions reach."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l

from .auth.permissions import can, home_endpoint


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object
    icon: str
    permission: str
    also: tuple[str, ...] = ()  # other endpoints under this entry (it shows as current there)


# Order is the order on screen; the phone's bottom bar shows the first five a user has.
NAV_ITEMS: list[NavItem] = [
    NavItem("availability.index", _l("Availability"), "bed", "availability.view"),
    NavItem("referrals.index", _l("Referrals"), "referral", "referrals.send", ("referrals.new", "referrals.show")),
    NavItem("beds.index", _l("Beds"), "bed", "beds.view", ("beds.show", "beds.bed")),
    NavItem("handovers.index", _l("Shift"), "shift", "handovers.view",
            ("handovers.shift", "handovers.rounds", "handovers.presence", "handovers.setup", "handovers.history",
             "handovers.entry", "handovers.print_day")),
    NavItem("residents.index", _l("Residents"), "resident", "residents.view",
            ("residents.show", "residents.new", "residents.edit")),
    NavItem("referrals.inbox", _l("Referrals"), "referral", "referrals.answer"),
    NavItem("shelters.index", _l("Shelters"), "shelter", "shelters.setup", ("shelters.setup",)),
    NavItem("admin.users", _l("Users"), "users", "users.manage", ("admin.user_detail",)),
    NavItem("api_tokens.tokens", _l("API tokens"), "key", "api_tokens.manage"),
    NavItem("main.account", _l("Account"), "account", "account"),
]


_urls: dict[tuple[str, str], str] = {}


def _url(endpoint: str) -> str:
    """url_for(endpoint) of an entry (no arguments: the same for every request under one script root)."""
    key = (request.script_root, endpoint)
    if key not in _urls:
        _urls[key] = url_for(endpoint)
    return _urls[key]


def nav_for(user) -> list[dict]:
    """The navigation entries user may use whose views exist in this app."""
    if user is None or not user.is_authenticated:
        return []
    views = current_app.view_functions
    return [
        {"endpoint": item.endpoint, "url": _url(item.endpoint), "label": item.label, "icon": item.icon,
         "current": request.endpoint == item.endpoint or request.endpoint in item.also}
        for item in NAV_ITEMS
        if can(user, item.permission) and item.endpoint in views
    ]


def start_url(user) -> str:
    """Where user's work starts, as the URL of the page itself (no redirect on the way): the board of
    their first shelter for staff, availability for case managers, users for the administrator.

    Staff with a handover to read start on it: the incoming shift sees it as it opens the app.
    """
    if can(user, "handovers.write"):
        from .handovers.services import shelter_with_waiting_handover
        from .timeutil import utcnow

        waiting = shelter_with_waiting_handover(user, utcnow())
        if waiting is not None:
            return url_for("handovers.shift", shelter_id=waiting)
    endpoint = home_endpoint(user)
    if endpoint == "beds.index":
        from .shelters.services import shelter_ids_of

        mine = shelter_ids_of(user)
        if mine:
            return url_for("beds.show", shelter_id=mine[0])
    return url_for(endpoint)
