"""A semi-integrated card terminal, simulated: the other end of hardware/payment.py.

    python -m hardware.payment_simulator --port 8765 [--scenario approve] [--speed 1]
        [--state-dir DIR] [--floor-limit-cents 5000] [--processor-offline] [--api-key KEY]
        [--tls-cert cert.pem --tls-key key.pem] [--seed N]
    (state dir by default ~/.cache/clinic-kiosk/payment-simulator)

    sim = PaymentSimulator(state_dir, speed=50).start()   # in a thread, for tests
    sim.url                                              # "http://127.0.0.1:<port>"
    sim.stop()                                           # like pulling the power cord

It serves the JSON-over-HTTP protocol documented in hardware/payment.py (sales by
idempotency key, lookup, cancel, status) and behaves like the terminal on the counter:
the patient takes 1.5-4 s to tap or insert a card, the card processor takes 0.5-2 s to
answer (all delays divided by `speed`), one sale at a time, and the same idempotency key
never charges twice: a repeated sale gets the first one's answer.

The terminal, not the kiosk, handles card numbers. It "reads" one of the test cards
below, charges it at its simulated processor and sends the kiosk only a token, the brand,
the last four digits and the approval code. Its own files (state_dir) are the terminal's
memory: `journal.jsonl` (every sale's state and every authorisation, appended and fsynced
before the kiosk hears the answer, so a kiosk that crashed can look the sale up, and the
terminal itself can restart) and, for store-and-forward, `forward_queue.json`, which holds
the card number until the sale is forwarded to the processor (a real terminal keeps it
encrypted in its secure element). The kiosk never reads these files.

Scenarios (what the next sale does), chosen per sale in this order: a queued one
(`queue_scenario`, POST /v1/test/scenario {"scenario": s, "next": true}), else the sticky
one if it is not "approve" (`--scenario`, `set_scenario`), else the amount's cents (below),
else approve.

    approve             Visa 4111 1111 1111 1111, approved online
    approve_mastercard  Mastercard 5555 5555 5555 4444, approved online
    decline             card 4000 0000 0000 0002, declined (do_not_honor)       cents .01
    insufficient_funds  card 4000 0000 0000 9995, declined (insufficient_funds) cents .02
    customer_cancel     the patient presses Cancel on the terminal              cents .03
    no_card             nobody taps: the terminal gives up after timeout_s      cents .04
    timeout             approved, then the terminal goes silent (answers        cents .05
                        nothing, not even lookups) for SILENCE_S or until end_silence()
    offline             the terminal answers 503 terminal_offline               cents .06
                        (as a sticky scenario: to every sale, lookup and status;
                        go_offline() instead refuses connections)
    store_forward       the processor link is down for this sale: approved      cents .07
                        offline up to the floor limit (stored_offline), declined
                        offline_floor_limit above it; forwarded when the link is up

Test controls (no card data in any of them): POST /v1/test/scenario, POST
/v1/test/processor {"online": bool}, POST /v1/test/forward, POST /v1/test/silence
{"on": false}, GET /v1/test/journal (each sale with its tap time on this machine's
monotonic clock, its simulated delays and its count of authorisations).
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import random
import re
import secrets
import signal
import socket
import ssl
import string
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# Delays of the real thing, in seconds at speed 1 (each sale draws uniformly in the range).
TAP_DELAY_S = (1.5, 4.0)  # from "present card" on the terminal's screen to the tap or insert
AUTH_DELAY_S = (0.5, 2.0)  # online authorisation at the processor
OFFLINE_AUTH_DELAY_S = (0.2, 0.5)  # offline approval is decided on the terminal itself
CUSTOMER_CANCEL_AFTER_S = (2.0, 5.0)  # the patient reads the screen, then presses Cancel
SILENCE_S = 120.0  # "timeout": how long the terminal answers nothing after approving
FORWARD_INTERVAL_S = 60.0  # store-and-forward retries while the processor link is up
DEFAULT_FLOOR_LIMIT_CENTS = 5000  # offline approvals up to $50, a common floor limit

MAX_AMOUNT_CENTS = 9_999_999
MAX_BODY_BYTES = 16 * 1024
KEY_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
REFERENCE_PATTERN = re.compile(r"^[\x20-\x7e]{0,64}$")
TIMEOUT_RANGE_S = (0.05, 600.0)

DEFAULT_STATE_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "clinic-kiosk" / "payment-simulator"
JOURNAL = "journal.jsonl"
FORWARD_QUEUE = "forward_queue.json"
SECRET = "terminal_secret"

SCENARIOS = ("approve", "approve_mastercard", "decline", "insufficient_funds", "customer_cancel",
             "no_card", "timeout", "offline", "store_forward")
SCENARIO_BY_CENTS = {1: "decline", 2: "insufficient_funds", 3: "customer_cancel", 4: "no_card",
                     5: "timeout", 6: "offline", 7: "store_forward"}


@dataclass(frozen=True)
class TestCard:
    number: str
    behaviour: str  # "approve", or the processor's decline reason

    @property
    def brand(self) -> str:
        return card_brand(self.number)

    @property
    def last4(self) -> str:
        return self.number[-4:]


# Public test card numbers (the card networks' and processors' usual ones).
TEST_CARD_NUMBER = "4111111111111111"
TEST_CARDS = {
    "visa": TestCard(TEST_CARD_NUMBER, "approve"),
    "mastercard": TestCard("5555555555554444", "approve"),
    "visa_decline": TestCard("4000000000000002", "do_not_honor"),
    "visa_insufficient_funds": TestCard("4000000000009995", "insufficient_funds"),
}
CARD_FOR_SCENARIO = {
    "approve": "visa", "approve_mastercard": "mastercard", "decline": "visa_decline",
    "insufficient_funds": "visa_insufficient_funds", "timeout": "visa", "store_forward": "visa",
}


def card_brand(number: str) -> str:
    """The brand a card number's leading digits (IIN) name."""
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or 2221 <= int(number[:4]) <= 2720:
        return "mastercard"
    if number[:2] in {"34", "37"}:
        return "amex"
    if number.startswith(("6011", "65")):
        return "discover"
    return "unknown"


