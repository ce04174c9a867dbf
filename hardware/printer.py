"""Receipt printers behind one small interface (ESC/POS through python-escpos).

    printer = make_printer("escpos-network:10.0.0.60")  # or "escpos-usb:04b8:0202",
                                                         # "file:/dev/usb/lp0", "dummy", "none"
    outcome = printer.print_receipt(Receipt(clinic_name=..., when=..., amount_cents=2500,
                                            brand="visa", last4="1111", approval_code="A1B2C3",
                                            patient_line=_("Thank you for your payment.")))
    outcome.outcome   # PrintOutcome.PRINTED / SKIPPED / FAILED
    outcome.reason    # for IT: out of paper, cover open, unreachable... ("" when all is well)
    outcome.message_for_patient_id   # an N_() message id; the screen translates it

A receipt holds what a card receipt may show: the amount, the brand, the last four digits
and the approval code (no token, nothing else from the card), and one line already in the
patient's language. `print_receipt` blocks (run it on a worker thread) and never raises: a
printer that is missing, offline, out of paper or with its cover open is a FAILED outcome
with a reason IT can act on, so the kiosk says "the front desk can give you one" and
moves on. The printer is opened for each receipt and closed after, so a printer that was
unplugged or switched off works again as soon as it is back.
"""
from __future__ import annotations

import logging
import os
import socket
import tempfile
import textwrap
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path

from babel.numbers import format_currency


def _prepare_escpos_import() -> list[logging.Handler]:
    """python-escpos, at import, pickles its printer database into a NEW temporary folder
    (250 ms and one leaked folder per start) unless told where to keep it, and calls
    logging.basicConfig(). Give it a lasting cache folder; return the root handlers so the
    one basicConfig adds can be taken off (it would print unguarded plain text to stderr)."""
    if "ESCPOS_CAPABILITIES_PICKLE_DIR" not in os.environ:
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "clinic-kiosk" / "escpos"
        try:
            cache.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError:  # a read-only home: the library's own behaviour, a temporary folder
            cache = Path(tempfile.mkdtemp(prefix="escpos-"))
        os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"] = str(cache)
    return list(logging.getLogger().handlers)


_root_handlers = _prepare_escpos_import()
from escpos.escpos import Escpos  # noqa: E402 - after the preparation above
from escpos.exceptions import DeviceNotFoundError, USBNotFoundError  # noqa: E402
from escpos.printer import Dummy, File, Network, Usb  # noqa: E402

for _handler in logging.getLogger().handlers[:]:
    if _handler not in _root_handlers:
        logging.getLogger().removeHandler(_handler)
from kiosk.i18n_markers import N_  # noqa: E402

log = logging.getLogger(__name__)

WIDTH = 42  # characters per line of font A on 80 mm paper (32 on 58 mm)
NETWORK_PORT = 9100  # the raw ESC/POS port of network receipt printers
NETWORK_TIMEOUT_S = 5.0
STATUS_TIMEOUT_S = 1.0  # a printer that does not answer status queries is printed to anyway
USB_TIMEOUT_MS = 5000

# Real-time status (DLE EOT n) answers; the bit values are the ESC/POS standard's.
DLE_EOT_PRINTER = b"\x10\x04\x01"
DLE_EOT_OFFLINE_CAUSE = b"\x10\x04\x02"
DLE_EOT_PAPER = b"\x10\x04\x04"
OFFLINE_BIT = 0x08  # in the printer status
COVER_OPEN_BIT = 0x04  # in the offline cause
PAPER_END_BITS = 0x60  # in the paper status: roll end
PAPER_NEAR_END_BITS = 0x0C  # in the paper status: roll near its end

MSG_PRINTED = N_("Please take your receipt.")
MSG_NOT_PRINTED = N_("The receipt could not be printed. The front desk can give you one.")
MSG_NO_PRINTER = N_("Ask at the front desk if you need a receipt.")


class PrintOutcome(str, Enum):
    PRINTED = "printed"
    SKIPPED = "skipped"  # no printer configured
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class PrintResult:
    outcome: PrintOutcome
    reason: str = ""  # for IT: why not printed, or a warning when printed (paper low)
    message_for_patient_id: str = ""

    def __post_init__(self) -> None:
        if not self.message_for_patient_id:
            message = {PrintOutcome.PRINTED: MSG_PRINTED, PrintOutcome.SKIPPED: MSG_NO_PRINTER,
                       PrintOutcome.FAILED: MSG_NOT_PRINTED}[self.outcome]
            object.__setattr__(self, "message_for_patient_id", message)

    @property
    def printed(self) -> bool:
        return self.outcome is PrintOutcome.PRINTED


