"""Alembic revisions, written by hand to match kiosk/store/models.py."""
