"""The card terminal behind one small interface; the kiosk never sees a card number.

    terminal = make_terminal("lan:https://10.0.0.50:8443", ca_file=..., api_key=...)
    # or "simulator", "simulator:decline", "none"
    result = terminal.collect(2500, idempotency_key=event_id, reference="copay", timeout_s=90)
    result.status            # PaymentStatus.APPROVED / DECLINED / CANCELLED / TIMEOUT / OFFLINE / ERROR
    result.final             # False: the terminal may have charged -> keep the key, reconcile later
    result.message_for_patient_id   # an N_() message id; the screen translates it
    reconcile(terminal, key) # after a restart: what the terminal did with a key the kiosk never recorded
    terminal.cancel(key)     # the patient pressed "pay at the front desk" while the terminal waits
    terminal.status()        # TerminalStatus: online / offline / busy + a reason for IT

Semi-integrated: the terminal on the counter reads the card, talks to the processor and
answers with a token, the brand, the last four digits and an approval code. The kiosk
asks for an amount with an idempotency key and records what comes back. The same key
never charges twice: the terminal answers a repeated key with the first sale's result,
so a kiosk that crashed, or lost an answer, asks again or looks the key up
(`reconcile`) instead of charging again. Use one new key per attempt: "try another
card" is a new key; the same key after a decline returns the same decline.

Each call blocks (run it on a worker thread) and never raises for a device problem:
an unreachable, busy, silent or misbehaving terminal is a PaymentResult with a status,
`final` and a `reason` for IT. Only calls that are wrong in themselves (a bad key, a
non-positive amount) raise ValueError.

The protocol (JSON over HTTPS; what `LanTerminal` speaks and hardware/payment_simulator.py
serves). Shaped like the semi-integrated APIs of the big terminal vendors: a sale request
carrying the POS's transaction reference, a status request by that reference, an abort.

    POST /v1/sales                 {"idempotency_key", "amount_cents", "currency", "reference",
                                    "timeout_s"}   (answered when the sale ends: up to
                                    timeout_s for the card plus the authorisation)
    GET  /v1/sales/{key}           the sale with that key, or 404 not_found
    POST /v1/sales/{key}/cancel    abort while waiting for the card; answers the sale as it
                                   ended (approved if the cancel came too late), 404 if unknown
    GET  /v1/status                {"state": "ready"|"busy", "processor": "online"|"offline",
                                    "stored_offline_pending", "floor_limit_cents", "model", "serial"}
    Authorization: Bearer <api key>   when the terminal is paired with a key (401 otherwise)

    A sale (200): {"transaction": {"idempotency_key", "terminal_transaction_id", "state":
      "in_progress"|"approved"|"declined"|"cancelled"|"timeout", "amount_cents", "currency",
      "reference", "token", "brand", "last4", "approval_code", "decline_reason",
      "cancel_reason", "stored_offline", "at"}}
    An error: {"error": {"code", "message"}} with 400 bad_request, 401 unauthorized,
      404 not_found, 409 busy | key_conflict (same key, other amount), 503 terminal_offline.

Every reply is checked before it is believed: a field that looks like a card number
(13-19 digits passing the Luhn check) makes the whole reply refused, so card data cannot
reach the kiosk's logs or database even from a misconfigured terminal.
"""
from __future__ import annotations

import ipaddress
import logging
import re
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from requests.adapters import HTTPAdapter

from kiosk.i18n_markers import N_

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 3.0  # a terminal on the clinic LAN answers a connect in milliseconds
REQUEST_TIMEOUT_S = 5.0  # lookup, cancel, status: answered by the terminal alone
# A sale's answer may come this long after the card wait (timeout_s): the processor's own
# time-out is typically 30 s, then the terminal needs a moment to answer.
ANSWER_MARGIN_S = 45.0
MAX_AMOUNT_CENTS = 9_999_999
KEY_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
REFERENCE_PATTERN = re.compile(r"^[\x20-\x7e]{0,64}$")  # printable ASCII: an id, never PHI
# A run of 13-19 digits, maybe grouped by spaces or dashes, not inside a longer token.
_CARD_LIKE = re.compile(r"(?<![A-Za-z0-9])\d(?:[ -]?\d){12,18}(?![A-Za-z0-9])")
_BRAND = re.compile(r"^[a-z_]{2,20}$")
_LAST4 = re.compile(r"^\d{4}$")
_CODE = re.compile(r"^[A-Za-z0-9_ -]{1,40}$")


