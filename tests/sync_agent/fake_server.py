"""An in-memory practice server that keeps docs/SYNC_API.md, for the agent's tests.

`FakePracticeServer.handle()` is the server; `FakeAdapter` mounts it in a
requests.Session (no sockets), `serve_http()` puts it on 127.0.0.1 for the
subprocess tests. It verifies every signature with sync_protocol.signing.verify_request,
keeps nonces, stores each event id once forever and answers accepted / duplicate /
rejected, pages the schedule by cursor, serves bundles with ETags, and always sends
a Date header. `fail(...)` queues faults for the next matching requests.
"""

from __future__ import annotations

import json
import threading
import time as _time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from sync_protocol.signing import SignatureRejected, verify_request

API = "/api/v1"
ANALYTICS = {"identify.failed", "identify.cooldown", "visit.ended", "visit.step_timing"}
CONTACT = {"phone", "email", "street", "city", "state", "postal_code", "first_name", "last_name"}

# Faults: raised before the server does anything, or after it has committed.
NETWORK_BEFORE = ("timeout", "connection")
NETWORK_AFTER = ("timeout_after", "reset_after")
FAULTS = (
    *NETWORK_BEFORE, *NETWORK_AFTER, "500", "502", "503", "429", "garbage", "truncated",
    "missing_event", "wrong_order", "orphan", "stale", "revoked", "unknown_device", "bad_cursor", "413",
)


