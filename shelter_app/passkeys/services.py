"""Passkeys: their ceremonies (through py_webauthn), sign-in with one, and removing one.

A ceremony starts with a challenge kept in `webauthn_challenges` and ends when the browser's answer
takes it: the answer names the challenge in its clientDataJSON, and the row is deleted by the first
answer that names it, whether that answer then passes or not. Sign-in with a passkey goes through the
sign-in path of auth.services (attempts counted per username, the same pause, the same audit).
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update
from webauthn import (generate_authentication_options, generate_registration_options,
                      verify_authentication_response, verify_registration_response)
from webauthn.helpers import (options_to_json_dict, parse_authentication_credential_json, parse_client_data_json,
                              parse_registration_credential_json)
from webauthn.helpers.structs import (AuthenticatorSelectionCriteria, PublicKeyCredentialDescriptor,
                                      ResidentKeyRequirement, UserVerificationRequirement)

from ..audit.services import record
from ..auth import services as auth
from ..auth.models import User
from ..errors import DomainError, NotFound, flush_or_conflict
from ..extensions import db
from ..validation import clean_text
from .models import Passkey, WebAuthnChallenge
from .vocab import (CEREMONY_TIMEOUT_MS, CHALLENGE_SECONDS, CREDENTIAL_ID_MAX, NAME_MAX, PUBLIC_KEY_MAX,
                    SIGN_COUNT_MAX, USER_HANDLE_BYTES, Ceremony)


@dataclass(frozen=True)
class RelyingParty:
    """Who the passkeys are for: the relying party id (a domain) and the origins pages are served from."""

    id: str
    origins: tuple[str, ...]


class PasskeysUnavailable(NotFound):
    """The server has no relying party configured."""


def _digest(challenge: bytes) -> str:
    return hashlib.sha256(challenge).hexdigest()


def _new_challenge(ceremony: Ceremony, *, at: datetime, user: User | None = None,
                   user_handle: bytes | None = None) -> bytes:
    """A fresh challenge kept for CHALLENGE_SECONDS; expired ones are cleared on the way."""
    db.session.execute(delete(WebAuthnChallenge).where(WebAuthnChallenge.expires_at <= at))
    challenge = secrets.token_bytes(32)
    db.session.add(WebAuthnChallenge(
        challenge_hash=_digest(challenge), ceremony=ceremony.value, user_id=user.id if user else None,
        user_handle=user_handle, created_at=at, expires_at=at + timedelta(seconds=CHALLENGE_SECONDS)))
    return challenge


def _take_challenge(challenge: bytes, ceremony: Ceremony, *, at: datetime):
    """The row of this challenge, deleted so that no second answer can use it; None if unknown or expired."""
    row = db.session.execute(
        delete(WebAuthnChallenge)
        .where(WebAuthnChallenge.challenge_hash == _digest(challenge), WebAuthnChallenge.ceremony == ceremony.value)
        .returning(WebAuthnChallenge.user_id, WebAuthnChallenge.user_handle, WebAuthnChallenge.expires_at)
    ).first()
    if row is None or row.expires_at <= at:
        return None
    return row


def _user_handle(user: User) -> bytes:
    """The account's WebAuthn user handle: that of its passkeys, or a new random one."""
    existing = db.session.scalar(select(Passkey.user_handle).where(Passkey.user_id == user.id).limit(1))
    return existing or secrets.token_bytes(USER_HANDLE_BYTES)


# --- adding a passkey ---------------------------------------------------------------------------

def registration_options(user: User, *, rp: RelyingParty, at: datetime) -> dict:
    """The options for navigator.credentials.create(): a discoverable credential, user verification required."""
    handle = _user_handle(user)
    challenge = _new_challenge(Ceremony.REGISTER, at=at, user=user, user_handle=handle)
    mine = db.session.scalars(select(Passkey.credential_id).where(Passkey.user_id == user.id)).all()
    options = generate_registration_options(
        rp_id=rp.id, rp_name=rp.id, user_id=handle, user_name=user.username, user_display_name=user.display_name,
        challenge=challenge, timeout=CEREMONY_TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.REQUIRED),
        # The device asked refuses to make a second passkey for the account.
        exclude_credentials=[PublicKeyCredentialDescriptor(id=cid) for cid in mine])
    return options_to_json_dict(options)


