"""Referrals: case managers ask for a bed, shelter staff answer."""
