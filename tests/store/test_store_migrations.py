import os
import sqlite3

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from kiosk.store import open_store
from kiosk.store.database import (
    DB_FILENAME,
    HEAD_REVISION,
    MIGRATIONS_DIR,
    alembic_config,
    make_engine,
    upgrade_to_head,
    writer,
)
from kiosk.store.models import Base


def diffs(engine, metadata):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(ctx, metadata)


def test_hand_written_migrations_match_the_models(tmp_path):
    engine = make_engine(tmp_path / DB_FILENAME)
    upgrade_to_head(engine)
    assert diffs(engine, Base.metadata) == []
    engine.dispose()


def test_the_comparison_would_notice_a_drift(tmp_path):
    """Guard for the test above: a model change without a migration shows up."""
    engine = make_engine(tmp_path / DB_FILENAME)
    upgrade_to_head(engine)
    drifted = sa.MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(drifted)
    drifted.tables["patients"].append_column(sa.Column("nickname", sa.LargeBinary()))
    found = diffs(engine, drifted)
    assert [d[0] for d in found] == ["add_column"]
    engine.dispose()


def test_single_head_and_scripts_found_through_the_package(tmp_path, monkeypatch):
    scripts = ScriptDirectory.from_config(alembic_config())
    assert scripts.get_heads() == [HEAD_REVISION]
    assert MIGRATIONS_DIR.is_absolute()
    # The working directory has nothing to do with finding the scripts.
    monkeypatch.chdir(tmp_path)
    s = open_store(tmp_path / "data", tmp_path / "k" / "key")
    assert s.status().schema_revision == HEAD_REVISION
    s.close()


def test_upgrade_is_idempotent_and_downgrade_works(tmp_path):
    engine = make_engine(tmp_path / DB_FILENAME)
    upgrade_to_head(engine)
    upgrade_to_head(engine)
    cfg = alembic_config()
    with writer(engine).begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
    with engine.connect() as conn:
        assert set(sa.inspect(conn).get_table_names()) == {"alembic_version"}
    upgrade_to_head(engine)
    assert diffs(engine, Base.metadata) == []
    engine.dispose()


def test_every_connection_gets_the_pragmas(tmp_path):
    engine = make_engine(tmp_path / DB_FILENAME)
    conns = [engine.connect() for _ in range(3)]  # distinct pooled connections
    for conn in conns:
        q = conn.exec_driver_sql
        assert q("PRAGMA journal_mode").scalar() == "wal"
        assert q("PRAGMA synchronous").scalar() == 2  # FULL
        assert q("PRAGMA foreign_keys").scalar() == 1
        assert q("PRAGMA busy_timeout").scalar() == 5000
    for conn in conns:
        conn.close()
    engine.dispose()


def test_foreign_keys_are_enforced(tmp_path):
    engine = make_engine(tmp_path / DB_FILENAME)
    upgrade_to_head(engine)
    with pytest.raises(sa.exc.IntegrityError):
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO appointments (id, patient_id, clinician_id, start, day, visit_type,"
                " status) VALUES ('a', 'nobody', 'nobody', '2025-01-01 09:00:00', '2025-01-01',"
                " 'follow_up', 'booked')"
            )
    engine.dispose()


def test_sql_errors_do_not_show_bound_values(tmp_path):
    engine = make_engine(tmp_path / DB_FILENAME)
    upgrade_to_head(engine)
    with pytest.raises(sa.exc.IntegrityError) as err:
        with engine.begin() as conn:
            conn.execute(
                sa.text("INSERT INTO clinicians (id, display_name) VALUES (:i, NULL)"),
                {"i": "Secret-Value-123"},
            )
    assert "Secret-Value-123" not in str(err.value)
    engine.dispose()


def test_database_file_is_in_wal_mode_on_disk(data_dir, key_file):
    open_store(data_dir, key_file).close()
    conn = sqlite3.connect(data_dir / DB_FILENAME)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert os.path.getsize(data_dir / DB_FILENAME) > 0


def test_writes_take_the_lock_up_front(tmp_path):
    """Read-then-write transactions must start with BEGIN IMMEDIATE (see database.writer)."""
    engine = make_engine(tmp_path / DB_FILENAME)
    seen = []
    sa.event.listen(engine, "before_cursor_execute", lambda c, cur, stmt, *a: seen.append(stmt))
    with writer(engine).begin() as conn:
        conn.exec_driver_sql("SELECT 1")
    with engine.begin() as conn:
        conn.exec_driver_sql("SELECT 1")
    assert [s for s in seen if s.startswith("BEGIN")] == ["BEGIN IMMEDIATE", "BEGIN DEFERRED"]
    engine.dispose()


def test_head_revision_constant_matches_the_migration_scripts():
    """HEAD_REVISION lets a kiosk skip Alembic at start-up; it must name the newest script."""
    from alembic.script import ScriptDirectory

    from kiosk.store.database import HEAD_REVISION, alembic_config

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION
