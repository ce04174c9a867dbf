"""Chaos benchmark, the long version of tests/e2e/test_sync_chaos.py.

Faults between the sync agent and the server (delay, drop, reset mid-request, reset
after the server committed, truncated and garbage replies, 500 and 503) plus SIGKILLs
of the agent and of the server at random moments, while patients check in through
the kiosk's journey. Then the faults stop, the backlog drains, and the server's
events are compared with the kiosk's.

    python bench/bench_sync_chaos.py [--events 1200] [--seconds 150] [--seed 1] [--postgres]

Target: 0 lost, 0 stored or applied twice, 0 dead letters.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from tests.e2e.chaos import run_chaos  # noqa: E402
from tests.e2e.practice_db import PG_ENV, drop_postgres, fresh_postgres, sqlite_url  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1200)
    parser.add_argument("--seconds", type=float, default=150)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres", action="store_true", help=f"on PostgreSQL ({PG_ENV}) instead of SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-chaos-") as tmp:
        base = os.environ.get(PG_ENV)
        if args.postgres and not base:
            print(f"set {PG_ENV} (eval \"$(bash scripts/postgres.sh)\")", file=sys.stderr)
            return 2
        url = fresh_postgres(base) if args.postgres else sqlite_url(Path(tmp) / "practice")
        try:
            result = run_chaos(Path(tmp), url, events=args.events, seconds=args.seconds, seed=args.seed)
        finally:
            if args.postgres:
                drop_postgres(base, url)
    print(f"\n== chaos on {'PostgreSQL' if args.postgres else 'SQLite'}, seed {args.seed} ==")
    for line in result.lines():
        print("  " + line)
    ok = result.lost == result.unexpected == result.stored_twice == result.arrivals_not_applied == result.dead_letters == 0
    print("  result: " + ("PASS (0 lost, 0 twice)" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
