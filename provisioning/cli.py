"""`python -m provisioning <command>`: argument parsing and printing; the work is elsewhere.

Every IT mistake ends as one line on stderr starting with "error:" and a non-zero exit
code, never a traceback (ProvisioningError is raised for all of them).
"""
from __future__ import annotations

import argparse
import os
import shlex
import sys
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from provisioning.errors import ProvisioningError

ENV_DATABASE = "PRACTICE_SERVER_DATABASE"
ENV_CA_CERT = "PRACTICE_SERVER_CA_CERT"


def _now() -> datetime:
    return datetime.now(UTC)


# -- practice server database (admin commands run on the server machine) --------------------


@contextmanager
def _db(url: str | None):
    url = url or os.environ.get(ENV_DATABASE)
    if not url:
        raise ProvisioningError(
            f"no database: pass --database URL (e.g. sqlite:////var/lib/practice-server/practice.db) "
            f"or set {ENV_DATABASE}"
        )
    try:
        from practice_server.db import open_database
    except ImportError as exc:
        raise ProvisioningError(
            f"the practice server is not installed here ({exc}); run this command on the practice server"
        ) from None
    from sqlalchemy.exc import SQLAlchemyError

    try:
        engine, session_factory = open_database(url)
    except (SQLAlchemyError, RuntimeError, ValueError, OSError) as exc:
        # practice_server.db.DatabaseError (a RuntimeError) already says what to fix.
        raise ProvisioningError(f"cannot open the database {_safe_url(url)}: {_first_line(exc)}") from None
    try:
        with session_factory() as db:
            try:
                yield db
                db.commit()
            except SQLAlchemyError as exc:
                db.rollback()
                raise ProvisioningError(f"database error on {_safe_url(url)}: {_first_line(exc)}") from None
            except ValueError as exc:  # the admin functions' way of saying "IT, fix this"
                db.rollback()
                raise ProvisioningError(str(exc)) from None
    finally:
        engine.dispose()