class PaymentStatus(str, Enum):
    APPROVED = "approved"
    DECLINED = "declined"
    CANCELLED = "cancelled"  # by the patient on the terminal, or by the kiosk (cancel)
    TIMEOUT = "timeout"  # final: no card within timeout_s; not final: no answer from the terminal
    OFFLINE = "offline"  # the terminal cannot be reached or says it is offline
    ERROR = "error"  # busy, refused the kiosk's key, answered nonsense...: see `reason`
    IN_PROGRESS = "in_progress"  # only from lookup/cancel: the terminal is still at it


# What the patient reads (translated by the screen). A decline never says why on screen:
# "insufficient funds" is nobody else's business in a waiting room.
MSG_APPROVED = N_("Payment approved. Thank you.")
MSG_DECLINED = N_("The card was declined. You can try another card or pay at the front desk.")
MSG_CANCELLED = N_("The payment was cancelled. You have not been charged.")
MSG_NO_CARD = N_("No card was read. You can try again or pay at the front desk.")
MSG_UNCONFIRMED = N_("We could not confirm your payment. Please see the front desk. You will not be charged twice.")
MSG_OFFLINE = N_("The card reader is not available right now. Please pay at the front desk.")
MSG_ERROR = N_("The card reader had a problem. Please pay at the front desk.")
MSG_IN_PROGRESS = N_("Please follow the instructions on the card reader.")


def _patient_message(status: PaymentStatus, final: bool) -> str:
    if status is PaymentStatus.APPROVED:
        return MSG_APPROVED
    if status is PaymentStatus.DECLINED:
        return MSG_DECLINED
    if status is PaymentStatus.CANCELLED:
        return MSG_CANCELLED
    if status is PaymentStatus.IN_PROGRESS:
        return MSG_IN_PROGRESS
    if not final:
        return MSG_UNCONFIRMED  # the terminal may have charged: send the patient to a person
    if status is PaymentStatus.TIMEOUT:
        return MSG_NO_CARD
    if status is PaymentStatus.OFFLINE:
        return MSG_OFFLINE
    return MSG_ERROR


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, repr=False)
class PaymentResult:
    """What the terminal did with one idempotency key. Holds no card number, ever.

    `final`: True when this is the terminal's own last word on the key (approved, declined,
    cancelled, or timed out waiting for a card), or when nothing can have been charged (no
    terminal configured, the terminal turned the request down). False when the terminal may
    have charged or may still charge (no answer, unreachable after sending, in progress):
    record the key as pending and `reconcile` it later; never retry with a new key before.
    """

    status: PaymentStatus
    idempotency_key: str
    amount_cents: int
    token: str | None = None  # the terminal's card token (stable per card on that terminal)
    brand: str | None = None  # "visa", "mastercard", "amex", "discover"...
    last4: str | None = None
    approval_code: str | None = None
    decline_reason: str | None = None  # the processor's code, e.g. "insufficient_funds"
    stored_offline: bool = False  # approved by the terminal alone, forwarded to the processor later
    message_for_patient_id: str = ""  # defaults from status and final
    at: datetime = field(default_factory=_utc_now)  # when the terminal finished (or the kiosk gave up), UTC
    final: bool = True
    reason: str = ""  # for IT and the log: why it is not approved, in plain words, no card data
    terminal_transaction_id: str | None = None

    def __post_init__(self) -> None:
        if not self.message_for_patient_id:
            object.__setattr__(self, "message_for_patient_id", _patient_message(self.status, self.final))

    @property
    def approved(self) -> bool:
        return self.status is PaymentStatus.APPROVED

    def __repr__(self) -> str:
        card = f" {self.brand} ****{self.last4}" if self.last4 else ""
        return (f"<PaymentResult {self.status.value}{'' if self.final else ' (not final)'} "
                f"{self.amount_cents}c{card} key={self.idempotency_key}>")

    __str__ = __repr__

    def to_record(self) -> dict[str, Any]:
        """A JSON-ready dict for the kiosk's store and outbox (no card number to leave out)."""
        return {"status": self.status.value, "idempotency_key": self.idempotency_key,
                "amount_cents": self.amount_cents, "token": self.token, "brand": self.brand,
                "last4": self.last4, "approval_code": self.approval_code,
                "decline_reason": self.decline_reason, "stored_offline": self.stored_offline,
                "message_for_patient_id": self.message_for_patient_id, "at": self.at.isoformat(),
                "final": self.final, "reason": self.reason,
                "terminal_transaction_id": self.terminal_transaction_id}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> PaymentResult:
        return cls(PaymentStatus(record["status"]), record["idempotency_key"], record["amount_cents"],
                   record.get("token"), record.get("brand"), record.get("last4"), record.get("approval_code"),
                   record.get("decline_reason"), bool(record.get("stored_offline")),
                   record.get("message_for_patient_id", ""), datetime.fromisoformat(record["at"]),
                   bool(record.get("final", True)), record.get("reason", ""),
                   record.get("terminal_transaction_id"))