def scenario_for_amount(amount_cents: int) -> str:
    return SCENARIO_BY_CENTS.get(amount_cents % 100, "approve")


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class _Sale:
    key: str
    transaction_id: str
    amount_cents: int
    currency: str
    reference: str
    scenario: str
    created_at: str
    state: str = "in_progress"  # then approved, declined, cancelled or timeout
    stage: str = "waiting_for_card"  # then authorising, done
    token: str | None = None
    brand: str | None = None
    last4: str | None = None
    approval_code: str | None = None
    decline_reason: str | None = None
    cancel_reason: str | None = None  # customer_cancelled, kiosk_cancelled, terminal_restarted
    stored_offline: bool = False
    forward_status: str | None = None  # queued, accepted, declined (store-and-forward only)
    finished_at: str | None = None
    tapped_mono: float | None = None  # time.monotonic() at the tap (system-wide on Linux)
    simulated_wait_s: float = 0.0  # the drawn tap/cancel delay, after the speed factor
    simulated_auth_s: float = 0.0  # the drawn authorisation delay, after the speed factor
    done: threading.Event = field(default_factory=threading.Event, repr=False)
    cancel_requested: threading.Event = field(default_factory=threading.Event, repr=False)

    # What the kiosk may see: never the card number (the terminal never has it here anyway).
    def wire(self) -> dict[str, Any]:
        return {
            "idempotency_key": self.key, "terminal_transaction_id": self.transaction_id,
            "state": self.state, "amount_cents": self.amount_cents, "currency": self.currency,
            "reference": self.reference, "token": self.token, "brand": self.brand, "last4": self.last4,
            "approval_code": self.approval_code, "decline_reason": self.decline_reason,
            "cancel_reason": self.cancel_reason, "stored_offline": self.stored_offline,
            "at": self.finished_at or self.created_at,
        }

    def journal_record(self) -> dict[str, Any]:
        return {**self.wire(), "record": "sale", "scenario": self.scenario, "stage": self.stage,
                "forward_status": self.forward_status, "created_at": self.created_at,
                "finished_at": self.finished_at, "tapped_mono": self.tapped_mono,
                "simulated_wait_s": self.simulated_wait_s, "simulated_auth_s": self.simulated_auth_s}

    @classmethod
    def from_record(cls, r: dict[str, Any]) -> _Sale:
        sale = cls(r["idempotency_key"], r["terminal_transaction_id"], r["amount_cents"], r["currency"],
                   r["reference"], r["scenario"], r["created_at"])
        for name in ("state", "stage", "token", "brand", "last4", "approval_code", "decline_reason",
                     "cancel_reason", "stored_offline", "forward_status", "finished_at", "tapped_mono",
                     "simulated_wait_s", "simulated_auth_s"):
            setattr(sale, name, r.get(name, getattr(sale, name)))
        if sale.state != "in_progress":
            sale.done.set()
        return sale


