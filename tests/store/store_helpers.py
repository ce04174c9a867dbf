"""Small builders shared by the store tests."""

from __future__ import annotations

import sqlite3
import uuid
from datetime import UTC, date, datetime, time

from kiosk.store import AppointmentRecord, ClinicianRecord, PatientRecord, Store

# A fixed "today" keeps the tests independent of the wall clock.
TODAY = date(2025, 3, 10)  # = tests/conftest.py TEST_TODAY, the demo_store fixture's day
NOW = datetime(2025, 3, 10, 15, 0, tzinfo=UTC)


def new_id() -> str:
    return str(uuid.uuid4())


def add_clinic(
    store: Store,
    day: date,
    patients: list[tuple[str, str, date]],
    clinician: str = "Dr. Test",
    start: time = time(9, 0),
) -> tuple[str, list[str], list[str]]:
    """One clinician, the given (first, last, birth date) patients, one appointment
    each on `day` twenty minutes apart. Returns (clinician id, patient ids, appt ids)."""
    cid = new_id()
    recs = [PatientRecord(id=new_id(), first_name=f, last_name=l, birth_date=b,
                          phone="(555) 010-0000", email="t@example.org")
            for f, l, b in patients]
    appts = [
        AppointmentRecord(
            id=new_id(), patient_id=p.id, clinician_id=cid,
            start=datetime.combine(day, time(start.hour + (20 * i) // 60, (20 * i) % 60)),
            visit_type="follow_up",
        )
        for i, p in enumerate(recs)
    ]
    store.import_schedule([ClinicianRecord(cid, clinician)], recs, appts)
    return cid, [p.id for p in recs], [a.id for a in appts]


def raw(data_dir, sql: str, *args):
    conn = sqlite3.connect(data_dir / "kiosk.db")
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def add_trigger(data_dir, name: str, when: str) -> None:
    """A trigger that makes one kind of statement fail, like a failing disk would."""
    conn = sqlite3.connect(data_dir / "kiosk.db")
    try:
        conn.execute(f"CREATE TRIGGER {name} {when} BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END")
        conn.commit()
    finally:
        conn.close()


def drop_trigger(data_dir, name: str) -> None:
    conn = sqlite3.connect(data_dir / "kiosk.db")
    try:
        conn.execute(f"DROP TRIGGER {name}")
        conn.commit()
    finally:
        conn.close()
