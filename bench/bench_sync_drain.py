"""Benchmark: drain a 10,000-event backlog from a kiosk to the practice server.

A real server process (TLS, practice CA made here) and an enrolled kiosk whose
outbox holds --events events (the mix a busy clinic's kiosk makes: arrivals for
real appointments, identify failures, visit ends, step timings). The kiosk's own
sync agent (in this process, real client, real signing) pushes the whole backlog
in batches of --batch; the figure is events per second, end to end (read, decrypt,
sign, TLS, verify, store + apply on the server, mark sent on the kiosk).

Baseline, measured in the same run on the same server database: the server's raw
insert rate, i.e. the same number of event rows written straight into its events
table with SQLAlchemy, one transaction per batch of --batch rows.

    python bench/bench_sync_drain.py [--events 10000] [--batch 500] [--postgres]

Target: drain rate >= 50% of the raw insert rate.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from sqlalchemy import func, insert, select  # noqa: E402

from kiosk.config import KioskConfig, load_config  # noqa: E402
from kiosk.store import open_store, outbox  # noqa: E402
from practice_server import models as pm  # noqa: E402
from practice_server.db import open_database  # noqa: E402
from sync_agent.agent import SyncAgent  # noqa: E402
from sync_agent.client import SyncClient  # noqa: E402
from sync_protocol.device_key import load_device_key  # noqa: E402
from tests.e2e.practice_db import drop_postgres, fresh_postgres  # noqa: E402
from tests.e2e.harness import enrol_kiosk, start_server  # noqa: E402

TARGET_RATIO = 0.5


def now() -> datetime:
    return datetime.now(UTC)


def fill_backlog(store, count: int) -> None:
    """Queue `count` events. Set-up only (not timed): one transaction for all of them
    through the outbox module, instead of `count` fsync'd record_event calls."""
    rng = random.Random(7)
    appointments = _appointments(store)
    with store._write() as s:  # noqa: SLF001 (bench set-up speed)
        for i in range(count):
            kind = rng.random()
            if kind < 0.1 and appointments:
                appt = appointments.pop()
                event_type, payload = "appointment.arrived", {
                    "appointment_id": appt[0], "patient_id": appt[1], "clinician_id": appt[2], "arrived_at": now(),
                }
            elif kind < 0.3:
                event_type, payload = "identify.failed", {"reason": "no_match", "attempt": 1}
            elif kind < 0.5:
                event_type, payload = "visit.ended", {"reason": "done", "seconds": rng.randint(30, 300)}
            else:
                event_type, payload = "visit.step_timing", {"step": "birth_date", "seconds": round(rng.uniform(2, 60), 1)}
            outbox.add_event(s, store._cipher, event_type, payload, str(uuid.uuid4()), now())  # noqa: SLF001


def _appointments(store) -> list[tuple[str, str, str]]:
    from kiosk.store import models as km

    with store._read() as s:  # noqa: SLF001
        rows = s.execute(
            select(km.Appointment.id, km.Appointment.patient_id, km.Appointment.clinician_id).where(
                km.Appointment.status == "booked"
            )
        ).all()
    return [tuple(r) for r in rows]


def raw_insert_rate(database_url: str, device_id: str, count: int, batch: int) -> float:
    engine, sessions = open_database(database_url)
    payload = json.dumps({"step": "birth_date", "seconds": 12.5}, sort_keys=True, separators=(",", ":"))
    started = time.perf_counter()
    for first in range(0, count, batch):
        rows = [
            {
                "device_id": device_id, "event_id": str(uuid.uuid4()), "type": "visit.step_timing",
                "created_at": now(), "received_at": now(), "session_id": None,
                "status": "accepted", "reason": None, "payload": payload,
            }
            for _ in range(min(batch, count - first))
        ]
        with sessions.begin() as db:
            db.execute(insert(pm.Event), rows)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return count / elapsed


def server_accepted(database_url: str, device_id: str) -> int:
    engine, sessions = open_database(database_url)
    with sessions() as db:
        n = db.scalar(
            select(func.count()).select_from(pm.Event).where(pm.Event.device_id == device_id, pm.Event.status == "accepted")
        )
    engine.dispose()
    return n or 0


def load_demo(database_url: str) -> None:
    from practice_server.demo_practice import load_demo_practice

    engine, sessions = open_database(database_url)
    load_demo_practice(sessions, now())
    engine.dispose()


def run(database_url: str, label: str, args: argparse.Namespace, tmp: Path) -> float:
    load_demo(database_url)  # the kiosk's site and its schedule, for real arrivals
    server = start_server(tmp / label, database_url, tls=True)
    try:
        kiosk = enrol_kiosk(server, database_url, tmp / label / "kiosk", site_name="Demo Family Clinic")
        config = load_config(kiosk.config_path)
        store = open_store(config.data_dir, config.key_file)
        client = SyncClient(
            config.server_url, config.device_id, load_device_key(config.device_key_file),
            ca_file=config.server_ca_file, timeout=30.0,
        )
        agent = SyncAgent(store, client, config, clock=now, health_path=config.health_file)
        agent.sync_once()  # pull the schedule (arrivals need real appointments), heartbeat
        fill_backlog(store, args.events)
        accepted_before = server_accepted(database_url, config.device_id)

        raw_rate = raw_insert_rate(database_url, config.device_id, args.events, args.batch)

        agent.config = _with_batch(config, args.batch)
        started = time.perf_counter()
        agent.sync_once(full=False)
        elapsed = time.perf_counter() - started
        left = store.status().outbox_pending
        dead = store.status().dead_letters
        accepted = server_accepted(database_url, config.device_id) - accepted_before - args.events
        store.close()
    finally:
        server.stop()
    rate = args.events / elapsed
    ratio = rate / raw_rate
    print(f"\n== {label} ==")
    print(f"  raw insert (baseline): {raw_rate:9.0f} events/s")
    print(f"  drain {args.events} events: {elapsed:6.2f} s = {rate:7.0f} events/s "
          f"(ratio {ratio:.2f} of raw; target >= {TARGET_RATIO:.2f})")
    print(f"  left on the kiosk: {left}, dead letters: {dead}, newly accepted by the server: {accepted}")
    return ratio


def _with_batch(config, batch: int):
    import dataclasses

    return dataclasses.replace(config, sync_batch_size=batch)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=KioskConfig.sync_batch_size,
                        help="events per request (default: the kiosk's sync_batch_size default)")
    parser.add_argument("--postgres", action="store_true", help="also on PostgreSQL (PRACTICE_TEST_POSTGRES_URL)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-drain-") as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "sqlite").mkdir()
        ratios = {"SQLite": run(f"sqlite:///{tmp_path / 'sqlite' / 'practice.db'}", "sqlite", args, tmp_path)}
        pg = os.environ.get("PRACTICE_TEST_POSTGRES_URL")
        if args.postgres and pg:
            (tmp_path / "postgres").mkdir()
            url = fresh_postgres(pg)
            try:
                ratios["PostgreSQL"] = run(url, "postgres", args, tmp_path)
            finally:
                drop_postgres(pg, url)
    print("\nsummary: " + ", ".join(f"{k} {v:.2f}x raw" for k, v in ratios.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
