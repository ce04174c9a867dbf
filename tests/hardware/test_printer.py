"""Receipt printing: the layout, the python-escpos backends, and every printer problem as a
result with a reason (never an exception). The network printer is a fake ESC/POS printer on
loopback that answers the real-time status queries (DLE EOT n) the way real ones do."""
from __future__ import annotations

import logging
import socket
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hardware.payment import PaymentResult, PaymentStatus
from hardware.printer import (
    MSG_NO_PRINTER,
    MSG_NOT_PRINTED,
    MSG_PRINTED,
    WIDTH,
    DummyPrinter,
    EscposReceiptPrinter,
    FilePrinter,
    NetworkPrinter,
    NoPrinter,
    PrintOutcome,
    Receipt,
    UsbPrinter,
    make_printer,
    render_text,
)

WHEN = datetime(2025, 3, 10, 14, 3)
CUT = b"\x1dV"  # GS V: cut the paper


def receipt(**overrides) -> Receipt:
    values = dict(clinic_name="Riverside Family Medicine and Pediatrics of the Valley", when=WHEN,
                  amount_cents=2500, brand="visa", last4="1111", approval_code="A1B2C3",
                  patient_line="Gracias por su pago. Guarde este recibo para sus registros.",
                  transaction_id="T00000042")
    values.update(overrides)
    return Receipt(**values)


def test_render_text_has_what_a_card_receipt_shows():
    text = render_text(receipt())
    assert "Riverside Family Medicine" in text and "2025-03-10 14:03" in text
    assert "$25.00" in text and "VISA" in text and "**** 1111" in text and "A1B2C3" in text
    assert "T00000042" in text and "Gracias por su pago." in text
    assert all(len(line) <= WIDTH for line in text.splitlines())
    assert render_text(receipt(amount_cents=123456)).count("$1,234.56") == 1
    narrow = render_text(receipt(), width=32)
    assert all(len(line) <= 32 for line in narrow.splitlines())


def test_receipt_for_a_payment_carries_no_token():
    payment = PaymentResult(PaymentStatus.APPROVED, "key-receipt-1", 4000, token="tok_zzzsecret", brand="mastercard",
                            last4="4444", approval_code="Q9W8E7", terminal_transaction_id="T7")
    r = Receipt.for_payment(payment, clinic_name="Demo Clinic", when=WHEN, patient_line="Thank you.")
    text = render_text(r)
    assert "$40.00" in text and "MASTERCARD" in text and "**** 4444" in text and "Q9W8E7" in text
    assert "tok_" not in text and "key-receipt-1" not in text
    printer = DummyPrinter()
    assert printer.print_receipt(r).printed
    assert b"tok_" not in printer.output and b"$40.00" in printer.output and b"4444" in printer.output


def test_dummy_printer_renders_escpos(caplog):
    caplog.set_level(logging.DEBUG)
    printer = make_printer("dummy")
    result = printer.print_receipt(receipt(patient_line="Gracias por su pago, señora."))
    assert (result.outcome, result.reason, result.message_for_patient_id) == (PrintOutcome.PRINTED, "", MSG_PRINTED)
    out = printer.output
    assert out.startswith(b"\x1bE\x01") and CUT in out  # bold name first, cut last
    for part in (b"$25.00", b"VISA", b"**** 1111", b"A1B2C3", b"Gracias por su pago"):
        assert part in out
    assert printer.receipts_printed == 1
    assert "1111" not in caplog.text and "A1B2C3" not in caplog.text  # the log names the printer only


def test_file_printer_writes_the_same_bytes(tmp_path):
    dummy, target = DummyPrinter(), tmp_path / "lp0"
    dummy.print_receipt(receipt())
    assert make_printer(f"file:{target}").print_receipt(receipt()).printed
    assert target.read_bytes() == dummy.output


def test_file_printer_that_cannot_be_written_fails_with_a_reason(tmp_path):
    result = FilePrinter(tmp_path / "no-such-dir" / "lp0").print_receipt(receipt())
    assert (result.outcome, result.message_for_patient_id) == (PrintOutcome.FAILED, MSG_NOT_PRINTED)
    assert "cannot write to" in result.reason


def test_no_printer_is_skipped():
    result = make_printer("none").print_receipt(receipt())
    assert (result.outcome, result.message_for_patient_id) == (PrintOutcome.SKIPPED, MSG_NO_PRINTER)
    assert isinstance(make_printer(""), NoPrinter)


