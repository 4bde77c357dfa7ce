"""Who the passkeys are for, from the configuration (or, behind a trusted proxy, from the request's host)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request

from .services import RelyingParty


def relying_party() -> RelyingParty | None:
    """The relying party of this request, or None when the server has none (passkeys are then not offered).

    WEBAUTHN_RP_ID and WEBAUTHN_ORIGIN (comma-separated origins) say it; either one alone implies the
    other (the origin's host name; https:// and the id). With neither, and TRUST_PROXY set, it is the
    host the proxy says it served (X-Forwarded-Host, X-Forwarded-Proto); without a trusted proxy the
    Host header is whatever the client sent, so it is not used.
    """
    config = current_app.config
    rp_id = config.get("WEBAUTHN_RP_ID")
    origins = tuple(o.strip().rstrip("/") for o in (config.get("WEBAUTHN_ORIGIN") or "").split(",") if o.strip())
    if rp_id or origins:
        rp_id = rp_id or urlsplit(origins[0]).hostname or ""
        return RelyingParty(id=rp_id, origins=origins or (f"https://{rp_id}",))
    if config.get("TRUST_PROXY"):
        origin = request.host_url.rstrip("/")
        return RelyingParty(id=urlsplit(origin).hostname or "", origins=(origin,))
    return None
