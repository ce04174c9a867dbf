import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time, timedelta

import pytest

from store_helpers import NOW, TODAY, add_clinic, new_id, raw
from kiosk.store import (
    AppointmentRecord,
    ClinicianRecord,
    Contact,
    PatientRecord,
    StoreError,
    open_store,
)
from kiosk.store.demo_clinic import DEMO_PATIENTS
from kiosk.store.database import HEAD_REVISION

MARIA = DEMO_PATIENTS["maria"]


def events(store, event_type=None):
    return [e for e in store.outbox_pending(10_000) if event_type in (None, e.event_type)]


# -- finding ------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["García-López", "garcia-lopez", "GARCIA LOPEZ", "garcialopez", "  García López ",
              "Garcia-Lopez", "GARCÍA-LÓPEZ"]
)
def test_find_is_insensitive_to_case_accents_hyphens_spaces(demo_store, typed):
    [m] = demo_store.find_appointments(typed, MARIA.birth_date, TODAY)
    assert (m.first_name, m.last_name) == ("Maria", "García-López")
    assert m.start == datetime.combine(TODAY, time(10, 20))
    assert m.clinician_name == "Dr. Luis Fernández"
    assert m.visit_type == "follow_up" and m.status == "booked"


@pytest.mark.parametrize("typed", ["obrien", "O BRIEN", "o'brien", "O’Brien"])
def test_find_apostrophe_names(demo_store, typed):
    [m] = demo_store.find_appointments(typed, date(1948, 11, 2), TODAY)
    assert m.last_name == "O'Brien"


@pytest.mark.parametrize("typed", ["de la cruz", "DelaCruz", "De La Cruz", "de-la-cruz"])
def test_known_patient_without_appointment_today(demo_store, typed):
    ana = DEMO_PATIENTS["ana"]
    assert demo_store.find_appointments(typed, ana.birth_date, TODAY) == []
    assert demo_store.patients_with_identity(typed, ana.birth_date) == 1
    other_day = TODAY + timedelta(days=ana.visits[0].day_offset)
    [m] = demo_store.find_appointments(typed, ana.birth_date, other_day)
    assert m.first_name == "Ana"


def test_same_last_name_and_birth_date_gives_both(demo_store):
    found = demo_store.find_appointments("smith", date(1980, 1, 1), TODAY)
    assert sorted(m.first_name for m in found) == ["Jane", "John"]
    assert len({m.patient_id for m in found}) == 2
    assert demo_store.patients_with_identity("Smith", date(1980, 1, 1)) == 2


def test_unknown_patient_and_wrong_birth_date(demo_store):
    assert demo_store.find_appointments("García-López", date(1956, 3, 15), TODAY) == []
    assert demo_store.patients_with_identity("García-López", date(1956, 3, 15)) == 0
    assert demo_store.find_appointments("Nobody", MARIA.birth_date, TODAY) == []
    assert demo_store.find_appointments("", MARIA.birth_date, TODAY) == []
    assert demo_store.find_appointments("-- '", MARIA.birth_date, TODAY) == []
    assert demo_store.patients_with_identity("", MARIA.birth_date) == 0


def test_found_appointments_are_in_time_order_with_status(store):
    _, [pid], _ = add_clinic(store, TODAY, [("Ann", "Lee", date(1970, 5, 5))])
    cid = new_id()
    later = AppointmentRecord(new_id(), pid, cid, datetime.combine(TODAY, time(15, 0)), "new_patient")
    store.import_schedule([ClinicianRecord(cid, "Dr. B")], [], [later])
    found = store.find_appointments("lee", date(1970, 5, 5), TODAY)
    assert [m.start.time() for m in found] == [time(9, 0), time(15, 0)]
    store.check_in(found[1].appointment_id, "s", NOW)
    found = store.find_appointments("lee", date(1970, 5, 5), TODAY)
    assert [m.status for m in found] == ["booked", "arrived"]


