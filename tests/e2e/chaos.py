"""The sync chaos run, shared by the short test and the long benchmark (bench/bench_sync_chaos.py).

A real server process and a real agent process with the fault proxy between them,
while this process checks patients in through the kiosk's own journey and records
the events a visit makes. At random moments the agent and the server are SIGKILLed
and started again. At the end the faults stop, the agent drains the backlog, and the
server's events are compared with the kiosk's: none lost, none extra, none twice.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from kiosk.config import load_config
from kiosk.flow import Journey
from kiosk.store import open_store
from kiosk.store.demo_clinic import build_demo_schedule
from practice_server import models as pm
from tests.e2e.fault_proxy import AFTER_COMMIT, Fault, FaultProxy, random_plan
from tests.e2e.harness import REPO, enrol_kiosk, start_server
from tests.e2e.kiosk_visits import check_in, fail_to_identify, site_noon
from tests.e2e.practice_db import load_demo, server_rows


@dataclass
class ChaosResult:
    events_made: int = 0
    check_ins: int = 0
    on_server: int = 0
    lost: int = 0
    unexpected: int = 0
    stored_twice: int = 0
    arrivals_not_applied: int = 0
    dead_letters: int = 0
    agent_kills: int = 0
    server_kills: int = 0
    faults: Counter = field(default_factory=Counter)
    drain_seconds: float = 0.0
    seconds: float = 0.0

    def lines(self) -> list[str]:
        injected = sum(n for f, n in self.faults.items() if f is not Fault.PASS)
        after_commit = sum(n for f, n in self.faults.items() if f in AFTER_COMMIT)
        return [
            f"events made on the kiosk: {self.events_made} ({self.check_ins} check-ins)",
            f"requests through the proxy: {sum(self.faults.values())}, faults injected: {injected} "
            f"({after_commit} after the server had committed)",
            "  " + ", ".join(f"{f.value} {n}" for f, n in sorted(self.faults.items(), key=lambda x: x[0].value)),
            f"SIGKILLs: agent {self.agent_kills}, server {self.server_kills}",
            f"on the server: {self.on_server}; lost {self.lost}, unexpected {self.unexpected}, "
            f"stored twice {self.stored_twice}, arrivals not applied {self.arrivals_not_applied}, "
            f"dead letters {self.dead_letters}",
            f"run {self.seconds:.1f} s, final drain {self.drain_seconds:.1f} s",
        ]


class AgentProcess:
    def __init__(self, config_path: Path, log_path: Path) -> None:
        self.config_path = config_path
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "sync_agent", "--config", str(self.config_path)],
                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def _point_at(config_path: Path, url: str) -> None:
    text = config_path.read_text()
    config_path.write_text(re.sub(r'(?m)^server_url\s*=.*$', f'server_url = "{url}"', text))


def _visitors(site_today) -> list[tuple[str, object]]:
    """Patients of the demo clinic today the kiosk can identify by name and birth date alone."""
    _, patients, appointments = build_demo_schedule(site_today)
    same = Counter((p.last_name.lower(), p.birth_date) for p in patients)
    today = {a.patient_id for a in appointments if a.start.date() == site_today}
    return [
        (p.last_name, p.birth_date) for p in patients
        if p.id in today and same[(p.last_name.lower(), p.birth_date)] == 1
    ]


def run_chaos(
    tmp: Path, database_url: str, *, events: int, seconds: float, seed: int,
    kill_every: tuple[float, float] = (1.5, 4.0),
    drain_timeout: float = 120.0, log=print,
) -> ChaosResult:
    rng = random.Random(seed)
    result = ChaosResult()
    started = time.monotonic()
    load_demo(database_url)
    server = start_server(tmp / "server", database_url, tls=False)
    proxy = FaultProxy(server.port, random_plan(seed)).start()
    agent: AgentProcess | None = None
    try:
        kiosk = enrol_kiosk(
            server, database_url, tmp / "kiosk", site_name="Demo Family Clinic",
            extra_config={"sync_interval_seconds": 1, "request_timeout_seconds": 2, "sync_batch_size": 20},
        )
        config = load_config(kiosk.config_path)
        agent = AgentProcess(kiosk.config_path, tmp / "agent.log")
        # The schedule first, straight from the server: check-ins need it (the agent keeps
        # pulling changes through the faults during the run).
        first = subprocess.run([sys.executable, "-m", "sync_agent", "--once", "--config", str(kiosk.config_path)],
                               cwd=REPO, capture_output=True, text=True, timeout=60)
        assert first.returncode == 0, first.stdout + first.stderr
        _point_at(kiosk.config_path, proxy.url)
        agent.start()
        noon = site_noon()
        clock = lambda: noon  # noqa: E731 (the journey's "today" is the demo clinic's)
        visitors = _visitors(noon.astimezone().date())
        rng.shuffle(visitors)
        next_kill = time.monotonic() + rng.uniform(*kill_every)
        with open_store(config.data_dir, config.key_file) as store:
            while result.events_made < events:
                if visitors and rng.random() < 0.5:
                    check_in(store, clock, *visitors.pop())
                    result.check_ins += 1
                elif rng.random() < 0.3:
                    fail_to_identify(store, clock)
                    if Journey(store, [], clock).cooldown_remaining():
                        Journey(store, [], clock).clear_cooldown()  # staff lift the pause
                else:
                    store.record_event("visit.step_timing", {"step": "welcome", "seconds": rng.randint(1, 60)},
                                       None, datetime.now(UTC))
                result.events_made = _count_all(store)
                time.sleep(rng.uniform(0, 2 * seconds / events))  # a busy waiting room, sped up
                if time.monotonic() >= next_kill:
                    if rng.random() < 0.6:
                        agent.kill()
                        result.agent_kills += 1
                        agent.start()
                    else:
                        server.kill()
                        result.server_kills += 1
                        time.sleep(rng.uniform(0, 0.5))  # down for a moment
                        server.start()
                    next_kill = time.monotonic() + rng.uniform(*kill_every)
            log(f"chaos: {result.events_made} events made; faults off, draining")
            # Faults off; a fresh agent (no long backoff left over) drains what is left.
            proxy.plan = lambda: (Fault.PASS, 0.0)
            agent.kill()
            agent.start()
            drain_started = time.monotonic()
            while store.status().outbox_pending and time.monotonic() - drain_started < drain_timeout:
                time.sleep(0.2)
            result.drain_seconds = time.monotonic() - drain_started
            kiosk_ids = _all_ids(store)
            result.dead_letters = store.status().dead_letters
            arrivals = [e for e in _all_events(store) if e[1] == "appointment.arrived"]
    finally:
        if agent is not None:
            agent.stop()
        result.faults = Counter(proxy.counts)
        proxy.stop()
        server.stop()

    on_server = server_rows(
        database_url,
        lambda db: list(db.execute(select(pm.Event.event_id, pm.Event.status).where(pm.Event.device_id == kiosk.device_id))),
    )
    server_ids = [row.event_id for row in on_server]
    result.on_server = len(server_ids)
    result.stored_twice = len(server_ids) - len(set(server_ids))
    result.lost = len(kiosk_ids - set(server_ids))
    result.unexpected = len(set(server_ids) - kiosk_ids)
    arrived_ids = [a[2] for a in arrivals]
    applied = server_rows(
        database_url,
        lambda db: db.scalar(
            select(func.count()).select_from(pm.Appointment).where(
                pm.Appointment.id.in_(arrived_ids), pm.Appointment.status == "arrived"
            )
        ),
    ) if arrived_ids else 0
    result.arrivals_not_applied = len(arrived_ids) - applied
    result.seconds = time.monotonic() - started
    return result


def _all_events(store) -> list[tuple[str, str, str | None]]:
    """(id, type, appointment id) of every event the kiosk ever queued, sent or not."""
    import json

    from kiosk.store import models as km
    from kiosk.store.outbox import PAYLOAD_AAD

    with store._read() as s:  # noqa: SLF001 (the test reads sent events too)
        rows = s.execute(select(km.OutboxEvent.id, km.OutboxEvent.event_type, km.OutboxEvent.payload)).all()
    out = []
    for event_id, event_type, blob in rows:
        payload = json.loads(store._cipher.decrypt(blob, PAYLOAD_AAD))  # noqa: SLF001
        out.append((event_id, event_type, payload.get("appointment_id")))
    return out


def _all_ids(store) -> set[str]:
    return {e[0] for e in _all_events(store)}


def _count_all(store) -> int:
    from kiosk.store import models as km

    with store._read() as s:  # noqa: SLF001
        return s.scalar(select(func.count()).select_from(km.OutboxEvent)) or 0