def validate_name(user: User, name: str) -> str:
    """A passkey's name: required, at most NAME_MAX characters, one line, not one the user already has."""
    name = clean_text(name, "name", max_len=NAME_MAX, required=True, multiline=False)
    taken = db.session.scalar(select(Passkey.id).where(Passkey.user_id == user.id, Passkey.name == name))
    if taken is not None:
        raise DomainError(_("You already have a passkey with this name. Choose another."), field="name")
    return name


def add_passkey(user: User, name: str, credential: str, *, rp: RelyingParty, at: datetime) -> Passkey:
    """Verify the browser's answer to registration_options and keep the passkey it made.

    The challenge is taken whatever happens next, so an answer can never be used twice.
    """
    name = validate_name(user, name)
    refused = DomainError(_("The passkey could not be added. Try again; if it keeps failing, this device "
                            "cannot be used for a passkey here."), field="credential")
    try:
        parsed = parse_registration_credential_json(credential or "")
        challenge = parse_client_data_json(parsed.response.client_data_json).challenge
    except Exception:  # anything the browser could not have sent: the answer is refused
        raise refused from None
    row = _take_challenge(challenge, Ceremony.REGISTER, at=at)
    if row is None or row.user_id != user.id:
        record("passkey.add_refused", actor=user, at=at, target=user, reason="challenge")
        raise DomainError(_("This request to add a passkey expired or was already used. Try again."),
                          field="credential")
    try:
        verified = verify_registration_response(
            credential=parsed, expected_challenge=challenge, expected_rp_id=rp.id,
            expected_origin=list(rp.origins), require_user_verification=True)
    except Exception:  # a signature, origin, relying party or flag that does not check out
        record("passkey.add_refused", actor=user, at=at, target=user, reason="verification")
        raise refused from None
    if (len(verified.credential_id) > CREDENTIAL_ID_MAX or len(verified.credential_public_key) > PUBLIC_KEY_MAX
            or not 0 <= verified.sign_count <= SIGN_COUNT_MAX):
        raise refused
    if db.session.scalar(select(Passkey.id).where(Passkey.credential_id == verified.credential_id)) is not None:
        raise DomainError(_("This passkey has been added already."), field="credential")
    passkey = Passkey(user_id=user.id, name=name, credential_id=verified.credential_id,
                      public_key=verified.credential_public_key, sign_count=verified.sign_count,
                      user_handle=row.user_handle, created_at=at)
    db.session.add(passkey)
    flush_or_conflict({
        "uq_passkeys_user_id_name": _("You already have a passkey with this name. Choose another."),
        "passkeys.user_id, passkeys.name": _("You already have a passkey with this name. Choose another."),
        "credential_id": _("This passkey has been added already."),
    })
    record("passkey.add", actor=user, at=at, target=user, passkey_id=passkey.id, name=name)
    return passkey


# --- signing in with one ------------------------------------------------------------------------

def sign_in_options(*, rp: RelyingParty, at: datetime) -> dict:
    """The options for navigator.credentials.get(): any passkey of this site (discoverable), verified."""
    challenge = _new_challenge(Ceremony.SIGN_IN, at=at)
    options = generate_authentication_options(
        rp_id=rp.id, challenge=challenge, timeout=CEREMONY_TIMEOUT_MS,
        user_verification=UserVerificationRequirement.REQUIRED)
    return options_to_json_dict(options)


