"""The simulated card terminal on its own, spoken to over raw HTTP (no kiosk driver).

It stands for the terminal on the counter, so what matters is that it behaves like one:
the scenarios, one charge per idempotency key, its journal surviving a restart, store-and-
forward, and never a card number on the wire. Delays run 40 times faster than real.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from hardware.payment_simulator import (
    AUTH_DELAY_S,
    FORWARD_QUEUE,
    TAP_DELAY_S,
    TEST_CARD_NUMBER,
    PaymentSimulator,
    read_journal,
    scenario_for_amount,
)

SPEED = 40.0
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "terminal"


@pytest.fixture
def sim(state_dir: Path):
    simulator = PaymentSimulator(state_dir, speed=SPEED, seed=7).start()
    yield simulator
    simulator.stop()


def sale(sim: PaymentSimulator, key: str, amount: int, timeout_s: float = 2.0, **extra) -> requests.Response:
    body = {"idempotency_key": key, "amount_cents": amount, "currency": "USD", "reference": "copay",
            "timeout_s": timeout_s, **extra}
    return requests.post(sim.url + "/v1/sales", json=body, timeout=10)


def wait_for_sale(sim: PaymentSimulator, key: str) -> None:
    """Until the terminal has the sale (a thread's request may take a moment to arrive)."""
    deadline = time.monotonic() + 10
    while requests.get(sim.url + f"/v1/sales/{key}", timeout=5).status_code == 404:
        assert time.monotonic() < deadline, f"the terminal never got the sale {key}"
        time.sleep(0.01)


def tx(response: requests.Response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()["transaction"]


@pytest.mark.parametrize(
    ("amount", "state", "brand", "last4", "reason_field", "reason"),
    [
        (2500, "approved", "visa", "1111", None, None),
        (2501, "declined", "visa", "0002", "decline_reason", "do_not_honor"),
        (2502, "declined", "visa", "9995", "decline_reason", "insufficient_funds"),
        (2503, "cancelled", None, None, "cancel_reason", "customer_cancelled"),
        (2504, "timeout", None, None, None, None),
        (2507, "approved", "visa", "1111", None, None),  # store-and-forward, under the floor limit
    ],
)
def test_each_scenario_by_the_amounts_cents(sim, amount, state, brand, last4, reason_field, reason):
    t = tx(sale(sim, f"key-amount-{amount}", amount, timeout_s=0.5))
    assert t["state"] == state
    assert (t["brand"], t["last4"]) == (brand, last4)
    if reason_field:
        assert t[reason_field] == reason
    if state == "approved":
        assert t["approval_code"] and t["token"].startswith("tok_")
        assert t["stored_offline"] is (amount == 2507)
        assert t["approval_code"].startswith("Y3") is (amount == 2507)  # EMV "approved offline"
    else:
        assert t["approval_code"] is None


def test_amount_pattern_table():
    assert [scenario_for_amount(c) for c in (2500, 4000, 1501, 1502, 1503, 1504, 1505, 1506, 1507, 1508)] == [
        "approve", "approve", "decline", "insufficient_funds", "customer_cancel", "no_card", "timeout",
        "offline", "store_forward", "approve"]


def test_offline_by_amount_answers_503_and_keeps_nothing(sim):
    response = sale(sim, "key-offline-1", 2506)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "terminal_offline"
    assert requests.get(sim.url + "/v1/sales/key-offline-1", timeout=5).status_code == 404


def test_sticky_and_queued_scenarios_through_the_control_endpoint(sim):
    requests.post(sim.url + "/v1/test/scenario", json={"scenario": "decline"}, timeout=5).raise_for_status()
    requests.post(sim.url + "/v1/test/scenario", json={"scenario": "approve_mastercard", "next": True},
                  timeout=5).raise_for_status()
    first, second = tx(sale(sim, "key-queued-1", 2500)), tx(sale(sim, "key-queued-2", 2500))
    assert (first["state"], first["brand"], first["last4"]) == ("approved", "mastercard", "4444")
    assert (second["state"], second["decline_reason"]) == ("declined", "do_not_honor")
    bad = requests.post(sim.url + "/v1/test/scenario", json={"scenario": "explode"}, timeout=5)
    assert bad.status_code == 400 and "unknown payment scenario" in bad.json()["error"]["message"]


def test_sticky_offline_refuses_sales_lookups_and_status(sim):
    sim.set_scenario("offline")
    assert sale(sim, "key-sticky-off", 2500).status_code == 503
    assert requests.get(sim.url + "/v1/status", timeout=5).status_code == 503
    sim.set_scenario("approve")
    assert tx(sale(sim, "key-sticky-off", 2500))["state"] == "approved"


def test_same_key_twice_is_one_charge(sim, state_dir):
    first = tx(sale(sim, "key-twice-1", 3000))
    again = tx(sale(sim, "key-twice-1", 3000))
    assert again == first
    assert sim.authorisations("key-twice-1") == 1
    on_disk = [r for r in read_journal(state_dir) if r["record"] == "authorisation"]
    assert [r["idempotency_key"] for r in on_disk] == ["key-twice-1"]


def test_same_key_at_the_same_time_is_one_charge(sim):
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(sale(sim, "key-race-1", 3000)))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in answers] == [200, 200, 200]
    assert len({json.dumps(tx(r), sort_keys=True) for r in answers}) == 1
    assert sim.authorisations("key-race-1") == 1


