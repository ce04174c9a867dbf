"""Kill -9 the writer at random moments: the database stays whole, and every
arrival has exactly one outbox event (never one without the other)."""

from __future__ import annotations

import multiprocessing
import random
import signal
import sqlite3
import time
from collections import Counter
from datetime import UTC, datetime

from kiosk.store import open_store
from store_helpers import TODAY

KILLS = 10


def _writer(data_dir, key_file, seed, ready) -> None:
    """Child: check in appointments one after another, and change contacts, forever."""
    store = open_store(data_dir, key_file)
    conn = sqlite3.connect(data_dir / "kiosk.db")
    rows = conn.execute("SELECT id, patient_id FROM appointments WHERE status = 'booked'").fetchall()
    conn.close()
    rng = random.Random(seed)
    rng.shuffle(rows)
    ready.set()
    while True:  # after the last booked one, repeats (already=True) keep it busy
        for appointment_id, patient_id in rows:
            store.check_in(appointment_id, f"crash-{seed}", datetime.now(UTC))
            phone = f"(555) 555-{rng.randrange(10_000):04d}"
            store.update_contact(patient_id, {"phone": phone}, f"crash-{seed}", datetime.now(UTC))


def test_kill_minus_nine_never_half_writes(data_dir, key_file):
    with open_store(data_dir, key_file) as s:
        s.load_demo_clinic(TODAY)
    ctx = multiprocessing.get_context("fork")  # no re-import: each run starts in milliseconds
    rng = random.Random(7)
    for i in range(KILLS):
        ready = ctx.Event()
        child = ctx.Process(target=_writer, args=(data_dir, key_file, i, ready), daemon=True)
        child.start()
        if i % 3:  # every third run is killed anywhere, even while opening the store
            assert ready.wait(10)
        time.sleep(rng.uniform(0.0, 0.3))
        child.kill()
        child.join(5)
        assert child.exitcode == -signal.SIGKILL

    conn = sqlite3.connect(data_dir / "kiosk.db")
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    arrived = {r[0] for r in conn.execute("SELECT id FROM appointments WHERE status = 'arrived'")}
    conn.close()

    with open_store(data_dir, key_file) as s:
        events = s.outbox_pending(100_000)
        per_appointment = Counter(
            e.payload["appointment_id"] for e in events if e.event_type == "appointment.arrived"
        )
        assert len(arrived) > 10  # the children really got work done
        assert set(per_appointment) == arrived
        assert set(per_appointment.values()) == {1}
        # Every contact-change event matches what the patient row now says or said before.
        changes = [e for e in events if e.event_type == "patient.contact_changed"]
        assert changes and all(set(e.payload["changes"]) == {"phone"} for e in changes)
        last_phone = {e.payload["patient_id"]: e.payload["changes"]["phone"] for e in changes}
        for patient_id, phone in list(last_phone.items())[:50]:
            assert s.get_contact(patient_id).phone == phone

        # After all that, a repeat check-in is recognised and adds nothing.
        some = next(iter(arrived))
        result = s.check_in(some, "after-crash", datetime.now(UTC))
        assert result.already
        assert len(s.outbox_pending(100_000)) == len(events)