def _safe_url(url: str) -> str:
    """The database URL without its password (it may end up in a ticket)."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(database URL)"


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _site(db, id_or_name: str):
    from practice_server import admin

    site = admin.find_site(db, id_or_name)
    if site is None:
        names = ", ".join(s.name for s in admin.list_sites(db)) or "none yet (create-site)"
        raise ProvisioningError(f"no site {id_or_name!r}; sites: {names}")
    return site


# -- commands --------------------------------------------------------------------------------


def cmd_init_pki(args) -> int:
    from provisioning.pki import fingerprint, init_pki, load_cert_file

    paths = init_pki(args.dir, args.hostname or [], args.ip or [], reuse_ca=args.reuse_ca)
    fp = fingerprint(load_cert_file(paths.ca_cert))
    print(f"practice CA:        {paths.ca_cert}  (key {paths.ca_key}, mode 0600: keep it safe)")
    print(f"CA fingerprint:     {fp}")
    print(f"server certificate: {paths.server_cert}  (full chain; key {paths.server_key})")
    print(
        "start the server with: python -m practice_server serve --database URL "
        f"--tls-cert {paths.server_cert} --tls-key {paths.server_key} --ca-cert {paths.ca_cert}"
    )
    return 0


def cmd_create_site(args) -> int:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from practice_server import admin

    try:
        ZoneInfo(args.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ProvisioningError(
            f"--timezone {args.timezone!r} is not a time zone name; use Area/City, e.g. America/Chicago"
        ) from None
    if not args.name.strip():
        raise ProvisioningError("--name must not be empty")
    with _db(args.database) as db:
        if admin.find_site(db, args.name.strip()) is not None:
            raise ProvisioningError(f"a site named {args.name.strip()!r} exists already (see `sites`)")
        site = admin.create_site(db, args.name.strip(), args.timezone)
    print(f"site created: {site.name}  id {site.id}  timezone {site.timezone}")
    return 0


def cmd_sites(args) -> int:
    from practice_server import admin

    with _db(args.database) as db:
        sites = admin.list_sites(db)
    if not sites:
        print("No sites yet. Create one with `python -m provisioning create-site --name ... --timezone Area/City`.")
        return 0
    width = max(len(s.name) for s in sites)
    print(f"{'NAME'.ljust(width)}  {'ID'.ljust(36)}  TIMEZONE")
    for s in sites:
        print(f"{s.name.ljust(width)}  {s.id.ljust(36)}  {s.timezone}")
    return 0


def cmd_issue_token(args) -> int:
    from practice_server import admin

    from provisioning.enrol import check_server_url
    from provisioning.enrol_uri import build_uri, qr_ascii, save_qr_png
    from provisioning.pki import fingerprint, is_ca, load_cert_file

    if not 0 < args.ttl_hours <= 24 * 30:
        raise ProvisioningError("--ttl-hours must be between 0 and 720 (30 days)")
    url = check_server_url(args.server_url).strip()
    ca_path = args.ca_cert or os.environ.get(ENV_CA_CERT)
    fp = None
    if url.startswith("https://"):
        if not ca_path:
            raise ProvisioningError(
                f"--ca-cert ca.pem is needed (or {ENV_CA_CERT}): the kiosk pins the practice CA by "
                "its fingerprint, which goes into the enrol command and the QR code"
            )
        cert = load_cert_file(Path(ca_path))
        if not is_ca(cert):
            raise ProvisioningError(f"{ca_path} is not a CA certificate: use ca.pem, not server.pem")
        fp = fingerprint(cert)
    with _db(args.database) as db:
        site = _site(db, args.site)
        issued = admin.issue_enrolment_token(db, site.id, timedelta(hours=args.ttl_hours), _now())
    uri = build_uri(url, issued.token, fp)
    command = ["python", "-m", "provisioning", "enrol", "--server", url, "--token", issued.token]
    if fp:
        command += ["--ca-fingerprint", fp]
    command += ["--config", "/etc/clinic-kiosk/kiosk.toml", "--staff-pin-hash", "'<from python -m kiosk.staff_pin>'"]
    print(f"site:    {site.name} ({site.id})")
    print(f"token:   {issued.token}")
    print(f"expires: {issued.expires_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC (single use)")
    if fp:
        print(f"CA:      {fp}")
    print("\non the kiosk, as root:")
    print("  " + " ".join(c if c.startswith("'") else shlex.quote(c) for c in command))
    print(f"\nor scan / paste the enrolment URI (enrol --uri '...'):\n  {uri}\n")
    print(qr_ascii(uri))
    if args.qr_png:
        save_qr_png(uri, Path(args.qr_png))
        print(f"QR code saved to {args.qr_png}")
    return 0


def cmd_enrol(args) -> int:
    from provisioning.enrol import EnrolOptions, enrol

    result = enrol(
        EnrolOptions(
            server_url=args.server,
            token=args.token,
            config_path=Path(args.config),
            ca_file=Path(args.ca_file) if args.ca_file else None,
            ca_fingerprint=args.ca_fingerprint,
            uri=args.uri,
            staff_pin_hash=args.staff_pin_hash,
            force=args.force,
            data_dir=Path(args.data_dir) if args.data_dir else None,
            owner=args.owner,
            timeout=args.timeout,
        )
    )
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"enrolled: device {result.device_id} at site {result.site_name} ({result.site_id})")
    print(f"config:     {result.config_path}")
    print(f"device key: {result.device_key_file} (0600, never leaves this kiosk)")
    if result.server_ca_file:
        print(f"practice CA: {result.server_ca_file} ({result.ca_fingerprint})")
    print("next: python -m provisioning write-units --out /etc/systemd/system && systemctl daemon-reload "
          "&& systemctl enable --now clinic-sync-agent clinic-kiosk")
    return 0


def cmd_fleet(args) -> int:
    from practice_server import admin

    from provisioning.fleet import as_json, table

    if args.silent_after_minutes <= 0:
        raise ProvisioningError("--silent-after-minutes must be more than 0")
    now = _now()
    with _db(args.database) as db:
        devices = admin.list_fleet(db, now, silent_after=timedelta(minutes=args.silent_after_minutes))
    print(as_json(devices) if args.json else table(devices, now))
    return 0


def cmd_revoke(args) -> int:
    from practice_server import admin

    if not args.reason.strip():
        raise ProvisioningError("--reason must say why (it is kept in the server's records)")
    with _db(args.database) as db:
        done = admin.revoke_device(db, args.device, _now(), args.reason.strip())
    if not done:
        raise ProvisioningError(
            f"no enrolled device {args.device!r}: see `python -m provisioning fleet`"
        )
    print(f"revoked {args.device}: its requests are refused from now on. To use the kiosk again, "
          "issue a new token and run enrol --force on it.")
    return 0


def cmd_write_units(args) -> int:
    from provisioning.units import UnitOptions, write_units

    opts = UnitOptions(
        user=args.user, config=Path(args.config), venv=Path(args.venv), data_dir=Path(args.data_dir), cage=Path(args.cage)
    )
    for path in write_units(Path(args.out), opts):
        print(f"wrote {path}")
    print("then: systemctl daemon-reload && systemctl enable --now clinic-sync-agent clinic-kiosk")
    return 0


def _read_settings_file(path: Path) -> dict:
    """A site's settings from a TOML file (or JSON, by its .json suffix)."""
    import json
    import tomllib

    try:
        if path.suffix.lower() == ".json":
            return json.loads(path.read_text(encoding="utf-8"))
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ProvisioningError(f"--file {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProvisioningError(f"--file {path}: cannot read it ({exc})") from None
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ProvisioningError(f"--file {path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'TOML'}: "
                                f"{exc}") from None


def cmd_publish_config(args) -> int:
    from kiosk.site_config import SiteConfigError
    from practice_server import admin

    settings = _read_settings_file(Path(args.file)) if args.file else {}
    logo = None
    if args.logo:
        try:
            logo = Path(args.logo).read_bytes()
        except OSError as exc:
            raise ProvisioningError(f"--logo {args.logo}: cannot read it ({exc.strerror})") from None
    with _db(args.database) as db:
        site = _site(db, args.site)
        try:
            version = admin.publish_site_config(db, site.id, settings, _now(), logo=logo, keep_logo=not args.remove_logo)
        except SiteConfigError as exc:  # every problem on its own line (nothing is published)
            raise ProvisioningError("the site configuration was not published:\n  - " + "\n  - ".join(exc.problems)) from None
    print(f"published the settings of {site.name} (version {version}); its kiosks take them up at their next "
          "sync, between patients")
    return 0


def cmd_site_config(args) -> int:
    import json

    from practice_server import admin

    with _db(args.database) as db:
        site = _site(db, args.site)
        items = admin.site_config_summary(db, site.id, _now())
    print(json.dumps(items, indent=2, sort_keys=True, ensure_ascii=False))
    return 0


# -- parser ----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m provisioning", description="Clinic kiosk provisioning (IT)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def db_arg(sp):
        sp.add_argument("--database", help=f"practice server database URL (default: ${ENV_DATABASE})")

    sp = sub.add_parser("init-pki", help="make the practice CA and the server's TLS certificate")
    sp.add_argument("--dir", required=True, type=Path)
    sp.add_argument("--hostname", action="append", help="server DNS name (repeatable)")
    sp.add_argument("--ip", action="append", help="server IP address (repeatable)")
    sp.add_argument("--reuse-ca", action="store_true", help="keep the existing CA, make a new server certificate")
    sp.set_defaults(func=cmd_init_pki)

    sp = sub.add_parser("create-site", help="add a clinic site")
    db_arg(sp)
    sp.add_argument("--name", required=True)
    sp.add_argument("--timezone", required=True, help="Area/City, e.g. America/Chicago")
    sp.set_defaults(func=cmd_create_site)

    sp = sub.add_parser("sites", help="list sites")
    db_arg(sp)
    sp.set_defaults(func=cmd_sites)

    sp = sub.add_parser("issue-token", help="issue a single-use enrolment token (+ QR code)")
    db_arg(sp)
    sp.add_argument("--site", required=True, help="site id or name")
    sp.add_argument("--ttl-hours", type=float, default=24)
    sp.add_argument("--server-url", required=True, help="the URL kiosks use to reach the server")
    sp.add_argument("--ca-cert", help=f"the practice CA (ca.pem from init-pki; default ${ENV_CA_CERT})")
    sp.add_argument("--qr-png", help="also save the QR code as this PNG file")
    sp.set_defaults(func=cmd_issue_token)

    sp = sub.add_parser("enrol", help="enrol THIS kiosk (run on the kiosk)")
    sp.add_argument("--server")
    sp.add_argument("--token")
    sp.add_argument("--uri", help="the clinic-kiosk-enrol:?… URI from issue-token / the QR code")
    trust = sp.add_mutually_exclusive_group()
    trust.add_argument("--ca-file", help="the practice CA certificate (ca.pem)")
    trust.add_argument("--ca-fingerprint", help="sha256:HEX of the practice CA (from issue-token)")
    sp.add_argument("--config", default="/etc/clinic-kiosk/kiosk.toml")
    sp.add_argument("--staff-pin-hash", help="from `python -m kiosk.staff_pin` (needed unless the config has one)")
    sp.add_argument("--data-dir", help="the kiosk's data folder (default: the config's, else /var/lib/clinic-kiosk)")
    sp.add_argument("--owner", help="the kiosk's service user: owns the keys and the data folder")
    sp.add_argument("--force", action="store_true", help="enrol again although a device key exists (makes a new key)")
    sp.add_argument("--timeout", type=float, default=15.0, help="seconds per request to the server")
    sp.set_defaults(func=cmd_enrol)

    sp = sub.add_parser("fleet", help="status of every kiosk")
    db_arg(sp)
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--silent-after-minutes", type=float, default=5)
    sp.set_defaults(func=cmd_fleet)

    sp = sub.add_parser("revoke", help="revoke a kiosk (lost, stolen, replaced)")
    db_arg(sp)
    sp.add_argument("--device", required=True)
    sp.add_argument("--reason", required=True)
    sp.set_defaults(func=cmd_revoke)

    sp = sub.add_parser("publish-config", help="publish a site's kiosk settings (languages, steps, logo, ...)")
    db_arg(sp)
    sp.add_argument("--site", required=True, help="site id or name")
    sp.add_argument("--file", help="the settings, TOML (or .json); see kiosk/site_config.py for the keys")
    logo = sp.add_mutually_exclusive_group()
    logo.add_argument("--logo", help="the clinic's logo, a PNG or JPEG file (at most 256 KiB, 2048 pixels a side)")
    logo.add_argument("--remove-logo", action="store_true", help="publish without a logo")
    sp.set_defaults(func=cmd_publish_config)

    sp = sub.add_parser("site-config", help="show what a site's kiosks get as their settings")
    db_arg(sp)
    sp.add_argument("--site", required=True, help="site id or name")
    sp.set_defaults(func=cmd_site_config)

    sp = sub.add_parser("write-units", help="write the kiosk's systemd units")
    sp.add_argument("--out", required=True)
    sp.add_argument("--user", default="kiosk")
    sp.add_argument("--config", default="/etc/clinic-kiosk/kiosk.toml")
    sp.add_argument("--venv", default="/opt/clinic-kiosk/venv")
    sp.add_argument("--data-dir", default="/var/lib/clinic-kiosk")
    sp.add_argument("--cage", default="/usr/bin/cage")
    sp.set_defaults(func=cmd_write_units)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "init-pki" and not (args.hostname or args.ip):
        print("error: init-pki needs --hostname NAME and/or --ip ADDRESS (the names kiosks use)", file=sys.stderr)
        return 2
    try:
        return args.func(args)
    except ProvisioningError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("\ncancelled.", file=sys.stderr)
        return 130