class _Stopped(Exception):
    """The simulator was stopped (power cut) in the middle of a sale."""


class _Reply(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class PaymentSimulator:
    """The simulated terminal: its HTTP server, its sales, its journal and its processor."""

    def __init__(self, state_dir: str | os.PathLike, *, host: str = "127.0.0.1", port: int = 0,
                 speed: float = 1.0, scenario: str = "approve", floor_limit_cents: int = DEFAULT_FLOOR_LIMIT_CENTS,
                 processor_online: bool = True, api_key: str | None = None, tls_cert: str | None = None,
                 tls_key: str | None = None, seed: int | None = None, currency: str = "USD",
                 silence_s: float = SILENCE_S):
        if speed <= 0:
            raise ValueError("speed must be > 0 (1 = real time, 50 = fifty times faster)")
        _check_scenario(scenario)
        self.state_dir = Path(state_dir)
        self.host, self.speed, self.currency = host, float(speed), currency
        self.floor_limit_cents = floor_limit_cents
        self.silence_s = silence_s  # simulated seconds, like every delay (divided by speed)
        self.api_key = api_key
        self._tls = _server_tls_context(tls_cert, tls_key) if tls_cert else None
        if self._tls is None and not _is_loopback(host):
            raise ValueError(f"the simulator serves plain HTTP only on loopback, not {host}: give --tls-cert/--tls-key")
        self._requested_port = port
        self._rng = random.Random(seed)
        self._lock = threading.RLock()  # sales, scenario, processor, silence
        self._journal_lock = threading.Lock()
        self._sales: dict[str, _Sale] = {}
        self._authorisations: dict[str, int] = {}
        self._active: str | None = None  # the key of the sale the card reader is busy with
        self._scenario = scenario
        self._queued: list[str] = []
        self._processor_online = processor_online
        self._silent_until = 0.0
        self._silence_over = threading.Event()
        self._silence_over.set()
        self._stopping = threading.Event()
        self._forward_wakeup = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self.port = 0
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._secret = self._load_secret()
        self._forward_queue: list[dict[str, Any]] = self._load_forward_queue()
        self._load_journal()

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        return f"{'https' if self._tls else 'http'}://{self.host}:{self.port}"

    def start(self) -> PaymentSimulator:
        """Serve in daemon threads (returns at once, listening)."""
        self._stopping.clear()
        self._listen()
        forwarder = threading.Thread(target=self._forward_loop, name="payment-sim forwarder", daemon=True)
        forwarder.start()
        self._threads.append(forwarder)
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until stop() (from a signal handler or another thread)."""
        self.start()
        self._stopping.wait()

    def stop(self) -> None:
        """Power off: stop listening; sales in the middle stop where they are (unjournaled)."""
        self._stopping.set()
        self._silence_over.set()
        self._forward_wakeup.set()
        self._close_listener()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(3.0)
        self._threads.clear()

    def go_offline(self) -> None:
        """Unplug the terminal's network: connections are refused until go_online()."""
        self._close_listener()

    def go_online(self) -> None:
        self._listen()

    def __enter__(self) -> PaymentSimulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _listen(self) -> None:
        if self._server is not None:
            return
        server = _Server((self.host, self.port or self._requested_port), _Handler)
        server.simulator, server.tls = self, self._tls
        self.port = server.server_address[1]
        self._server = server
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                  name=f"payment-sim :{self.port}", daemon=True)
        thread.start()
        self._threads.append(thread)
        log.info("payment_sim.listening", extra={"fields": {"url": self.url}})

    def _close_listener(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            server.drop_connections()

    # ------------------------------------------------------------------ test controls
    def set_scenario(self, scenario: str) -> None:
        """The scenario of every sale from now on ("approve": by the amount's cents)."""
        _check_scenario(scenario)
        with self._lock:
            self._scenario = scenario

    def queue_scenario(self, scenario: str) -> None:
        """The scenario of the next sale only (several calls queue several)."""
        _check_scenario(scenario)
        with self._lock:
            self._queued.append(scenario)

    def set_processor_online(self, online: bool) -> None:
        """Cut or restore the terminal's link to its processor (store-and-forward)."""
        with self._lock:
            self._processor_online = online
        if online:
            self._forward_wakeup.set()

    def forward_now(self) -> None:
        """Forward the stored offline sales now (if the processor link is up)."""
        self._forward_wakeup.set()

    def end_silence(self) -> None:
        with self._lock:
            self._silent_until = 0.0
            self._silence_over.set()

    def journal(self) -> list[dict[str, Any]]:
        """Every sale as the test endpoint shows it (no card numbers)."""
        with self._lock:
            return [{**s.journal_record(), "authorisations": self._authorisations.get(s.key, 0)}
                    for s in self._sales.values()]

    def authorisations(self, key: str) -> int:
        """How many times the card for this key was sent for approval (a charge each)."""
        with self._lock:
            return self._authorisations.get(key, 0)

    @property
    def forward_queue_length(self) -> int:
        with self._lock:
            return len(self._forward_queue)

    # ------------------------------------------------------------------ protocol
    def status(self) -> dict[str, Any]:
        self._refuse_if_offline_scenario()
        with self._lock:
            return {"state": "busy" if self._active else "ready",
                    "processor": "online" if self._processor_online else "offline",
                    "stored_offline_pending": len(self._forward_queue),
                    "floor_limit_cents": self.floor_limit_cents,
                    "model": "clinic-kiosk payment simulator", "serial": "SIM-" + self._secret.hex()[:8]}

    def lookup(self, key: str) -> dict[str, Any]:
        self._refuse_if_offline_scenario()
        with self._lock:
            sale = self._sales.get(key)
        if sale is None:
            raise _Reply(404, "not_found", "no sale with that idempotency key")
        return sale.wire()

    def cancel(self, key: str) -> dict[str, Any]:
        self._refuse_if_offline_scenario()
        with self._lock:
            sale = self._sales.get(key)
        if sale is None:
            raise _Reply(404, "not_found", "no sale with that idempotency key")
        sale.cancel_requested.set()  # honoured while waiting for the card; too late once tapped
        sale.done.wait(max(AUTH_DELAY_S[1] / self.speed, 0.2) + 1.0)
        return sale.wire()

    def sale(self, body: dict[str, Any]) -> dict[str, Any]:
        key, amount, reference, timeout_s, currency = _parse_sale(body, self.currency)
        with self._lock:
            self._refuse_if_offline_scenario()
            existing = self._sales.get(key)
            if existing is None:
                if self._active is not None:
                    raise _Reply(409, "busy", "the terminal is busy with another sale")
                scenario = self._scenario_for(amount)
                if scenario == "offline":
                    self._refuse_if_offline_scenario(scenario)
                sale = _Sale(key, f"T{len(self._sales) + 1:08d}", amount, currency, reference, scenario, _now_iso())
                self._sales[key] = sale
                self._active = key
        if existing is not None:  # the same key again: the first sale's answer, never a second charge
            if (existing.amount_cents, existing.currency) != (amount, currency):
                raise _Reply(409, "key_conflict",
                             "this idempotency key was used for a different amount; use a new key per sale")
            existing.done.wait(timeout_s + AUTH_DELAY_S[1] / self.speed)
            return existing.wire()
        self._append({**sale.journal_record()})
        try:
            self._run_sale(sale, timeout_s)
        finally:
            with self._lock:
                if self._active == key:
                    self._active = None
        if sale.scenario == "timeout":
            self._go_silent()
            self.wait_out_silence()  # hold the kiosk's connection, answering nothing
            raise _Reply(0, "silent", "")
        return sale.wire()

    # ------------------------------------------------------------------ the sale itself
    def _run_sale(self, sale: _Sale, timeout_s: float) -> None:
        scenario = sale.scenario
        if scenario == "no_card":
            wait = timeout_s
        elif scenario == "customer_cancel":
            wait = self._draw(CUSTOMER_CANCEL_AFTER_S)
        else:
            wait = self._draw(TAP_DELAY_S)
        sale.simulated_wait_s = min(wait, timeout_s)
        if self._wait_for(sale.cancel_requested, sale.simulated_wait_s):
            return self._finish(sale, "cancelled", cancel_reason="kiosk_cancelled")
        if scenario == "no_card" or wait > timeout_s:
            return self._finish(sale, "timeout")
        if scenario == "customer_cancel":
            return self._finish(sale, "cancelled", cancel_reason="customer_cancelled")

        card = TEST_CARDS[CARD_FOR_SCENARIO.get(scenario, "visa")]
        sale.tapped_mono = time.monotonic()
        sale.stage = "authorising"
        sale.token, sale.brand, sale.last4 = self._token(card.number), card.brand, card.last4
        with self._lock:
            online = self._processor_online and scenario != "store_forward"
        if online:
            sale.simulated_auth_s = self._draw(AUTH_DELAY_S)
            self._pause(sale.simulated_auth_s)
            if card.behaviour == "approve":
                self._authorise(sale, "online", "approved", approval_code=self._approval_code())
                return self._finish(sale, "approved")
            self._authorise(sale, "online", "declined", decline_reason=card.behaviour)
            return self._finish(sale, "declined", decline_reason=card.behaviour)
        # Store-and-forward: the terminal decides alone, within its floor limit.
        sale.simulated_auth_s = self._draw(OFFLINE_AUTH_DELAY_S)
        self._pause(sale.simulated_auth_s)
        if sale.amount_cents > self.floor_limit_cents:
            return self._finish(sale, "declined", decline_reason="offline_floor_limit")
        code = "Y3" + "".join(self._rng.choices(string.digits, k=4))  # EMV Y3: approved offline
        self._authorise(sale, "offline", "approved", approval_code=code)
        with self._lock:
            self._forward_queue.append({"idempotency_key": sale.key, "amount_cents": sale.amount_cents,
                                        "card_number": card.number, "queued_at": _now_iso()})
            self._save_forward_queue()
        sale.stored_offline, sale.forward_status = True, "queued"
        self._finish(sale, "approved")

    def _authorise(self, sale: _Sale, mode: str, result: str, *, approval_code: str | None = None,
                   decline_reason: str | None = None) -> None:
        """One request for money to the (simulated) processor: the thing that must happen once."""
        sale.approval_code = approval_code
        with self._lock:
            self._authorisations[sale.key] = self._authorisations.get(sale.key, 0) + 1
        self._append({"record": "authorisation", "idempotency_key": sale.key, "mode": mode, "result": result,
                      "amount_cents": sale.amount_cents, "approval_code": approval_code,
                      "decline_reason": decline_reason, "at": _now_iso()})

    def _finish(self, sale: _Sale, state: str, *, decline_reason: str | None = None,
                cancel_reason: str | None = None) -> None:
        sale.state, sale.stage = state, "done"
        sale.decline_reason, sale.cancel_reason = decline_reason, cancel_reason
        sale.finished_at = _now_iso()
        self._append(sale.journal_record())  # on disk before the kiosk can hear about it
        sale.done.set()
        log.info("payment_sim.sale", extra={"fields": {"key": sale.key, "state": state, "scenario": sale.scenario}})

    def _scenario_for(self, amount_cents: int, *, peek: bool = False) -> str:
        if self._queued:
            return self._queued[0] if peek else self._queued.pop(0)
        if self._scenario != "approve":
            return self._scenario
        return scenario_for_amount(amount_cents)

    def _refuse_if_offline_scenario(self, scenario: str | None = None) -> None:
        with self._lock:
            offline = scenario == "offline" or self._scenario == "offline"
        if offline:
            raise _Reply(503, "terminal_offline", "the terminal is offline (no network to its gateway)")

    def _go_silent(self) -> None:
        with self._lock:
            self._silent_until = time.monotonic() + self.silence_s / self.speed
            self._silence_over.clear()

    def wait_out_silence(self) -> bool:
        """Called by each request: True if the terminal is silent now (then answer nothing)."""
        with self._lock:
            remaining = self._silent_until - time.monotonic()
            if remaining <= 0:
                self._silence_over.set()
                return False
        self._silence_over.wait(remaining)
        return True

    # ------------------------------------------------------------------ store-and-forward
    def _forward_loop(self) -> None:
        while not self._stopping.is_set():
            self._forward_wakeup.wait(FORWARD_INTERVAL_S / self.speed)
            self._forward_wakeup.clear()
            if self._stopping.is_set():
                return
            try:
                self._forward_pending()
            except _Stopped:
                return
            except Exception:  # a simulator bug must not silently end forwarding
                log.exception("payment_sim.forward_failed")

    def _forward_pending(self) -> None:
        while True:
            with self._lock:
                if not self._processor_online or not self._forward_queue:
                    return
                item = self._forward_queue[0]
                sale = self._sales.get(item["idempotency_key"])
            self._pause(self._draw(AUTH_DELAY_S))
            behaviour = next((c.behaviour for c in TEST_CARDS.values() if c.number == item["card_number"]), "approve")
            result = "accepted" if behaviour == "approve" else "declined"
            self._append({"record": "forward", "idempotency_key": item["idempotency_key"], "result": result,
                          "at": _now_iso()})
            with self._lock:
                self._forward_queue.pop(0)
                self._save_forward_queue()  # the card number leaves the terminal's memory
                if sale is not None:
                    sale.forward_status = result
                    self._append(sale.journal_record())

    # ------------------------------------------------------------------ delays
    def _draw(self, bounds: tuple[float, float]) -> float:
        with self._lock:
            return self._rng.uniform(*bounds) / self.speed

    def _wait_for(self, event: threading.Event, seconds: float) -> bool:
        """Wait up to `seconds` for `event`; True if it came. Raises _Stopped on power off."""
        deadline = time.monotonic() + seconds
        while True:
            remaining = deadline - time.monotonic()
            if event.wait(min(max(remaining, 0.0), 0.05)):
                return True
            if self._stopping.is_set():
                raise _Stopped
            if remaining <= 0:
                return False

    def _pause(self, seconds: float) -> None:
        if self._stopping.wait(seconds):
            raise _Stopped

    # ------------------------------------------------------------------ the terminal's files
    def _token(self, number: str) -> str:
        # The same card gives the same token on this terminal; letters and 2-7 only (base32),
        # so a token never looks like a card number.
        digest = hmac.new(self._secret, number.encode(), hashlib.sha256).digest()
        return "tok_" + base64.b32encode(digest).decode().rstrip("=").lower()[:26]

    def _approval_code(self) -> str:
        with self._lock:
            return "".join(self._rng.choices(string.ascii_uppercase + string.digits, k=6))

    def _load_secret(self) -> bytes:
        path = self.state_dir / SECRET
        if not path.exists():
            _write_atomically(path, secrets.token_bytes(32))
        return path.read_bytes()

    def _load_forward_queue(self) -> list[dict[str, Any]]:
        path = self.state_dir / FORWARD_QUEUE
        return json.loads(path.read_text()) if path.exists() else []

    def _save_forward_queue(self) -> None:
        _write_atomically(self.state_dir / FORWARD_QUEUE, json.dumps(self._forward_queue).encode())

    def _load_journal(self) -> None:
        restarted = []
        for record in read_journal(self.state_dir):
            if record["record"] == "sale":
                self._sales[record["idempotency_key"]] = _Sale.from_record(record)
            elif record["record"] == "authorisation":
                key = record["idempotency_key"]
                self._authorisations[key] = self._authorisations.get(key, 0) + 1
        for sale in self._sales.values():
            if sale.state == "in_progress":  # the terminal lost power mid-sale: it voids it
                restarted.append(sale)
        for sale in restarted:
            self._finish(sale, "cancelled", cancel_reason="terminal_restarted")

    def _append(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
        with self._journal_lock:
            if self._stopping.is_set():
                raise _Stopped  # powered off: nothing more reaches the disk
            with open(self.state_dir / JOURNAL, "ab") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())


def read_journal(state_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """The terminal's journal records, oldest first (a torn last line is skipped)."""
    path = Path(state_dir) / JOURNAL
    if not path.exists():
        return []
    records = []
    for line in path.read_bytes().splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue  # the last line of a terminal that lost power while writing it
    return records


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _check_scenario(scenario: str) -> None:
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown payment scenario {scenario!r}; one of: {', '.join(SCENARIOS)}")


def _parse_sale(body: dict[str, Any], default_currency: str) -> tuple[str, int, str, float, str]:
    key, amount = body.get("idempotency_key"), body.get("amount_cents")
    reference, timeout_s = body.get("reference", ""), body.get("timeout_s", 60)
    currency = body.get("currency", default_currency)
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise _Reply(400, "bad_request", "idempotency_key must be 8-64 characters of A-Z a-z 0-9 . _ : -")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_AMOUNT_CENTS:
        raise _Reply(400, "bad_request", f"amount_cents must be an integer from 1 to {MAX_AMOUNT_CENTS}")
    if not isinstance(reference, str) or not REFERENCE_PATTERN.match(reference):
        raise _Reply(400, "bad_request", "reference must be at most 64 printable ASCII characters")
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) \
            or not TIMEOUT_RANGE_S[0] <= timeout_s <= TIMEOUT_RANGE_S[1]:
        raise _Reply(400, "bad_request", f"timeout_s must be from {TIMEOUT_RANGE_S[0]} to {TIMEOUT_RANGE_S[1]}")
    if currency != default_currency:
        raise _Reply(400, "bad_request", f"this terminal takes {default_currency} only")
    return key, amount, reference, float(timeout_s), currency


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _server_tls_context(cert: str, key: str | None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    simulator: PaymentSimulator
    tls: ssl.SSLContext | None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def finish_request(self, request, client_address) -> None:
        with self.connections_lock:
            self.connections.add(request)
        try:
            # The TLS handshake runs here, in the connection's own thread, so a slow or bad
            # client never holds up the accept loop.
            connection = request
            if self.tls is not None:
                try:
                    connection = self.tls.wrap_socket(request, server_side=True)
                except (ssl.SSLError, OSError):
                    return
            super().finish_request(connection, client_address)
        finally:
            with self.connections_lock:
                self.connections.discard(request)

    def drop_connections(self) -> None:
        """Cut every open connection too (a kept-alive one would outlive the listener)."""
        with self.connections_lock:
            connections = list(self.connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address) -> None:
        log.debug("payment_sim.connection_error", exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the kiosk reuses its connection
    # Headers and body go out as separate writes; with Nagle on, the body waits for the
    # kiosk's delayed ACK (~40 ms per answer).
    disable_nagle_algorithm = True
    server: _Server
    server_version = "PaymentSimulator/1"

    def log_message(self, format, *args) -> None:  # noqa: A002 - BaseHTTPRequestHandler's signature
        pass  # requests are logged as events, not as Apache lines on stderr

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        sim = self.server.simulator
        path = self.path.split("?", 1)[0].rstrip("/")
        try:
            body = self._body() if method == "POST" else {}
            if path.startswith("/v1/test/"):
                return self._send(200, self._test_control(method, path, body))
            self._check_key()
            if sim.wait_out_silence():
                self.close_connection = True
                return
            parts = path.split("/")
            if (method, path) == ("POST", "/v1/sales"):
                return self._send(200, {"transaction": sim.sale(body)})
            if method == "GET" and path == "/v1/status":
                return self._send(200, sim.status())
            if method == "GET" and len(parts) == 4 and parts[:3] == ["", "v1", "sales"]:
                return self._send(200, {"transaction": sim.lookup(parts[3])})
            if method == "POST" and len(parts) == 5 and parts[:3] == ["", "v1", "sales"] and parts[4] == "cancel":
                return self._send(200, {"transaction": sim.cancel(parts[3])})
            raise _Reply(404, "not_found", f"no such endpoint: {method} {path}")
        except _Reply as reply:
            if reply.code == "silent":
                self.close_connection = True
                return
            self._send(reply.status, {"error": {"code": reply.code, "message": reply.message}})
        except _Stopped:
            self.close_connection = True
        except Exception:  # a simulator bug: answer 500 like a real terminal's firmware would
            log.exception("payment_sim.internal_error")
            self._send(500, {"error": {"code": "internal_error", "message": "terminal internal error"}})

    def _test_control(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        sim = self.server.simulator
        try:
            if (method, path) == ("GET", "/v1/test/journal"):
                return {"sales": sim.journal()}
            if (method, path) == ("POST", "/v1/test/scenario"):
                (sim.queue_scenario if body.get("next") else sim.set_scenario)(str(body.get("scenario")))
                return {"ok": True}
            if (method, path) == ("POST", "/v1/test/processor"):
                sim.set_processor_online(bool(body.get("online")))
                return {"ok": True}
            if (method, path) == ("POST", "/v1/test/forward"):
                sim.forward_now()
                return {"ok": True}
            if (method, path) == ("POST", "/v1/test/silence") and body.get("on") is False:
                sim.end_silence()
                return {"ok": True}
        except ValueError as error:
            raise _Reply(400, "bad_request", str(error)) from None
        raise _Reply(404, "not_found", f"no such test control: {method} {path}")

    def _check_key(self) -> None:
        key = self.server.simulator.api_key
        if key is None:
            return
        given = self.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {key}".encode()):
            raise _Reply(401, "unauthorized", "this terminal is paired with another API key")

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise _Reply(413, "too_large", "request body too large")
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            raise _Reply(400, "bad_request", "the body is not JSON") from None
        if not isinstance(body, dict):
            raise _Reply(400, "bad_request", "the body must be a JSON object")
        return body

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status, HTTPStatus(status).phrase)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the kiosk gave up on this connection; the sale itself is journaled
            self.close_connection = True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hardware.payment_simulator",
                                     description="A simulated semi-integrated card terminal (see the module doc).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--scenario", default="approve", choices=SCENARIOS)
    parser.add_argument("--speed", type=float, default=1.0, help="divide every delay by this (default 1: real time)")
    parser.add_argument("--state-dir", default=str(DEFAULT_STATE_DIR),
                        help=f"the terminal's journal and keys (default {DEFAULT_STATE_DIR})")
    parser.add_argument("--floor-limit-cents", type=int, default=DEFAULT_FLOOR_LIMIT_CENTS)
    parser.add_argument("--processor-offline", action="store_true", help="start with the processor link down")
    parser.add_argument("--api-key", help="require 'Authorization: Bearer KEY' (pairing)")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--seed", type=int)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        sim = PaymentSimulator(args.state_dir, host=args.host, port=args.port, speed=args.speed,
                               scenario=args.scenario, floor_limit_cents=args.floor_limit_cents,
                               processor_online=not args.processor_offline, api_key=args.api_key,
                               tls_cert=args.tls_cert, tls_key=args.tls_key, seed=args.seed)
        sim.start()
    except (OSError, ValueError, ssl.SSLError) as error:
        print(f"payment simulator: {error}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sim._stopping.set())
    print(f"payment simulator listening on {sim.url}", flush=True)  # the line tests wait for
    try:
        while not sim._stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
