"""Inactivity wipe, "start over", live language switch and staff mode, on the real window."""
from __future__ import annotations

import functools
import re
import time
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from kivy.core.window import Window

from kiosk import ui_driver as ui
from kiosk.store.demo_clinic import DEMO_PATIENTS
from tests.gui.patient_steps import check_in_to_review
from tests.gui.screens_walk import every_screen

pytestmark = pytest.mark.gui


def _all_widget_text(app) -> str:
    """Every string held by any widget of every screen, shown or not (not just what is visible)."""
    found = []
    for root in [app.root, *Window.children, *app.manager.screens]:
        for widget in ui.walk(root):
            for attr in ("text", "value", "display_name", "clinician", "appointment_time", "pin"):
                value = getattr(widget, attr, None)
                if isinstance(value, str):
                    found.append(value)
    return "\n".join(found)


def _phi(patient) -> list[str]:
    d = patient.birth_date
    return [patient.first_name, patient.last_name, patient.phone, patient.email, patient.street,
            "GARCIA", f"{d.month:02d}", str(d.year)]


def test_inactivity_warns_then_wipes_every_screen(app, shot):
    maria = DEMO_PATIENTS["maria"]
    app.visit_idle.warn_after, app.visit_idle.countdown = 2.0, 2.0
    try:
        check_in_to_review(app, "GARCIA-LOPEZ", maria)
        app.edit_contact("street")
        ui.pump(2)
        assert maria.street.upper() in _all_widget_text(app).upper()

        deadline = time.monotonic() + 10
        while app.warning is None and time.monotonic() < deadline:
            ui.pump(1)
            time.sleep(0.05)
        assert app.warning is not None, "no inactivity warning"
        ui.pump(3)
        assert any("I need more time" == t for t in ui.texts(app))
        shot("idle-warning")

        ui.tap(app, "more_time")  # the patient is still there
        assert app.warning is None and app.journey.session is not None

        deadline = time.monotonic() + 15
        while app.journey.session is not None and time.monotonic() < deadline:
            ui.pump(1)
            time.sleep(0.05)
        assert app.journey.session is None, "the visit was not wiped"
        ui.pump(3)
        shot("after-idle-wipe")
        assert app.manager.current == "welcome"
        held = _all_widget_text(app).upper()
        for secret in _phi(maria):
            assert secret.upper() not in held, "patient data left in a widget after the wipe"
        ended = [e for e in app.store.outbox_pending(100) if e.event_type == "visit.ended"]
        assert ended[-1].payload["reason"] == "timeout"
    finally:
        app.visit_idle.warn_after = app.kiosk_config.idle_warning_seconds
        app.visit_idle.countdown = app.kiosk_config.idle_countdown_seconds


def test_start_over_wipes_and_resets_text_and_language(app):
    ui.tap(app, "language:es")
    ui.tap(app, "text_size:2")
    ui.tap(app, "contrast")
    ui.tap(app, "check_in")
    ui.type_keys(app, "GARCIA")
    ui.tap(app, "start_over")
    assert app.manager.current == "welcome"
    assert app.journey.session is None
    assert app.translator.language == "en"
    from kiosk.theme import theme

    assert theme.scale == 1.0 and not theme.high_contrast
    assert "GARCIA" not in _all_widget_text(app)


@pytest.mark.full_intake
def test_language_switch_changes_every_visible_text_on_every_screen(app):
    """On each screen, switching to Spanish changes every word-bearing text at once."""
    unchanged = []
    for screen in every_screen(app):
        before = ui.texts(app)
        app.switch_language("es")
        ui.pump(2)
        after = ui.texts(app)
        app.switch_language("en")
        ui.pump(2)
        # (Digits aside: the cool-down's countdown may tick meanwhile.)
        assert _digitless(ui.texts(app)) == _digitless(before), f"{screen}: switching back did not restore the English texts"
        for old in before:
            words = [w for w in old.split() if w.isalpha() and len(w) > 3]
            # Names, the clinic's name, the language names and keys legitimately stay as they are.
            if words and old in after and old not in _untranslatable(app):
                unchanged.append(f"{screen}: {old!r}")
    assert not unchanged, "texts not translated:\n" + "\n".join(unchanged)


def _untranslatable(app) -> set[str]:
    # Each language's name is written in its own language, whatever the screen's.
    keep = {app.kiosk_config.site_name, *(app.translator.language_name(c) for c in app.translator.languages)}
    session = app.journey.session
    for screen in app.manager.screens:
        for widget in ui.walk(screen):
            if type(widget).__name__ in ("EntryField", "KeyboardKey", "KeypadKey"):
                keep.add(widget.text)
            if type(widget).__name__ in ("ContactRow", "StatusRow"):
                keep.add(widget.value)
    if session and session.appointment:
        keep.add(f"{session.appointment.first_name} {session.appointment.last_name[:1]}.")
    for screen in app.manager.screens:
        for attr in ("display_name",):
            keep.add(getattr(screen, attr, ""))
    return keep | _same_in_spanish()


