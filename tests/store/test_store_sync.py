"""The store's sync-agent side: dead letters, schedule pages with their cursor,
sync bookkeeping, bundles, and retention that never loses an unsettled event."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from alembic import command

from kiosk.store import AppointmentRecord, ClinicianRecord, DeadLetter, PatientRecord, StoreError
from kiosk.store.database import DB_FILENAME, alembic_config, make_engine, upgrade_to_head, writer
from store_helpers import NOW, TODAY, add_clinic, new_id, raw

# -- dead letters ---------------------------------------------------------------


def test_mark_dead_keeps_the_event_and_writes_its_dead_letter(store, data_dir):
    keep = store.record_event("visit.step_timing", {"i": 1}, "s", NOW)
    bad = store.record_event("appointment.arrived", {"appointment_id": "x"}, "s", NOW)
    assert store.mark_dead(bad, "unknown appointment") is True
    assert store.mark_dead(bad, "again") is False  # already dead: no second letter
    assert store.mark_dead("no-such-id", "x") is False
    store.mark_sent([keep])
    assert store.mark_dead(keep, "too late") is False  # sent stays sent

    [letter] = store.dead_letters()
    assert isinstance(letter, DeadLetter)
    assert (letter.event_id, letter.event_type, letter.reason) == (
        bad, "appointment.arrived", "unknown appointment"
    )
    assert letter.dead_at.tzinfo is not None
    assert not hasattr(letter, "payload")
    # The outbox row is still there with its encrypted payload: nothing is dropped.
    [(state, payload)] = raw(data_dir, "SELECT state, payload FROM outbox_events WHERE id = ?", bad)
    assert state == "dead" and payload[:1] == b"\x01"
    assert store.status().dead_letters == 1
    assert [e.id for e in store.outbox_pending(10)] == []


def test_dead_letters_newest_first_and_limited(store):
    ids = [store.record_event("x.y", {"i": i}, None, NOW) for i in range(5)]
    for i in ids:
        store.mark_dead(i, f"reason {i}")
    letters = store.dead_letters(limit=3)
    assert len(letters) == 3
    assert [d.dead_at for d in letters] == sorted((d.dead_at for d in letters), reverse=True)
    assert store.status().dead_letters == 5


def test_migration_0002_gives_dead_events_of_0001_their_dead_letter(tmp_path):
    engine = make_engine(tmp_path / DB_FILENAME)
    cfg = alembic_config()
    with writer(engine).begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.exec_driver_sql(
            "INSERT INTO outbox_events (id, event_type, payload, created_at, state, attempts,"
            " last_error) VALUES ('e1', 'x.y', x'01', '2025-03-10 09:00:00', 'dead', 1, 'bad'),"
            " ('e2', 'x.y', x'01', '2025-03-10 09:00:00', 'pending', 0, NULL)"
        )
    upgrade_to_head(engine)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT event_id, reason FROM dead_letters").fetchall()
    assert rows == [("e1", "bad")]
    engine.dispose()


# -- schedule pages and the cursor --------------------------------------------------


def page(n_patients=2, day=TODAY, status="booked"):
    cid = new_id()
    patients = [
        PatientRecord(id=new_id(), first_name=f"P{i}", last_name="Page", birth_date=date(1970, 1, 1 + i))
        for i in range(n_patients)
    ]
    appts = [
        AppointmentRecord(id=new_id(), patient_id=p.id, clinician_id=cid,
                          start=datetime.combine(day, time(9, i)), visit_type="new", status=status)
        for i, p in enumerate(patients)
    ]
    return [ClinicianRecord(cid, "Dr. Page")], patients, appts


def test_apply_schedule_page_saves_data_and_cursor_together(store):
    assert store.schedule_cursor() == ""
    clinicians, patients, appts = page()
    store.apply_schedule_page(clinicians, patients, appts, "c1")
    assert store.schedule_cursor() == "c1"
    assert store.patients_with_identity("Page", date(1970, 1, 1)) == 1
    [m] = store.find_appointments("page", date(1970, 1, 2), TODAY)
    assert m.status == "booked"

    # Applying the same page again is harmless (the server re-sends an overlap).
    store.apply_schedule_page(clinicians, patients, appts, "c2")
    assert store.schedule_cursor() == "c2"
    assert len(store.find_appointments("page", date(1970, 1, 2), TODAY)) == 1

    # An empty page still moves the cursor.
    store.apply_schedule_page([], [], [], "c3")
    assert store.schedule_cursor() == "c3"
    store.reset_schedule_cursor()
    assert store.schedule_cursor() == ""


def test_incoming_booked_never_undoes_a_local_arrival_and_cancelled_is_kept(store):
    clinicians, patients, appts = page()
    store.apply_schedule_page(clinicians, patients, appts, "c1")
    store.check_in(appts[0].id, "s", NOW)
    cancelled = AppointmentRecord(**{**appts[1].__dict__, "status": "cancelled"})
    store.apply_schedule_page(clinicians, patients, [appts[0], cancelled], "c2")
    assert store.find_appointments("page", date(1970, 1, 1), TODAY)[0].status == "arrived"
    assert store.find_appointments("page", date(1970, 1, 2), TODAY) == []  # cancelled: not offered


def test_a_bad_page_changes_nothing(store):
    clinicians, patients, appts = page()
    store.apply_schedule_page(clinicians, patients, appts, "c1")
    orphan = AppointmentRecord(id=new_id(), patient_id=new_id(), clinician_id=clinicians[0].id,
                               start=datetime.combine(TODAY, time(11)), visit_type="new")
    with pytest.raises(StoreError, match="unknown patient or clinician"):
        store.apply_schedule_page(clinicians, [], [orphan], "c2")
    assert store.schedule_cursor() == "c1"
    with pytest.raises(TypeError):
        store.apply_schedule_page([], [], [], None)


# -- sync bookkeeping and bundles ------------------------------------------------------


def test_record_sync_is_what_status_reports(store):
    assert store.status().last_sync is None
    store.record_sync(NOW)
    assert store.status().last_sync == NOW
    with pytest.raises(ValueError):
        store.record_sync(datetime(2025, 3, 10, 15))  # naive


def test_config_bundle_is_saved_with_its_etag_and_sets_minutes_per_visit(demo_store):
    assert demo_store.bundle("config") is None and demo_store.bundle_etag("config") is None
    body = {"kind": "config", "version": "7", "items": {"minutes_per_visit": 25, "retention_days": 7}}
    demo_store.save_bundle("config", body, '"v7"')
    assert demo_store.bundle("config") == (body, '"v7"')
    assert demo_store.bundle_etag("config") == '"v7"'
    assert demo_store.get_setting("checkin.minutes_per_visit") == "25"
    # The new value is what check-in uses for the expected wait.
    from kiosk.store.demo_clinic import DEMO_PATIENTS

    maria = DEMO_PATIENTS["maria"]
    [m] = demo_store.find_appointments(maria.last_name, maria.birth_date, TODAY)
    result = demo_store.check_in(m.appointment_id, "s", NOW)
    assert result.expected_wait_minutes == (result.queue_position - 1) * 25

    demo_store.save_bundle("forms", {"kind": "forms", "version": "1", "items": []}, '"f1"')
    assert demo_store.get_setting("checkin.minutes_per_visit") == "25"  # only config sets it


@pytest.mark.parametrize("bad", [0, "15", 15.5, True, 10_000])
def test_a_config_bundle_with_a_bad_minutes_per_visit_is_refused_whole(store, bad):
    with pytest.raises(ValueError, match="minutes_per_visit"):
        store.save_bundle("config", {"items": {"minutes_per_visit": bad}}, '"x"')
    assert store.bundle("config") is None


def test_unknown_bundle_kind(store):
    with pytest.raises(ValueError, match="unknown bundle kind"):
        store.save_bundle("movies", {}, "x")


# -- retention ---------------------------------------------------------------------------


def test_purge_keeps_pending_and_dead_events_and_their_patients(store, data_dir):
    old_day = TODAY - timedelta(days=10)
    _, patients, appts = add_clinic(
        store, old_day,
        [("Ann", "Pending", date(1950, 1, 1)), ("Bob", "Dead", date(1951, 1, 1)),
         ("Cy", "Sent", date(1952, 1, 1)), ("Di", "Nothing", date(1953, 1, 1))],
    )
    old_now = datetime.combine(old_day, time(15), tzinfo=UTC)
    store.check_in(appts[0], "s", old_now)  # stays pending
    store.update_contact(patients[1], {"phone": "(555) 010-9999"}, "s", old_now)
    store.check_in(appts[2], "s", old_now)
    events = {e.payload["patient_id"]: e.id for e in store.outbox_pending(10)}
    store.mark_dead(events[patients[1]], "unknown field")
    store.mark_sent([events[patients[2]]])

    removed = store.purge_before(TODAY - timedelta(days=7))

    assert removed == 2  # the sent one and the one with no event
    left = {r[0] for r in raw(data_dir, "SELECT id FROM patients")}
    assert left == {patients[0], patients[1]}
    states = dict(raw(data_dir, "SELECT id, state FROM outbox_events"))
    assert sorted(states.values()) == ["dead", "pending"]
    assert len(store.dead_letters()) == 1
    # Once delivered, the next purge lets the patient go.
    store.mark_sent([events[patients[0]]])
    assert store.purge_before(TODAY - timedelta(days=7)) == 1
    assert raw(data_dir, "PRAGMA foreign_key_check") == []
