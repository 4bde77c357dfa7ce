"""Passkeys (WebAuthn): added on the Account page, used to sign in with the device's own check."""