@functools.lru_cache(maxsize=1)
def _same_in_spanish() -> frozenset[str]:
    """Words the Spanish catalog spells the same ("Diabetes"): translated, just alike."""
    with (Path(__file__).resolve().parents[2] / "locales" / "es" / "LC_MESSAGES" / "kiosk.po").open("rb") as po:
        return frozenset(m.id for m in read_po(po) if m.id and m.string == m.id)


def _digitless(texts: list[str]) -> list[str]:
    return [re.sub(r"\d+", "#", text) for text in texts]


def _long_press_staff_corner(app, seconds: float) -> None:
    from kivy.tests.common import UnitTestTouch

    corner = next(w for w in ui.walk(app.top_bar) if type(w).__name__ == "StaffCorner")
    x, y = corner.to_window(*corner.center)
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ui.pump(1)
        time.sleep(0.05)
    touch.touch_up()
    ui.pump(2)


def test_staff_mode_needs_long_press_and_pin_and_is_audited(app, shot):
    _long_press_staff_corner(app, 0.5)
    assert app.manager.current == "welcome", "a short tap must not open staff mode"
    _long_press_staff_corner(app, 3.5)
    assert app.manager.current == "staff_pin"

    ui.type_keys(app, "1111")
    ui.tap(app, "sign_in")
    assert app.manager.current == "staff_pin"
    assert any("not right" in t for t in ui.texts(app))
    ui.type_keys(app, "2468")  # the demo clinic's PIN
    ui.tap(app, "sign_in")
    assert app.manager.current == "staff"
    shot("staff-status")
    on_screen = " ".join(ui.texts(app))
    assert "0.1.0" in on_screen and "never" in on_screen

    ui.tap(app, "leave_staff")
    assert app.manager.current == "welcome" and not app.staff_mode
    actions = _audit_actions(app.store)
    assert actions[-3:] == ["staff.sign_in_failed", "staff.signed_in", "staff.signed_out"]
    assert app.store.verify_audit()


def test_staff_lockout_after_five_wrong_pins(app):
    app.open_staff()
    ui.pump(2)
    for _ in range(5):
        ui.type_keys(app, "0000")
        ui.tap(app, "sign_in")
    ui.type_keys(app, "2468")
    ui.tap(app, "sign_in")
    assert app.manager.current == "staff_pin", "the right PIN must not work during a lockout"
    assert any("locked" in t for t in ui.texts(app))
    assert "staff.locked_out" in _audit_actions(app.store)


def test_staff_mode_times_out(app):
    try:
        app.open_staff()
        ui.pump(3)
        ui.type_keys(app, "2468")
        ui.tap(app, "sign_in")
        assert app.staff_mode, (app.manager.current, ui.texts(app))
        app.staff_idle.warn_after = 1.0
        deadline = time.monotonic() + 10
        while app.staff_mode and time.monotonic() < deadline:
            ui.pump(1)
            time.sleep(0.05)
        assert not app.staff_mode and app.manager.current == "welcome"
    finally:
        app.staff_idle.warn_after = app.kiosk_config.staff_idle_seconds


def _audit_actions(store) -> list[str]:
    from sqlalchemy import text

    with store._engine.connect() as conn:
        return [row[0] for row in conn.execute(text("SELECT action FROM audit_entries ORDER BY seq"))]


def test_kiosk_window_rules():
    """Escape never quits, no window decorations, one input provider (two double every tap)."""
    from kivy.config import Config

    assert Config.get("kivy", "exit_on_escape") == "0"
    assert Config.get("graphics", "borderless") == "1"
    assert Config.options("input") == ["mouse"]
    assert "disable_multitouch" in Config.get("input", "mouse")


def test_staff_mode_shows_sync_health_and_refused_events(app, shot, tmp_path):
    """What the sync agent last wrote, and every event the server refused, with its reason."""
    import dataclasses

    from kiosk.sync_health import OFFLINE, SyncHealth, write_health

    demo_config = app.kiosk_config
    health_file = tmp_path / "sync-health.json"
    write_health(
        health_file,
        SyncHealth(state=OFFLINE, backlog=3, last_error="connection refused by 127.0.0.1:9"),
    )
    refused = app.store.record_event("visit.ended", {"reason": "done"}, None, app.clock())
    assert app.store.mark_dead(refused, "unknown event type 'visit.ended'")
    try:
        app.kiosk_config = dataclasses.replace(
            demo_config, server_url="https://practice.example.org", health_file=health_file
        )
        app.open_staff()
        ui.pump(3)
        ui.type_keys(app, "2468")
        ui.tap(app, "sign_in")
        assert app.manager.current == "staff"
        ui.pump(2)
        shot("staff-status-offline-refused-event")
        on_screen = " ".join(ui.texts(app))
        assert "offline" in on_screen
        assert "connection refused by 127.0.0.1:9" in on_screen
        assert "Events the server refused" in on_screen
        assert "unknown event type 'visit.ended'" in on_screen
        ui.tap(app, "leave_staff")
    finally:
        app.kiosk_config = demo_config
