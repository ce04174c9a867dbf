"""Database engines (SQLite by default, PostgreSQL by URL) and schema migrations.

SQLite: WAL, busy_timeout, foreign keys, synchronous=FULL, and BEGIN IMMEDIATE for
writes (read-then-write transactions take the lock up front, as on the kiosk), so
several workers on one file never fail on a lock upgrade.
PostgreSQL: a connection pool; statement and idle-in-transaction timeouts keep
every transaction short, which the schedule cursor's overlap relies on (schedule.py).
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The newest migration (a test checks it against Alembic's scripts): a database at
# head skips importing Alembic at start-up.
HEAD_REVISION = "0008"
_BEGIN_OPTION = "practice_sqlite_begin"
# Any fixed number: serialises concurrent upgrades of one PostgreSQL database.
_MIGRATION_LOCK_ID = 7_310_422_001
SQLITE_BUSY_TIMEOUT_MS = 10_000
PG_STATEMENT_TIMEOUT_MS = 30_000
PG_IDLE_IN_TRANSACTION_TIMEOUT_MS = 30_000


class DatabaseError(RuntimeError):
    """The database cannot be used; the message says why in words IT can act on."""


def parse_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(
            f"not a database URL: {url!r}. Use sqlite:///path/to/practice.db or "
            "postgresql+psycopg://user:password@host:5432/dbname"
        ) from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        # psycopg 3 is the driver we ship; a bare postgresql:// would ask for psycopg2.
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise DatabaseError(
                "an in-memory SQLite database cannot be shared by the server's connections; "
                "give a file: sqlite:///path/to/practice.db"
            )
        return parsed.set(drivername="sqlite")
    raise DatabaseError(f"unsupported database {backend!r}: use sqlite:/// or postgresql+psycopg://")


def shown(url: URL | str) -> str:
    """The URL without its password, for messages and logs."""
    return (make_url(url) if isinstance(url, str) else url).render_as_string(hide_password=True)


def make_engine(url: str) -> Engine:
    parsed = parse_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(parsed)
        return create_engine(
            parsed,
            pool_size=10,
            max_overflow=20,
            pool_pre_ping=True,  # a restarted database must not cost the next request
            hide_parameters=True,  # SQL errors and logs would otherwise show bound values (PHI)
            connect_args={
                "connect_timeout": 10,
                "options": f"-c statement_timeout={PG_STATEMENT_TIMEOUT_MS} "
                f"-c idle_in_transaction_session_timeout={PG_IDLE_IN_TRANSACTION_TIMEOUT_MS}",
            },
        )
    except NoSuchModuleError as e:
        raise DatabaseError(f"no driver for {shown(parsed)}: {e}") from None


def _sqlite_engine(url: URL) -> Engine:
    path = Path(url.database or "")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as e:
        raise DatabaseError(f"cannot create the folder for {path}: {e.strerror}") from None
    engine = create_engine(url, connect_args={"check_same_thread": False}, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # SQLAlchemy's "begin" event issues BEGIN (pysqlite's implicit one cannot be IMMEDIATE).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")  # an accepted event survives a power cut
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get(_BEGIN_OPTION, 'DEFERRED')}")

    return engine


def writer(engine: Engine) -> Engine:
    """Same pool; on SQLite transactions start with BEGIN IMMEDIATE (no-op elsewhere)."""
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})


def alembic_config():
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def current_revision(engine: Engine) -> str:
    with engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar() or ""
        except DBAPIError:  # no alembic_version table yet
            return ""


def upgrade_to_head(engine: Engine) -> None:
    if current_revision(engine) == HEAD_REVISION:
        return
    from alembic import command

    cfg = alembic_config()
    with writer(engine).begin() as conn:
        if engine.dialect.name == "postgresql":
            # Several workers or hosts starting on a new database: one migrates, the
            # others wait here and then find the schema at head.
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK_ID})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def check_connection(engine: Engine) -> None:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as e:
        reason = str(e.orig).strip().splitlines()[0] if e.orig else type(e).__name__
        raise DatabaseError(f"cannot connect to the database {shown(engine.url)}: {reason}") from None


def open_database(url: str) -> tuple[Engine, sessionmaker[Session]]:
    """Engine + sessionmaker for `url`, with the schema upgraded to head.

    Sessions from the sessionmaker write (BEGIN IMMEDIATE on SQLite); the caller owns
    the transaction: ``with sessions.begin() as db: admin.create_site(db, ...)``.
    Raises DatabaseError (plain words) when the URL is wrong or the database is unreachable.
    """
    engine = make_engine(url)
    try:
        check_connection(engine)
        try:
            upgrade_to_head(engine)
        except DBAPIError as e:
            raise DatabaseError(
                f"cannot bring the schema of {shown(engine.url)} up to date: "
                f"{type(e.orig or e).__name__}"
            ) from None
    except DatabaseError:
        engine.dispose()
        raise
    return engine, sessionmaker(writer(engine), expire_on_commit=False)


def reader_sessions(engine: Engine) -> sessionmaker[Session]:
    """Sessions for read-only work (no write lock on SQLite)."""
    return sessionmaker(engine, expire_on_commit=False)
