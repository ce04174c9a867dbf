"""The practice server's sync API (docs/SYNC_API.md) as four methods, over requests.

Every request is signed with sync_protocol.signing.sign_request (fresh nonce and
`created` per attempt), has a timeout, follows no redirects, and over https trusts
only the practice CA file from enrolment. The transport (a requests.Session with its
adapters) comes from outside, so tests mount a fake server and the chaos test puts
a fault-injecting proxy in between without patching anything here.

Failures come out as TransientError or PermanentError (sync_agent.errors) with a
message IT can act on; nothing here retries except the one immediate re-sign after
a 401 "stale" (the reply's Date header has just corrected our clock skew).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.store import OutboxEvent
from sync_protocol.signing import sign_request

from . import replies
from .errors import BadCursorError, PermanentError, TransientError
from .replies import Bundle, EventResult, SchedulePage

log = logging.getLogger(__name__)

API = "/api/v1"
BUNDLE_KINDS = ("config", "forms", "consents", "content")
ENROL_HINT = "python -m provisioning enrol --server <practice URL> --token <token from IT>"
# The Date header has whole seconds and is cut, not rounded: the server's clock was
# on average half a second later than the header says.
_DATE_RESOLUTION = timedelta(seconds=0.5)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _encode(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


class SyncClient:
    def __init__(
        self,
        base_url: str,
        device_id: str,
        private_key: Ed25519PrivateKey,
        *,
        session: requests.Session | None = None,
        ca_file: Path | None = None,
        timeout: float = 10.0,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"server URL must be http(s)://host[:port], got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.device_id = device_id
        self._key = private_key
        self._session = session if session is not None else requests.Session()
        self._timeout = timeout
        self._clock = clock
        if parts.scheme == "https":
            if ca_file is None:
                raise ValueError("an https server needs the practice CA file (server_ca_file)")
            # Only the practice CA from enrolment: not the system's public CAs.
            self._verify: bool | str = str(ca_file)
        else:
            self._verify = True  # plain http (loopback only, see kiosk.config): nothing to verify
        self.skew = timedelta(0)  # server clock minus local clock, from the last Date header

    # -- the API ----------------------------------------------------------------------

    def push_events(self, events: Sequence[OutboxEvent]) -> list[EventResult]:
        """One batch. Results are checked against the batch (same ids, same order):
        a reply that does not answer every event raises TransientError."""
        return self.push_body(self.events_body(events), [e.id for e in events])

    @staticmethod
    def events_body(events: Sequence[OutboxEvent]) -> bytes:
        """The POST /events body for `events` (local work only: the agent prepares the
        next batch while the previous one is in flight)."""
        body = {
            "events": [
                {
                    "id": e.id,
                    "type": e.event_type,
                    "created_at": e.created_at.isoformat(),
                    "session_id": e.session_id,
                    "payload": e.payload,
                }
                for e in events
            ]
        }
        return _encode(body)

    def push_body(self, body: bytes, ids: Sequence[str]) -> list[EventResult]:
        """Send a body made by events_body; `ids` are its events' ids, in order."""
        resp = self._call("POST", "/events", data=body)
        return replies.event_results(self._json(resp), list(ids))

    def pull_schedule(self, cursor: str, limit: int) -> SchedulePage:
        resp = self._call("GET", "/schedule", params={"cursor": cursor, "limit": str(limit)})
        return replies.schedule_page(self._json(resp))

    def get_bundle(self, kind: str, etag: str | None) -> Bundle | None:
        """The bundle, or None when the server says ours (etag) is current (304)."""
        if kind not in BUNDLE_KINDS:
            raise ValueError(f"unknown bundle kind {kind!r}")
        headers = {"If-None-Match": etag} if etag else {}
        resp = self._call("GET", f"/bundles/{kind}", headers=headers, not_modified_ok=True)
        if resp.status_code == 304:
            return None
        return replies.bundle(self._json(resp), kind, resp.headers.get("ETag"))

    def heartbeat(self, info: dict[str, Any]) -> datetime:
        """Tell the fleet view how this kiosk is; returns the server's time."""
        resp = self._call("POST", "/heartbeat", body=info)
        return replies.server_time(self._json(resp))

    def now(self) -> datetime:
        """Our best idea of the server's clock: what requests are signed with."""
        return self._clock() + self.skew

    def close(self) -> None:
        """Close pooled connections (a server shutting down waits for open ones)."""
        self._session.close()

    # -- one request ---------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: Any = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        not_modified_ok: bool = False,
    ) -> requests.Response:
        """`body` is encoded as JSON here; `data` is a body encoded already."""
        url = f"{self.base_url}{API}{path}"
        if params:
            url += "?" + urlencode(params)
        if data is None:
            data = b"" if body is None else _encode(body)
        resp = self._send(method, url, data, headers or {})
        if resp.status_code == 401 and self._error_code(resp) == "stale":
            # The 401 carried the server's Date: the skew is corrected, sign again now.
            log.warning(
                "sync.clock_corrected",
                extra={"fields": {"skew_seconds": round(self.skew.total_seconds(), 1)}},
            )
            resp = self._send(method, url, data, headers or {})
        if 200 <= resp.status_code < 300 or (not_modified_ok and resp.status_code == 304):
            return resp
        raise self._failure(resp, path)

    def _send(self, method: str, url: str, data: bytes, extra: dict[str, str]) -> requests.Response:
        headers = {"Accept": "application/json", **extra}
        if method != "GET":
            headers["Content-Type"] = "application/json"
        prepared = requests.Request(method, url, data=data or None, headers=headers).prepare()
        # Sign what really goes out: the prepared URL (its quoting) and the body bytes.
        sign_request(
            method,
            prepared.url,
            prepared.headers,
            data,
            device_id=self.device_id,
            private_key=self._key,
            now=self.now(),
        )
        settings = self._session.merge_environment_settings(prepared.url, {}, False, self._verify, None)
        settings["verify"] = self._verify  # never a CA bundle from the environment
        try:
            resp = self._session.send(
                prepared, timeout=self._timeout, allow_redirects=False, **settings
            )
        except requests.Timeout:
            raise TransientError(
                "timeout", f"no answer from the practice server within {self._timeout:g} s"
            ) from None
        except requests.exceptions.SSLError as exc:
            text = str(exc)
            if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
                raise PermanentError(
                    "tls_untrusted",
                    f"the server at {self.base_url} does not prove itself with a certificate from "
                    f"the practice CA ({self._verify}). IT: check server_url and the CA file, or "
                    f"re-enrol with {ENROL_HINT}",
                ) from None
            raise TransientError("connection", "the TLS connection to the practice server broke") from None
        except requests.RequestException as exc:
            # Refused, reset, DNS, a body cut short: the network or the server, not us.
            raise TransientError(
                "connection", f"cannot reach the practice server ({type(exc).__name__})"
            ) from None
        self._learn_skew(resp)
        return resp

    def _learn_skew(self, resp: requests.Response) -> None:
        """Every reply (errors too) carries Date: skew = server time - local time."""
        value = resp.headers.get("Date")
        if not value:
            return
        try:
            server = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return
        if server.tzinfo is None:
            return
        self.skew = server + _DATE_RESOLUTION - self._clock()

    @staticmethod
    def _json(resp: requests.Response) -> Any:
        try:
            return resp.json()
        except ValueError:
            raise replies.bad("the body is not JSON (garbled or cut short)") from None

    @staticmethod
    def _error_code(resp: requests.Response) -> str | None:
        try:
            detail = resp.json().get("detail")
        except (ValueError, AttributeError):
            return None
        code = detail.get("code") if isinstance(detail, dict) else None
        return code if isinstance(code, str) else None

    @staticmethod
    def _retry_after(resp: requests.Response) -> float | None:
        try:
            value = float(resp.headers.get("Retry-After", ""))
        except ValueError:
            return None
        return value if 0 <= value <= 3600 else None

    def _failure(self, resp: requests.Response, path: str) -> Exception:
        """What a non-2xx reply means, in words IT can act on. Only the status and the
        server's code are quoted: bodies of refused requests can echo what was sent."""
        status = resp.status_code
        code = self._error_code(resp)
        where = f"{API}{path}"
        said = f"HTTP {status}" + (f" {code}" if code else "")
        if status == 429 or status >= 500:
            return TransientError(
                "server_busy" if status in (429, 503) else "server_error",
                f"the practice server answered {said} on {where}; will retry",
                status=status,
                retry_after=self._retry_after(resp),
            )
        if status == 408:
            return TransientError("timeout", f"the practice server answered {said}", status=status)
        if status == 401 and code == "stale":
            return TransientError(
                "stale",
                "the server still finds our signature time off after correcting the clock skew "
                f"(skew {self.skew.total_seconds():.0f} s); check the kiosk clock (NTP)",
                status=status,
            )
        if status == 401 and code == "replayed":  # a nonce clash is harmless: sign afresh
            return TransientError("replayed", "the server saw this request's nonce before", status=status)
        if status == 401 and code == "unknown_device":
            return PermanentError(
                "unknown_device",
                f"the practice server does not know this kiosk (device id {self.device_id}). "
                f"IT: enrol it again with {ENROL_HINT}",
                status=status,
            )
        if status == 403 and code == "revoked":
            return PermanentError(
                "revoked",
                f"IT revoked this kiosk (device id {self.device_id}) at the practice server. "
                f"IT: if that was a mistake, enrol it again with {ENROL_HINT}",
                status=status,
            )
        if status == 401 and code == "bad_signature":
            return PermanentError(
                "bad_signature",
                "the practice server says this kiosk's signature does not match its enrolled key "
                f"(device key file replaced?). IT: enrol it again with {ENROL_HINT}",
                status=status,
            )
        if status == 401:
            return PermanentError(
                code or "unauthorized",
                f"the practice server refused this kiosk's signature ({said}): the agent and the "
                "server disagree on the signing profile. IT: update the kiosk software",
                status=status,
            )
        if status == 400 and code == "bad_cursor":
            return BadCursorError("bad_cursor", "the server does not know our schedule cursor", status=status)
        if status == 413:
            return PermanentError(
                "too_large", f"the practice server refused a request as too large ({said})", status=status
            )
        if 300 <= status < 400:
            return PermanentError(
                "redirect",
                f"the practice server redirects {where} ({said}); requests are signed for one URL. "
                "IT: set server_url to the final address",
                status=status,
            )
        return PermanentError(
            code or f"http_{status}",
            f"the practice server refused {where} with {said}; the kiosk and server versions may "
            "not match. IT: check both are up to date (see the server's log for the cause)",
            status=status,
        )