def test_same_key_with_another_amount_is_refused(sim):
    tx(sale(sim, "key-conflict-1", 3000))
    response = sale(sim, "key-conflict-1", 3100)
    assert response.status_code == 409 and response.json()["error"]["code"] == "key_conflict"
    assert sim.authorisations("key-conflict-1") == 1


def test_one_sale_at_a_time(sim):
    sim.queue_scenario("no_card")
    waiting = threading.Thread(target=sale, args=(sim, "key-busy-1", 2500, 1.0))
    waiting.start()
    deadline = time.monotonic() + 5
    while requests.get(sim.url + "/v1/status", timeout=5).json()["state"] != "busy":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    other = sale(sim, "key-busy-2", 2500)
    assert other.status_code == 409 and other.json()["error"]["code"] == "busy"
    waiting.join()
    assert requests.get(sim.url + "/v1/status", timeout=5).json()["state"] == "ready"
    assert requests.get(sim.url + "/v1/sales/key-busy-2", timeout=5).status_code == 404


def test_cancel_while_waiting_for_the_card(sim):
    sim.queue_scenario("no_card")
    answers = []
    waiting = threading.Thread(target=lambda: answers.append(sale(sim, "key-cancel-1", 2500, 5.0)))
    waiting.start()
    wait_for_sale(sim, "key-cancel-1")
    cancelled = requests.post(sim.url + "/v1/sales/key-cancel-1/cancel", timeout=5)
    waiting.join()
    assert tx(cancelled)["state"] == "cancelled" and tx(cancelled)["cancel_reason"] == "kiosk_cancelled"
    assert tx(answers[0]) == tx(cancelled)
    assert sim.authorisations("key-cancel-1") == 0


def test_cancel_after_the_sale_changes_nothing(sim):
    approved = tx(sale(sim, "key-late-cancel", 2500))
    assert tx(requests.post(sim.url + "/v1/sales/key-late-cancel/cancel", timeout=5)) == approved
    assert requests.post(sim.url + "/v1/sales/key-never-seen/cancel", timeout=5).status_code == 404


