"""python -m practice_server serve | init-db | reminders | checkin-key | staff | fhir-client |
import-schedule | access-report
(console script: clinic-practice-server).

    serve   [--database URL] [--host 127.0.0.1] [--port 8000] [--workers N]
            [--tls-cert F --tls-key F --ca-cert F] [--kiosk-silent-minutes N]
    init-db --database URL
    reminders send [--database URL] [--site NAME] [--day YYYY-MM-DD] --smtp HOST:PORT
            [--smtp-security starttls|ssl|plain] [--smtp-user U] [--smtp-ca F] [--from ADDRESS]
            [--checkin-key F]        (SMTP password: $CLINIC_SMTP_PASSWORD)
    reminders letter APPOINTMENT_ID [--database URL] [--checkin-key F] > letter.html
    checkin-key [--database URL] [--checkin-key F] [--rotate [--revoke-old]]
    staff add USERNAME --name N --role front_desk|clinician|admin [--site NAME ...] [--clinician ID]
    staff list | disable USERNAME | reset-password USERNAME     [--database URL]
            (password: $CLINIC_STAFF_PASSWORD, else a new one is printed once)
    fhir-client add NAME [--scope system/*.read ...] | list | revoke CLIENT_ID   [--database URL]
    import-schedule FILE|URL --site NAME [--format fhir|csv] [--database URL]
            (FHIR Bundle of Appointments or CSV; refused rows are listed; exit 1 if any)
    access-report PATIENT_ID [--days 365] [--database URL]
            (every staff view of and action on the patient, from the audit log)

Without --database, `serve` uses SQLite under $XDG_DATA_HOME/clinic-practice/ and loads
the demo practice into it when it is empty; `reminders` then works on that demo
practice and signs with its public demo key. Problems are told in plain words, without
a traceback, and the exit code is 2. `reminders send` exits 1 when a reminder failed
(it is tried again by the next run).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from . import logs
from .db import DatabaseError, open_database, shown
from .practice_keys import KeyFileError
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
    serve.add_argument("--kiosk-silent-minutes", type=int, default=10, metavar="N",
                       help="the fleet page flags kiosks not heard from for longer (default 10)")
    init = commands.add_parser("init-db", help="create or upgrade the database schema, then exit")
    init.add_argument("--database", metavar="URL", required=True)
    _reminder_commands(commands)
    _staff_commands(commands)
    _fhir_client_commands(commands)
    imports = commands.add_parser("import-schedule", help="import appointments from the EHR: FHIR Bundle or CSV")
    imports.add_argument("source", help="a file, or an https:// FHIR search URL (token: $CLINIC_EHR_TOKEN)")
    imports.add_argument("--site", required=True, help="the site the appointments are at")
    imports.add_argument("--format", choices=("fhir", "csv"), help="default: from the file name (.csv) or fhir")
    imports.add_argument("--database", metavar="URL", help=_DATABASE_HELP)
    return parser


def _fhir_client_commands(commands) -> None:
    fhir = commands.add_parser("fhir-client", help="EHR clients of the FHIR read API: add, list, revoke")
    actions = fhir.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add a client; its id and secret are shown once")
    add.add_argument("name", help="e.g. the EHR's interface engine")
    add.add_argument("--scope", action="append", default=[], metavar="SCOPE",
                     help="system/<Resource>.read or system/*.read (repeat; default system/*.read)")
    actions.add_parser("list", help="every client, its scopes and whether it is revoked")
    revoke = actions.add_parser("revoke", help="refuse the client (and its tokens) from now on")
    revoke.add_argument("client_id")
    for action in actions.choices.values():
        action.add_argument("--database", metavar="URL", help=_DATABASE_HELP)


def _staff_commands(commands) -> None:
    staff = commands.add_parser("staff", help="staff dashboard accounts: add, list, disable, reset a password")
    actions = staff.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add an account (password from $CLINIC_STAFF_PASSWORD, else one is made and shown once)")
    add.add_argument("username")
    add.add_argument("--name", required=True, help="the person's name as colleagues know it")
    add.add_argument("--role", required=True, choices=("front_desk", "clinician", "admin"))
    add.add_argument("--site", action="append", default=[], metavar="NAME",
                     help="a site the person works at (repeat; none: every site)")
    add.add_argument("--clinician", metavar="ID", help="for a clinician: their id in the schedule")
    actions.add_parser("list", help="every account, its role and sites")
    disable = actions.add_parser("disable", help="stop an account signing in (its audit trail stays)")
    disable.add_argument("username")
    reset = actions.add_parser("reset-password", help="set a new password (from $CLINIC_STAFF_PASSWORD, else made)")
    reset.add_argument("username")
    for action in (add, disable, reset, actions.choices["list"]):
        action.add_argument("--database", metavar="URL", help=_DATABASE_HELP)


_DATABASE_HELP = "the practice database (default: the demo practice's SQLite database)"
_KEY_HELP = ("the check-in signing key file, made 0600 on first use (default: $CLINIC_PRACTICE_CHECKIN_KEY, "
             "else checkin-signing.key in your data folder)")
SMTP_PASSWORD_ENV = "CLINIC_SMTP_PASSWORD"
DEMO_SENDER = "reminders@demo-family-clinic.example"


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: use YYYY-MM-DD, e.g. 2026-11-24") from None


def _reminder_commands(commands) -> None:
    reminders = commands.add_parser("reminders", help="e-mail appointment reminders, print appointment letters")
    actions = reminders.add_subparsers(dest="action", required=True)
    send = actions.add_parser("send", help="e-mail the reminders of one day (each appointment once)")
    send.add_argument("--database", metavar="URL", help=_DATABASE_HELP)
    send.add_argument("--site", metavar="NAME", help="only this site (name or id; default: every site)")
    send.add_argument("--day", metavar="YYYY-MM-DD", type=_day,
                      help="the appointments' day (default: tomorrow at each site)")
    send.add_argument("--smtp", metavar="HOST:PORT", required=True, help="the SMTP server (port 587 if left out)")
    send.add_argument("--smtp-security", choices=("starttls", "ssl", "plain"), default="starttls",
                      help="starttls (default; submission port 587), ssl (port 465) or plain (a local relay)")
    send.add_argument("--smtp-user", metavar="USER", help=f"log in as USER (password from ${SMTP_PASSWORD_ENV})")
    send.add_argument("--smtp-ca", metavar="FILE", help="trust this CA for the SMTP server's certificate")
    send.add_argument("--from", dest="sender", metavar="ADDRESS",
                      help=f"the sender address (required, except for the demo practice: {DEMO_SENDER})")
    send.add_argument("--checkin-key", metavar="FILE", help=_KEY_HELP)
    letter = actions.add_parser("letter", help="print an appointment letter with its check-in code (HTML on stdout)")
    letter.add_argument("appointment_id", metavar="APPOINTMENT_ID")
    letter.add_argument("--database", metavar="URL", help=_DATABASE_HELP)
    letter.add_argument("--checkin-key", metavar="FILE", help=_KEY_HELP)
    access = commands.add_parser("access-report", help="who saw or acted on one patient's data (from the audit log)")
    access.add_argument("patient_id", metavar="PATIENT_ID")
    access.add_argument("--days", type=int, default=365, help="how far back (default 365)")
    access.add_argument("--database", metavar="URL")
    keys = commands.add_parser("checkin-key", help="show (making it if needed) or rotate the check-in signing key")
    keys.add_argument("--database", metavar="URL", help=_DATABASE_HELP)
    keys.add_argument("--checkin-key", metavar="FILE", help=_KEY_HELP)
    keys.add_argument("--rotate", action="store_true",
                      help="make a new key that signs from now on; codes signed before keep working")
    keys.add_argument("--revoke-old", action="store_true",
                      help="with --rotate: the old keys leaked, their codes stop working at once")


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
        if args.command == "reminders":
            return _reminders(args)
        if args.command == "checkin-key":
            return _checkin_key(args)
        if args.command == "staff":
            from .staff_cli import run

            return run(args, _open_practice)
        if args.command == "fhir-client":
            return _fhir_client(args)
        if args.command == "import-schedule":
            return _import_schedule(args)
        if args.command == "access-report":
            return _access_report(args)
        return _serve(args)
    except (DatabaseError, SettingsError, KeyFileError) as e:
        print(f"practice server: {e}", file=sys.stderr)
        return 2


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = ServerSettings(
        database_url=args.database or default_database_url(),
        host=args.host, port=args.port, workers=args.workers,
        tls_cert=args.tls_cert, tls_key=args.tls_key, ca_cert_file=args.ca_cert,
        demo=args.database is None, kiosk_silent_minutes=args.kiosk_silent_minutes,
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


def _fhir_client(args: argparse.Namespace) -> int:
    from . import fhir_clients

    now = datetime.now(UTC)
    engine, sessions, _demo = _open_practice(args, now)
    try:
        with sessions.begin() as db:
            if args.action == "add":
                client_id, secret = fhir_clients.add(db, args.name, args.scope or ["system/*.read"], now)
                print(f"client_id: {client_id}\nclient_secret: {secret}\n"
                      "Give both to the EHR's integration team privately; the secret is not shown again. "
                      "Token URL: <server>/fhir/R4/auth/token (client credentials).")
            elif args.action == "list":
                for c in fhir_clients.list_all(db):
                    print(f"{c.id:<22} {'REVOKED' if c.revoked_at else 'active':<8} {c.scopes:<30} {c.name}")
            elif not fhir_clients.revoke(db, args.client_id, now):
                print(f"fhir-client: no client {args.client_id}; `fhir-client list` shows them", file=sys.stderr)
                return 2
        return 0
    except fhir_clients.ClientError as e:
        print(f"fhir-client: {e}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()


def _access_report(args: argparse.Namespace) -> int:
    from . import access_report

    if args.days < 1:
        print("access-report: --days must be 1 or more", file=sys.stderr)
        return 2
    now = datetime.now(UTC)
    since = now - timedelta(days=args.days)
    engine, sessions, _demo = _open_practice(args, now)
    try:
        with sessions() as db:
            found = access_report.accesses(db, args.patient_id, since)
        print(access_report.format_report(args.patient_id, since, found))
        return 0
    finally:
        engine.dispose()


def _import_schedule(args: argparse.Namespace) -> int:
    """Prints the summary and each refused row; exit 1 when a row was refused, 2 when
    nothing could be imported at all."""
    from pathlib import Path

    from . import admin, schedule_import
    from .models import Site

    now = datetime.now(UTC)
    kind = args.format or ("csv" if args.source.lower().endswith(".csv") else "fhir")
    engine, sessions, _demo = _open_practice(args, now)
    try:
        with sessions.begin() as db:
            found = admin.find_site(db, args.site)
            if found is None:
                raise schedule_import.ScheduleImportError(f"no site named {args.site}; `python -m provisioning sites` lists them")
            site = db.get(Site, found.id)
            if args.source.startswith(("https://", "http://")):
                token = os.environ.get("CLINIC_EHR_TOKEN")
                rows = (row for bundle in schedule_import.fetch_bundles(args.source, token)
                        for row in schedule_import.rows_from_bundle(bundle, site.timezone))
            else:
                try:
                    text = Path(args.source).read_text(encoding="utf-8-sig")
                except (OSError, UnicodeDecodeError) as e:
                    raise schedule_import.ScheduleImportError(f"cannot read {args.source}: {e}") from None
                rows = schedule_import.parse_file(text, kind, site.timezone)
            report = schedule_import.store(db, site, rows, now)
    except schedule_import.ScheduleImportError as e:
        print(f"import-schedule: {e}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(report.summary())
    for problem in report.errors:
        print(f"  refused {problem}")
    return 1 if report.errors else 0


def _open_practice(args: argparse.Namespace, now: datetime):
    """(engine, sessions, demo) for --database, else the demo practice (loaded if empty)."""
    demo = args.database is None
    engine, sessions = open_database(args.database or default_database_url())
    if demo:
        from .demo_practice import load_demo_practice

        load_demo_practice(sessions, now)
    return engine, sessions, demo


def _signing_key(db, args: argparse.Namespace, demo: bool, now: datetime):
    from . import practice_keys

    if demo:  # the demo database only: its codes are signed with the public demo key
        return practice_keys.install_demo_key(db, now)
    return practice_keys.load_or_create(db, practice_keys.key_path(args.checkin_key), now)


def _reminders(args: argparse.Namespace) -> int:
    from . import admin, reminders, schedule

    now = datetime.now(UTC)
    if args.action == "send" and args.sender is None and args.database is not None:
        print("practice server: reminders send needs --from ADDRESS (the sender of the e-mails)", file=sys.stderr)
        return 2
    engine, sessions, demo = _open_practice(args, now)
    try:
        with sessions.begin() as db:
            key = _signing_key(db, args, demo, now)
        if args.action == "letter":
            with sessions.begin() as db:
                try:
                    page = reminders.letter_html(db, args.appointment_id.strip(), key=key, now=now)
                except (LookupError, ValueError) as e:
                    print(f"practice server: {e}", file=sys.stderr)
                    return 2
            sys.stdout.write(page)
            return 0
        try:
            host, port = reminders.parse_host_port(args.smtp)
            smtp = reminders.SmtpSettings(
                host=host, port=port, sender=args.sender or DEMO_SENDER, security=args.smtp_security,
                username=args.smtp_user, password=os.environ.get(SMTP_PASSWORD_ENV) or None,
                ca_file=args.smtp_ca,
            )
            smtp.check()
        except ValueError as e:
            print(f"practice server: {e}", file=sys.stderr)
            return 2
        with sessions() as db:
            if args.site:
                site = admin.find_site(db, args.site)
                if site is None:
                    print(f"practice server: no site named {args.site!r} (python -m provisioning sites lists them)",
                          file=sys.stderr)
                    return 2
                sites = [site]
            else:
                sites = admin.list_sites(db)
        failed = False
        for site in sites:
            day = args.day or schedule.local_today(site.timezone, now) + timedelta(days=1)
            try:
                report = reminders.send_reminders(sessions, site.id, day, smtp, now, key=key)
            except ValueError as e:
                print(f"practice server: {site.name}: {e}", file=sys.stderr)
                failed = True
                continue
            print(f"{site.name} {day.isoformat()}: {report.sent} sent, {report.failed} failed, "
                  f"{report.no_email} without an e-mail address, {report.already} sent before")
            for outcome in report.outcomes:
                if outcome.error:
                    print(f"  appointment {outcome.appointment_id}: {outcome.error} (tried again next run)")
            failed = failed or report.failed > 0
        return 1 if failed else 0
    finally:
        engine.dispose()


def _checkin_key(args: argparse.Namespace) -> int:
    from . import practice_keys

    if args.revoke_old and not args.rotate:
        print("practice server: --revoke-old goes with --rotate", file=sys.stderr)
        return 2
    now = datetime.now(UTC)
    engine, sessions, demo = _open_practice(args, now)
    try:
        if demo and args.rotate:
            print("practice server: the demo practice signs with its fixed demo key; give --database "
                  "to rotate a real practice's key", file=sys.stderr)
            return 2
        with sessions.begin() as db:
            if args.rotate:
                key = practice_keys.rotate(db, practice_keys.key_path(args.checkin_key), now,
                                           revoke_old=args.revoke_old)
            else:
                key = _signing_key(db, args, demo, now)
        with sessions() as db:
            published = practice_keys.published_keys(db, now)
        where = "the public demo key, demo only" if demo else str(practice_keys.key_path(args.checkin_key))
        print(f"signing key: {key.key_id} ({where})")
        print("published to kiosks: " + (", ".join(published) or "none"))
        return 0
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
