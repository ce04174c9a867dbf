"""No double charge: the kiosk is SIGKILLed after the terminal approved but before it
recorded the payment; at the next start the copay step asks the terminal by the
idempotency key and records the approval once. The terminal simulator runs as its own
process, as a real terminal would."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import requests

from logic_helpers import NOW
from hardware.payment import LanTerminal
from kiosk.steps.copay import CopayStep
from kiosk.store import open_store
from tests.hardware.test_payment import free_port, start_simulator

CHILD = Path(__file__).with_name("copay_child.py")


def test_a_kill_after_approval_is_recorded_once_at_the_next_start(tmp_path):
    data_dir, key_file = tmp_path / "data", tmp_path / "keys" / "data.key"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    simulator = start_simulator(tmp_path / "terminal", port, speed=10.0)
    try:
        child = subprocess.Popen([sys.executable, str(CHILD), str(data_dir), str(key_file), url],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        started = child.stdout.readline().split()
        assert started[0] == "STARTED"
        key = started[1]
        assert child.stdout.readline().split() == ["ANSWERED", "approved"]
        child.send_signal(signal.SIGKILL)
        child.wait(10)

        store = open_store(data_dir, key_file)
        try:
            assert [p.state for p in store.payments()] == ["started"]  # the kill left it unsettled
            step = CopayStep(lambda: LanTerminal(url))
            step.recover(store, NOW)
            step.recover(store, NOW)  # a second start finds nothing to do
            [payment] = store.payments()
            assert payment.state == "approved" and payment.id == key
            recorded = [e.payload for e in store.outbox_pending(100) if e.event_type == "payment.recorded"]
            assert len(recorded) == 1 and recorded[0]["idempotency_key"] == key
        finally:
            store.close()
        sales = requests.get(url + "/v1/test/journal", timeout=5).json()["sales"]
        assert [s["idempotency_key"] for s in sales].count(key) == 1  # charged once
    finally:
        simulator.terminate()
        simulator.wait(10)
