"""`python -m practice_server staff ...`: staff dashboard accounts for IT.

The password comes from $CLINIC_STAFF_PASSWORD (so it never sits in the shell history);
without it a random one is made and printed once. The dashboard has no self-service
password change yet: IT resets it with `staff reset-password`."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from datetime import UTC, datetime

from . import admin
from .dashboard import accounts

PASSWORD_ENV = "CLINIC_STAFF_PASSWORD"


def _password() -> tuple[str, bool]:
    given = os.environ.get(PASSWORD_ENV)
    return (given, False) if given else (secrets.token_urlsafe(12), True)


def run(args: argparse.Namespace, open_practice) -> int:
    now = datetime.now(UTC)
    engine, sessions, _demo = open_practice(args, now)
    try:
        with sessions.begin() as db:
            if args.action == "list":
                for a in accounts.list_all(db):
                    sites = ", ".join(s.name for s in (admin.find_site(db, i) for i in a.site_ids) if s) or "every site"
                    state = "DISABLED" if a.disabled else "active"
                    print(f"{a.username:<20} {a.role:<11} {state:<8} {a.display_name} · {sites}")
                return 0
            if args.action == "disable":
                accounts.disable(db, args.username, now)
                print(f"{accounts.normalise_username(args.username)} can no longer sign in; open sessions end now.")
                return 0
            password, made = _password()
            if args.action == "reset-password":
                accounts.set_password(db, args.username, password)
            else:
                site_ids = []
                for name in args.site:
                    site = admin.find_site(db, name)
                    if site is None:
                        raise accounts.AccountError(f"no site named {name}; `python -m provisioning sites` lists them")
                    site_ids.append(site.id)
                accounts.create(db, args.username, args.name, args.role, password, now,
                                site_ids=tuple(site_ids), clinician_id=args.clinician)
        name = accounts.normalise_username(args.username)
        print(f"{name}: password {'made' if made else 'set'}.")
        if made:
            print(f"Give it to {name} privately; it is not shown again: {password}")
        return 0
    except accounts.AccountError as e:
        print(f"staff: {e}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
