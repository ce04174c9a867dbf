"""The practice server's database as the end-to-end tests and benchmarks see it:
fresh databases (SQLite file or a new PostgreSQL database), the demo practice, and
plain reads of what the server stored."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from practice_server.db import open_database

PG_ENV = "PRACTICE_TEST_POSTGRES_URL"


def fresh_postgres(base_url: str, prefix: str = "practice_e2e") -> str:
    """A new, empty database beside the one in `base_url` (its role must create databases)."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return base_url.rsplit("/", 1)[0] + "/" + name


def drop_postgres(base_url: str, url: str) -> None:
    name = url.rsplit("/", 1)[1]
    engine = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    engine.dispose()


def sqlite_url(directory: Path) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{directory / 'practice.db'}"


def load_demo(database_url: str) -> None:
    """The demo practice (its first site is the kiosk's demo clinic, same ids)."""
    from practice_server.demo_practice import load_demo_practice

    engine, sessions = open_database(database_url)
    try:
        load_demo_practice(sessions, datetime.now(UTC))
    finally:
        engine.dispose()


def server_rows(database_url: str, query: sa.Select | Callable[[Any], list]) -> list:
    """Rows of a select (ORM objects, detached) or what `query(session)` returns."""
    engine, sessions = open_database(database_url)
    try:
        with sessions() as db:
            rows = query(db) if callable(query) else list(db.scalars(query))
            db.expunge_all()
            return rows
    finally:
        engine.dispose()