@dataclass(frozen=True, slots=True)
class Receipt:
    clinic_name: str
    when: datetime  # the payment's time, in the clinic's local time (printed as it is)
    amount_cents: int
    brand: str | None
    last4: str | None
    approval_code: str | None
    patient_line: str = ""  # in the patient's language, already translated
    currency: str = "USD"
    transaction_id: str | None = None  # the terminal's, for the front desk (refunds)

    @classmethod
    def for_payment(cls, payment, *, clinic_name: str, when: datetime, patient_line: str = "",
                    currency: str = "USD") -> Receipt:
        """The receipt of an approved hardware.payment.PaymentResult."""
        return cls(clinic_name, when, payment.amount_cents, payment.brand, payment.last4, payment.approval_code,
                   patient_line, currency, payment.terminal_transaction_id)


def format_amount(amount_cents: int, currency: str = "USD") -> str:
    return format_currency(Decimal(amount_cents) / 100, currency, locale="en_US")


def _pair(label: str, value: str, width: int) -> str:
    """`label ....... value` on one line, the value right-aligned."""
    room = max(width - len(label) - len(value), 1)
    return f"{label}{' ' * room}{value}"


def receipt_lines(receipt: Receipt, width: int = WIDTH) -> list[str]:
    """The receipt as plain lines of at most `width` characters (the clinic name centred)."""
    lines = [line.center(width).rstrip() for line in textwrap.wrap(receipt.clinic_name, width) or [""]]
    lines.append(receipt.when.strftime("%Y-%m-%d %H:%M"))
    lines.append("-" * width)
    lines.append(_pair("Copay", format_amount(receipt.amount_cents, receipt.currency), width))
    if receipt.last4:
        lines.append(_pair((receipt.brand or "card").upper(), f"**** {receipt.last4}", width))
    if receipt.approval_code:
        lines.append(_pair("Approval", receipt.approval_code, width))
    if receipt.transaction_id:
        lines.append(_pair("Ref", receipt.transaction_id, width))
    lines.append("-" * width)
    lines.extend(textwrap.wrap(receipt.patient_line, width))
    return lines


def render_text(receipt: Receipt, width: int = WIDTH) -> str:
    """The receipt as the printer prints it, in plain text (tests, logs of layout, previews)."""
    return "\n".join(receipt_lines(receipt, width)) + "\n"


def write_escpos(printer: Escpos, receipt: Receipt, width: int = WIDTH) -> None:
    """Send the receipt to an open python-escpos printer: name in bold, body, feed and cut."""
    lines = receipt_lines(receipt, width)
    name_lines = len(textwrap.wrap(receipt.clinic_name, width)) or 1
    printer.set(align="center", bold=True)
    for line in lines[:name_lines]:
        printer.textln(line.strip())
    printer.set(align="left", bold=False)
    for line in lines[name_lines:]:
        printer.textln(line)
    printer.cut()