class FakeNetworkPrinter:
    """A raw-port (9100) ESC/POS printer: answers DLE EOT 1/2/4 from `status`, keeps the rest."""

    OK = {1: 0x16, 2: 0x12, 4: 0x12}  # online, no offline cause, paper present

    def __init__(self, status: dict[int, int] | None = None, answers_status: bool = True):
        self.status = dict(status or self.OK)
        self.answers_status = answers_status
        self.received = bytearray()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.done = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with connection:
                while chunk := connection.recv(4096):
                    data = bytes(chunk)
                    while self.answers_status and (at := data.find(b"\x10\x04")) >= 0 and at + 2 < len(data):
                        connection.sendall(bytes([self.status[data[at + 2]]]))
                        data = data[:at] + data[at + 3:]
                    self.received += data
            self.done.set()

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def fake_printer():
    made = []

    def make(**kwargs) -> FakeNetworkPrinter:
        made.append(FakeNetworkPrinter(**kwargs))
        return made[-1]

    yield make
    for printer in made:
        printer.close()


def test_network_printer_prints(fake_printer):
    fake = fake_printer()
    result = make_printer(f"escpos-network:127.0.0.1:{fake.port}").print_receipt(receipt())
    assert result.printed and result.reason == ""
    assert fake.done.wait(5)
    assert b"$25.00" in fake.received and b"**** 1111" in fake.received and CUT in fake.received


def test_network_printer_paper_low_prints_with_a_warning(fake_printer):
    fake = fake_printer(status={**FakeNetworkPrinter.OK, 4: 0x1E})
    result = NetworkPrinter("127.0.0.1", fake.port).print_receipt(receipt())
    assert result.printed and "running out of paper" in result.reason


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ({1: 0x1E, 2: 0x12, 4: 0x72}, "out of paper: load a new roll"),
        ({1: 0x16, 2: 0x12, 4: 0x72}, "out of paper"),
        ({1: 0x1E, 2: 0x16, 4: 0x12}, "cover open: close it"),
        ({1: 0x1E, 2: 0x12, 4: 0x12}, "is offline"),
    ],
)
def test_network_printer_problems_stop_printing_with_a_reason(fake_printer, caplog, status, words):
    fake = fake_printer(status=status)
    result = NetworkPrinter("127.0.0.1", fake.port).print_receipt(receipt())
    assert (result.outcome, result.message_for_patient_id) == (PrintOutcome.FAILED, MSG_NOT_PRINTED)
    assert words in result.reason and f"127.0.0.1:{fake.port}" in result.reason
    assert fake.done.wait(5)
    assert b"$25.00" not in fake.received  # nothing printed into a printer that cannot print
    assert "printer.failed" in caplog.text


def test_network_printer_that_never_answers_status_is_printed_to(fake_printer):
    fake = fake_printer(answers_status=False)
    assert NetworkPrinter("127.0.0.1", fake.port).print_receipt(receipt()).printed
    assert fake.done.wait(5) and b"$25.00" in fake.received


def test_unreachable_network_printer_fails_with_a_reason():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    result = NetworkPrinter("127.0.0.1", port).print_receipt(receipt())
    assert result.outcome is PrintOutcome.FAILED
    assert "not reachable" in result.reason and f"127.0.0.1:{port}" in result.reason


def test_usb_printer_that_is_not_there_fails_with_a_reason():
    result = make_printer("escpos-usb:04b8:0202").print_receipt(receipt())
    assert result.outcome is PrintOutcome.FAILED
    assert "04b8:0202" in result.reason or "libusb" in result.reason


def test_any_failure_is_a_result_never_an_exception():
    class Broken(EscposReceiptPrinter):
        description = "broken"

        def _open(self):
            raise ZeroDivisionError("driver bug")

    result = Broken().print_receipt(receipt())
    assert result.outcome is PrintOutcome.FAILED and "ZeroDivisionError" in result.reason


def test_make_printer_from_configuration():
    network = make_printer("escpos-network:10.0.0.60")
    assert isinstance(network, NetworkPrinter) and (network.host, network.port) == ("10.0.0.60", 9100)
    assert make_printer("escpos-network:printer.clinic.lan:9101").port == 9101
    usb = make_printer("escpos-usb:04B8:0E15")
    assert isinstance(usb, UsbPrinter) and (usb.vendor_id, usb.product_id) == (0x04B8, 0x0E15)
    assert isinstance(make_printer("file:/dev/usb/lp0"), FilePrinter)
    for bad in ("escpos-usb:zz:01", "escpos-network:", "file:", "laser:1", "escpos-network:h:port"):
        with pytest.raises(ValueError, match="not understood"):
            make_printer(bad)


def test_receipt_time_is_printed_as_given():
    aware = datetime(2025, 3, 10, 22, 15, tzinfo=UTC)
    assert "2025-03-10 22:15" in render_text(receipt(when=aware))


def test_receipt_without_card_details_still_renders(tmp_path: Path):
    text = render_text(receipt(brand=None, last4=None, approval_code=None, transaction_id=None, patient_line=""))
    assert "$25.00" in text and "****" not in text and "Approval" not in text