def test_cancelled_left_out_and_seen_reported_as_arrived(store):
    cid, [pid], [aid] = add_clinic(store, TODAY, [("Ann", "Lee", date(1970, 5, 5))])
    start = datetime.combine(TODAY, time(9, 0))
    store.import_schedule(appointments=[AppointmentRecord(aid, pid, cid, start, "follow_up", "seen")])
    [m] = store.find_appointments("Lee", date(1970, 5, 5), TODAY)
    assert m.status == "arrived"
    result = store.check_in(aid, "s", NOW)
    assert result.already and result.queue_position == 0 and result.expected_wait_minutes == 0
    store.import_schedule(appointments=[AppointmentRecord(aid, pid, cid, start, "follow_up", "cancelled")])
    assert store.find_appointments("Lee", date(1970, 5, 5), TODAY) == []
    with pytest.raises(StoreError, match="cancelled"):
        store.check_in(aid, "s", NOW)


# -- check-in -----------------------------------------------------------------


def test_check_in_once_then_already(demo_store, data_dir):
    [m] = demo_store.find_appointments("García-López", MARIA.birth_date, TODAY)
    first = demo_store.check_in(m.appointment_id, "session-1", NOW)
    assert not first.already and first.arrived_at == NOW
    assert first.queue_position == 1 and first.expected_wait_minutes == 0
    [event] = events(demo_store)
    assert event.event_type == "appointment.arrived" and event.session_id == "session-1"
    assert event.payload == {
        "appointment_id": m.appointment_id,
        "patient_id": m.patient_id,
        "clinician_id": m.clinician_id,
        "arrived_at": NOW.isoformat(),
    }
    again = demo_store.check_in(m.appointment_id, "session-2", NOW + timedelta(minutes=5))
    assert again.already and again.arrived_at == NOW and again.queue_position == 1
    assert len(events(demo_store)) == 1
    assert raw(data_dir, "SELECT status, arrived_at FROM appointments WHERE id = ?", m.appointment_id) == [
        ("arrived", "2025-03-10 15:00:00.000000")
    ]


def test_check_in_again_after_reopening(data_dir, key_file):
    s = open_store(data_dir, key_file)
    s.load_demo_clinic(TODAY)
    [m] = s.find_appointments("O'Brien", date(1948, 11, 2), TODAY)
    s.check_in(m.appointment_id, "s1", NOW)
    s.close()
    s = open_store(data_dir, key_file)
    s.load_demo_clinic(TODAY)  # idempotent: nothing reloaded, nothing reset
    result = s.check_in(m.appointment_id, "s2", NOW + timedelta(hours=1))
    assert result.already and result.arrived_at == NOW
    assert [e.event_type for e in events(s)] == ["appointment.arrived"]
    s.close()


def test_queue_position_and_wait(store, data_dir):
    people = [("A", "Alpha", date(1960, 1, 1)), ("B", "Beta", date(1961, 1, 1)),
              ("C", "Gamma", date(1962, 1, 1)), ("D", "Delta", date(1963, 1, 1))]
    cid, _, appts = add_clinic(store, TODAY, people)
    other_cid, _, [other] = add_clinic(store, TODAY, [("E", "Eps", date(1964, 1, 1))], "Dr. Other")
    yesterday_cid, _, [old] = add_clinic(store, TODAY - timedelta(days=1), [("F", "Phi", date(1965, 1, 1))])
    store.check_in(old, "s", NOW - timedelta(days=1))

    # Arrival order, not appointment order, decides the queue.
    r3 = store.check_in(appts[3], "s", NOW)
    r1 = store.check_in(appts[1], "s", NOW + timedelta(minutes=1))
    r0 = store.check_in(appts[0], "s", NOW + timedelta(minutes=2))
    r_other = store.check_in(other, "s", NOW + timedelta(minutes=3))
    assert [r3.queue_position, r1.queue_position, r0.queue_position] == [1, 2, 3]
    assert [r3.expected_wait_minutes, r1.expected_wait_minutes, r0.expected_wait_minutes] == [0, 15, 30]
    assert r_other.queue_position == 1  # a different clinician's queue

    store.set_setting("checkin.minutes_per_visit", "20")
    r2 = store.check_in(appts[2], "s", NOW + timedelta(minutes=4))
    assert (r2.queue_position, r2.expected_wait_minutes) == (4, 60)

    # When the practice marks the first patient seen, everyone behind moves up.
    a = AppointmentRecord(appts[3], _patient_of(data_dir, appts[3]), cid,
                          datetime.combine(TODAY, time(10, 0)), "follow_up", "seen")
    store.import_schedule(appointments=[a])
    again = store.check_in(appts[2], "s", NOW + timedelta(minutes=9))
    assert again.already and again.queue_position == 3