class TerminalState(str, Enum):
    ONLINE = "online"  # ready for a sale
    OFFLINE = "offline"  # cannot be reached, or says it is offline
    BUSY = "busy"  # in the middle of a sale


@dataclass(frozen=True, slots=True)
class TerminalStatus:
    state: TerminalState
    reason: str = ""  # for IT: what is wrong and what to do ("" when all is well)
    processor_online: bool | None = None  # False: approving offline (store-and-forward)
    stored_offline_pending: int = 0  # offline approvals not yet forwarded to the processor
    description: str = ""  # "lan:https://10.0.0.50:8443", "none"...


def check_request(amount_cents: int, idempotency_key: str, reference: str = "") -> None:
    """ValueError for a call that can never be right (a bug in the caller, not a device fault)."""
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) \
            or not 0 < amount_cents <= MAX_AMOUNT_CENTS:
        raise ValueError(f"amount_cents must be an integer from 1 to {MAX_AMOUNT_CENTS}, not {amount_cents!r}")
    check_key(idempotency_key)
    if not isinstance(reference, str) or not REFERENCE_PATTERN.match(reference):
        raise ValueError("reference must be at most 64 printable ASCII characters (an id, never patient data)")


def check_key(idempotency_key: str) -> None:
    if not isinstance(idempotency_key, str) or not KEY_PATTERN.match(idempotency_key):
        raise ValueError("idempotency_key must be 8-64 characters of A-Z a-z 0-9 . _ : - (a UUID fits)")


class PaymentTerminal(ABC):
    """A card terminal. Every method blocks; none raises for a device problem."""

    description: str = ""

    @abstractmethod
    def collect(self, amount_cents: int, idempotency_key: str, reference: str = "",
                timeout_s: float = 90.0) -> PaymentResult:
        """Ask the terminal to take `amount_cents` and wait for the outcome.

        `timeout_s`: how long the terminal waits for the patient's card. The call returns
        at most about `timeout_s` + the answer margin later.
        """

    @abstractmethod
    def lookup(self, idempotency_key: str) -> PaymentResult | None:
        """What the terminal did with this key, even if the kiosk never heard the answer.

        None: the terminal has no sale with this key (nothing was charged). A result that
        is not final with status OFFLINE/ERROR/TIMEOUT means the terminal could not be asked.
        """

    @abstractmethod
    def cancel(self, idempotency_key: str) -> PaymentResult | None:
        """Abort a sale still waiting for the card. Answers the sale as it now stands
        (approved when the card was already read), None when the terminal has no such key."""

    @abstractmethod
    def status(self) -> TerminalStatus:
        """Reachability and state for the staff screen and IT."""

    def close(self) -> None:
        """Release connections (and stop a simulator). The terminal itself keeps its sales."""

    def __enter__(self) -> PaymentTerminal:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.description}>"