def authenticate(credential: str, *, rp: RelyingParty, at: datetime, max_failures: int,
                 lockout: timedelta) -> tuple[User, Passkey]:
    """The user and passkey of a verified answer to sign_in_options, or LoginRefused / LockedOut.

    An answer from a known passkey is an attempt of its account: counted, paused after max_failures
    like a password, and a failure whatever fails (an expired or used challenge, the signature, the
    origin, the relying party, user verification, a sign counter that did not go up, a disabled
    account). The counter is moved on in one guarded statement, so two answers with one count
    cannot both pass.
    """
    message = _("The passkey did not sign you in. Try again, or sign in with your username and password.")
    try:
        parsed = parse_authentication_credential_json(credential or "")
        challenge = parse_client_data_json(parsed.response.client_data_json).challenge
    except Exception:  # not an answer a browser sends
        record("auth.login_failed", actor=None, at=at, method="passkey", reason="malformed")
        raise auth.LoginRefused(message) from None
    fresh = _take_challenge(challenge, Ceremony.SIGN_IN, at=at) is not None
    found = db.session.execute(
        select(Passkey, User).join(User, Passkey.user_id == User.id)
        .where(Passkey.credential_id == parsed.raw_id)).first()
    if found is None:
        # A passkey removed here (or never added) names no account: nothing to count it against.
        record("auth.login_failed", actor=None, at=at, method="passkey", reason="unknown passkey")
        raise auth.LoginRefused(message)
    passkey, user = found
    auth.begin_attempt(user.username, at=at, max_failures=max_failures, lockout=lockout)

    def failed(reason: str) -> auth.LoginRefused:
        return auth.attempt_failed(user.username, at=at, message=message, method="passkey",
                                   passkey_id=passkey.id, reason=reason)

    if not fresh:
        raise failed("challenge")
    if not user.active:
        raise failed("disabled")
    if parsed.response.user_handle is not None and parsed.response.user_handle != passkey.user_handle:
        raise failed("user handle")
    try:
        verified = verify_authentication_response(
            credential=parsed, expected_challenge=challenge, expected_rp_id=rp.id,
            expected_origin=list(rp.origins), credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count, require_user_verification=True)
    except Exception:  # the library's refusal (signature, origin, relying party, flags, counter)
        raise failed("verification") from None
    new_count = verified.new_sign_count
    if not 0 <= new_count <= SIGN_COUNT_MAX:
        raise failed("counter")
    # Up from what is stored at this moment (another answer may have moved it since it was read), or 0
    # again for a passkey that never counts.
    moves_on = Passkey.sign_count < new_count if new_count else Passkey.sign_count == 0
    moved = db.session.execute(
        update(Passkey).where(Passkey.id == passkey.id, moves_on).values(sign_count=new_count, last_used_at=at)
    ).rowcount
    if moved != 1:
        raise failed("counter")
    auth.attempt_succeeded(user.username)
    return user, passkey


# --- the lists and removal ----------------------------------------------------------------------

def list_passkeys(user: User) -> list[Passkey]:
    """user's passkeys, newest first."""
    return list(db.session.scalars(
        select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.created_at.desc(), Passkey.id.desc())))


def passkey_counts() -> dict[int, int]:
    """user id → how many passkeys the account has (accounts without any are missing)."""
    return dict(db.session.execute(select(Passkey.user_id, func.count()).group_by(Passkey.user_id)).tuples().all())


def get_passkey(passkey_id: int, *, user: User) -> Passkey:
    """user's passkey with this id; another account's, or none, is not found."""
    passkey = db.session.get(Passkey, passkey_id)
    if passkey is None or passkey.user_id != user.id:
        raise NotFound(_("No such passkey."))
    return passkey


def remove_passkey(passkey: Passkey, *, actor: User, at: datetime, current_token: str | None = None) -> bool:
    """Remove a passkey and end the sessions started with it; True if that ended current_token's session."""
    ended_mine = auth.end_passkey_sessions(passkey.id, at=at, current_token=current_token)
    record("passkey.remove", actor=actor, at=at, target=passkey.user, passkey_id=passkey.id, name=passkey.name)
    db.session.delete(passkey)
    db.session.flush()
    return ended_mine