def _patient_of(data_dir, appointment_id):
    [(patient_id,)] = raw(data_dir, "SELECT patient_id FROM appointments WHERE id = ?", appointment_id)
    return patient_id


def test_bad_minutes_setting_falls_back_to_default(store):
    people = [("A", "Alpha", date(1960, 1, 1)), ("B", "Beta", date(1961, 1, 1))]
    _, _, [a, b] = add_clinic(store, TODAY, people)
    store.set_setting("checkin.minutes_per_visit", "fifteen")
    store.check_in(a, "s", NOW)
    assert store.check_in(b, "s", NOW + timedelta(seconds=1)).expected_wait_minutes == 15


def test_check_in_unknown_appointment_and_naive_now(demo_store):
    with pytest.raises(StoreError, match="unknown appointment nope"):
        demo_store.check_in("nope", "s", NOW)
    [m] = demo_store.find_appointments("O'Brien", date(1948, 11, 2), TODAY)
    with pytest.raises(ValueError, match="timezone-aware"):
        demo_store.check_in(m.appointment_id, "s", datetime(2025, 3, 10, 9, 0))
    assert events(demo_store) == []


def test_arrived_at_is_stored_in_utc(demo_store):
    from zoneinfo import ZoneInfo

    [m] = demo_store.find_appointments("O'Brien", date(1948, 11, 2), TODAY)
    local = datetime(2025, 3, 10, 9, 30, tzinfo=ZoneInfo("America/Chicago"))
    result = demo_store.check_in(m.appointment_id, "s", local)
    assert result.arrived_at == local and result.arrived_at.tzinfo == UTC
    assert result.arrived_at.hour == 14  # CDT is UTC-5