class Clock:
    """A settable clock: call it for now (aware UTC)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class StoredEvent:
    type: str
    payload: Any
    status: str  # accepted | rejected
    reason: str | None
    times_received: int = 1


class FakePracticeServer:
    def __init__(self, device_id: str, public_key: Ed25519PublicKey, *, clock: Callable[[], datetime]) -> None:
        self.device_id = device_id
        self.public_key = public_key
        self.clock = clock
        self.revoked = False
        self.nonces: set[str] = set()
        self.events: dict[str, StoredEvent] = {}
        self.batches: list[list[str]] = []  # ids of every events request that was answered
        self.heartbeats: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request that got in
        self.signed_at: list[datetime] = []  # `created` of every verified request
        self._faults: list[tuple[str, str | None]] = []
        self._lock = threading.Lock()
        # schedule: change log of (seq, appointment id); rows by id
        self.clinicians: dict[str, dict[str, Any]] = {}
        self.patients: dict[str, dict[str, Any]] = {}
        self.appointments: dict[str, dict[str, Any]] = {}
        self._changes: list[tuple[int, str]] = []
        self._seq = 0
        self.bundles: dict[str, dict[str, Any]] = {
            "config": {"kind": "config", "version": "1", "items": {
                "site_name": "Northside Clinic", "languages": ["en", "es"], "default_language": "en",
                "minutes_per_visit": 20, "retention_days": 7, "days_ahead": 3,
                "sync_interval_seconds": 30, "heartbeat_interval_seconds": 60}},
            "forms": {"kind": "forms", "version": "1", "items": []},
            "consents": {"kind": "consents", "version": "1", "items": []},
            "content": {"kind": "content", "version": "1", "items": []},
        }

    # -- test controls ----------------------------------------------------------------

    def fail(self, fault: str, times: int = 1, path: str | None = None) -> None:
        """The next `times` requests (to paths starting with API + `path`) fail so."""
        assert fault in FAULTS, fault
        self._faults.extend([(fault, path)] * times)

    def add_appointment(self, *, day: date, hour: int = 9, minute: int = 0, status: str = "booked",
                        patient: dict[str, Any] | None = None, clinician_id: str | None = None) -> str:
        import uuid

        cid = clinician_id or next(iter(self.clinicians), None) or str(uuid.uuid4())
        self.clinicians.setdefault(cid, {"id": cid, "display_name": "Dr. Ana Ruiz"})
        p = patient or {"id": str(uuid.uuid4()), "first_name": "Pat", "last_name": f"Doe{len(self.patients)}",
                        "birth_date": "1950-02-03"}
        p = {"phone": "", "email": "", "street": "", "city": "", "state": "", "postal_code": "", **p}
        self.patients[p["id"]] = p
        aid = str(uuid.uuid4())
        self.appointments[aid] = {"id": aid, "patient_id": p["id"], "clinician_id": cid,
                                  "start": f"{day.isoformat()}T{hour:02d}:{minute:02d}:00",
                                  "visit_type": "follow_up", "status": status}
        self._changed(aid)
        return aid

    def set_status(self, appointment_id: str, status: str) -> None:
        self.appointments[appointment_id]["status"] = status
        self._changed(appointment_id)

    def _changed(self, appointment_id: str) -> None:
        self._seq += 1
        self._changes.append((self._seq, appointment_id))

    def received(self, status: str | None = None) -> set[str]:
        return {i for i, e in self.events.items() if status in (None, e.status)}

    # -- the server ---------------------------------------------------------------------

    def handle(self, method: str, url: str, headers: list[tuple[str, str]], body: bytes) -> Reply:
        with self._lock:  # one request at a time, like one database transaction
            path = urlsplit(url).path
            fault = self._take_fault(path)
            if fault == "timeout":
                raise requests.ConnectTimeout("simulated: connect timed out")
            if fault == "connection":
                raise requests.ConnectionError("simulated: connection refused")
            reply = self._dispatch(method, url, headers, body, fault)
            if fault == "timeout_after":  # the server did the work; the answer is lost
                raise requests.ReadTimeout("simulated: read timed out")
            if fault == "reset_after":
                raise requests.ConnectionError("simulated: connection reset by peer")
            reply.headers["Date"] = format_datetime(self.clock().astimezone(UTC), usegmt=True)
            return reply

    def _take_fault(self, path: str) -> str | None:
        for i, (fault, where) in enumerate(self._faults):
            if where is None or path.startswith(API + where):
                del self._faults[i]
                return fault
        return None

    def _dispatch(self, method: str, url: str, headers, body: bytes, fault: str | None) -> Reply:
        if fault in ("500", "502", "503", "429"):
            extra = {"Retry-After": "7"} if fault in ("503", "429") else {}
            return _error(int(fault), "server_error", "simulated", extra)
        if fault == "garbage":
            return Reply(200, b"<html><body>Bad gateway, have a nice day</body></html>",
                         {"Content-Type": "text/html"})
        if fault == "stale":
            return _error(401, "stale", "signature created too far from the server clock")
        if fault == "revoked":
            return _error(403, "revoked", "this device was revoked")
        if fault == "unknown_device":
            return _error(401, "unknown_device", "no enrolled kiosk has this key id")
        if fault == "bad_cursor":
            return _error(400, "bad_cursor", "unknown cursor")
        if fault == "413":
            return _error(413, "too_large", "request body too large")
        try:
            verified = verify_request(
                method, url, headers, body,
                public_key_for=lambda kid: self.public_key if kid == self.device_id else None,
                now=self.clock(),
            )
        except SignatureRejected as e:
            return _error(401, e.code, str(e))
        if verified.nonce in self.nonces:
            return _error(401, "replayed", "nonce used before")
        self.nonces.add(verified.nonce)
        if self.revoked:
            return _error(403, "revoked", "this device was revoked")
        self.signed_at.append(verified.created)
        parts = urlsplit(url)
        path = parts.path
        self.requests.append((method, path))
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        hdrs = CaseInsensitiveDict(dict(headers))
        if method == "POST" and path == API + "/events":
            reply = self._events(body, fault)
        elif method == "GET" and path == API + "/schedule":
            reply = self._schedule(query)
        elif method == "GET" and path.startswith(API + "/bundles/"):
            reply = self._bundle(path.rsplit("/", 1)[1], hdrs.get("If-None-Match"))
        elif method == "POST" and path == API + "/heartbeat":
            self.heartbeats.append(json.loads(body))
            reply = _json(200, {"server_time": self.clock().isoformat()})
        else:
            reply = _error(404, "not_found", "no such endpoint")
        if fault == "orphan" and reply.status == 200:
            data = json.loads(reply.body)
            data["patients"] = []
            reply.body = json.dumps(data).encode()
        if fault == "truncated" and reply.status == 200:
            reply.body = reply.body[: len(reply.body) // 2]
        return reply

    def _events(self, body: bytes, fault: str | None) -> Reply:
        try:
            data = json.loads(body)
        except ValueError:
            return _error(422, "not_json", "body is not JSON")
        events = data.get("events") if isinstance(data, dict) else None
        if not isinstance(events, list) or len(events) > 500:
            return _error(422, "bad_batch", "events must be a list of at most 500")
        ids = [e.get("id") for e in events if isinstance(e, dict)]
        if len(ids) != len(events) or len(set(ids)) != len(ids):
            return _error(422, "bad_batch", "event ids must be unique in a batch")
        results = []
        for e in events:
            stored = self.events.get(e["id"])
            if stored is not None:
                stored.times_received += 1
                status = "duplicate" if stored.status == "accepted" else "rejected"
                results.append({"id": e["id"], "status": status, "reason": stored.reason})
                continue
            reason = self._apply(e)
            status = "rejected" if reason else "accepted"
            self.events[e["id"]] = StoredEvent(e.get("type"), e.get("payload"), status, reason)
            results.append({"id": e["id"], "status": status, "reason": reason})
        self.batches.append(ids)
        if fault == "missing_event":
            results = results[:-1]
        if fault == "wrong_order":
            results = results[::-1]
        return _json(200, {"results": results})

    def _apply(self, e: dict[str, Any]) -> str | None:
        kind, payload = e.get("type"), e.get("payload")
        if not isinstance(payload, dict):
            return "payload must be an object"
        if kind == "appointment.arrived":
            appt = self.appointments.get(payload.get("appointment_id"))
            if appt is None:
                return "unknown appointment"
            if appt["status"] == "booked":
                appt["status"] = "arrived"
                self._changed(appt["id"])
            return None
        if kind == "patient.contact_changed":
            patient = self.patients.get(payload.get("patient_id"))
            changes = payload.get("changes")
            if patient is None:
                return "unknown patient"
            if not isinstance(changes, dict) or set(changes) - CONTACT:
                return "unknown contact field"
            patient.update(changes)
            return None
        if kind in ANALYTICS:
            return None
        return f"unknown event type '{kind}'"

    def _schedule(self, query: dict[str, str]) -> Reply:
        cursor = query.get("cursor", "")
        try:
            limit = int(query.get("limit", "1000"))
            after = int(cursor) if cursor else 0
        except ValueError:
            return _error(400, "bad_cursor", "unknown cursor")
        if after > self._seq or not 1 <= limit <= 2000:
            return _error(400, "bad_cursor", "unknown cursor")
        newest: dict[str, int] = {}
        for seq, aid in self._changes:
            if seq > after:
                newest[aid] = seq  # a row changed twice is sent once, at its last change
        todo = sorted(newest.items(), key=lambda kv: kv[1])
        page, more = todo[:limit], len(todo) > limit
        appts = [self.appointments[aid] for aid, _ in page]
        next_cursor = str(page[-1][1]) if page else cursor
        return _json(200, {
            "cursor": next_cursor, "more": more,
            "clinicians": [self.clinicians[c] for c in sorted({a["clinician_id"] for a in appts})],
            "patients": [self.patients[p] for p in sorted({a["patient_id"] for a in appts})],
            "appointments": appts,
        })

    def _bundle(self, kind: str, if_none_match: str | None) -> Reply:
        body = self.bundles.get(kind)
        if body is None:
            return _error(404, "not_found", "no such bundle")
        etag = f'"{kind}-{body["version"]}"'
        if if_none_match == etag:
            return Reply(304, b"", {"ETag": etag})
        reply = _json(200, body)
        reply.headers["ETag"] = etag
        return reply


def _json(status: int, data: Any) -> Reply:
    return Reply(status, json.dumps(data).encode(), {"Content-Type": "application/json"})


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    reply = _json(status, {"detail": {"code": code, "message": message}})
    reply.headers.update(headers or {})
    return reply


class FakeAdapter(BaseAdapter):
    """requests transport that hands each request to the fake server (no sockets)."""

    def __init__(self, server: FakePracticeServer) -> None:
        super().__init__()
        self.server = server
        self.sent: list[dict[str, Any]] = []  # the send() keyword arguments, for assertions

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        self.sent.append({"timeout": timeout, "verify": verify, "url": request.url})
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        reply = self.server.handle(request.method, request.url, list(request.headers.items()), body)
        resp = requests.Response()
        resp.status_code = reply.status
        resp._content = reply.body
        resp.headers = CaseInsensitiveDict(reply.headers)
        resp.url = request.url
        resp.request = request
        resp.encoding = "utf-8"
        return resp

    def close(self) -> None:
        pass


def serve_http(server: FakePracticeServer) -> tuple[ThreadingHTTPServer, str]:
    """The fake on a real loopback socket (for the agent run as a subprocess)."""

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            url = f"http://{self.headers['Host']}{self.path}"
            try:
                reply = server.handle(self.command, url, list(self.headers.items()), body)
            except requests.RequestException:
                self.close_connection = True
                return
            self.send_response(reply.status)
            for k, v in reply.headers.items():
                if k.lower() != "date":  # send_response wrote Date (date_time_string below)
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        do_GET = do_POST = _any

        def date_time_string(self, timestamp=None):  # the server's clock, not the host's
            return format_datetime(server.clock().astimezone(UTC), usegmt=True)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    _time.sleep(0)
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"
