"""The practice server: the sync API kiosks talk to (see docs/SYNC_API.md).

FastAPI + uvicorn, SQLAlchemy 2 + Alembic; SQLite by default, PostgreSQL by URL.
No state lives in the process (nonces, tokens, cursors are in the database), so
several workers or hosts can share one database. No Kivy here.
"""

__version__ = "0.1.0"
