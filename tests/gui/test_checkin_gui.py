"""A patient checks in at the real window, by touch, in English and Spanish."""
from __future__ import annotations

import pytest

from kiosk import ui_driver as ui
from kiosk.store.demo_clinic import DEMO_PATIENTS
from tests.gui.patient_steps import (
    arrived_events, check_in_to_review, check_in_until_stopped, confirm_contact, identify, mdy,
)

pytestmark = pytest.mark.gui


def test_check_in_with_contact_change(app, shot):
    maria = DEMO_PATIENTS["maria"]
    identify(app, "GARCIA LOPEZ", mdy(maria.birth_date))
    assert app.manager.current == "confirm"
    on_screen = " ".join(ui.texts(app))
    assert "Maria G." in on_screen
    assert "García-López" not in on_screen  # first name and last initial only
    shot("checkin-confirm")
    ui.tap(app, "yes_me")
    assert app.manager.current == "review_contact"
    assert len(arrived_events(app.store)) == 1

    ui.tap(app, "change:phone")
    assert app.manager.current == "edit_contact"
    ui.type_keys(app, "\b" * 20 + "555201")
    ui.tap(app, "save")
    assert app.manager.current == "edit_contact", "an incomplete phone number must not be saved"
    assert "10-digit" in " ".join(ui.texts(app))
    shot("checkin-phone-error")
    ui.type_keys(app, "9876")
    ui.tap(app, "save")
    assert app.manager.current == "review_contact"
    assert app.store.get_contact(app.journey.session.appointment.patient_id).phone == "(555) 201-9876"

    confirm_contact(app)
    assert app.manager.current == "done"
    assert "You are checked in" in ui.texts(app)
    shot("checkin-done")
    ui.tap(app, "finish")
    assert app.manager.current == "welcome"
    assert app.journey.session is None


def test_check_in_twice_says_already(app):
    maria = DEMO_PATIENTS["maria"]
    for _ in range(2):
        identify(app, "GARCIA-LOPEZ", mdy(maria.birth_date))
        ui.tap(app, "yes_me")
        if app.manager.current == "review_contact":
            confirm_contact(app)
        assert app.manager.current == "done"
        last = ui.texts(app)
        ui.tap(app, "finish")
    assert "You were already checked in" in last
    assert len(arrived_events(app.store)) == 1


def test_spanish_check_in_uses_day_month_year(app, shot):
    walter = DEMO_PATIENTS["walter"]
    ui.tap(app, "language:es")
    assert app.translator.language == "es"
    ui.tap(app, "check_in")
    ui.type_keys(app, "O'BRIEN")
    ui.tap(app, "next")
    assert app.screen("birth_date").ids.date.order == ["day", "month", "year"]
    d = walter.birth_date
    ui.type_keys(app, f"{d.day:02d}{d.month:02d}{d.year}")
    shot("checkin-es-birth-date")
    ui.tap(app, "next")
    assert app.manager.current == "confirm"
    ui.tap(app, "yes_me")
    confirm_contact(app)
    assert app.manager.current == "done"
    shot("checkin-es-done")
    assert "You are checked in" not in ui.texts(app)
    ui.tap(app, "finish")
    assert app.translator.language == "en", "the next patient starts in the clinic's language"


def test_same_name_and_birth_date_asks_first_name(app):
    jane = DEMO_PATIENTS["jane_smith"]
    identify(app, "SMITH", mdy(jane.birth_date))
    assert app.manager.current == "first_name"
    ui.type_keys(app, "JANE")
    ui.tap(app, "next")
    assert app.manager.current == "confirm"
    assert "Jane S." in ui.texts(app)
    assert not any("John" in t for t in ui.texts(app))


def test_no_match_sends_to_front_desk_and_try_again(app, shot):
    identify(app, "NOBODY", "01011970")
    assert app.manager.current == "front_desk"
    shot("no-match")
    ui.tap(app, "try_again")
    assert app.manager.current == "last_name"
    assert app.screen("last_name").ids.entry.value == ""
    failed = [e for e in app.store.outbox_pending(100) if e.event_type == "identify.failed"]
    assert [e.payload["reason"] for e in failed] == ["no_match"]


def test_impossible_birth_date_is_explained(app):
    identify(app, "SMITH", "02301980")
    assert app.manager.current == "birth_date"
    assert any("does not exist" in t for t in ui.texts(app))


def test_five_failures_pause_the_kiosk_until_cooldown_ends(app, clock, shot):
    for attempt in range(5):
        if app.manager.current == "front_desk":
            ui.tap(app, "try_again")
            ui.type_keys(app, "NOBODY")
            ui.tap(app, "next")
            ui.type_keys(app, "01011970")
            ui.tap(app, "next")
        else:
            identify(app, "NOBODY", "01011970")
    assert app.manager.current == "cooldown"
    ui.pump(3)
    shot("cooldown")
    assert not ui.exists(app, "check_in")
    clock.offset = app.kiosk_config.cooldown_seconds + 1
    ui.pump(1)
    import time

    time.sleep(1.1)  # the cool-down screen checks once a second
    ui.pump(3)
    assert app.manager.current == "welcome"


