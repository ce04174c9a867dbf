"""Copay by touch against the terminal simulator: approved (with a receipt), declined then
the front desk, cancelled by the patient, terminal offline; and no card number anywhere."""
from __future__ import annotations

import dataclasses

import pytest

from hardware.payment import make_terminal
from kiosk import ui_driver as ui
from kiosk.store import AppointmentRecord
from kiosk.store.demo_clinic import DEMO_PATIENTS
from tests.gui.patient_steps import check_in_to_review, skip_portal

pytestmark = pytest.mark.gui
TEST_CARD = ("4111111111111111", "4111 1111 1111 1111")


@pytest.fixture
def terminal(app, tmp_path):
    """A fast simulator (delays divided by ten) and a receipt printer writing to a file."""
    kept_terminal, kept_config = app._payment_terminal, app.kiosk_config
    app._payment_terminal = make_terminal("simulator", state_dir=tmp_path / "terminal", speed=10)
    app.kiosk_config = dataclasses.replace(kept_config, receipt_printer=f"file:{tmp_path / 'receipts.txt'}")
    yield app._payment_terminal
    app._payment_terminal.close()
    app._payment_terminal, app.kiosk_config = kept_terminal, kept_config


def copay_of(app, cents: int) -> None:
    """Maria's appointment today asks `cents` (the simulator picks its answer by the cents)."""
    maria = DEMO_PATIENTS["maria"]
    [match] = app.store.find_appointments(maria.last_name, maria.birth_date, app.today())
    app.store.import_schedule(appointments=[AppointmentRecord(
        match.appointment_id, match.patient_id, match.clinician_id, match.start, match.visit_type, copay_cents=cents)])


def to_copay(app) -> None:
    check_in_to_review(app, "GARCIA LOPEZ", DEMO_PATIENTS["maria"])
    ui.tap(app, "contact_ok")
    ui.tap(app, "card_none")
    assert app.manager.current == "copay"


def payments(app, event_type):
    return [e.payload for e in app.store.outbox_pending(1000) if e.event_type == event_type]


def test_an_approved_copay_with_a_receipt(app, shot, terminal, tmp_path):
    copay_of(app, 2500)
    to_copay(app)
    assert "Your copay today is $25.00" in ui.texts(app)
    shot("copay-ask")
    ui.tap(app, "copay_card")
    assert ui.exists(app, "copay_cancel")
    shot("copay-waiting")
    ui.wait_until(lambda: ui.exists(app, "receipt_print"), 20)
    assert "Payment approved. Thank you." in ui.texts(app)
    shot("copay-approved")
    ui.tap(app, "receipt_print")
    skip_portal(app)
    assert app.manager.current == "done"
    [paid] = payments(app, "payment.recorded")
    assert paid["status"] == "approved" and paid["amount_cents"] == 2500 and paid["last4"] == "1111"
    receipt = (tmp_path / "receipts.txt").read_bytes().decode("latin-1")
    assert "25.00" in receipt and "1111" in receipt and "4111111111111111" not in receipt
    # Nothing the kiosk wrote holds the card number (the database files included).
    for path in app.kiosk_config.data_dir.rglob("*"):
        if path.is_file() and "payment-simulator" not in path.parts:
            data = path.read_bytes()
            assert not any(card.encode() in data for card in TEST_CARD), path.name


def test_a_declined_card_then_the_front_desk(app, shot, terminal):
    copay_of(app, 2501)  # .01: declined
    to_copay(app)
    ui.tap(app, "copay_card")
    ui.wait_until(lambda: ui.exists(app, "copay_retry"), 20)
    assert "The card was declined. You can try another card or pay at the front desk." in ui.texts(app)
    shot("copay-declined")
    ui.tap(app, "copay_desk")
    skip_portal(app)
    assert app.manager.current == "done"
    assert [p["status"] for p in payments(app, "payment.recorded")] == ["declined"]
    assert payments(app, "payment.deferred")[0]["reason"] == "front_desk"


def test_the_patient_cancels_on_the_reader(app, shot, terminal):
    copay_of(app, 2503)  # .03: the customer cancels on the terminal
    to_copay(app)
    ui.tap(app, "copay_card")
    ui.wait_until(lambda: ui.exists(app, "copay_retry"), 20)
    assert "The payment was cancelled. You have not been charged." in ui.texts(app)
    shot("copay-cancelled")


def test_a_terminal_offline_sends_the_patient_to_the_desk(app, shot, terminal):
    copay_of(app, 2506)  # .06: terminal offline
    to_copay(app)
    ui.tap(app, "copay_card")
    ui.wait_until(lambda: ui.exists(app, "copay_continue"), 20)
    shot("copay-offline")
    assert any("front desk" in t for t in ui.texts(app))
    ui.tap(app, "copay_continue")
    skip_portal(app)
    assert app.manager.current == "done"
