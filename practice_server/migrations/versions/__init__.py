"""Alembic revisions, written by hand to match practice_server/models.py."""
