"""The hand-written Alembic migration matches practice_server/models.py (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from practice_server.db import (
    HEAD_REVISION,
    SQLITE_BUSY_TIMEOUT_MS,
    alembic_config,
    make_engine,
    upgrade_to_head,
    writer,
)
from practice_server.models import Base


def diffs(engine, metadata) -> list:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return compare_metadata(ctx, metadata)


def test_migration_matches_the_models(database_url):
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    assert diffs(engine, Base.metadata) == []
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT nextval('schedule_change_seq')")).scalar() >= 1
    engine.dispose()


def test_the_comparison_would_notice_a_drift(database_url):
    engine = make_engine(database_url)
    drifted = sa.MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(drifted)
    drifted.tables["devices"].append_column(sa.Column("nickname", sa.String(20)))
    assert [d[0] for d in diffs(engine, drifted)] == ["add_column"]
    engine.dispose()


def test_downgrade_then_upgrade(database_url):
    engine = make_engine(database_url)
    cfg = alembic_config()
    with writer(engine).begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    with engine.connect() as conn:
        assert set(sa.inspect(conn).get_table_names()) == {"alembic_version"}
    upgrade_to_head(engine)
    upgrade_to_head(engine)  # idempotent
    assert diffs(engine, Base.metadata) == []
    engine.dispose()


def test_single_head_and_the_constant_names_it():
    scripts = ScriptDirectory.from_config(alembic_config())
    assert scripts.get_heads() == [HEAD_REVISION]


def test_sqlite_connections_get_the_pragmas_and_writes_lock_up_front(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    seen: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda c, cur, stmt, *a: seen.append(stmt))
    with writer(engine).begin() as conn:
        q = conn.exec_driver_sql
        assert q("PRAGMA journal_mode").scalar() == "wal"
        assert q("PRAGMA synchronous").scalar() == 2
        assert q("PRAGMA foreign_keys").scalar() == 1
        assert q("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS
    with engine.begin() as conn:
        conn.exec_driver_sql("SELECT 1")
    assert [s for s in seen if s.startswith("BEGIN")] == ["BEGIN IMMEDIATE", "BEGIN DEFERRED"]
    engine.dispose()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "mysql://x@y/z", "nonsense"])
def test_unusable_urls_are_refused_in_plain_words(url):
    from practice_server.db import DatabaseError

    with pytest.raises(DatabaseError) as e:
        make_engine(url)
    assert "Traceback" not in str(e.value) and len(str(e.value)) > 20