def reconcile(terminal: PaymentTerminal, idempotency_key: str) -> PaymentResult | None:
    """Settle a key the kiosk sent but never recorded an outcome for (crash, lost answer).

    Looks the key up; a sale still waiting for a card nobody will tap (the kiosk restarted)
    is cancelled first. Returns the terminal's final word, None when it never had the key
    (nothing charged), or a not-final result when the terminal cannot be asked yet: keep
    the key pending and try again later.
    """
    result = terminal.lookup(idempotency_key)
    if result is not None and result.status is PaymentStatus.IN_PROGRESS:
        cancelled = terminal.cancel(idempotency_key)
        result = cancelled if cancelled is not None else terminal.lookup(idempotency_key)
    return result


# ---------------------------------------------------------------------- no terminal
class NoTerminal(PaymentTerminal):
    """payment_terminal = "none": every copay goes to the front desk; nothing is ever charged."""

    description = "none"
    REASON = 'no payment terminal configured (payment_terminal = "none" in the kiosk configuration)'

    def collect(self, amount_cents: int, idempotency_key: str, reference: str = "",
                timeout_s: float = 90.0) -> PaymentResult:
        check_request(amount_cents, idempotency_key, reference)
        return PaymentResult(PaymentStatus.OFFLINE, idempotency_key, amount_cents, final=True, reason=self.REASON)

    def lookup(self, idempotency_key: str) -> PaymentResult | None:
        check_key(idempotency_key)
        return None

    def cancel(self, idempotency_key: str) -> PaymentResult | None:
        check_key(idempotency_key)
        return None

    def status(self) -> TerminalStatus:
        return TerminalStatus(TerminalState.OFFLINE, self.REASON, description=self.description)


