"""Each end-to-end test gets its own practice database: SQLite, and PostgreSQL too when
PRACTICE_TEST_POSTGRES_URL is set (scripts/test.sh starts one when it can)."""

from __future__ import annotations

import os

import pytest

from tests.e2e.practice_db import PG_ENV, drop_postgres, fresh_postgres, sqlite_url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "practice")
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set (eval \"$(bash scripts/postgres.sh)\" to test on PostgreSQL)")
    url = fresh_postgres(base)
    yield url
    drop_postgres(base, url)
