"""The kiosk's payment driver (hardware/payment.py) against the simulated terminal.

Every scenario, one charge per idempotency key, a lost answer found again by lookup, a
kiosk SIGKILLed after the terminal approved (reconciled on restart without a second
charge), TLS trust, a terminal that misbehaves, and no card number anywhere the kiosk
writes. The simulator runs 40 times faster than real, except where a test needs time
to kill a process mid-sale.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization

from hardware.payment import (
    MSG_APPROVED,
    MSG_CANCELLED,
    MSG_DECLINED,
    MSG_NO_CARD,
    MSG_OFFLINE,
    MSG_UNCONFIRMED,
    LanTerminal,
    NoTerminal,
    PaymentResult,
    PaymentStatus,
    SimulatedTerminal,
    TerminalState,
    contains_card_number,
    make_terminal,
    reconcile,
)
from hardware.payment_simulator import FORWARD_QUEUE, TEST_CARD_NUMBER, read_journal
from hardware.printer import DummyPrinter, FilePrinter, Receipt

SPEED = 40.0
ROOT = Path(__file__).resolve().parents[2]
CARD_NUMBERS = (TEST_CARD_NUMBER, "4111 1111 1111 1111")


@pytest.fixture
def terminal(tmp_path: Path):
    t = SimulatedTerminal(state_dir=tmp_path / "terminal", speed=SPEED, seed=3, answer_margin_s=1.0)
    yield t
    t.close()


def wait_for_sale(terminal, key: str) -> PaymentResult:
    """Until the terminal has the sale (a thread's request may take a moment to arrive)."""
    deadline = time.monotonic() + 10
    while (seen := terminal.lookup(key)) is None:
        assert time.monotonic() < deadline, f"the terminal never got the sale {key}"
        time.sleep(0.01)
    return seen


def authorisations(state_dir: Path, key: str) -> int:
    return sum(1 for r in read_journal(state_dir) if r["record"] == "authorisation" and r["idempotency_key"] == key)


# ---------------------------------------------------------------------- scenarios
@pytest.mark.parametrize(
    ("scenario", "status", "final", "brand", "last4", "decline", "message"),
    [
        ("approve", PaymentStatus.APPROVED, True, "visa", "1111", None, MSG_APPROVED),
        ("approve_mastercard", PaymentStatus.APPROVED, True, "mastercard", "4444", None, MSG_APPROVED),
        ("decline", PaymentStatus.DECLINED, True, "visa", "0002", "do_not_honor", MSG_DECLINED),
        ("insufficient_funds", PaymentStatus.DECLINED, True, "visa", "9995", "insufficient_funds", MSG_DECLINED),
        ("customer_cancel", PaymentStatus.CANCELLED, True, None, None, None, MSG_CANCELLED),
        ("no_card", PaymentStatus.TIMEOUT, True, None, None, None, MSG_NO_CARD),
        ("offline", PaymentStatus.OFFLINE, True, None, None, None, MSG_OFFLINE),
        ("store_forward", PaymentStatus.APPROVED, True, "visa", "1111", None, MSG_APPROVED),
    ],
)
def test_every_scenario(terminal, scenario, status, final, brand, last4, decline, message):
    terminal.simulator.queue_scenario(scenario)
    result = terminal.collect(2500, f"key-{scenario}", "copay", timeout_s=0.5)
    assert (result.status, result.final) == (status, final)
    assert (result.brand, result.last4, result.decline_reason) == (brand, last4, decline)
    assert result.message_for_patient_id == message
    assert result.amount_cents == 2500 and result.idempotency_key == f"key-{scenario}"
    assert result.stored_offline is (scenario == "store_forward")
    if status is PaymentStatus.APPROVED:
        assert result.approval_code and result.token.startswith("tok_") and result.terminal_transaction_id
        assert result.approved and result.reason == ""
    else:
        assert not result.approved and result.approval_code is None and result.reason
    if scenario == "offline":
        assert "says it is offline" in result.reason


def test_store_and_forward_over_the_floor_limit_is_declined(terminal):
    terminal.simulator.queue_scenario("store_forward")
    result = terminal.collect(7500, "key-saf-over", "copay", timeout_s=1)
    assert (result.status, result.decline_reason) == (PaymentStatus.DECLINED, "offline_floor_limit")


def test_status_online_busy_processor_offline_and_unreachable(terminal):
    status = terminal.status()
    assert (status.state, status.reason, status.processor_online) == (TerminalState.ONLINE, "", True)
    terminal.simulator.set_processor_online(False)
    terminal.collect(2500, "key-status-saf", "copay", timeout_s=1)
    status = terminal.status()
    assert status.processor_online is False and status.stored_offline_pending == 1
    assert "cannot reach its card processor" in status.reason
    terminal.simulator.queue_scenario("no_card")
    waiting = threading.Thread(target=terminal.collect, args=(2500, "key-status-busy", "", 1.0))
    waiting.start()
    deadline = time.monotonic() + 5
    while terminal.status().state is not TerminalState.BUSY:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    waiting.join()
    terminal.simulator.go_offline()
    status = terminal.status()
    assert status.state is TerminalState.OFFLINE and "cannot reach the payment terminal" in status.reason


def test_busy_terminal_is_an_error_with_a_reason(terminal):
    terminal.simulator.queue_scenario("no_card")
    waiting = threading.Thread(target=terminal.collect, args=(2500, "key-busy-first", "", 1.5))
    waiting.start()
    wait_for_sale(terminal, "key-busy-first")
    result = terminal.collect(2500, "key-busy-second", "", 1.0)
    waiting.join()
    assert (result.status, result.final) == (PaymentStatus.ERROR, True)
    assert "busy with another sale" in result.reason
    assert terminal.lookup("key-busy-second") is None


def test_unreachable_terminal_is_offline_and_nothing_was_sent(terminal):
    terminal.simulator.go_offline()
    result = terminal.collect(2500, "key-unplugged", "copay", timeout_s=1)
    assert (result.status, result.final) == (PaymentStatus.OFFLINE, True)
    assert result.message_for_patient_id == MSG_OFFLINE and "connection refused" in result.reason
    # A lookup that cannot be made tells nothing about the key: not final, never None.
    lookup = terminal.lookup("key-unplugged")
    assert lookup is not None and (lookup.status, lookup.final) == (PaymentStatus.OFFLINE, False)
    terminal.simulator.go_online()
    assert terminal.lookup("key-unplugged") is None


# ---------------------------------------------------------------------- idempotency
def test_same_key_twice_returns_the_first_result_and_charges_once(terminal):
    first = terminal.collect(3000, "key-idem-1", "copay", timeout_s=1)
    again = terminal.collect(3000, "key-idem-1", "copay", timeout_s=1)
    assert first.approved and again == first
    assert authorisations(terminal.simulator.state_dir, "key-idem-1") == 1
    declined_key = "key-idem-2"
    terminal.simulator.queue_scenario("decline")
    assert terminal.collect(3000, declined_key, "", 1).status is PaymentStatus.DECLINED
    assert terminal.collect(3000, declined_key, "", 1).status is PaymentStatus.DECLINED  # a new try needs a new key


def test_same_key_from_two_threads_at_once_charges_once(terminal):
    results = []
    threads = [threading.Thread(target=lambda: results.append(terminal.collect(3000, "key-idem-race", "", 2)))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3 and all(r == results[0] and r.approved for r in results)
    assert authorisations(terminal.simulator.state_dir, "key-idem-race") == 1


def test_same_key_with_another_amount_is_an_error_not_a_charge(terminal):
    assert terminal.collect(3000, "key-idem-amount", "", 1).approved
    result = terminal.collect(3100, "key-idem-amount", "", 1)
    assert result.status is PaymentStatus.ERROR and "different amount" in result.reason
    assert authorisations(terminal.simulator.state_dir, "key-idem-amount") == 1


# ---------------------------------------------------------------------- lost answers, cancel, reconcile
def test_timeout_then_lookup_finds_the_approval(tmp_path):
    terminal = SimulatedTerminal(state_dir=tmp_path / "terminal", speed=SPEED, silence_s=100_000,
                                 answer_margin_s=0.5)
    terminal.request_timeout_s = 0.5
    try:
        terminal.simulator.queue_scenario("timeout")
        result = terminal.collect(2500, "key-lost-answer", "copay", timeout_s=1.0)
        assert (result.status, result.final) == (PaymentStatus.TIMEOUT, False)
        assert result.message_for_patient_id == MSG_UNCONFIRMED and "did not answer" in result.reason
        silent = reconcile(terminal, "key-lost-answer")
        assert silent is not None and not silent.final  # still silent: keep the key pending
        terminal.simulator.end_silence()  # the terminal comes back
        found = reconcile(terminal, "key-lost-answer")
        assert found.approved and found.final and found.last4 == "1111"
        assert terminal.collect(2500, "key-lost-answer", "copay", timeout_s=1.0) == found
        assert authorisations(terminal.simulator.state_dir, "key-lost-answer") == 1
    finally:
        terminal.close()


def test_kiosk_cancels_while_the_terminal_waits_for_the_card(terminal):
    terminal.simulator.queue_scenario("no_card")
    results = []
    waiting = threading.Thread(target=lambda: results.append(terminal.collect(2500, "key-kiosk-cancel", "", 10)))
    waiting.start()
    wait_for_sale(terminal, "key-kiosk-cancel")
    cancelled = terminal.cancel("key-kiosk-cancel")
    waiting.join(5)
    assert cancelled.status is PaymentStatus.CANCELLED and cancelled.final
    assert "kiosk_cancelled" in cancelled.reason
    assert results == [cancelled]
    assert terminal.cancel("key-never-sent") is None


def test_reconcile_cancels_a_sale_nobody_is_waiting_for(terminal):
    dead_kiosk = LanTerminal(terminal.simulator.url)  # the kiosk that asked, then vanished
    terminal.simulator.queue_scenario("no_card")
    threading.Thread(target=dead_kiosk.collect, args=(2500, "key-orphan", "", 30), daemon=True).start()
    seen = wait_for_sale(terminal, "key-orphan")
    assert seen.status is PaymentStatus.IN_PROGRESS and not seen.final
    settled = reconcile(terminal, "key-orphan")
    assert settled.status is PaymentStatus.CANCELLED and settled.final
    assert reconcile(terminal, "key-never-there") is None


# ---------------------------------------------------------------------- SIGKILL: no double charge
CHILD = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1])
from hardware.payment import LanTerminal
url, key, mode, records = sys.argv[2:6]
def record(entry):
    with open(records, "a") as f:
        f.write(json.dumps(entry) + "\n")
        f.flush()
        os.fsync(f.fileno())