def test_escape_does_not_quit(app):
    from kivy.core.window import Window

    handled = Window.dispatch("on_key_down", 27, 0, "", [])
    assert handled is True
    assert app._on_request_close() is True


def test_a_failure_inside_the_kiosk_shows_plain_words_and_loses_nothing(app, shot, monkeypatch):
    """The disk fails at the moment of check-in: no traceback, the visit is wiped, and once
    the fault is gone the patient checks in exactly once."""
    maria = DEMO_PATIENTS["maria"]

    def disk_failure(*_args, **_kwargs):
        raise OSError("disk I/O error")

    monkeypatch.setattr(app.store, "check_in", disk_failure)
    ui.tap(app, "language:es")
    ui.tap(app, "check_in")
    ui.type_keys(app, "GARCIA LOPEZ")
    ui.tap(app, "next")
    d = maria.birth_date
    ui.type_keys(app, f"{d.day:02d}{d.month:02d}{d.year}")
    ui.tap(app, "next")
    ui.tap(app, "yes_me")
    assert app.manager.current == "problem"
    assert "Lo sentimos, algo salió mal" in ui.texts(app), "the apology is in the patient's language"
    assert not any("Traceback" in t or "OSError" in t for t in ui.texts(app))
    assert app.journey.session is None
    shot("problem")
    assert arrived_events(app.store) == []

    monkeypatch.undo()
    ui.tap(app, "start_again")
    assert app.manager.current == "welcome" and app.translator.language == "en"
    identify(app, "GARCIA LOPEZ", mdy(maria.birth_date))
    ui.tap(app, "yes_me")
    assert app.manager.current == "review_contact"
    assert len(arrived_events(app.store)) == 1


def test_expected_wait_uses_the_configured_minutes_per_visit(app):
    """Two patients of the same clinician: the second waits one visit's length."""
    from dataclasses import replace
    from datetime import date, datetime

    from kiosk.store.records import AppointmentRecord, ClinicianRecord, PatientRecord

    app.kiosk_config = replace(app.kiosk_config, minutes_per_visit=25)
    try:
        app.attach_store(app.store)
        clinician = ClinicianRecord("c-wait", "Dr. Wait Test")
        patients = [PatientRecord(f"p-wait-{s}", "Test", f"Waiter{s}", date(1970, 1, n + 1)) for n, s in enumerate("ab")]
        start = datetime.combine(app.today(), datetime.min.time()).replace(hour=15)
        visits = [AppointmentRecord(f"a-{p.id}", p.id, clinician.id, start, "follow_up") for p in patients]
        app.store.import_schedule([clinician], patients, visits)
        places = []
        for n, suffix in enumerate("AB"):
            identify(app, "WAITER" + suffix, f"01{n + 1:02d}1970")
            ui.tap(app, "yes_me")
            confirm_contact(app)
            places.append((app.screen("done").position, app.screen("done").wait_minutes))
            ui.tap(app, "finish")
        assert places == [(1, 0), (2, 25)]
    finally:
        app.kiosk_config = replace(app.kiosk_config, minutes_per_visit=15)


def test_full_disk_at_check_in_sends_to_front_desk_and_keeps_what_was_saved(app):
    """SQLite's max_page_count stands in for a full disk: the contact change saved before the
    disk filled is kept, the failed step tells the patient what to do, and the kiosk runs on."""
    from sqlalchemy import event

    maria, walter = DEMO_PATIENTS["maria"], DEMO_PATIENTS["walter"]
    check_in_to_review(app, "GARCIA LOPEZ", maria)
    ui.tap(app, "change:city")
    ui.type_keys(app, "\b" * 30 + "PEORIA")
    ui.tap(app, "save")
    patient_id = app.journey.session.appointment.patient_id
    confirm_contact(app)
    ui.tap(app, "finish")

    engine = app.store._engine

    def disk_full(dbapi_conn, _record):
        pages = dbapi_conn.execute("PRAGMA page_count").fetchone()[0]
        dbapi_conn.execute(f"PRAGMA max_page_count={pages}")

    event.listen(engine, "connect", disk_full)
    engine.dispose()  # every connection from now on sees a full disk
    try:
        # Use up the free space left in the last pages of the tables a check-in writes to.
        writers = (
            lambda n, size: app.store.set_setting(f"test.filler.{n}", "x" * size),
            lambda n, size: app.store.record_event("test.filler", {"x": "x" * size}, None, app.clock()),
        )
        filled = 0
        for write in writers:
            for size in (1500, 400, 100, 20, 1):
                while True:
                    try:
                        write(filled, size)
                        filled += 1
                    except Exception:
                        break
        check_in_until_stopped(app, "OBRIEN", walter)
        assert app.manager.current == "problem"
        assert app.journey.session is None
    finally:
        event.remove(engine, "connect", disk_full)
        engine.dispose()
    assert app.store.get_contact(patient_id).city == "PEORIA"
    arrived = [e.payload["patient_id"] for e in arrived_events(app.store)]
    assert arrived == [patient_id], "the earlier check-in is kept, the failed one not half-written"