# ---------------------------------------------------------------------- the real driver
class _Unreadable(Exception):
    """A reply that cannot be believed (not JSON, wrong shape, card data in it)."""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def contains_card_number(value: Any) -> bool:
    """True if any string or number inside `value` looks like a card number (Luhn-valid)."""
    if isinstance(value, dict):
        return any(contains_card_number(k) or contains_card_number(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(contains_card_number(v) for v in value)
    if isinstance(value, bool) or value is None:
        return False
    for match in _CARD_LIKE.finditer(str(value)):
        if _luhn_ok(re.sub(r"[ -]", "", match.group())):
            return True
    return False


class LanTerminal(PaymentTerminal):
    """A terminal on the clinic network speaking the protocol above over HTTPS.

    `url`: "https://10.0.0.50:8443" (plain http only to a loopback address: the simulator).
    `ca_file`: the terminal's certificate or its vendor CA, when the system's CAs do not
    vouch for it (most LAN terminals use a self-signed or vendor-signed certificate).
    `api_key`: the pairing key set on the terminal. `session`: a requests.Session to use
    (tests pass one with a fault-injecting adapter).
    """

    def __init__(self, url: str, *, ca_file: str | Path | None = None, api_key: str | None = None,
                 session: requests.Session | None = None, connect_timeout_s: float = CONNECT_TIMEOUT_S,
                 request_timeout_s: float = REQUEST_TIMEOUT_S, answer_margin_s: float = ANSWER_MARGIN_S,
                 currency: str = "USD"):
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"payment terminal URL {url!r} is not understood: use https://HOST:PORT")
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            raise ValueError(f"payment terminal URL {url!r} is plain http on the network: card results must "
                             "travel over TLS; use https:// (and ca_file for the terminal's certificate)")
        if ca_file is not None and not Path(ca_file).is_file():
            raise ValueError(f"payment terminal CA file {ca_file} does not exist: copy the terminal's "
                             "certificate (or its vendor CA) there, or leave ca_file unset to use the system CAs")
        self.url = url.strip().rstrip("/")
        self.description = f"lan:{self.url}"
        self.currency = currency
        self.connect_timeout_s = connect_timeout_s
        self.request_timeout_s = request_timeout_s
        self.answer_margin_s = answer_margin_s
        self._owns_session = session is None
        if session is None:
            session = requests.Session()
            # No automatic retries: a retried sale must be a decision (same key), not a reflex.
            adapter = HTTPAdapter(max_retries=0, pool_connections=1, pool_maxsize=4)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        self._session = session
        self._verify: bool | str = str(ca_file) if ca_file is not None else True
        self._headers = {"Accept": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"

    # ------------------------------------------------------------------ the interface
    def collect(self, amount_cents: int, idempotency_key: str, reference: str = "",
                timeout_s: float = 90.0) -> PaymentResult:
        check_request(amount_cents, idempotency_key, reference)
        started = time.monotonic()
        body = {"idempotency_key": idempotency_key, "amount_cents": amount_cents, "currency": self.currency,
                "reference": reference, "timeout_s": timeout_s}
        outcome = self._call("POST", "/v1/sales", body, read_timeout=timeout_s + self.answer_margin_s)
        result = self._sale_result(outcome, idempotency_key, amount_cents)
        if isinstance(outcome, _LostAnswer) and outcome.sent:
            # The request may have reached the terminal: ask it what it did before giving up.
            # cancel also stops a sale still waiting for a card (the kiosk is about to move on).
            resolved = self.cancel(idempotency_key)
            if resolved is None:
                result = self._failure(PaymentStatus.ERROR, idempotency_key, amount_cents,
                                       outcome.reason + "; the terminal has no sale with this key, so nothing "
                                       "was charged", final=True)
            elif resolved.final:
                result = resolved
        if result.final and result.amount_cents != amount_cents and result.status is not PaymentStatus.OFFLINE \
                and result.status is not PaymentStatus.ERROR:
            result = self._failure(PaymentStatus.ERROR, idempotency_key, amount_cents,
                                   f"the payment terminal at {self.url} answered this sale with another amount "
                                   f"({result.status.value}, {result.amount_cents} cents): check it on the terminal")
        self._log("payment.collect", result, time.monotonic() - started)
        return result

    def lookup(self, idempotency_key: str) -> PaymentResult | None:
        check_key(idempotency_key)
        outcome = self._call("GET", f"/v1/sales/{quote(idempotency_key, safe='')}")
        result = self._sale_result(outcome, idempotency_key, None)
        if result is not None:
            self._log("payment.lookup", result)
        return result

    def cancel(self, idempotency_key: str) -> PaymentResult | None:
        check_key(idempotency_key)
        outcome = self._call("POST", f"/v1/sales/{quote(idempotency_key, safe='')}/cancel", {})
        result = self._sale_result(outcome, idempotency_key, None)
        if result is not None:
            self._log("payment.cancel", result)
        return result

    def status(self) -> TerminalStatus:
        outcome = self._call("GET", "/v1/status")
        if isinstance(outcome, _LostAnswer):
            return TerminalStatus(TerminalState.OFFLINE, outcome.reason, description=self.description)
        code, payload = outcome
        if code != 200:
            return TerminalStatus(TerminalState.OFFLINE, self._error_reason(code, payload),
                                  description=self.description)
        try:
            state = {"ready": TerminalState.ONLINE, "busy": TerminalState.BUSY}[payload["state"]]
            processor_online = {"online": True, "offline": False}[payload.get("processor", "online")]
            pending = int(payload.get("stored_offline_pending", 0))
        except (KeyError, TypeError, ValueError):
            return TerminalStatus(TerminalState.OFFLINE, f"the payment terminal at {self.url} answered its status "
                                  "in a form this kiosk does not understand: check the terminal's firmware/protocol",
                                  description=self.description)
        reason = "" if state is TerminalState.ONLINE else "the terminal is in the middle of a sale"
        if not processor_online:
            reason = ("the terminal cannot reach its card processor: it approves small amounts offline "
                      f"({pending} waiting to be forwarded); check the clinic's internet connection")
        return TerminalStatus(state, reason, processor_online, pending, self.description)

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    # ------------------------------------------------------------------ transport
    def _call(self, method: str, path: str, body: dict | None = None,
              read_timeout: float | None = None) -> tuple[int, dict] | _LostAnswer:
        """(status code, JSON object) or a _LostAnswer saying what went wrong, in words for IT."""
        timeout = (self.connect_timeout_s, read_timeout if read_timeout is not None else self.request_timeout_s)
        try:
            response = self._session.request(method, self.url + path, json=body, headers=self._headers,
                                             timeout=timeout, verify=self._verify)
        except requests.exceptions.SSLError:
            return _LostAnswer(False, f"the payment terminal at {self.url} has a TLS certificate this kiosk does "
                               "not trust: set payment_terminal_ca_file to the terminal's certificate or CA")
        except requests.exceptions.ConnectTimeout:
            return _LostAnswer(False, f"the payment terminal at {self.url} does not answer connections: check "
                               "that it is powered on and on the clinic network")
        except requests.exceptions.ReadTimeout:
            return _LostAnswer(True, f"the payment terminal at {self.url} did not answer within "
                               f"{timeout[1]:g} s", timed_out=True)
        except requests.exceptions.ConnectionError as error:
            if _never_connected(error):
                return _LostAnswer(False, f"cannot reach the payment terminal at {self.url} (connection refused "
                                   "or no route): check its power, network cable and IP address")
            return _LostAnswer(True, f"the payment terminal at {self.url} dropped the connection before answering")
        except requests.exceptions.RequestException as error:
            return _LostAnswer(True, f"talking to the payment terminal at {self.url} failed ({type(error).__name__})")
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            return _LostAnswer(True, f"the payment terminal at {self.url} answered HTTP {response.status_code} "
                               "without a JSON object: is that URL the terminal's semi-integrated API?")
        if contains_card_number(payload):
            # Dropped unread: nothing of it is logged or kept.
            log.error("payment.card_data_refused", extra={"fields": {"terminal": self.description,
                                                                      "http_status": response.status_code}})
            return _LostAnswer(True, f"the payment terminal at {self.url} sent card data in its answer; the kiosk "
                               "refused it. Set the terminal to semi-integrated (tokenised) mode")
        return response.status_code, payload

    def _sale_result(self, outcome: tuple[int, dict] | _LostAnswer, key: str,
                     amount_cents: int | None) -> PaymentResult | None:
        amount = amount_cents or 0
        if isinstance(outcome, _LostAnswer):
            status = PaymentStatus.TIMEOUT if outcome.timed_out else (
                PaymentStatus.OFFLINE if not outcome.sent else PaymentStatus.ERROR)
            # A sale request that never left the kiosk charged nothing; a lookup or cancel
            # that failed tells nothing about the key.
            return self._failure(status, key, amount, outcome.reason,
                                 final=not outcome.sent and amount_cents is not None)
        code, payload = outcome
        if code == 200:
            try:
                return self._parse_transaction(payload.get("transaction"), key)
            except _Unreadable as error:
                return self._failure(PaymentStatus.ERROR, key, amount,
                                     f"the payment terminal at {self.url} answered a sale this kiosk cannot read "
                                     f"({error}): check the terminal's protocol version")
        error_code = (payload.get("error") or {}).get("code") if isinstance(payload.get("error"), dict) else None
        reason = self._error_reason(code, payload)
        if code == 404 and error_code == "not_found" and amount_cents is None:
            return None  # lookup/cancel: the terminal never had this key
        if code == 503 or error_code == "terminal_offline":
            return self._failure(PaymentStatus.OFFLINE, key, amount, reason, final=amount_cents is not None)
        if code in (400, 401, 409) and amount_cents is not None:
            return self._failure(PaymentStatus.ERROR, key, amount, reason, final=True)  # turned down: no sale started
        return self._failure(PaymentStatus.ERROR, key, amount, reason)

    def _parse_transaction(self, tx: Any, key: str) -> PaymentResult:
        if not isinstance(tx, dict):
            raise _Unreadable("no transaction object")
        try:
            status = PaymentStatus(tx["state"])
            amount = tx["amount_cents"]
        except (KeyError, ValueError):
            raise _Unreadable("unknown state") from None
        if tx.get("idempotency_key") != key:
            raise _Unreadable("the answer is for another sale")
        if status in (PaymentStatus.OFFLINE, PaymentStatus.ERROR) or isinstance(amount, bool) \
                or not isinstance(amount, int):
            raise _Unreadable("bad state or amount")
        brand, last4 = _optional(tx, "brand", _BRAND), _optional(tx, "last4", _LAST4)
        approval, decline = _optional(tx, "approval_code", _CODE), _optional(tx, "decline_reason", _CODE)
        cancel_reason = _optional(tx, "cancel_reason", _CODE)
        token = tx.get("token")
        if token is not None and (not isinstance(token, str) or not 1 <= len(token) <= 128):
            raise _Unreadable("bad token")
        if status is PaymentStatus.APPROVED and not (approval and last4):
            raise _Unreadable("an approval without approval code or last four digits")
        try:
            at = datetime.fromisoformat(str(tx.get("at")).replace("Z", "+00:00"))
        except ValueError:
            at = _utc_now()
        reason = ""
        if status is PaymentStatus.DECLINED:
            reason = f"declined by the card issuer or terminal ({decline or 'no reason given'})"
        elif status is PaymentStatus.CANCELLED:
            reason = f"cancelled ({cancel_reason or 'no reason given'})"
        elif status is PaymentStatus.TIMEOUT:
            reason = "no card was presented before the terminal's time-out"
        elif status is PaymentStatus.IN_PROGRESS:
            reason = "the terminal is still waiting for the card or the processor"
        transaction_id = tx.get("terminal_transaction_id")
        return PaymentResult(status, key, amount, token, brand, last4, approval, decline,
                             bool(tx.get("stored_offline")), at=at.astimezone(UTC),
                             final=status is not PaymentStatus.IN_PROGRESS, reason=reason,
                             terminal_transaction_id=str(transaction_id) if transaction_id is not None else None)

    def _failure(self, status: PaymentStatus, key: str, amount: int, reason: str, *,
                 final: bool = False) -> PaymentResult:
        return PaymentResult(status, key, amount, final=final, reason=reason)

    def _error_reason(self, code: int, payload: dict) -> str:
        error = payload.get("error") if isinstance(payload.get("error"), dict) else {}
        kind = str(error.get("code", ""))
        if code == 401:
            return (f"the payment terminal at {self.url} refused this kiosk's API key: pair the kiosk again and "
                    "set payment_terminal_api_key")
        if kind == "busy":
            return "the payment terminal is busy with another sale: wait for it to finish or cancel it on the terminal"
        if kind == "key_conflict":
            return "the kiosk reused an idempotency key for a different amount (a kiosk bug): report it"
        if code == 503 or kind == "terminal_offline":
            return (f"the payment terminal at {self.url} says it is offline: check its network and its "
                    "connection to the payment gateway")
        message = str(error.get("message", ""))[:200]
        return f"the payment terminal at {self.url} answered HTTP {code} {kind}: {message}".rstrip(": ")

    def _log(self, event: str, result: PaymentResult, elapsed_s: float | None = None) -> None:
        # Only what identifies the sale for IT: never the token or anything from the card but
        # brand and last four.
        fields = {"terminal": self.description, "key": result.idempotency_key, "status": result.status.value,
                  "final": result.final, "amount_cents": result.amount_cents, "brand": result.brand,
                  "last4": result.last4, "stored_offline": result.stored_offline,
                  "decline_reason": result.decline_reason}
        if elapsed_s is not None:
            fields["elapsed_ms"] = round(elapsed_s * 1000)
        if result.reason and result.status not in (PaymentStatus.APPROVED, PaymentStatus.DECLINED):
            fields["reason"] = result.reason
        level = logging.WARNING if result.status in (PaymentStatus.OFFLINE, PaymentStatus.ERROR) \
            or not result.final else logging.INFO
        log.log(level, event, extra={"fields": fields})


@dataclass(frozen=True)
class _LostAnswer:
    sent: bool  # the request may have reached the terminal
    reason: str
    timed_out: bool = False


def _never_connected(error: requests.exceptions.ConnectionError) -> bool:
    text = repr(error.args[0]) if error.args else ""
    return any(s in text for s in ("NewConnectionError", "ConnectionRefused", "Connection refused",
                                   "No route to host", "Name or service not known", "nodename nor servname"))


def _optional(tx: dict, name: str, pattern: re.Pattern) -> str | None:
    value = tx.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not pattern.match(value):
        raise _Unreadable(f"bad {name}")
    return value


# ---------------------------------------------------------------------- the simulator
class SimulatedTerminal(LanTerminal):
    """The LAN driver against hardware/payment_simulator.py, started in this process.

    `state_dir`: the simulated terminal's memory (its journal); a temporary folder when
    None, so sales survive a kiosk restart only when a folder is given. `speed` divides
    the simulated delays. Further keywords go to PaymentSimulator (floor_limit_cents,
    processor_online, seed, api_key, tls_cert/tls_key). `self.simulator` is the terminal,
    for tests and demos.
    """

    def __init__(self, scenario: str = "approve", *, state_dir: str | Path | None = None, speed: float = 1.0,
                 answer_margin_s: float | None = None, ca_file: str | Path | None = None, **simulator_options):
        from hardware.payment_simulator import PaymentSimulator  # the kiosk needs it only in this mode

        self._tmp = None
        if state_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="payment-sim-")
            state_dir = self._tmp.name
        self.simulator = PaymentSimulator(state_dir, scenario=scenario, speed=speed, **simulator_options).start()
        margin = answer_margin_s if answer_margin_s is not None else max(ANSWER_MARGIN_S / speed, 1.0)
        super().__init__(self.simulator.url, api_key=simulator_options.get("api_key"), ca_file=ca_file,
                         answer_margin_s=margin)
        self.description = f"simulator:{scenario}"
        self._closed = threading.Event()

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        super().close()
        self.simulator.stop()
        if self._tmp is not None:
            self._tmp.cleanup()


# ---------------------------------------------------------------------- configuration
def make_terminal(setting: str, *, state_dir: str | Path | None = None, ca_file: str | Path | None = None,
                  api_key: str | None = None, speed: float = 1.0) -> PaymentTerminal:
    """The terminal a configuration value names.

    "lan:https://10.0.0.50:8443"  a real terminal (ca_file: its certificate/CA; api_key: pairing)
    "simulator"                   the simulated terminal, in this process (state_dir keeps its journal)
    "simulator:<scenario>"        the same, every sale in that scenario (decline, timeout, offline...)
    "none" or ""                  no terminal: every copay goes to the front desk
    """
    value = (setting or "").strip()
    kind, _, arg = value.partition(":")
    kind = kind.lower()
    if kind in ("", "none"):
        return NoTerminal()
    if kind == "lan":
        return LanTerminal(arg.strip(), ca_file=ca_file, api_key=api_key)
    if kind == "simulator":
        return SimulatedTerminal(arg.strip() or "approve", state_dir=state_dir, speed=speed)
    raise ValueError(f"payment_terminal setting {setting!r} is not understood: use \"lan:https://HOST:PORT\", "
                     "\"simulator\", \"simulator:<scenario>\" or \"none\"")
