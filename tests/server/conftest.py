"""Fixtures: every server test runs on SQLite and, when PRACTICE_TEST_POSTGRES_URL is set
(`eval "$(bash scripts/postgres.sh)"`), on PostgreSQL too.

PostgreSQL: one fresh database per test session (created next to the one in the URL,
dropped at the end), emptied before each test. SQLite: a migrated template file,
copied for each test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from practice_server import admin
from practice_server.app import create_app
from practice_server.context import ServerContext
from practice_server.db import open_database
from practice_server.models import Base
from practice_server.settings import ServerSettings
from server_helpers import TZ, Clock, Kiosk, enrol

PG_ENV = "PRACTICE_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "practice.db"
    engine, _ = open_database(f"sqlite:///{path}")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set (eval \"$(bash scripts/postgres.sh)\" to test on PostgreSQL)")
    name = f"practice_test_{os.getpid()}"
    admin_engine = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    url = base.rsplit("/", 1)[0] + "/" + name
    engine, _ = open_database(url)
    engine.dispose()
    yield url
    with admin_engine.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin_engine.dispose()


def _empty_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        conn.execute(sa.text("ALTER SEQUENCE schedule_change_seq RESTART"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "practice.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    _empty_postgres(url)
    return url


@dataclass
class Server:
    app: FastAPI
    client: TestClient
    clock: Clock
    sessions: sessionmaker[Session]  # writer sessions on the same database
    url: str

    @property
    def ctx(self) -> ServerContext:
        return self.app.state.context

    def site(self, name: str = "Northside Clinic", timezone: str = TZ) -> admin.SiteInfo:
        with self.sessions.begin() as db:
            return admin.create_site(db, name, timezone)

    def kiosk(self, site_id: str, hostname: str = "kiosk-1") -> Kiosk:
        return enrol(self.client, self.sessions, site_id, hostname, self.clock)

    def scalar(self, statement):
        with self.sessions() as db:
            return db.scalar(statement)

    def rows(self, statement) -> list:
        with self.sessions() as db:
            return list(db.execute(statement))


@pytest.fixture
def server(database_url: str) -> Iterator[Server]:
    clock = Clock()
    app = create_app(ServerSettings(database_url=database_url), clock=clock)
    # raise_server_exceptions=False: a 500 must be seen as the client sees it.
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Server(app, client, clock, app.state.context.write, database_url)
    app.state.context.engine.dispose()


@pytest.fixture
def site(server: Server) -> admin.SiteInfo:
    return server.site()


@pytest.fixture
def kiosk(server: Server, site: admin.SiteInfo) -> Kiosk:
    return server.kiosk(site.id)
