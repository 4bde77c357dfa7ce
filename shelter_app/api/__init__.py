"""The JSON API for partner systems and its access tokens."""