class ReceiptPrinter(ABC):
    """A receipt printer. print_receipt blocks and never raises."""

    description: str = ""

    @abstractmethod
    def print_receipt(self, receipt: Receipt) -> PrintResult:
        """Print one receipt; the outcome says printed, skipped or failed (with a reason)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.description}>"


class NoPrinter(ReceiptPrinter):
    """receipt_printer = "none": receipts are given at the front desk."""

    description = "none"

    def print_receipt(self, receipt: Receipt) -> PrintResult:
        return PrintResult(PrintOutcome.SKIPPED, 'no receipt printer configured (receipt_printer = "none")')


class EscposReceiptPrinter(ReceiptPrinter):
    """The ESC/POS printers: open, check status where the link can answer, print, close."""

    reads_status = False  # a file or a dummy cannot answer status queries

    def __init__(self, width: int = WIDTH):
        self.width = width
        self._answers_status: bool | None = None  # learnt at the first receipt

    @abstractmethod
    def _open(self) -> Escpos:
        """A connected python-escpos printer (raises the library's errors when it cannot)."""

    def print_receipt(self, receipt: Receipt) -> PrintResult:
        printer = None
        try:
            printer = self._open()
            warning = ""
            if self.reads_status:
                problem, warning = self._check_status(printer)
                if problem:
                    return self._failed(problem)
            write_escpos(printer, receipt, self.width)
            self._flush(printer)
        except Exception as error:  # a printer problem must never reach the patient's screen
            return self._failed(self._reason(error))
        finally:
            if printer is not None:
                try:
                    printer.close()
                except Exception:  # closing a dead connection may fail too; nothing to do
                    pass
        log.info("printer.printed", extra={"fields": {"printer": self.description, "warning": warning}})
        return PrintResult(PrintOutcome.PRINTED, warning)

    def _flush(self, printer: Escpos) -> None:
        """After the receipt: make sure the bytes left (files buffer)."""

    def _check_status(self, printer: Escpos) -> tuple[str, str]:
        """(a problem that stops printing, a warning) from the real-time status queries."""
        if self._answers_status is False:
            return "", ""  # asked before and never answered: do not wait for it on every receipt
        state = self._query(printer, DLE_EOT_PRINTER)
        self._answers_status = state is not None
        if state is None:
            return "", ""
        if state is not None and state & OFFLINE_BIT:
            cause = self._query(printer, DLE_EOT_OFFLINE_CAUSE)
            if cause is not None and cause & COVER_OPEN_BIT:
                return f"the receipt printer {self.description} has its cover open: close it", ""
            paper = self._query(printer, DLE_EOT_PAPER)
            if paper is not None and paper & PAPER_END_BITS == PAPER_END_BITS:
                return f"the receipt printer {self.description} is out of paper: load a new roll", ""
            return (f"the receipt printer {self.description} is offline (error light or paper feed): "
                    "check its panel and switch it off and on"), ""
        paper = self._query(printer, DLE_EOT_PAPER)
        if paper is not None and paper & PAPER_END_BITS == PAPER_END_BITS:
            return f"the receipt printer {self.description} is out of paper: load a new roll", ""
        if paper is not None and paper & PAPER_NEAR_END_BITS == PAPER_NEAR_END_BITS:
            return "", f"the receipt printer {self.description} is running out of paper: replace the roll soon"
        return "", ""

    def _query(self, printer: Escpos, request: bytes) -> int | None:
        """One status byte, or None when the printer does not answer (some never do)."""
        try:
            answer = printer.query_status(request)
        except (TimeoutError, socket.timeout, NotImplementedError):
            return None
        except Exception as error:
            if type(error).__name__ == "USBTimeoutError":
                return None
            raise
        return answer[0] if answer else None

    def _reason(self, error: Exception) -> str:
        return (f"the receipt printer {self.description} failed ({type(error).__name__}): "
                "check it is switched on and connected, then reprint from staff mode")

    def _failed(self, reason: str) -> PrintResult:
        log.warning("printer.failed", extra={"fields": {"printer": self.description, "reason": reason}})
        return PrintResult(PrintOutcome.FAILED, reason)


class NetworkPrinter(EscposReceiptPrinter):
    """A printer on the network, raw ESC/POS on TCP port 9100."""

    reads_status = True

    def __init__(self, host: str, port: int = NETWORK_PORT, *, timeout_s: float = NETWORK_TIMEOUT_S,
                 width: int = WIDTH):
        super().__init__(width)
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self.description = f"escpos-network:{host}:{port}"

    def _open(self) -> Escpos:
        printer = Network(self.host, self.port, timeout=self.timeout_s)
        printer.open()
        printer.device.settimeout(STATUS_TIMEOUT_S)  # status answers are immediate or never
        return printer

    def _check_status(self, printer: Escpos) -> tuple[str, str]:
        try:
            return super()._check_status(printer)
        finally:
            printer.device.settimeout(self.timeout_s)

    def _reason(self, error: Exception) -> str:
        where = f"{self.host}:{self.port}"
        if isinstance(error, DeviceNotFoundError):
            return (f"the receipt printer at {where} is not reachable: check that it is switched on, its network "
                    "cable, and its IP address in receipt_printer")
        if isinstance(error, (TimeoutError, socket.timeout)):
            return f"the receipt printer at {where} stopped answering while printing: check it, then reprint"
        if isinstance(error, OSError):
            return f"the connection to the receipt printer at {where} broke while printing: check it, then reprint"
        return super()._reason(error)


class UsbPrinter(EscposReceiptPrinter):
    """A USB printer by vendor and product id (needs pyusb and libusb-1.0)."""

    reads_status = True

    def __init__(self, vendor_id: int, product_id: int, *, in_ep: int = 0x82, out_ep: int = 0x01,
                 timeout_ms: int = USB_TIMEOUT_MS, width: int = WIDTH):
        super().__init__(width)
        self.vendor_id, self.product_id = vendor_id, product_id
        self.in_ep, self.out_ep, self.timeout_ms = in_ep, out_ep, timeout_ms
        self.description = f"escpos-usb:{vendor_id:04x}:{product_id:04x}"

    def _open(self) -> Escpos:
        printer = Usb(self.vendor_id, self.product_id, timeout=self.timeout_ms, in_ep=self.in_ep, out_ep=self.out_ep)
        printer.open()
        return printer

    def _reason(self, error: Exception) -> str:
        ids = f"{self.vendor_id:04x}:{self.product_id:04x}"
        if isinstance(error, DeviceNotFoundError) and error.__context__ is not None:
            error = error.__context__  # python-escpos wraps "not found" and "no permission" alike
        name = type(error).__name__
        if isinstance(error, (USBNotFoundError, AssertionError)):
            return (f"no USB receipt printer {ids} is connected: check its USB cable and power "
                    "(lsusb lists the ids of what is plugged in)")
        if name == "NoBackendError":
            return "the USB library is missing: install the libusb-1.0-0 package"
        if isinstance(error, RuntimeError) and "usb library" in str(error):
            return "pyusb is not installed: install python-escpos[usb] in the kiosk's environment"
        if getattr(error, "errno", None) == 13:
            return (f"no permission to use the USB receipt printer {ids}: add a udev rule giving the kiosk user "
                    "access to it")
        if name in ("USBError", "USBTimeoutError"):
            return f"the USB receipt printer {ids} stopped answering while printing: check it, then reprint"
        return super()._reason(error)


class FilePrinter(EscposReceiptPrinter):
    """ESC/POS bytes written to a file or device node (/dev/usb/lp0); cannot read status."""

    def __init__(self, path: str | Path, *, width: int = WIDTH):
        super().__init__(width)
        self.path = Path(path)
        self.description = f"file:{self.path}"

    def _open(self) -> Escpos:
        printer = File(str(self.path), auto_flush=False)
        printer.open()
        return printer

    def _flush(self, printer: Escpos) -> None:
        printer.flush()

    def _reason(self, error: Exception) -> str:
        if isinstance(error, DeviceNotFoundError):
            if self.path.parent.exists() and not self.path.exists() and str(self.path).startswith("/dev/"):
                return f"no printer at {self.path}: check its USB cable and power"
            return (f"cannot write to {self.path}: check the path, and that the kiosk user may write it "
                    "(for /dev/usb/lp*: the 'lp' group)")
        if isinstance(error, OSError):
            return f"writing the receipt to {self.path} failed ({error.strerror or type(error).__name__})"
        return super()._reason(error)


class DummyPrinter(EscposReceiptPrinter):
    """Keeps the ESC/POS bytes of the last receipt in `output` (tests, demos)."""

    description = "dummy"

    def __init__(self, *, width: int = WIDTH):
        super().__init__(width)
        self.output = b""
        self.receipts_printed = 0

    def _open(self) -> Escpos:
        return Dummy()

    def _flush(self, printer: Escpos) -> None:
        self.output = printer.output
        self.receipts_printed += 1


def make_printer(setting: str, *, width: int = WIDTH) -> ReceiptPrinter:
    """The printer a configuration value names.

    "escpos-network:HOST[:PORT]"  a network printer (port 9100 by default)
    "escpos-usb:VID:PID"          a USB printer by its hex ids (lsusb), e.g. "escpos-usb:04b8:0202"
    "file:/dev/usb/lp0"           a device node or file
    "dummy"                       keeps the bytes in memory (tests, demos)
    "none" or ""                  no printer: receipts at the front desk
    """
    value = (setting or "").strip()
    kind, _, arg = value.partition(":")
    kind, arg = kind.lower(), arg.strip()
    try:
        if kind in ("", "none"):
            return NoPrinter()
        if kind == "dummy":
            return DummyPrinter(width=width)
        if kind == "file" and arg:
            return FilePrinter(arg, width=width)
        if kind == "escpos-network" and arg:
            host, _, port = arg.rpartition(":") if arg.count(":") == 1 else (arg, "", "")
            return NetworkPrinter(host, int(port) if port else NETWORK_PORT, width=width)
        if kind == "escpos-usb" and arg:
            vendor, _, product = arg.partition(":")
            return UsbPrinter(int(vendor, 16), int(product, 16), width=width)
    except ValueError:
        pass
    raise ValueError(f"receipt_printer setting {setting!r} is not understood: use \"escpos-network:HOST[:PORT]\", "
                     "\"escpos-usb:VID:PID\" (hex, as lsusb shows), \"file:/dev/usb/lp0\", \"dummy\" or \"none\"")
