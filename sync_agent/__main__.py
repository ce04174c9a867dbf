"""`python -m sync_agent`: the kiosk's sync agent (a systemd service on real kiosks).

    python -m sync_agent [--config PATH]          sync forever (SIGTERM/SIGINT stop it)
    python -m sync_agent --once [--config PATH]   one sync; exit status says how it went
    python -m sync_agent status [--config PATH]   print the health file as JSON

Exit status: 0 done; 1 the sync failed for now (network, server down: retried later
by the service); 2 this kiosk is not set up to sync (not enrolled, bad configuration
or key file); 3 the server refused this kiosk (revoked, unknown ...: IT must act).
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from kiosk.config import ConfigError, KioskConfig, load_config
from kiosk.logging_setup import configure_logging
from kiosk.store import StoreError, open_store
from kiosk.sync_health import NOT_ENROLLED, SyncHealth, read_health, write_health
from kiosk.watchdog import Notifier

from .agent import StopRequested, SyncAgent
from .client import SyncClient
from sync_protocol.device_key import DeviceKeyError, load_device_key
from .errors import PermanentError, TransientError

EXIT_OK, EXIT_FAILED, EXIT_NOT_SET_UP, EXIT_REFUSED = 0, 1, 2, 3
ENROL = "python -m provisioning enrol --server <practice URL> --token <token from IT>"

log = logging.getLogger("sync_agent")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def health_path(config: KioskConfig) -> Path:
    return config.health_file or config.data_dir / "sync-health.json"


def health_json(health: SyncHealth) -> str:
    data = asdict(health)
    for key, value in data.items():
        if isinstance(value, datetime):
            data[key] = value.isoformat()
    return json.dumps(data, indent=1, sort_keys=True)


def enrolment_problem(config: KioskConfig) -> str | None:
    """Why this kiosk cannot sync yet, or None."""
    where = f" in {config.source}" if config.source else " (no config file given)"
    if config.server_url is None:
        return f"not enrolled: no server_url{where} (demo mode). Run {ENROL}"
    if not config.device_id:
        return f"not enrolled: no device_id{where}. Run {ENROL}"
    if config.device_key_file is None or not config.device_key_file.exists():
        return f"not enrolled: no device key at {config.device_key_file}. Run {ENROL}"
    if urlsplit(config.server_url).scheme == "https" and (
        config.server_ca_file is None or not config.server_ca_file.exists()
    ):
        return f"not enrolled: the practice CA file {config.server_ca_file} is missing. Run {ENROL}"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sync_agent", description="The kiosk's sync agent (see docs/SYNC_API.md)."
    )
    parser.add_argument("command", nargs="?", choices=("run", "status"), default="run")
    parser.add_argument("--config", type=Path, help="kiosk TOML config (default: $KIOSK_CONFIG)")
    parser.add_argument("--once", action="store_true", help="sync once and exit (status 0 = success)")
    args = parser.parse_args(argv)

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_NOT_SET_UP
    health_file = health_path(config)

    if args.command == "status":
        print(health_json(read_health(health_file)))
        return EXIT_OK

    problem = enrolment_problem(config)
    key = None
    if problem is None:
        try:
            key = load_device_key(config.device_key_file)
        except DeviceKeyError as exc:
            problem = str(exc)
    if problem is not None:
        print(problem, file=sys.stderr)
        try:  # staff mode shows it too
            write_health(health_file, SyncHealth(state=NOT_ENROLLED, last_error=problem, updated_at=_utc_now()))
        except OSError:
            pass
        return EXIT_NOT_SET_UP

    # Its own file: two processes rotating one log file would lose lines.
    configure_logging(config.log_file.with_name("sync-agent.log"), config.log_level, console=not args.once)
    try:
        store = open_store(config.data_dir, config.key_file)
    except StoreError as exc:
        print(f"cannot open the kiosk store: {exc}", file=sys.stderr)
        return EXIT_NOT_SET_UP
    with store:
        client = SyncClient(
            config.server_url,
            config.device_id,
            key,
            ca_file=config.server_ca_file,
            timeout=float(config.request_timeout_seconds),
        )
        agent = SyncAgent(store, client, config, clock=_utc_now, health_path=health_file)
        if args.once:
            return _once(agent)
        return _forever(agent)


def _once(agent: SyncAgent) -> int:
    try:
        r = agent.sync_once()
    except TransientError as exc:
        print(f"sync failed ({exc.code}): {exc}", file=sys.stderr)
        return EXIT_FAILED
    except PermanentError as exc:
        print(f"sync refused ({exc.code}): {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except Exception as exc:  # noqa: BLE001 - one line for the operator; details are in the log
        print(f"sync failed: local error on the kiosk ({type(exc).__name__}); see the agent's log", file=sys.stderr)
        log.exception("sync.once_failed")
        return EXIT_FAILED
    print(
        f"sync ok: {r.pushed} events pushed ({r.accepted} accepted, {r.duplicates} duplicate, "
        f"{r.rejected} rejected), {r.schedule_rows} schedule rows in {r.schedule_pages} pages, "
        f"{r.backlog} still waiting"
    )
    return EXIT_OK


def _forever(agent: SyncAgent) -> int:
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()
        # Mid-request the agent finishes that request and then stops; during stamina's
        # backoff sleep (up to minutes) nothing is in flight, so cut the sleep short.
        if agent.sleeping:
            raise StopRequested()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("sync.started", extra={"fields": {"version": agent.version}})
    notifier = Notifier()
    notifier.ready("syncing")
    if notifier.ping_every:
        threading.Thread(target=_watchdog, args=(agent, notifier, stop), name="watchdog", daemon=True).start()
    try:
        agent.run_forever(stop)
    except StopRequested:
        agent.write_health()
    notifier.stopping()
    stop.set()
    return EXIT_OK


def _watchdog(agent: SyncAgent, notifier: Notifier, stop: threading.Event) -> None:
    """Ping systemd while the sync loop keeps moving its deadline on; a stuck loop stops
    the pings and systemd restarts the agent."""
    while not stop.wait(notifier.ping_every):
        if time.monotonic() < agent.alive_until:
            notifier.ping()
        else:
            log.error("sync.stuck", extra={"fields": {"seconds_over": round(time.monotonic() - agent.alive_until)}})


if __name__ == "__main__":
    sys.exit(main())