def test_concurrent_check_ins_from_two_stores(data_dir, key_file):
    """Two processes' worth of stores racing: one arrival, one event, distinct positions."""
    a = open_store(data_dir, key_file)
    b = open_store(data_dir, key_file)
    people = [(f"P{i}", f"Name{i}", date(1950, 1, 1) + timedelta(days=i)) for i in range(12)]
    _, _, appts = add_clinic(a, TODAY, people)
    barrier = threading.Barrier(8)

    def go(i):
        barrier.wait()
        store = (a, b)[i % 2]
        return store.check_in(appts[i // 2], f"s{i}", NOW + timedelta(seconds=i))

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(go, range(8)))  # each of 4 appointments twice
    for k in range(4):
        pair = results[2 * k : 2 * k + 2]
        assert sorted(r.already for r in pair) == [False, True]
        assert pair[0].arrived_at == pair[1].arrived_at
    firsts = [r for r in results if not r.already]
    assert sorted(r.queue_position for r in firsts) == [1, 2, 3, 4]
    assert len(events(a, "appointment.arrived")) == 4
    a.close()
    b.close()


# -- contact ------------------------------------------------------------------


def test_get_and_update_contact(demo_store, data_dir):
    [m] = demo_store.find_appointments("García-López", MARIA.birth_date, TODAY)
    assert demo_store.get_contact(m.patient_id) == Contact(
        "(555) 201-3344", "maria.garcia@example.org", "12 Elm Street", "Springfield", "IL", "62701"
    )
    demo_store.update_contact(
        m.patient_id,
        {"phone": "(555) 201-9999", "email": "maria.garcia@example.org", "street": "14 Elm Street"},
        "session-9",
        NOW,
    )
    assert demo_store.get_contact(m.patient_id) == Contact(
        "(555) 201-9999", "maria.garcia@example.org", "14 Elm Street", "Springfield", "IL", "62701"
    )
    [event] = events(demo_store)
    assert event.event_type == "patient.contact_changed" and event.session_id == "session-9"
    assert event.payload == {
        "patient_id": m.patient_id,
        "changes": {"phone": "(555) 201-9999", "street": "14 Elm Street"},
    }
    # Nothing changed: no write, no event.
    demo_store.update_contact(m.patient_id, {"phone": "(555) 201-9999"}, "session-9", NOW)
    assert len(events(demo_store)) == 1


def test_update_contact_refuses_bad_input(demo_store):
    [m] = demo_store.find_appointments("García-López", MARIA.birth_date, TODAY)
    with pytest.raises(ValueError, match="last_name"):
        demo_store.update_contact(m.patient_id, {"last_name": "X"}, "s", NOW)
    with pytest.raises(TypeError):
        demo_store.update_contact(m.patient_id, {"phone": 5551234}, "s", NOW)
    with pytest.raises(StoreError, match="unknown patient nobody"):
        demo_store.update_contact("nobody", {"phone": "(555) 000-0000"}, "s", NOW)
    with pytest.raises(StoreError, match="unknown patient nobody"):
        demo_store.get_contact("nobody")
    assert events(demo_store) == []


# -- other events, settings, status ---------------------------------------------


def test_record_event(store):
    event_id = store.record_event("identify.failed", {"attempt": 2, "at": NOW}, "s1", NOW)
    [event] = events(store)
    assert event.id == event_id and event.event_type == "identify.failed"
    assert event.payload == {"attempt": 2, "at": NOW.isoformat()}
    assert event.created_at == NOW and event.state == "pending" and event.attempts == 0
    none_id = store.record_event("visit.step_timing", {"step": "welcome", "ms": 1200}, None, NOW)
    assert events(store)[1].session_id is None and none_id != event_id
    with pytest.raises(TypeError):
        store.record_event("x", {"bad": object()}, None, NOW)
    with pytest.raises(ValueError):
        store.record_event("", {}, None, NOW)
    assert len(events(store)) == 2


def test_settings(store):
    assert store.get_setting("staff.lockout_until") is None
    assert store.get_setting("staff.lockout_until", "never") == "never"
    store.set_setting("staff.lockout_until", "2025-03-10T15:05:00+00:00")
    store.set_setting("staff.lockout_until", "2025-03-10T15:10:00+00:00")
    assert store.get_setting("staff.lockout_until") == "2025-03-10T15:10:00+00:00"
    with pytest.raises(ValueError, match="reserved"):
        store.set_setting("_store.audit_head", "0" * 64)
    with pytest.raises(TypeError):
        store.set_setting("n", 5)


def test_status_numbers(demo_store, data_dir):
    s = demo_store.status()
    assert s.outbox_pending == 0 and s.outbox_oldest is None and s.last_sync is None
    assert s.schema_revision == HEAD_REVISION and s.dead_letters == 0
    on_disk = sum(p.stat().st_size for p in data_dir.iterdir() if p.name in ("kiosk.db", "kiosk.db-wal"))
    assert s.db_bytes == on_disk > 0

    demo_store.record_event("identify.failed", {}, None, NOW)
    second = demo_store.record_event("identify.failed", {}, None, NOW + timedelta(minutes=1))
    demo_store.record_event("identify.failed", {}, None, NOW + timedelta(minutes=2))
    s = demo_store.status()
    assert s.outbox_pending == 3 and s.outbox_oldest == NOW

    first = events(demo_store)[0].id
    before = datetime.now(UTC)
    demo_store.mark_sent([first])
    demo_store.mark_dead(second, "rejected: unknown_appointment")
    s = demo_store.status()
    assert s.outbox_pending == 1 and s.outbox_oldest == NOW + timedelta(minutes=2)
    assert s.last_sync is not None and before <= s.last_sync <= datetime.now(UTC)


# -- schedule import and retention ----------------------------------------------


def test_import_schedule_upserts_and_keeps_local_arrivals(store):
    cid, [pid], [aid] = add_clinic(store, TODAY, [("Ann", "Lee", date(1970, 5, 5))])
    store.check_in(aid, "s", NOW)
    # The practice has not seen the arrival yet and re-sends the appointment as booked,
    # moved to 09:20; the patient's name got corrected.
    moved = datetime.combine(TODAY, time(9, 20))
    store.import_schedule(
        [ClinicianRecord(cid, "Dr. Renamed")],
        [PatientRecord(pid, "Anne", "Lee-Park", date(1970, 5, 5), phone="(555) 010-1234")],
        [AppointmentRecord(aid, pid, cid, moved, "annual_physical", "booked")],
    )
    assert store.find_appointments("Lee", date(1970, 5, 5), TODAY) == []
    [m] = store.find_appointments("lee park", date(1970, 5, 5), TODAY)
    assert (m.first_name, m.start, m.visit_type, m.status, m.clinician_name) == (
        "Anne", moved, "annual_physical", "arrived", "Dr. Renamed",
    )
    assert store.get_contact(pid).phone == "(555) 010-1234"
    assert store.check_in(aid, "s", NOW + timedelta(hours=1)).arrived_at == NOW


def test_import_schedule_validates(store):
    with pytest.raises(StoreError, match="unknown patient or clinician"):
        orphan = AppointmentRecord(new_id(), "p", "c", datetime(2025, 3, 10, 9), "follow_up")
        store.import_schedule(appointments=[orphan])
    cid, [pid], _ = add_clinic(store, TODAY, [("Ann", "Lee", date(1970, 5, 5))])
    with pytest.raises(ValueError, match="naive"):
        store.import_schedule(appointments=[AppointmentRecord(new_id(), pid, cid, NOW, "follow_up")])
    with pytest.raises(ValueError, match="status"):
        lost = AppointmentRecord(new_id(), pid, cid, datetime(2025, 3, 10, 9), "follow_up", "lost")
        store.import_schedule(appointments=[lost])
    assert "Lee" not in repr(PatientRecord(pid, "Ann", "Lee", date(1970, 5, 5)))


def test_purge_before(demo_store, data_dir):
    demo_store.record_event("identify.failed", {}, None, NOW - timedelta(days=3))
    old_sent = events(demo_store)[0].id
    demo_store.mark_sent([old_sent])
    keep_pending = demo_store.record_event("identify.failed", {}, None, NOW - timedelta(days=3))
    day = TODAY + timedelta(days=3)
    removed = demo_store.purge_before(day)
    assert removed > 0
    assert raw(data_dir, "SELECT COUNT(*) FROM appointments WHERE day < ?", day.isoformat()) == [(0,)]
    orphans = "SELECT COUNT(*) FROM patients WHERE id NOT IN (SELECT patient_id FROM appointments)"
    assert raw(data_dir, orphans) == [(0,)]
    assert demo_store.patients_with_identity("García-López", MARIA.birth_date) == 0
    assert demo_store.patients_with_identity("de la Cruz", date(1990, 7, 21)) == 1  # booked later
    assert [e.id for e in events(demo_store)] == [keep_pending]
    assert raw(data_dir, "SELECT COUNT(*) FROM outbox_events") == [(1,)]


# -- keys against the database ----------------------------------------------------


def test_wrong_key_is_a_clear_error(data_dir, key_file, tmp_path):
    s = open_store(data_dir, key_file)
    s.load_demo_clinic(TODAY)
    s.close()
    with pytest.raises(StoreError, match="the data key does not match this database"):
        open_store(data_dir, tmp_path / "other" / "kiosk.key")
    # A lost key file re-created by accident is caught the same way, not silently used.
    key_file.unlink()
    with pytest.raises(StoreError, match="the data key does not match this database"):
        open_store(data_dir, key_file)


def test_not_a_database_is_a_store_error(data_dir, key_file):
    data_dir.mkdir(mode=0o700)
    (data_dir / "kiosk.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open the kiosk database"):
        open_store(data_dir, key_file)


def test_store_is_a_context_manager_and_usable_from_threads(data_dir, key_file):
    with open_store(data_dir, key_file) as s:
        s.load_demo_clinic(TODAY)
        with ThreadPoolExecutor(4) as pool:
            found = list(pool.map(lambda _: s.find_appointments("Smith", date(1980, 1, 1), TODAY), range(8)))
        assert all(len(f) == 2 for f in found)
