"""A software authenticator for tests: real WebAuthn structures, built and signed as a device would.

It keeps an EC P-256 key per credential and answers the options the app hands out with what
navigator.credentials.create()/get() would give the page (as the JSON static/js/passkeys.js sends):
clientDataJSON, authenticator data (relying party id hash, flags, sign counter, attested credential
data with the COSE public key), a "none" or a packed self attestation, and an ECDSA signature over
authenticator data + sha256(clientDataJSON). Every part can be made wrong on purpose.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

ORIGIN = "http://localhost"
RP_ID = "localhost"

UP, UV, AT = 0x01, 0x04, 0x40
AAGUID = bytes(range(16))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftAuthenticator:
    """One credential on one device; sign_count goes up by one per assertion (unless told otherwise)."""

    origin: str = ORIGIN
    rp_id: str = RP_ID
    sign_count: int = 0
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    credential_id: bytes = field(default_factory=lambda: os.urandom(32))
    user_handle: bytes | None = None

    def cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})

    def _client_data(self, kind: str, challenge: bytes, origin: str | None) -> bytes:
        return json.dumps({"type": kind, "challenge": b64url(challenge), "origin": origin or self.origin,
                           "crossOrigin": False}, separators=(",", ":")).encode()

    def _auth_data(self, flags: int, count: int, rp_id: str | None, attested: bool) -> bytes:
        data = hashlib.sha256((rp_id or self.rp_id).encode()).digest() + bytes([flags]) + struct.pack(">I", count)
        if attested:
            data += AAGUID + struct.pack(">H", len(self.credential_id)) + self.credential_id + self.cose_key()
        return data

    def _sign(self, data: bytes) -> bytes:
        return self.key.sign(data, ec.ECDSA(hashes.SHA256()))

    def create(self, options: dict, *, origin: str | None = None, rp_id: str | None = None, verified: bool = True,
               fmt: str = "none", kind: str = "webauthn.create") -> str:
        """The JSON of a new credential for registration options (as from /account/passkeys/options)."""
        challenge = unb64url(options["challenge"])
        assert options["authenticatorSelection"]["residentKey"] == "required"
        assert options["authenticatorSelection"]["userVerification"] == "required"
        self.user_handle = unb64url(options["user"]["id"])
        client_data = self._client_data(kind, challenge, origin)
        auth_data = self._auth_data(UP | AT | (UV if verified else 0), self.sign_count, rp_id, attested=True)
        statement = {}
        if fmt == "packed":  # self attestation: signed with the credential's own key
            statement = {"alg": -7, "sig": self._sign(auth_data + hashlib.sha256(client_data).digest())}
        attestation = cbor2.dumps({"fmt": fmt, "attStmt": statement, "authData": auth_data})
        return json.dumps({
            "id": b64url(self.credential_id), "rawId": b64url(self.credential_id), "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": {"clientDataJSON": b64url(client_data), "attestationObject": b64url(attestation),
                         "transports": ["internal"]},
            "clientExtensionResults": {},
        })

    def get(self, options: dict, *, origin: str | None = None, rp_id: str | None = None, verified: bool = True,
            count: int | None = None, user_handle: bytes | None = None, kind: str = "webauthn.get",
            tamper: bool = False) -> str:
        """The JSON of an assertion for sign-in options (as from /login/passkey/options)."""
        challenge = unb64url(options["challenge"])
        assert options["userVerification"] == "required"
        assert options.get("allowCredentials", []) == [], "discoverable: the server names no credential"
        if count is None:
            self.sign_count += 1
            count = self.sign_count
        client_data = self._client_data(kind, challenge, origin)
        auth_data = self._auth_data(UP | (UV if verified else 0), count, rp_id, attested=False)
        signature = self._sign(auth_data + hashlib.sha256(client_data).digest())
        if tamper:
            client_data = client_data.replace(b'"crossOrigin":false', b'"crossOrigin":false ')
        handle = user_handle if user_handle is not None else self.user_handle
        return json.dumps({
            "id": b64url(self.credential_id), "rawId": b64url(self.credential_id), "type": "public-key",
            "authenticatorAttachment": "platform",
            "response": {"clientDataJSON": b64url(client_data), "authenticatorData": b64url(auth_data),
                         "signature": b64url(signature), "userHandle": b64url(handle) if handle else None},
            "clientExtensionResults": {},
        })


# --- the same through the app's services, for setting a scene -----------------------------------

def add_passkey(user, name: str = "phone", **kw) -> SoftAuthenticator:
    """A passkey of user, added through the service as the Account page would; committed."""
    from shelter_app import timeutil
    from shelter_app.extensions import db
    from shelter_app.passkeys import services

    rp = services.RelyingParty(id=RP_ID, origins=(ORIGIN,))
    device = SoftAuthenticator(**kw)
    now = timeutil.utcnow()
    options = services.registration_options(user, rp=rp, at=now)
    services.add_passkey(user, name, device.create(options), rp=rp, at=now)
    db.session.commit()
    return device


def sign_in_options() -> dict:
    """Options of a sign-in ceremony, made through the service (as /login/passkey/options does); committed."""
    from shelter_app import timeutil
    from shelter_app.extensions import db
    from shelter_app.passkeys import services

    options = services.sign_in_options(rp=services.RelyingParty(id=RP_ID, origins=(ORIGIN,)), at=timeutil.utcnow())
    db.session.commit()
    return options


def registration_options(user) -> dict:
    """Options of adding a passkey for user, made through the service; committed."""
    from shelter_app import timeutil
    from shelter_app.extensions import db
    from shelter_app.passkeys import services

    options = services.registration_options(user, rp=services.RelyingParty(id=RP_ID, origins=(ORIGIN,)),
                                            at=timeutil.utcnow())
    db.session.commit()
    return options
