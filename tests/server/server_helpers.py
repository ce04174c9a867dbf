"""Helpers for the practice server tests: a settable clock, signed kiosks, sample data."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi.testclient import TestClient
from sqlalchemy import insert, update
from sqlalchemy.orm import Session, sessionmaker

from practice_server import admin, schedule
from practice_server.models import Appointment, Clinician, Patient
from sync_protocol.signing import sign_request

BASE = "http://testserver"
TZ = "America/Chicago"


class Clock:
    """The server's clock in tests: real time unless a test pins it."""

    def __init__(self) -> None:
        self.pinned: datetime | None = None

    def __call__(self) -> datetime:
        return self.pinned or datetime.now(UTC)


def raw_public_key(key: Ed25519PrivateKey) -> str:
    return base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


@dataclass
class Kiosk:
    """An enrolled kiosk that signs its requests like the sync agent does."""

    client: TestClient
    device_id: str
    site_id: str
    key: Ed25519PrivateKey = field(repr=False)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # signs with the server's time

    def signed_headers(self, method: str, path: str, body: bytes, *, now: datetime | None = None,
                       nonce: str | None = None, key: Ed25519PrivateKey | None = None) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        sign_request(method, BASE + path, headers, body, device_id=self.device_id,
                     private_key=key or self.key, now=now or self.clock(), nonce=nonce)
        return headers

    def request(self, method: str, path: str, payload: Any = None, *, body: bytes | None = None,
                headers: dict[str, str] | None = None, **sign_options):
        if body is None:
            body = b"" if payload is None else json.dumps(payload).encode()
        signed = self.signed_headers(method, path, body, **sign_options)
        return self.client.request(method, path, content=body, headers={**signed, **(headers or {})})

    def get(self, path: str, **kw):
        return self.request("GET", path, **kw)

    def post(self, path: str, payload: Any = None, **kw):
        return self.request("POST", path, payload, **kw)

    def push(self, *events: dict[str, Any]) -> list[dict[str, Any]]:
        r = self.post("/api/v1/events", {"events": list(events)})
        assert r.status_code == 200, r.text
        return r.json()["results"]

    def pull_all(self, cursor: str = "", limit: int = 1000) -> tuple[dict[str, dict], str, int]:
        """Follow `more` to the end: ({"appointments": {id: row}, ...}, final cursor, pages)."""
        seen: dict[str, dict] = {"appointments": {}, "patients": {}, "clinicians": {}}
        pages = 0
        while True:
            r = self.get(f"/api/v1/schedule?cursor={cursor}&limit={limit}")
            assert r.status_code == 200, r.text
            page = r.json()
            pages += 1
            for kind in seen:
                seen[kind].update({row["id"]: row for row in page[kind]})
            cursor = page["cursor"]
            if not page["more"]:
                return seen, cursor, pages


def enrol(client: TestClient, sessions: sessionmaker[Session], site_id: str, hostname: str = "kiosk-1",
          clock: Callable[[], datetime] | None = None) -> Kiosk:
    with sessions.begin() as db:
        token = admin.issue_enrolment_token(db, site_id, timedelta(hours=1), datetime.now(UTC)).token
    key = Ed25519PrivateKey.generate()
    r = client.post("/api/v1/enrol", json={"token": token, "public_key": raw_public_key(key),
                                           "hostname": hostname, "version": "0.4.0"})
    assert r.status_code == 201, r.text
    kiosk = Kiosk(client, r.json()["device_id"], site_id, key)
    if clock is not None:
        kiosk.clock = clock
    return kiosk


def event(type_: str = "visit.step_timing", payload: dict | None = None, **kw) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "type": type_, "created_at": datetime.now(UTC).isoformat(),
            "session_id": None, "payload": {"step": "last_name", "seconds": 3.5} if payload is None else payload,
            **kw}


def arrived(appointment: dict[str, Any], at: datetime | None = None) -> dict[str, Any]:
    return event("appointment.arrived", {
        "appointment_id": appointment["id"], "patient_id": appointment["patient_id"],
        "clinician_id": appointment["clinician_id"],
        "arrived_at": (at or datetime.now(UTC)).isoformat()})


def site_today(now: datetime | None = None) -> date:
    return schedule.local_today(TZ, now or datetime.now(UTC))


def add_schedule(db: Session, site_id: str, days: list[date], per_day: int = 3, tag: str = "") -> list[dict]:
    """A clinician, and per day `per_day` patients each with one appointment. Returns appointments."""
    clinician = {"id": str(uuid.uuid4()), "display_name": f"Dr. Test {tag}"}
    db.execute(insert(Clinician), [clinician])
    patients, appointments = [], []
    for day in days:
        for i in range(per_day):
            pid = str(uuid.uuid4())
            patients.append({"id": pid, "first_name": f"Pat{i}", "last_name": f"Zyx{tag}{i}",
                             "birth_date": date(1970, 1, 1 + i), "phone": "", "email": "", "street": "",
                             "city": "", "state": "", "postal_code": "", "updated_at": datetime.now(UTC)})
            appointments.append({"id": str(uuid.uuid4()), "site_id": site_id, "patient_id": pid,
                                 "clinician_id": clinician["id"],
                                 "start": datetime.combine(day, time(9, 0)) + timedelta(minutes=20 * i),
                                 "day": day, "visit_type": "follow_up", "status": "booked"})
    db.execute(insert(Patient), patients)
    stamp = schedule.stamp_new(db)
    db.execute(insert(Appointment), [{**a, **stamp} for a in appointments])
    return appointments


def backdate_changes(db: Session, minutes: int = 60) -> None:
    """Make every schedule change look old, so the pull's re-send overlap is empty."""
    db.execute(update(Appointment).values(changed_at=datetime.now(UTC) - timedelta(minutes=minutes)))