record({"pending": key})  # the intent first, so a restart knows what to reconcile
print("COLLECTING", flush=True)
result = LanTerminal(url).collect(2500, key, "copay", timeout_s=60)
print("ANSWERED", result.status.value, result.approval_code, flush=True)
if mode == "kill-before-record":
    sys.stdin.readline()  # killed here: the answer is in, the record is not
record(result.to_record())
print("RECORDED", flush=True)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_simulator(state_dir: Path, port: int, speed: float) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "hardware.payment_simulator", "--port", str(port), "--speed", str(speed),
         "--state-dir", str(state_dir)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout.readline().startswith("payment simulator listening"), "simulator did not start"
    return process


def sim_sale(url: str, key: str) -> dict | None:
    sales = requests.get(url + "/v1/test/journal", timeout=5).json()["sales"]
    return next((s for s in sales if s["idempotency_key"] == key), None)


# Real-time delays when the kill must land between the tap and the answer (0.5-2 s of
# authorisation to hit); faster when it lands after the answer anyway.
@pytest.mark.parametrize(("mode", "speed"), [("kill-while-waiting", 1.0), ("kill-before-record", 10.0)])
def test_sigkill_after_approval_is_reconciled_without_a_second_charge(tmp_path, mode, speed):
    state_dir, records, script = tmp_path / "terminal", tmp_path / "kiosk-records.jsonl", tmp_path / "child.py"
    script.write_text(CHILD)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    simulator = start_simulator(state_dir, port, speed)
    child = None
    try:
        child = subprocess.Popen([sys.executable, str(script), str(ROOT), url, "key-sigkill-1", mode, str(records)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "COLLECTING"
        if mode == "kill-while-waiting":
            deadline = time.monotonic() + 30
            while (s := sim_sale(url, "key-sigkill-1")) is None or s["tapped_mono"] is None:
                assert time.monotonic() < deadline, "the card was never tapped"
                time.sleep(0.01)
            assert s["state"] == "in_progress"  # tapped, the processor not yet answered
        else:
            answered = child.stdout.readline().split()
            assert answered[:2] == ["ANSWERED", "approved"]
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        assert child.returncode == -signal.SIGKILL
        if mode == "kill-while-waiting":
            assert child.stdout.read() == ""  # it never heard the answer
        deadline = time.monotonic() + 30
        while sim_sale(url, "key-sigkill-1")["state"] == "in_progress":  # the terminal carries on
            assert time.monotonic() < deadline
            time.sleep(0.02)
        # The terminal loses power too, and comes back on the same address.
        simulator.send_signal(signal.SIGKILL)
        simulator.wait(10)
        simulator = start_simulator(state_dir, port, speed)

        # The kiosk restarts: a pending key without an outcome is reconciled.
        entries = [json.loads(line) for line in records.read_text().splitlines()]
        assert entries == [{"pending": "key-sigkill-1"}]  # nothing recorded but the intent
        kiosk = LanTerminal(url)
        settled = reconcile(kiosk, "key-sigkill-1")
        assert settled is not None and settled.approved and settled.final
        if mode == "kill-before-record":
            assert settled.approval_code == answered[2]
        again = kiosk.collect(2500, "key-sigkill-1", "copay", timeout_s=60)
        assert again == settled
        assert authorisations(state_dir, "key-sigkill-1") == 1
        kiosk.close()
    finally:
        if child is not None and child.poll() is None:
            child.kill()
        simulator.kill()
        simulator.wait(10)


# ---------------------------------------------------------------------- no card data anywhere
def test_no_card_number_in_anything_the_kiosk_writes(tmp_path, caplog):
    from kiosk.logging_setup import configure_logging, shutdown_logging
    from kiosk.store import open_store

    log_file = tmp_path / "kiosk" / "logs" / "kiosk.log"
    configure_logging(log_file, "DEBUG", console=False)
    caplog.set_level(logging.DEBUG)
    store = open_store(tmp_path / "kiosk" / "data", tmp_path / "secrets" / "kiosk.key")
    terminal = SimulatedTerminal(state_dir=tmp_path / "terminal", speed=SPEED, answer_margin_s=1.0)
    written: list[str] = []
    try:
        terminal.simulator.set_processor_online(False)  # store-and-forward first: the terminal holds the card
        results = [terminal.collect(2500, "key-grep-saf", "copay", timeout_s=1)]
        assert TEST_CARD_NUMBER in (terminal.simulator.state_dir / FORWARD_QUEUE).read_text()  # the test can fail
        terminal.simulator.set_processor_online(True)
        for scenario in ("approve", "approve", "decline", "insufficient_funds", "customer_cancel", "no_card",
                         "offline", "approve_mastercard"):
            terminal.simulator.queue_scenario(scenario)
            results.append(terminal.collect(2500, f"key-grep-{len(results)}", "copay", timeout_s=0.5))
        results.append(terminal.lookup("key-grep-1"))
        results.append(reconcile(terminal, "key-grep-2"))
        results.append(terminal.cancel("key-grep-3"))
        written.append(repr(terminal.status()))
        printer, paper = DummyPrinter(), FilePrinter(tmp_path / "kiosk" / "receipt.bin")
        for result in results:
            written += [repr(result), str(result), json.dumps(result.to_record())]
            store.record_event("payment.recorded", result.to_record(), None, datetime.now(UTC))
            if result.approved:
                receipt = Receipt.for_payment(result, clinic_name="Demo Clinic", when=datetime(2025, 3, 10, 9, 30))
                assert printer.print_receipt(receipt).printed and paper.print_receipt(receipt).printed
                written.append(printer.output.decode("latin-1"))
        assert {r.status for r in results} >= {PaymentStatus.APPROVED, PaymentStatus.DECLINED,
                                               PaymentStatus.CANCELLED, PaymentStatus.TIMEOUT,
                                               PaymentStatus.OFFLINE}
    finally:
        terminal.close()
        store.close()
        shutdown_logging()
    written.append(caplog.text)
    written += [str(r.getMessage()) + repr(getattr(r, "fields", "")) for r in caplog.records]
    for path in (tmp_path / "kiosk").rglob("*"):  # logs, database (+ WAL), receipt: all the kiosk wrote
        if path.is_file():
            written.append(path.read_bytes().decode("latin-1"))
    assert "payment.collect" in caplog.text and "1111" in "".join(written)
    everything = "\n".join(written)
    for number in CARD_NUMBERS:
        assert number not in everything


class _RogueHandler(BaseHTTPRequestHandler):
    """A 'terminal' answering whatever the test sets (a misconfigured or foreign device)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        code, body = self.server.reply
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer


@pytest.fixture
def rogue():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RogueHandler)
    server.daemon_threads = True
    server.reply = (200, b"{}")
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def approved_tx(**overrides) -> dict:
    tx = {"idempotency_key": "key-rogue-1", "terminal_transaction_id": "T1", "state": "approved",
          "amount_cents": 2500, "currency": "USD", "reference": "", "token": "tok_abc", "brand": "visa",
          "last4": "1111", "approval_code": "A1B2C3", "decline_reason": None, "cancel_reason": None,
          "stored_offline": False, "at": "2025-03-10T14:03:11.212Z"}
    tx.update(overrides)
    return {"transaction": tx}


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        ((200, json.dumps(approved_tx(card_number="4111 1111 1111 1111")).encode()), "sent card data"),
        ((200, json.dumps(approved_tx(token="4111111111111111")).encode()), "sent card data"),
        ((200, json.dumps(approved_tx(amount_cents=9999)).encode()), "another amount"),
        ((200, json.dumps(approved_tx(idempotency_key="key-rogue-other")).encode()), "cannot read"),
        ((200, json.dumps(approved_tx(last4="41111111")).encode()), "cannot read"),
        ((200, json.dumps(approved_tx(approval_code=None)).encode()), "cannot read"),
        ((200, b"<html>login</html>"), "without a JSON object"),
        ((500, b'{"error": {"code": "internal_error", "message": "boom"}}'), "HTTP 500"),
    ],
)
def test_a_misbehaving_terminal_is_never_believed(rogue, caplog, reply, words):
    rogue.reply = reply
    terminal = LanTerminal(f"http://127.0.0.1:{rogue.server_address[1]}")
    caplog.set_level(logging.DEBUG)
    result = terminal.collect(2500, "key-rogue-1", "copay", timeout_s=1)
    assert result.status is PaymentStatus.ERROR and not result.final and not result.approved
    assert words in result.reason
    assert result.last4 is None and result.token is None
    for number in CARD_NUMBERS:
        assert number not in caplog.text + repr(result) + json.dumps(result.to_record())
    terminal.close()


def test_card_number_detector():
    assert contains_card_number({"x": ["4111 1111 1111 1111"]}) and contains_card_number(4111111111111111)
    assert contains_card_number("pan=5555-5555-5555-4444;")
    assert not contains_card_number("4111 1111 1111 1112")  # fails the Luhn check
    assert not contains_card_number({"token": "tok_4111111111111111x", "at": "2025-03-10T14:03:11.212Z",
                                     "amount_cents": 2500, "last4": "1111", "id": "T00000012"})


# ---------------------------------------------------------------------- TLS and pairing
def _write_tls(tmp_path: Path) -> tuple[Path, Path, Path]:
    from provisioning.pki import make_ca, make_server_cert

    now = datetime.now(UTC)
    ca, ca_key = make_ca("Terminal vendor CA", now)
    cert, key = make_server_cert(ca, ca_key, ["localhost"], ["127.0.0.1"], now)
    paths = tmp_path / "ca.pem", tmp_path / "terminal.pem", tmp_path / "terminal.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


def test_tls_terminal_trusted_by_its_ca_only(tmp_path):
    ca, cert, key = _write_tls(tmp_path)
    terminal = SimulatedTerminal(state_dir=tmp_path / "terminal", speed=SPEED, tls_cert=str(cert), tls_key=str(key),
                                 ca_file=ca)
    try:
        assert terminal.url.startswith("https://")
        assert terminal.collect(2500, "key-tls-1", "copay", timeout_s=1).approved
        untrusting = LanTerminal(terminal.url)  # the system CAs do not know the terminal's vendor CA
        result = untrusting.collect(2500, "key-tls-2", "copay", timeout_s=1)
        assert (result.status, result.final) == (PaymentStatus.OFFLINE, True)
        assert "not trust" in result.reason and "payment_terminal_ca_file" in result.reason
        assert untrusting.status().state is TerminalState.OFFLINE
        assert terminal.lookup("key-tls-2") is None  # nothing reached the terminal
    finally:
        terminal.close()


def test_wrong_pairing_key_is_an_error_it_can_fix(tmp_path):
    terminal = SimulatedTerminal(state_dir=tmp_path / "terminal", speed=SPEED, api_key="right-key")
    try:
        assert terminal.collect(2500, "key-paired-1", "", 1).approved
        stranger = LanTerminal(terminal.url, api_key="wrong-key")
        result = stranger.collect(2500, "key-paired-2", "", 1)
        assert (result.status, result.final) == (PaymentStatus.ERROR, True)
        assert "API key" in result.reason
    finally:
        terminal.close()


def test_plain_http_to_the_network_and_missing_ca_file_are_refused(tmp_path):
    with pytest.raises(ValueError, match="TLS"):
        LanTerminal("http://10.0.0.50:8080")
    with pytest.raises(ValueError, match="does not exist"):
        LanTerminal("https://10.0.0.50:8443", ca_file=tmp_path / "missing.pem")
    with pytest.raises(ValueError, match="not understood"):
        LanTerminal("10.0.0.50")


# ---------------------------------------------------------------------- the result, the factory
def test_result_repr_shows_brand_and_last4_only():
    result = PaymentResult(PaymentStatus.APPROVED, "key-repr-1", 2500, token="tok_secretish", brand="visa",
                           last4="1111", approval_code="A1B2C3", terminal_transaction_id="T1")
    assert repr(result) == "<PaymentResult approved 2500c visa ****1111 key=key-repr-1>" == str(result)
    assert "tok_" not in repr(result) and "A1B2C3" not in repr(result)
    pending = PaymentResult(PaymentStatus.TIMEOUT, "key-repr-2", 2500, final=False)
    assert repr(pending) == "<PaymentResult timeout (not final) 2500c key=key-repr-2>"
    assert pending.message_for_patient_id == MSG_UNCONFIRMED


def test_result_record_round_trip():
    result = PaymentResult(PaymentStatus.APPROVED, "key-record-1", 2500, "tok_x", "visa", "1111", "A1B2C3",
                           stored_offline=True, at=datetime(2025, 3, 10, 14, 3, tzinfo=UTC),
                           terminal_transaction_id="T9")
    record = json.loads(json.dumps(result.to_record()))
    assert PaymentResult.from_record(record) == result


def test_calls_that_can_never_be_right_raise(terminal):
    for amount, key in [(0, "key-valid-1"), (-5, "key-valid-1"), (25.0, "key-valid-1"), (True, "key-valid-1"),
                        (2500, "short"), (2500, "has space in it"), (2500, "x" * 65)]:
        with pytest.raises(ValueError):
            terminal.collect(amount, key, "", 1)
    with pytest.raises(ValueError, match="never patient data"):
        terminal.collect(2500, "key-valid-1", "María García", 1)


def test_make_terminal_from_configuration(tmp_path):
    none = make_terminal("none")
    assert isinstance(none, NoTerminal) and isinstance(make_terminal(""), NoTerminal)
    result = none.collect(2500, "key-none-1", "copay")
    assert (result.status, result.final, result.message_for_patient_id) == (PaymentStatus.OFFLINE, True, MSG_OFFLINE)
    assert none.lookup("key-none-1") is None and none.status().state is TerminalState.OFFLINE
    lan = make_terminal("lan:https://10.0.0.50:8443")
    assert isinstance(lan, LanTerminal) and lan.url == "https://10.0.0.50:8443"
    with make_terminal("simulator:decline", state_dir=tmp_path / "t", speed=SPEED) as sim:
        assert isinstance(sim, SimulatedTerminal) and sim.description == "simulator:decline"
        assert sim.collect(2500, "key-factory-1", "", 1).status is PaymentStatus.DECLINED
    with pytest.raises(ValueError, match="not understood"):
        make_terminal("serial:/dev/ttyUSB0")
    with pytest.raises(ValueError, match="unknown payment scenario"):
        make_terminal("simulator:explode", state_dir=tmp_path / "u")


def test_simulator_state_survives_a_kiosk_restart_when_given_a_folder(tmp_path):
    with make_terminal("simulator", state_dir=tmp_path / "t", speed=SPEED) as first:
        approved = first.collect(2500, "key-kept-1", "", 1)
    with make_terminal("simulator", state_dir=tmp_path / "t", speed=SPEED) as second:
        assert second.lookup("key-kept-1") == approved
    assert approved.at > datetime.now(UTC) - timedelta(minutes=5)
    assert os.path.exists(tmp_path / "t" / "journal.jsonl")
