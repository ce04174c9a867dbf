"""Alembic migration scripts (a package so the files ship with kiosk.store)."""
