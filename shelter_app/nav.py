"""The navigation of each role: only what that role may use."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object
    icon: str
    roles: tuple[str, ...]
    also: tuple[str, ...] = ()  # other endpoints under this entry (it shows as current there)


# Order is the order on screen; the phone's bottom bar shows the first five of a role.
NAV_ITEMS: list[NavItem] = [
    NavItem("availability.index", _l("Availability"), "bed", ("casemanager",)),
    NavItem("referrals.index", _l("Referrals"), "referral", ("casemanager",), ("referrals.new", "referrals.show")),
    NavItem("board.index", _l("Beds"), "bed", ("manager", "trainer", "night"), ("board.show", "board.bed")),
    NavItem("residents.index", _l("Residents"), "resident", ("manager", "trainer", "night"),
            ("residents.show", "residents.new", "residents.edit")),
    NavItem("referrals.inbox", _l("Referrals"), "referral", ("manager", "trainer", "night")),
    NavItem("board.shelters", _l("Shelters"), "shelter", ("manager",), ("board.shelter_setup",)),
    NavItem("admin.users", _l("Users"), "users", ("admin",)),
    NavItem("api_tokens.tokens", _l("API tokens"), "key", ("admin",)),
    NavItem("main.account", _l("Account"), "account", ("manager", "trainer", "night", "casemanager", "admin")),
]


def nav_for(role: str | None) -> list[dict]:
    """The navigation entries for role whose views exist in this app."""
    if not role:
        return []
    views = current_app.view_functions
    return [
        {"endpoint": item.endpoint, "url": url_for(item.endpoint), "label": item.label, "icon": item.icon,
         "current": request.endpoint == item.endpoint or request.endpoint in item.also}
        for item in NAV_ITEMS
        if role in item.roles and item.endpoint in views
    ]