def test_timeout_scenario_answers_nothing_until_the_silence_ends(state_dir):
    sim = PaymentSimulator(state_dir, speed=SPEED, silence_s=10_000).start()
    try:
        sim.queue_scenario("timeout")
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.post(sim.url + "/v1/sales", json={"idempotency_key": "key-silent-1", "amount_cents": 2500,
                                                       "timeout_s": 2}, timeout=(2, 1.5))
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.get(sim.url + "/v1/sales/key-silent-1", timeout=(2, 0.5))
        assert sim.authorisations("key-silent-1") == 1  # it did charge, it just never said so
        requests.post(sim.url + "/v1/test/silence", json={"on": False}, timeout=5).raise_for_status()
        assert tx(requests.get(sim.url + "/v1/sales/key-silent-1", timeout=5))["state"] == "approved"
    finally:
        sim.stop()


def test_journal_survives_a_restart_and_a_sale_cut_off_is_voided(state_dir):
    sim = PaymentSimulator(state_dir, speed=SPEED).start()
    approved = tx(sale(sim, "key-restart-1", 2500))
    sim.queue_scenario("no_card")

    def wait_for_card():
        with pytest.raises(requests.exceptions.ConnectionError):  # the power cut drops the line
            sale(sim, "key-restart-2", 2500, 30.0)

    waiting = threading.Thread(target=wait_for_card)
    waiting.start()
    wait_for_sale(sim, "key-restart-2")
    sim.stop()  # the power goes while the terminal waits for a card
    waiting.join()

    again = PaymentSimulator(state_dir, speed=SPEED).start()
    try:
        assert tx(requests.get(again.url + "/v1/sales/key-restart-1", timeout=5)) == approved
        cut = tx(requests.get(again.url + "/v1/sales/key-restart-2", timeout=5))
        assert (cut["state"], cut["cancel_reason"]) == ("cancelled", "terminal_restarted")
        assert tx(sale(again, "key-restart-1", 2500)) == approved
        assert again.authorisations("key-restart-1") == 1
        assert tx(sale(again, "key-restart-3", 2500))["terminal_transaction_id"] == "T00000003"
        assert tx(requests.get(again.url + "/v1/sales/key-restart-1", timeout=5))["token"] == approved["token"]
    finally:
        again.stop()


def test_store_and_forward_holds_the_card_until_forwarded(sim, state_dir):
    sim.set_processor_online(False)
    under = tx(sale(sim, "key-saf-under", 4500))
    over = tx(sale(sim, "key-saf-over", 5001))
    assert (under["state"], under["stored_offline"]) == ("approved", True)
    assert (over["state"], over["decline_reason"]) == ("declined", "offline_floor_limit")
    status = requests.get(sim.url + "/v1/status", timeout=5).json()
    assert (status["processor"], status["stored_offline_pending"]) == ("offline", 1)
    # The terminal keeps the card number to forward it (its own memory, not the kiosk's).
    assert TEST_CARD_NUMBER in (state_dir / FORWARD_QUEUE).read_text()

    requests.post(sim.url + "/v1/test/processor", json={"online": True}, timeout=5).raise_for_status()
    deadline = time.monotonic() + 10
    while sim.forward_queue_length:
        assert time.monotonic() < deadline, "the stored sale was never forwarded"
        time.sleep(0.02)
    assert TEST_CARD_NUMBER not in (state_dir / FORWARD_QUEUE).read_text()
    forwarded = {s["idempotency_key"]: s for s in sim.journal()}["key-saf-under"]
    assert forwarded["forward_status"] == "accepted" and forwarded["authorisations"] == 1
    assert requests.get(sim.url + "/v1/status", timeout=5).json()["stored_offline_pending"] == 0


