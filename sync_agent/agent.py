"""The sync loop: push the outbox, pull the schedule and bundles, heartbeat, purge.

Delivery is at-least-once: an event is marked sent only after the server answered
for it (accepted or duplicate), so a crash or a lost reply means it is pushed again
and the server answers "duplicate". A rejected event becomes a dead letter for staff.
Every store write is its own short transaction (the kiosk app shares the SQLite
file), and the health file is written after every attempt, failed or not.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import stamina

from kiosk.config import INT_RANGES, KioskConfig
from kiosk.store import Store
from kiosk.sync_health import NOT_ENROLLED, OFFLINE, ONLINE, SyncHealth, write_health
from kiosk.watchdog import parse_window, restart_due

from . import backoff
from .client import BUNDLE_KINDS, SyncClient
from .errors import BadCursorError, PermanentError, SyncError, TransientError
from .replies import ACCEPTED, DUPLICATE, REJECTED

log = logging.getLogger(__name__)

SCHEDULE_PAGE_LIMIT = 500  # rows per page: one page is one short write transaction
MAX_SCHEDULE_PAGES = 1000  # per sync; a server that always says "more" cannot trap us
PURGE_EVERY = timedelta(hours=1)
BACKLOG_POLL_SECONDS = 2.0  # while idle, how often to look for new events to push
# At most one sync round takes this long (requests time out; a long schedule pull pages).
ROUND_BUDGET_SECONDS = 600.0
MAX_ERROR_CHARS = 300
# The server refuses request bodies over 2 MiB; stay well under it (a card photo is
# ~200 KB of base64, a signature ~20 KB). Per event, the envelope (id, type, times) adds
# about this much to its payload.
MAX_BATCH_BYTES = 1_500_000
EVENT_ENVELOPE_BYTES = 200
# Set by the practice per site (config bundle), within the kiosk config's own limits.
SERVER_POLICY = ("retention_days", "sync_interval_seconds", "heartbeat_interval_seconds")


class StopRequested(Exception):
    """SIGTERM/SIGINT (or the stop event) arrived; leave between two requests."""


@dataclass
class SyncReport:
    full: bool = True  # False: a push-only round (new events while idle)
    pushed: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    schedule_pages: int = 0
    schedule_rows: int = 0
    bundles_updated: list[str] = field(default_factory=list)
    heartbeat_sent: bool = False
    purged_patients: int | None = None  # None: no purge this round
    backlog: int = 0  # still pending afterwards


def _version() -> str:
    try:
        return metadata.version("clinic-kiosk")
    except metadata.PackageNotFoundError:
        return "unknown"


class SyncAgent:
    def __init__(
        self,
        store: Store,
        client: SyncClient,
        config: KioskConfig,
        *,
        clock: Callable[[], datetime],
        health_path: Path | None,
    ) -> None:
        self.store = store
        self.client = client
        self.config = config
        self._clock = clock
        self._health_path = health_path
        self._stop = threading.Event()
        self.backoff = backoff.FullJitterBackoff(stop=self._stop)
        self.sleeping = False  # True while stamina waits between retries (see __main__)
        self.state = OFFLINE
        self.last_error: str | None = None
        self.last_attempt: datetime | None = None
        self.last_success: datetime | None = store.status().last_sync
        self._last_heartbeat: datetime | None = None
        self._last_purge: datetime | None = None
        self.version = _version()
        # The watchdog thread (see __main__) pings systemd only while this deadline is ahead:
        # every step of the loop pushes it on by what that step may take at most.
        self.alive_until = time.monotonic() + ROUND_BUDGET_SECONDS
        self._started = time.monotonic()
        self.restarting = False  # set when the loop ended for the nightly restart

    # -- one round ----------------------------------------------------------------------

    def sync_once(self, *, full: bool = True) -> SyncReport:
        """Push the whole backlog; if `full`, also pull schedule and bundles, heartbeat
        when due. Purges PHI past retention when due, even when the network failed.
        Raises TransientError / PermanentError (after writing the health file)."""
        self.last_attempt = self._clock()
        report = SyncReport(full=full)
        try:
            self._push(report)
            if full:
                try:
                    self._pull(report)
                    self._bundles(report)
                except SyncError as exc:
                    self._heartbeat_despite(exc, report)
                    raise
                self._heartbeat(report)
        except StopRequested:
            self.write_health()
            raise
        except SyncError as exc:
            self._failed(exc.code, str(exc), NOT_ENROLLED if getattr(exc, "needs_enrolment", False) else OFFLINE)
            self._maybe_purge(report)
            self.write_health()
            raise
        except Exception as exc:  # a local problem (disk full, database locked ...)
            self._failed("local", f"local error on the kiosk: {type(exc).__name__}", OFFLINE)
            self._maybe_purge(report)
            self.write_health()
            raise
        self._maybe_purge(report)
        now = self._clock()
        if full:
            self.store.record_sync(now)
        self.last_success = now
        self.last_error = None
        self.state = ONLINE
        self.backoff.reset()
        report.backlog = self.store.status().outbox_pending
        self.write_health()
        log.info(
            "sync.done",
            extra={"fields": {k: v for k, v in report.__dict__.items() if k != "bundles_updated"}},
        )
        return report

    def _failed(self, code: str, message: str, state: str) -> None:
        self.last_error = message[:MAX_ERROR_CHARS]
        self.state = state
        log.warning("sync.failed", extra={"fields": {"code": code, "error": self.last_error}})

    def _check_stop(self) -> None:
        if self._stop.is_set():
            raise StopRequested()

    def _read_batch(self, batch_size: int, exclude: Iterable[str] = ()) -> list:
        """The next pending events, cut so the request stays under MAX_BATCH_BYTES (card
        photos and signatures are large; the server refuses bodies over 2 MiB). One event
        always goes, however big: the server's answer (413) decides about it."""
        batch = self.store.outbox_pending(batch_size, exclude=exclude)
        total = 0
        for n, event in enumerate(batch):
            total += event.size + EVENT_ENVELOPE_BYTES
            if total > MAX_BATCH_BYTES and n > 0:
                return batch[:n]
        return batch

    def _push(self, report: SyncReport) -> None:
        """Push the backlog in batches, oldest first, one request in flight at a time (a
        change applied out of order could undo a newer one). While a batch is in flight
        the next one is read, decrypted and encoded here; it goes out as soon as the server
        has answered for the one before, which is then recorded while it travels. Nothing
        is marked before the server answered for it, so a crash at any point leaves
        unanswered events pending (pushed again later, answered as duplicates)."""
        batch = self._read_batch(self.config.sync_batch_size)
        if not batch:
            return
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-push") as sender:
            self._push_batches(report, batch, sender)

    def _push_batches(self, report: SyncReport, batch: list, sender: ThreadPoolExecutor) -> None:
        batch_size = self.config.sync_batch_size
        tried: set[str] = set()
        ids = [e.id for e in batch]
        in_flight = sender.submit(self.client.push_body, self.client.events_body(batch), ids)
        while True:
            next_batch, next_body = self._prepare_next(batch_size, ids)
            try:
                results = in_flight.result()
            except PermanentError as exc:
                if exc.code != "too_large":
                    self.store.mark_failed(ids, f"{exc.code}: {str(exc)[:200]}")
                    raise
                if len(batch) > 1:
                    batch_size = max(1, len(batch) // 2)  # smaller batches fit the server's limit
                else:
                    # One event bigger than the server takes: set it aside for staff, not drop it.
                    self.store.mark_dead(ids[0], "too large for the practice server (HTTP 413)")
                    report.rejected += 1
                next_batch = None  # read again below, at the new size
            except TransientError as exc:
                # No usable answer: nothing is marked, the events stay pending.
                self.store.mark_failed(ids, f"{exc.code}: {str(exc)[:200]}")
                raise
            else:
                tried.update(ids)
                # The server has answered for this batch, so the next one may go now (order
                # holds: one request in flight) while this one is recorded here. A crash
                # while recording leaves both batches pending: pushed again, as duplicates.
                sent_next = next_batch is not None and self._sendable(next_batch, tried)
                if sent_next:
                    following = sender.submit(self.client.push_body, next_body, [e.id for e in next_batch])
                self._record(results, report)
                if sent_next:
                    batch, ids, in_flight = next_batch, [e.id for e in next_batch], following
                    continue
            self._check_stop()
            # No head start (it failed, or the batch size changed): read now, after recording.
            batch = self._read_batch(batch_size)
            if not self._sendable(batch, tried):
                return  # drained (or only events this round already answered for)
            ids = [e.id for e in batch]
            in_flight = sender.submit(self.client.push_body, self.client.events_body(batch), ids)

    @staticmethod
    def _sendable(batch: list, tried: set[str]) -> bool:
        return bool(batch) and not any(e.id in tried for e in batch)

    def _record(self, results: list, report: SyncReport) -> None:
        """Accepted and duplicate -> sent; rejected -> dead letter with the server's reason."""
        report.pushed += len(results)
        done = [r.id for r in results if r.status in (ACCEPTED, DUPLICATE)]
        report.accepted += sum(r.status == ACCEPTED for r in results)
        report.duplicates += sum(r.status == DUPLICATE for r in results)
        self.store.mark_sent(done)
        for r in results:
            if r.status == REJECTED:
                self.store.mark_dead(r.id, r.reason or "rejected")
                report.rejected += 1
                log.warning("sync.event_rejected", extra={"fields": {"event_id": r.id}})

    def _prepare_next(self, batch_size: int, in_flight: list[str]) -> tuple[list | None, bytes | None]:
        """The batch after the one in flight, read and encoded ahead; (None, None) when
        that failed (it is read again, the usual way, once the answer is recorded)."""
        try:
            batch = self._read_batch(batch_size, exclude=in_flight)
            return batch, (self.client.events_body(batch) if batch else None)
        except Exception as exc:  # noqa: BLE001 - only a head start; the next read reports it
            log.debug("sync.prefetch_failed", extra={"fields": {"error": type(exc).__name__}})
            return None, None

    def _pull(self, report: SyncReport) -> None:
        cursor = self.store.schedule_cursor()
        restarted = False
        for _ in range(MAX_SCHEDULE_PAGES):
            self._check_stop()
            try:
                page = self.client.pull_schedule(cursor, SCHEDULE_PAGE_LIMIT)
            except BadCursorError:
                if restarted or cursor == "":
                    raise
                log.warning("sync.schedule_cursor_reset")
                self.store.reset_schedule_cursor()
                cursor, restarted = "", True
                continue
            self.store.apply_schedule_page(page.clinicians, page.patients, page.appointments, page.cursor)
            report.schedule_pages += 1
            report.schedule_rows += len(page.clinicians) + len(page.patients) + len(page.appointments)
            if not page.more:
                return
            if page.cursor == cursor:
                raise TransientError("bad_reply", "the server says 'more' but its cursor did not move")
            cursor = page.cursor
        log.warning("sync.schedule_more_pages", extra={"fields": {"pages": MAX_SCHEDULE_PAGES}})

    def setting(self, name: str) -> int:
        """A sync policy value: the practice's (config bundle, set per site) when it has
        sent a valid one, else the kiosk's own configuration."""
        if name not in SERVER_POLICY:
            raise KeyError(name)
        low, high, _unit = INT_RANGES[name]
        saved = self.store.bundle("config")
        items = saved[0].get("items") if saved else None
        value = items.get(name) if isinstance(items, dict) else None
        if type(value) is int and low <= value <= high:
            return value
        return getattr(self.config, name)

    def _bundles(self, report: SyncReport) -> None:
        for kind in BUNDLE_KINDS:
            self._check_stop()
            bundle = self.client.get_bundle(kind, self.store.bundle_etag(kind))
            if bundle is not None:
                self.store.save_bundle(kind, bundle.body, bundle.etag)
                report.bundles_updated.append(kind)

    def heartbeat_info(self) -> dict[str, Any]:
        status = self.store.status()
        now = self._clock()
        age = (now - status.outbox_oldest).total_seconds() if status.outbox_oldest else 0.0
        return {
            "version": self.version,
            "backlog": status.outbox_pending,
            "oldest_unsent_age_seconds": round(max(age, 0.0), 1),
            "clock": now.isoformat(),  # the kiosk's own clock: the server sees the skew
            "disk_free_bytes": shutil.disk_usage(self.config.data_dir).free,
            "dead_letters": status.dead_letters,
            "last_error": self.last_error,
        }

    def _heartbeat(self, report: SyncReport) -> None:
        now = self._clock()
        interval = timedelta(seconds=self.setting("heartbeat_interval_seconds"))
        if self._last_heartbeat is not None and now - self._last_heartbeat < interval:
            return
        self._check_stop()
        self.client.heartbeat(self.heartbeat_info())
        self._last_heartbeat = now
        report.heartbeat_sent = True

    def _heartbeat_despite(self, failure: SyncError, report: SyncReport) -> None:
        """The schedule or a bundle failed although the server answered (a bad page, a
        4xx): still tell the fleet view this kiosk is alive, and why it is stuck. Not when
        the network is down (one more request would only wait for its timeout)."""
        if failure.status is None and failure.code != "bad_reply":
            return
        self.last_error = f"{failure.code}: {failure}"[:MAX_ERROR_CHARS]
        try:
            self._heartbeat(report)
        except SyncError:
            pass  # the failure being reported is the one that matters

    def _maybe_purge(self, report: SyncReport) -> None:
        """Retention runs offline too: PHI must not linger because the network is down.
        Days are counted on the server-corrected clock, in the kiosk's local time zone."""
        now = self._clock()
        if self._last_purge is not None and now - self._last_purge < PURGE_EVERY:
            return
        today = self.client.now().astimezone().date()
        try:
            report.purged_patients = self.store.purge_before(
                today - timedelta(days=self.setting("retention_days"))
            )
        except Exception as exc:  # noqa: BLE001 - a failed purge must not hide the sync's result
            log.warning("sync.purge_failed", extra={"fields": {"error": type(exc).__name__}})
            return
        self._last_purge = now

    # -- health ----------------------------------------------------------------------------

    def health(self) -> SyncHealth:
        status = self.store.status()
        return SyncHealth(
            state=self.state,
            backlog=status.outbox_pending,
            oldest_unsent=status.outbox_oldest,
            dead_letters=status.dead_letters,
            last_success=self.last_success,
            last_attempt=self.last_attempt,
            last_error=self.last_error,
            clock_skew_seconds=round(self.client.skew.total_seconds(), 1),
            updated_at=self._clock(),
            pid=os.getpid(),
        )

    def write_health(self) -> None:
        if self._health_path is None:
            return
        try:
            write_health(self._health_path, self.health())
        except Exception as exc:  # noqa: BLE001 - staff's view failing must not stop syncing
            log.warning("sync.health_not_written", extra={"fields": {"error": type(exc).__name__}})

    # -- forever -----------------------------------------------------------------------------

    def run_forever(self, stop_event: threading.Event) -> None:
        """Sync every sync_interval_seconds (at once when new events appear), retrying
        transient failures with capped full-jitter backoff; returns when stop_event is
        set (checked between requests)."""
        self._stop = stop_event
        self.backoff = backoff.FullJitterBackoff(stop=stop_event)
        interval = float(self.setting("sync_interval_seconds"))
        full, last_full = True, -interval
        window = parse_window(self.config.restart_window)
        while not stop_event.is_set():
            self.alive_until = time.monotonic() + ROUND_BUDGET_SECONDS
            if restart_due(window, self._clock().astimezone(), timedelta(seconds=time.monotonic() - self._started)):
                log.info("sync.nightly_restart")  # between rounds: nothing in flight
                self.restarting = True
                break
            interval = float(self.setting("sync_interval_seconds"))  # the practice may change it
            if full:
                last_full = time.monotonic()
            try:
                self._sync_with_retries(full)
                wait = max(0.0, interval - (time.monotonic() - last_full))
            except StopRequested:
                break
            except PermanentError:
                # Someone has to act (the health file and log say what); look again later
                # without hammering the server.
                wait = backoff.CAP_SECONDS
            except TransientError:  # only when stamina's attempts are capped (tests)
                wait = 0.0
            except Exception:  # noqa: BLE001 - a local failure must not end the agent
                log.exception("sync.unexpected_error")
                wait = interval
            # A push-only round when new events appear, but never instead of a due pull.
            full = self._idle(stop_event, wait) or time.monotonic() - last_full >= interval
        self.write_health()
        log.info("sync.stopped")

    def _sync_with_retries(self, full: bool) -> None:
        try:
            for attempt in stamina.retry_context(
                on=self._retry_hook, attempts=None, timeout=None, wait_max=backoff.CAP_SECONDS
            ):
                with attempt:
                    self.sleeping = False
                    self._check_stop()
                    self.sync_once(full=full)
                    return
                self.sleeping = True  # next: stamina's wait (a signal may cut it short)
        finally:
            self.sleeping = False

    def _retry_hook(self, exc: Exception) -> bool | float:
        wait = self.backoff.hook(exc)
        if wait is not False:  # a wait of up to minutes between attempts is not a hang
            self.alive_until = time.monotonic() + float(wait) + ROUND_BUDGET_SECONDS
        return wait

    def _idle(self, stop_event: threading.Event, seconds: float) -> bool:
        """Wait; True when the interval ran out (full sync next), False when new events
        are waiting (push them now)."""
        end = time.monotonic() + seconds  # not the injected clock: tests may freeze it
        while not stop_event.is_set():
            self.alive_until = time.monotonic() + BACKLOG_POLL_SECONDS + 60
            left = end - time.monotonic()
            if left <= 0:
                return True
            if stop_event.wait(min(BACKLOG_POLL_SECONDS, left)):
                break
            try:
                if self.store.outbox_pending(1):
                    return False
            except Exception:  # noqa: BLE001 - a busy database: look again next time
                continue
        return True

