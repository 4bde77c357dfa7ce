"""Values and limits of passkeys and of the challenges of their ceremonies."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..vocab import Vocab


class Ceremony(Vocab):
    """What a challenge was issued for."""

    REGISTER = "register", _l("Add a passkey")
    SIGN_IN = "sign_in", _l("Sign in with a passkey")


NAME_MAX = 60
# A credential as the browser sends it (JSON, base64url): a "none" attestation is about 1 KB, a packed
# one with its certificate chain a few KB.
CREDENTIAL_MAX = 16_000
# WebAuthn allows credential ids of up to 1023 bytes.
CREDENTIAL_ID_MAX = 1023
PUBLIC_KEY_MAX = 2048
USER_HANDLE_BYTES = 32
# A challenge answers one ceremony, within this many seconds (the browser is told a little less).
CHALLENGE_SECONDS = 300
CEREMONY_TIMEOUT_MS = 120_000
# A sign counter is an unsigned 32-bit number.
SIGN_COUNT_MAX = 2**32 - 1
