"""SQLite engine with the kiosk's durability settings, and schema migrations."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
DB_FILENAME = "kiosk.db"
# The newest migration's revision. Bump it with every new migration (a test checks it
# against Alembic's scripts): a database already there skips Alembic entirely, which keeps
# ~0.2 s of imports off every kiosk start.
HEAD_REVISION = "0004"

# Execution option read by the "begin" listener below.
_BEGIN_OPTION = "kiosk_sqlite_begin"


def make_engine(db_path: Path) -> Engine:
    """An engine whose every connection runs WAL, synchronous=FULL and FK checks.

    The pool hands one connection to one thread at a time, so sqlite3's
    same-thread check is not needed (the app calls the store from worker threads).
    """
    engine = create_engine(
        f"sqlite:///{db_path}",
        connect_args={"check_same_thread": False},
        hide_parameters=True,  # SQL errors and logs would otherwise show bound values
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own
        # implicit transactions cannot be BEGIN IMMEDIATE).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=5000")  # first: the others may wait for a lock
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")  # a confirmed check-in survives power loss
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        mode = conn.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def writer(engine: Engine) -> Engine:
    """Same pool, but transactions start with BEGIN IMMEDIATE.

    Read-then-write transactions (check-in, audit chain) take the write lock
    up front, so two processes never both read the old state and never fail
    with SQLITE_BUSY on lock upgrade.
    """
    return engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})


def alembic_config():
    """Alembic configured in code: no alembic.ini, scripts found via the package path."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def upgrade_to_head(engine: Engine) -> None:
    if current_revision(engine) == HEAD_REVISION:
        return
    from alembic import command

    cfg = alembic_config()
    with writer(engine).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def current_revision(engine: Engine) -> str:
    """The schema revision stored in the database ("" for a new database)."""
    with engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar() or ""
        except OperationalError:  # no alembic_version table yet
            return ""
