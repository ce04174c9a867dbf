"""Benchmark: the practice server under many simulated kiosks (heartbeat + event push).

Starts a real server (`python -m practice_server serve`, TLS off on loopback so the
load generator measures the server, not its own TLS handshakes) on SQLite and, when
PRACTICE_TEST_POSTGRES_URL is set (`eval "$(bash scripts/postgres.sh)"`), on a fresh
PostgreSQL database. Enrols N kiosks through the real enrolment API, then every
kiosk loops for the run: a signed event push (1-5 events), a signed heartbeat,
and a random pause averaging --interval seconds (a real kiosk's agent syncs every 30 s
and heartbeats every 60 s; the default 10 s is 3-6x that). The load generator is one
asyncio process on its own kept-alive connection per kiosk; requests are signed before
the run (kiosks sign on their own CPUs, not the server's).

    python bench/bench_sync_load.py [--kiosks 500] [--seconds 30] [--interval 10] [--repeat 3] [--workers 2]

Prints p50/p99/max latency per request kind as the kiosks saw it, requests/s, events/s,
errors, the time spent inside the server (its access log), and the unsigned
/api/v1/health latency under the same load as a baseline.
Target: p99 < 250 ms at 500 kiosks on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import socket
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
from tests.e2e.practice_db import drop_postgres, fresh_postgres  # noqa: E402
from tests.e2e.harness import start_server  # noqa: E402

TARGET_P99_MS = 250.0
KEEP_ALIVE_S = 4.0  # uvicorn closes idle kept-alive connections after 5 s


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


def presign(base: str, kiosks: list[Kiosk], rounds: int, seed: int) -> list[list[tuple[str, bytes, int]]]:
    """Every request of the run, signed before it starts: real kiosks sign on their own
    CPUs, not on the server's; here the load generator shares the server's two cores,
    so its signing must not be measured as server latency. (created stays well within
    the 5-minute skew window for runs of a few minutes.)"""
    rng = random.Random(seed)
    host = base.split("://", 1)[1]
    plans = []
    for kiosk in kiosks:
        plan = []
        for _ in range(rounds):
            batch = {"events": [
                {"id": str(uuid.uuid4()), "type": "visit.step_timing", "created_at": datetime.now(UTC).isoformat(),
                 "session_id": None, "payload": {"step": "last_name", "seconds": round(rng.uniform(2, 40), 1)}}
                for _ in range(rng.randint(1, 5))
            ]}
            beat = {"version": "bench", "backlog": 0, "oldest_unsent_age_seconds": None,
                    "clock": datetime.now(UTC).isoformat(), "disk_free_bytes": 10**10,
                    "dead_letters": 0, "last_error": None}
            for kind, path, body in (("events", "/api/v1/events", batch), ("heartbeat", "/api/v1/heartbeat", beat)):
                raw = json.dumps(body).encode()
                headers = kiosk.signed("POST", base + path, raw)
                head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(raw)}\r\n"
                head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                plan.append((kind, head.encode() + b"\r\n" + raw, len(body["events"]) if kind == "events" else 0))
        plans.append(plan)
    return plans


async def _connect(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(host, port)
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as HTTP clients do
    return reader, writer


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[int, bytes]:
    """One HTTP/1.1 request on a kept-alive connection; the status and the body."""
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def run_load(base: str, plans: list[list[tuple[str, bytes, int]]], seconds: float, interval: float) -> dict:
    """Each kiosk: its own kept-alive connection; an event push and a heartbeat, then a
    random pause averaging `interval`; a plain asyncio client (httpx cost more CPU than
    the server it was measuring)."""
    latencies: dict[str, list[float]] = {"events": [], "heartbeat": [], "health": []}
    errors: dict[str, int] = {}
    events_sent = 0
    deadline = time.monotonic() + seconds
    host, port = base.split("://", 1)[1].split(":")

    async def kiosk_loop(plan: list[tuple[str, bytes, int]], rng: random.Random) -> None:
        nonlocal events_sent
        await asyncio.sleep(rng.uniform(0, interval))  # spread the start
        reader, writer = await _connect(host, int(port))
        last_used = time.monotonic()
        try:
            for i, (kind, request, n) in enumerate(plan):
                if time.monotonic() >= deadline:
                    break
                if time.monotonic() - last_used > KEEP_ALIVE_S:  # the server has closed it
                    writer.close()
                    reader, writer = await _connect(host, int(port))
                start = time.perf_counter()
                try:
                    status, body = await _exchange(reader, writer, request)
                    ok = status == 200 and (kind != "events" or b'"rejected"' not in body)
                except (OSError, asyncio.IncompleteReadError) as e:
                    status, ok = type(e).__name__, False
                    reader, writer = await _connect(host, int(port))
                last_used = time.monotonic()
                if ok:
                    latencies[kind].append((time.perf_counter() - start) * 1000)
                    events_sent += n
                else:
                    errors[f"{kind}:{status}"] = errors.get(f"{kind}:{status}", 0) + 1
                if i % 2:
                    await asyncio.sleep(rng.uniform(0, 2 * interval))
        finally:
            writer.close()

    async def baseline_loop() -> None:
        reader, writer = await _connect(host, int(port))
        request = f"GET /api/v1/health HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
        while time.monotonic() < deadline:
            start = time.perf_counter()
            status, _ = await _exchange(reader, writer, request)
            if status == 200:
                latencies["health"].append((time.perf_counter() - start) * 1000)
            await asyncio.sleep(0.2)
        writer.close()

    started = time.monotonic()
    await asyncio.gather(baseline_loop(), *(kiosk_loop(p, random.Random(i)) for i, p in enumerate(plans)))
    wall = time.monotonic() - started
    return {"latencies": latencies, "errors": errors, "wall": wall, "events_sent": events_sent}


def server_latencies(log_path: Path, skip_bytes: int = 0) -> dict[str, list[float]]:
    """Time the server itself took per signed request (its JSON access log), so a busy
    load generator on the same cores can be told from a slow server."""
    out: dict[str, list[float]] = {"events": [], "heartbeat": []}
    for line in log_path.read_bytes()[skip_bytes:].decode(errors="replace").splitlines():
        if '"request"' not in line:
            continue
        try:
            entry = json.loads(line)
            kind = entry["path"].rsplit("/", 1)[1]
            if kind in out:
                out[kind].append(float(entry["ms"]))
        except (ValueError, KeyError, IndexError):
            pass
    return out


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
    for kind, inside in result.get("server", {}).items():
        print(f"  inside the server, {kind:<9} (access log): p50={pct(inside, .5):6.1f} ms  p99={pct(inside, .99):6.1f} ms")
    print(f"  errors: {result['errors'] or 'none'}")
    return p99


def bench(label: str, database_url: str, args: argparse.Namespace, tmp: Path) -> list[float]:
    """--repeat runs on one server (this machine's disk and neighbours make single runs
    noisy); each run's figures are printed, the p99s returned."""
    (tmp / label).mkdir(exist_ok=True)
    server = start_server(tmp / label, database_url, tls=False, workers=args.workers)
    p99s = []
    try:
        kiosks = asyncio.run(enrol_all(server.url, database_url, args.kiosks))
        rounds = int(args.seconds / args.interval) + 3
        for run in range(args.repeat):
            plans = presign(server.url, kiosks, rounds, seed=run)
            logged = len(server.log_path.read_bytes())
            result = asyncio.run(run_load(server.url, plans, args.seconds, args.interval))
            result["server"] = server_latencies(server.log_path, skip_bytes=logged)
            p99s.append(report(f"{label} run {run + 1}/{args.repeat}", result, len(kiosks)))
    finally:
        server.stop()
    return p99s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kiosks", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--interval", type=float, default=10.0, help="mean seconds between a kiosk's rounds")
    parser.add_argument("--repeat", type=int, default=3, help="load runs per database")
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
            url = fresh_postgres(pg)
            try:
                results["PostgreSQL"] = bench("postgres", url, args, tmp_path)
            finally:
                drop_postgres(pg, url)
        else:
            print("\nPostgreSQL skipped: set PRACTICE_TEST_POSTGRES_URL (eval \"$(bash scripts/postgres.sh)\")")
    print("\nsummary (p99 of every run, median):")
    for name, p99s in results.items():
        print(f"  {name}: " + ", ".join(f"{v:.0f}" for v in p99s) + f" ms; median {statistics.median(p99s):.0f} ms "
              f"(target < {TARGET_P99_MS:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
