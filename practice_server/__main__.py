"""python -m practice_server serve | init-db  (console script: clinic-practice-server).

    serve   [--database URL] [--host 127.0.0.1] [--port 8000] [--workers N]
            [--tls-cert F --tls-key F --ca-cert F]
    init-db --database URL

Without --database, `serve` uses SQLite under $XDG_DATA_HOME/clinic-practice/ and loads
the demo practice into it when it is empty. Problems are told in plain words, without
a traceback, and the exit code is 2.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from . import logs
from .db import DatabaseError, open_database, shown
from .settings import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    SETTINGS_ENV,
    ServerSettings,
    SettingsError,
    default_database_url,
)

log = logging.getLogger("practice_server")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m practice_server", description="The practice server (sync API).")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the server (uvicorn)")
    serve.add_argument("--database", metavar="URL",
                       help="sqlite:///path.db or postgresql+psycopg://user:pw@host/db "
                       "(default: a demo SQLite database in your data folder)")
    serve.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    serve.add_argument("--tls-cert", metavar="FILE", help="server certificate (PEM, full chain)")
    serve.add_argument("--tls-key", metavar="FILE", help="server private key (PEM)")
    serve.add_argument("--ca-cert", metavar="FILE", help="practice CA certificate handed to kiosks at enrolment")
    init = commands.add_parser("init-db", help="create or upgrade the database schema, then exit")
    init.add_argument("--database", metavar="URL", required=True)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv.insert(0, "serve")  # `python -m practice_server` alone runs the demo practice
    args = _parser().parse_args(argv)
    logs.configure()
    try:
        if args.command == "init-db":
            engine, _ = open_database(args.database)
            log.info("database.ready", extra={"fields": {"database": shown(engine.url)}})
            engine.dispose()
            return 0
        return _serve(args)
    except (DatabaseError, SettingsError) as e:
        print(f"practice server: {e}", file=sys.stderr)
        return 2


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = ServerSettings(
        database_url=args.database or default_database_url(),
        host=args.host, port=args.port, workers=args.workers,
        tls_cert=args.tls_cert, tls_key=args.tls_key, ca_cert_file=args.ca_cert,
        demo=args.database is None,
    )
    settings.check()
    # Migrate (and load the demo) once here, before any worker starts.
    engine, sessions = open_database(settings.database_url)
    if settings.demo:
        from .demo_practice import load_demo_practice

        load_demo_practice(sessions, datetime.now(UTC))
    engine.dispose()
    scheme = "https" if settings.tls_cert else "http"
    log.info("server.starting", extra={"fields": {
        "url": f"{scheme}://{settings.host}:{settings.port}", "database": shown(settings.database_url),
        "workers": settings.workers, "demo": settings.demo}})
    options = dict(
        host=settings.host, port=settings.port, log_config=None, access_log=False,
        ssl_certfile=settings.tls_cert, ssl_keyfile=settings.tls_key,
        timeout_graceful_shutdown=10,
    )
    if settings.workers == 1:
        from .app import create_app

        uvicorn.run(create_app(settings), **options)
    else:
        os.environ[SETTINGS_ENV] = settings.to_env()
        uvicorn.run("practice_server.app:app_from_environment", factory=True, workers=settings.workers, **options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
