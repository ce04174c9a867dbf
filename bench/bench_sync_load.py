"""Benchmark: the practice server under many simulated kiosks (heartbeat + event push).

Starts a real server (`python -m practice_server serve`, TLS off on loopback so the
load generator measures the server, not its own TLS handshakes) on SQLite and, when
PRACTICE_TEST_POSTGRES_URL is set (`eval "$(bash scripts/postgres.sh)"`), on a fresh
PostgreSQL database. Enrols N kiosks through the real enrolment API, then every
kiosk loops for the run: a signed event push (1-5 events), a signed heartbeat,
and a random pause averaging --interval seconds (real kiosks heartbeat every 60 s;
the default 5 s is 12x that). The load generator is one asyncio process (httpx).

    python bench/bench_sync_load.py [--kiosks 500] [--seconds 30] [--interval 5] [--workers 2]

Prints p50/p99/max latency per request kind, requests/s, events/s and errors, and
the unsigned /api/v1/health latency under the same load as a baseline.
Target: p99 < 250 ms at 500 kiosks on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import httpx  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat  # noqa: E402

from practice_server import admin  # noqa: E402
from practice_server.db import open_database  # noqa: E402
from sync_protocol.signing import sign_request  # noqa: E402
from tests.e2e.practice_db import fresh_postgres  # noqa: E402
from tests.e2e.harness import start_server  # noqa: E402

TARGET_P99_MS = 250.0


class Kiosk:
    def __init__(self, device_id: str, key: Ed25519PrivateKey) -> None:
        self.device_id = device_id
        self.key = key

    def signed(self, method: str, url: str, body: bytes) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        sign_request(method, url, headers, body, device_id=self.device_id, private_key=self.key, now=datetime.now(UTC))
        return headers


async def enrol_all(base: str, database_url: str, count: int) -> list[Kiosk]:
    engine, sessions = open_database(database_url)
    now = datetime.now(UTC)
    with sessions.begin() as db:
        site = admin.find_site(db, "Bench Clinic") or admin.create_site(db, "Bench Clinic", "America/Chicago")
        tokens = [admin.issue_enrolment_token(db, site.id, timedelta(hours=1), now).token for _ in range(count)]
    engine.dispose()
    kiosks: list[Kiosk] = []
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        sem = asyncio.Semaphore(20)

        async def enrol(i: int, token: str) -> None:
            key = Ed25519PrivateKey.generate()
            raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            async with sem:
                r = await client.post(
                    "/api/v1/enrol",
                    json={"token": token, "public_key": base64.b64encode(raw).decode(), "hostname": f"bench-{i}", "version": "bench"},
                )
            r.raise_for_status()
            kiosks.append(Kiosk(r.json()["device_id"], key))

        await asyncio.gather(*(enrol(i, t) for i, t in enumerate(tokens)))
    return kiosks


async def run_load(base: str, kiosks: list[Kiosk], seconds: float, interval: float) -> dict:
    latencies: dict[str, list[float]] = {"events": [], "heartbeat": [], "health": []}
    errors: dict[str, int] = {}
    events_sent = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=len(kiosks) + 10, max_keepalive_connections=len(kiosks) + 10)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:

        async def timed(kind: str, method: str, path: str, body: bytes | None, kiosk: Kiosk | None) -> None:
            headers = kiosk.signed(method, base + path, body or b"") if kiosk else {}
            start = time.perf_counter()
            try:
                r = await client.request(method, path, content=body, headers=headers)
                ok = r.status_code == 200
                if ok and kind == "events":
                    ok = all(res["status"] == "accepted" for res in r.json()["results"])
            except httpx.HTTPError as e:
                ok, r = False, type(e).__name__
            elapsed = (time.perf_counter() - start) * 1000
            if ok:
                latencies[kind].append(elapsed)
            else:
                key = f"{kind}:{getattr(r, 'status_code', r)}"
                errors[key] = errors.get(key, 0) + 1

        async def kiosk_loop(kiosk: Kiosk, rng: random.Random) -> None:
            nonlocal events_sent
            await asyncio.sleep(rng.uniform(0, interval))  # spread the start
            while time.monotonic() < deadline:
                n = rng.randint(1, 5)
                batch = {
                    "events": [
                        {
                            "id": str(uuid.uuid4()),
                            "type": "visit.step_timing",
                            "created_at": datetime.now(UTC).isoformat(),
                            "session_id": None,
                            "payload": {"step": "last_name", "seconds": round(rng.uniform(2, 40), 1)},
                        }
                        for _ in range(n)
                    ]
                }
                await timed("events", "POST", "/api/v1/events", json.dumps(batch).encode(), kiosk)
                events_sent += n
                beat = {
                    "version": "bench", "backlog": 0, "oldest_unsent_age_seconds": None,
                    "clock": datetime.now(UTC).isoformat(), "disk_free_bytes": 10**10,
                    "dead_letters": 0, "last_error": None,
                }
                await timed("heartbeat", "POST", "/api/v1/heartbeat", json.dumps(beat).encode(), kiosk)
                await asyncio.sleep(rng.uniform(0, 2 * interval))

        async def baseline_loop() -> None:
            while time.monotonic() < deadline:
                await timed("health", "GET", "/api/v1/health", None, None)
                await asyncio.sleep(0.2)

        started = time.monotonic()
        await asyncio.gather(baseline_loop(), *(kiosk_loop(k, random.Random(i)) for i, k in enumerate(kiosks)))
        wall = time.monotonic() - started
    return {"latencies": latencies, "errors": errors, "wall": wall, "events_sent": events_sent}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def report(label: str, result: dict, kiosks: int) -> float:
    lat = result["latencies"]
    wall = result["wall"]
    signed = lat["events"] + lat["heartbeat"]
    print(f"\n== {label}: {kiosks} kiosks, {wall:.0f} s ==")
    for kind in ("events", "heartbeat", "health"):
        v = lat[kind]
        print(f"  {kind:<10} n={len(v):6d}  p50={pct(v, .5):7.1f} ms  p99={pct(v, .99):7.1f} ms  max={max(v, default=float('nan')):7.1f} ms")
    p99 = pct(signed, 0.99)
    print(f"  signed requests: {len(signed) / wall:7.1f} req/s, events accepted: {len(lat['events'])and result['events_sent'] / wall:7.1f}/s")
    print(f"  p99 all signed: {p99:.1f} ms (target < {TARGET_P99_MS:.0f} ms); "
          f"p50 signed / p50 health baseline = {pct(signed, .5) / pct(lat['health'], .5):.2f}x")
    print(f"  errors: {result['errors'] or 'none'}")
    return p99


def bench(label: str, database_url: str, args: argparse.Namespace, tmp: Path) -> float:
    (tmp / label).mkdir(exist_ok=True)
    server = start_server(tmp / label, database_url, tls=False, workers=args.workers)
    try:
        kiosks = asyncio.run(enrol_all(server.url, database_url, args.kiosks))
        result = asyncio.run(run_load(server.url, kiosks, args.seconds, args.interval))
    finally:
        server.stop()
    return report(label, result, len(kiosks))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kiosks", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--interval", type=float, default=5.0, help="mean seconds between a kiosk's rounds")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; load generator and server share them")
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        tmp_path = Path(tmp)
        results = {}
        if not args.skip_sqlite:
            (tmp_path / "sqlite").mkdir()
            results["SQLite"] = bench("sqlite", f"sqlite:///{tmp_path / 'sqlite' / 'practice.db'}", args, tmp_path)
        pg = os.environ.get("PRACTICE_TEST_POSTGRES_URL")
        if pg:
            results["PostgreSQL"] = bench("postgres", fresh_postgres(pg), args, tmp_path)
        else:
            print("\nPostgreSQL skipped: set PRACTICE_TEST_POSTGRES_URL (eval \"$(bash scripts/postgres.sh)\")")
    print("\nsummary: " + ", ".join(f"{k} p99 {v:.1f} ms" for k, v in results.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