def test_no_card_number_ever_leaves_the_terminal(sim):
    seen = []
    sim.set_processor_online(False)
    seen.append(sale(sim, "key-wire-saf", 2500).content)
    sim.set_processor_online(True)
    for i, amount in enumerate((2500, 2501, 2502, 2503, 2504, 2506)):
        seen.append(sale(sim, f"key-wire-{i}", amount, timeout_s=0.3).content)
        seen.append(requests.get(sim.url + f"/v1/sales/key-wire-{i}", timeout=5).content)
    seen.append(requests.get(sim.url + "/v1/status", timeout=5).content)
    seen.append(requests.get(sim.url + "/v1/test/journal", timeout=5).content)
    wire = b"\n".join(seen)
    assert b"1111" in wire  # the last four are there...
    for number in (TEST_CARD_NUMBER, "4111 1111 1111 1111", "4000000000000002", "4000000000009995"):
        assert number.encode() not in wire  # ...never the number


def test_delays_are_the_real_ones_divided_by_speed(sim):
    for i in range(4):
        t0 = time.monotonic()
        tx(sale(sim, f"key-delay-{i}", 2500))
        elapsed = time.monotonic() - t0
        record = {s["idempotency_key"]: s for s in sim.journal()}[f"key-delay-{i}"]
        assert TAP_DELAY_S[0] <= record["simulated_wait_s"] * SPEED <= TAP_DELAY_S[1]
        assert AUTH_DELAY_S[0] <= record["simulated_auth_s"] * SPEED <= AUTH_DELAY_S[1]
        assert elapsed >= record["simulated_wait_s"] + record["simulated_auth_s"]
        assert t0 < record["tapped_mono"] < time.monotonic()


def test_bad_requests_are_refused_with_a_reason(sim):
    for body, words in [
        ({"idempotency_key": "short", "amount_cents": 100}, "idempotency_key"),
        ({"idempotency_key": "key-bad-0001", "amount_cents": 0}, "amount_cents"),
        ({"idempotency_key": "key-bad-0001", "amount_cents": True}, "amount_cents"),
        ({"idempotency_key": "key-bad-0001", "amount_cents": 100, "currency": "EUR"}, "USD"),
        ({"idempotency_key": "key-bad-0001", "amount_cents": 100, "reference": "é" * 3}, "reference"),
    ]:
        response = requests.post(sim.url + "/v1/sales", json=body, timeout=5)
        assert response.status_code == 400 and words in response.json()["error"]["message"]
    assert requests.post(sim.url + "/v1/sales", data=b"not json", timeout=5).status_code == 400
    assert requests.get(sim.url + "/v1/nothing", timeout=5).status_code == 404


def test_pairing_key_is_required_when_set(state_dir):
    sim = PaymentSimulator(state_dir, speed=SPEED, api_key="pairing-secret").start()
    try:
        assert requests.get(sim.url + "/v1/status", timeout=5).status_code == 401
        ok = requests.get(sim.url + "/v1/status", headers={"Authorization": "Bearer pairing-secret"}, timeout=5)
        assert ok.status_code == 200
    finally:
        sim.stop()


def test_go_offline_refuses_connections_and_comes_back_on_the_same_port(sim):
    url = sim.url
    sim.go_offline()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(url + "/v1/status", timeout=2)
    sim.go_online()
    assert sim.url == url
    assert requests.get(url + "/v1/status", timeout=5).json()["state"] == "ready"


def test_plain_http_only_on_loopback(state_dir):
    with pytest.raises(ValueError, match="loopback"):
        PaymentSimulator(state_dir, host="0.0.0.0")


def test_runs_as_its_own_process(state_dir, tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "hardware.payment_simulator", "--port", str(port), "--speed", str(SPEED),
         "--state-dir", str(state_dir), "--scenario", "approve_mastercard"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == f"payment simulator listening on http://127.0.0.1:{port}"
        answer = requests.post(f"http://127.0.0.1:{port}/v1/sales", timeout=10,
                               json={"idempotency_key": "key-process-1", "amount_cents": 2500, "timeout_s": 5})
        assert tx(answer)["brand"] == "mastercard"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
    assert [r["state"] for r in read_journal(state_dir) if r["record"] == "sale"][-1] == "approved"
    assert os.stat(state_dir / "terminal_secret").st_mode & 0o077 == 0
