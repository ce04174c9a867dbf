"""Crash and retry on the sync agent's write paths: a failing statement (a trigger,
as a full disk would) leaves nothing half done, and kill -9 at random moments never
leaves a cursor ahead of its page or a dead event without its dead letter."""

from __future__ import annotations

import multiprocessing
import random
import signal
import sqlite3
import time
from datetime import date, datetime
from datetime import time as dtime

import pytest
from sqlalchemy.exc import DatabaseError

from kiosk.store import AppointmentRecord, ClinicianRecord, PatientRecord, StoreError, open_store
from store_helpers import NOW, TODAY, add_trigger, drop_trigger, new_id, raw

KILLS = 8




def one_page(i: int, clinician_id: str, patient_id: str, appointment_id: str):
    """Page i: the same appointment, its visit_type saying which page wrote it."""
    return (
        [ClinicianRecord(clinician_id, "Dr. Crash")],
        [PatientRecord(id=patient_id, first_name="Crash", last_name="Test", birth_date=date(1960, 1, 1))],
        [AppointmentRecord(id=appointment_id, patient_id=patient_id, clinician_id=clinician_id,
                           start=datetime.combine(TODAY, dtime(9)), visit_type=f"v{i}")],
    )


# -- a failing statement: all or nothing, and the retry works ------------------------------


def test_mark_dead_failing_on_the_dead_letter_leaves_the_event_pending(store, data_dir):
    event_id = store.record_event("x.y", {}, None, NOW)
    add_trigger(data_dir, "no_letters", "BEFORE INSERT ON dead_letters")
    with pytest.raises(DatabaseError):
        store.mark_dead(event_id, "rejected")
    assert [e.id for e in store.outbox_pending(10)] == [event_id]  # still pending: retried later
    drop_trigger(data_dir, "no_letters")
    assert store.mark_dead(event_id, "rejected") is True
    assert [d.event_id for d in store.dead_letters()] == [event_id]


@pytest.mark.parametrize(
    "when",
    ["BEFORE UPDATE ON settings WHEN NEW.key = 'sync.schedule_cursor'",
     "BEFORE INSERT ON appointments"],
)
def test_schedule_page_failing_anywhere_keeps_the_old_cursor_and_old_data(store, data_dir, when):
    store.apply_schedule_page(*one_page(0, new_id(), new_id(), new_id()), "c0")
    other = new_id(), new_id(), new_id()  # a new appointment: an INSERT, for the second case
    add_trigger(data_dir, "fail_page", when)
    # (RAISE(ABORT) in a trigger is a constraint error: the store calls it a StoreError)
    with pytest.raises((DatabaseError, StoreError)):
        store.apply_schedule_page(*one_page(1, *other), "c1")
    assert store.schedule_cursor() == "c0"
    assert raw(data_dir, "SELECT COUNT(*) FROM appointments") == [(1,)]
    drop_trigger(data_dir, "fail_page")
    store.apply_schedule_page(*one_page(1, *other), "c1")
    assert store.schedule_cursor() == "c1"
    assert raw(data_dir, "SELECT COUNT(*) FROM appointments") == [(2,)]


def test_first_page_failing_on_its_cursor_leaves_no_data(store, data_dir):
    add_trigger(data_dir, "fail_cursor", "BEFORE INSERT ON settings WHEN NEW.key = 'sync.schedule_cursor'")
    with pytest.raises(DatabaseError):
        store.apply_schedule_page(*one_page(0, new_id(), new_id(), new_id()), "c0")
    assert store.schedule_cursor() == ""
    assert raw(data_dir, "SELECT COUNT(*) FROM patients") == [(0,)]


def test_config_bundle_failing_on_minutes_saves_neither(store, data_dir):
    store.set_setting("checkin.minutes_per_visit", "15")
    add_trigger(data_dir, "no_minutes", "BEFORE UPDATE ON settings WHEN NEW.key = 'checkin.minutes_per_visit'")
    body = {"items": {"minutes_per_visit": 20}}
    with pytest.raises(DatabaseError):
        store.save_bundle("config", body, '"e1"')
    assert store.bundle("config") is None and store.get_setting("checkin.minutes_per_visit") == "15"
    drop_trigger(data_dir, "no_minutes")
    store.save_bundle("config", body, '"e1"')
    assert store.bundle_etag("config") == '"e1"' and store.get_setting("checkin.minutes_per_visit") == "20"


def test_record_sync_failing_keeps_the_old_time(store, data_dir):
    store.record_sync(NOW)
    add_trigger(data_dir, "no_sync", "BEFORE UPDATE ON settings WHEN NEW.key = 'sync.last_sync'")
    with pytest.raises(DatabaseError):
        store.record_sync(NOW.replace(hour=16))
    assert store.status().last_sync == NOW
    drop_trigger(data_dir, "no_sync")
    store.record_sync(NOW.replace(hour=16))
    assert store.status().last_sync == NOW.replace(hour=16)


def test_purge_failing_midway_deletes_nothing(store, data_dir):
    from datetime import timedelta

    from store_helpers import add_clinic

    add_clinic(store, TODAY - timedelta(days=30), [("Old", "Patient", date(1940, 1, 1))])
    add_trigger(data_dir, "no_patient_delete", "BEFORE DELETE ON patients")
    with pytest.raises(DatabaseError):
        store.purge_before(TODAY)
    assert raw(data_dir, "SELECT COUNT(*) FROM appointments") == [(1,)]  # the first delete rolled back
    drop_trigger(data_dir, "no_patient_delete")
    assert store.purge_before(TODAY) == 1


# -- kill -9 ----------------------------------------------------------------------------


def _sync_writer(data_dir, key_file, ids, seed, ready) -> None:
    """Child: apply pages (cursor = page number) and kill dead letters, forever."""
    store = open_store(data_dir, key_file)
    rng = random.Random(seed)
    i = int(store.schedule_cursor() or 0)
    ready.set()
    while True:
        i += 1
        store.apply_schedule_page(*one_page(i, *ids), str(i))
        event_id = store.record_event("x.y", {"i": i}, None, NOW)
        if rng.random() < 0.7:
            store.mark_dead(event_id, f"rejected {i}")


def test_kill_minus_nine_never_splits_a_page_from_its_cursor(data_dir, key_file):
    ids = new_id(), new_id(), new_id()
    with open_store(data_dir, key_file) as s:
        s.apply_schedule_page(*one_page(0, *ids), "0")
    ctx = multiprocessing.get_context("fork")
    rng = random.Random(11)
    for i in range(KILLS):
        ready = ctx.Event()
        child = ctx.Process(target=_sync_writer, args=(data_dir, key_file, ids, i, ready), daemon=True)
        child.start()
        assert ready.wait(10)
        time.sleep(rng.uniform(0.02, 0.25))
        child.kill()
        child.join(5)
        assert child.exitcode == -signal.SIGKILL

    conn = sqlite3.connect(data_dir / "kiosk.db")
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    [(visit_type,)] = conn.execute("SELECT visit_type FROM appointments").fetchall()
    dead = {r[0] for r in conn.execute("SELECT id FROM outbox_events WHERE state = 'dead'")}
    letters = {r[0] for r in conn.execute("SELECT event_id FROM dead_letters")}
    conn.close()
    with open_store(data_dir, key_file) as s:
        cursor = s.schedule_cursor()
    assert int(cursor) > 5  # the children got work done
    assert visit_type == f"v{cursor}"  # the cursor names exactly the page whose data is there
    assert dead and dead == letters
