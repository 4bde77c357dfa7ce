"""Sign-in, sessions, users and roles."""
