"""Tracking rules: validation, storage of their settings and secrets, matching. No views here."""
