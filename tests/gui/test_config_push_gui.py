"""Settings the practice pushes for a site reach the kiosk's local store while a patient is
mid-visit: nothing changes for that patient; once the visit ends the welcome screen shows
the new clinic name, logo and languages, and the next visit follows the new steps for its
visit type (copay off: no copay step). No restart."""
from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from kivy.uix.image import Image as ImageWidget
from PIL import Image, ImageDraw

from kiosk import ui_driver as ui
from kiosk.site_config import check_logo, logo_item
from kiosk.store.demo_clinic import DEMO_PATIENTS
from kiosk.store.records import AppointmentRecord, ClinicianRecord, PatientRecord
from kiosk.widgets.buttons import LanguageButton
from tests.gui.patient_steps import check_in_to_review, copay_at_desk, identify, skip_portal

pytestmark = pytest.mark.gui
NEW_NAME = "Hillside Family Clinic"


def hillside_logo() -> bytes:
    """A synthetic logo: a green cross on a teal badge."""
    image = Image.new("RGB", (360, 120), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((4, 4, 356, 116), radius=24, fill=(0, 110, 120))
    draw.rectangle((150, 20, 210, 100), fill=(255, 255, 255))
    draw.rectangle((120, 45, 240, 75), fill=(255, 255, 255))
    draw.rectangle((165, 35, 195, 85), fill=(40, 170, 80))
    draw.rectangle((135, 52, 225, 68), fill=(40, 170, 80))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def push_site_config(app) -> None:
    """What the sync agent saves when the practice published new settings for this site."""
    items = {"site_name": "Northside Clinic", "clinic_name": NEW_NAME, "languages": ["en", "vi"],
             "default_language": "en", "minutes_per_visit": 15, "retention_days": 7, "days_ahead": 3,
             "idle_warning_seconds": 45, "copay": False, "checkin_keys": {},
             "logo": logo_item(check_logo(hillside_logo())),
             "steps": {"follow_up": ["review_contact", "copay", "portal"]}}
    app.store.save_bundle("config", {"kind": "config", "version": "hillside-2", "items": items}, '"hillside-2"')


def offered_languages(app) -> list[str]:
    return [button.code for button in reversed(app.top_bar.ids.languages.children)]


def shown_logo(app):
    images = [w for w in ui.walk(app.manager.current_screen) if isinstance(w, ImageWidget)]
    return next((w for w in images if w.texture is not None and w.height > 0 and w.opacity > 0), None)


def add_follow_up_patient(app) -> PatientRecord:
    """A synthetic patient with a follow-up today and a copay due."""
    clinician = ClinicianRecord("c-push", "Dr. Ada Push")
    patient = PatientRecord("p-push", "Tam", "Nguyenpush", date(1969, 7, 4), phone="(555) 010-4477")
    start = datetime.combine(app.today(), datetime.min.time()).replace(hour=16)
    app.store.import_schedule([clinician], [patient], [
        AppointmentRecord("a-push", patient.id, clinician.id, start, "follow_up", copay_cents=2500)])
    return patient


def test_pushed_settings_wait_for_the_visit_to_end(app, shot):
    old_name = app.kiosk_config.site_name
    assert offered_languages(app) == ["en", "es", "zh", "vi", "ar"] and shown_logo(app) is None
    check_in_to_review(app, "GARCIA LOPEZ", DEMO_PATIENTS["maria"])  # a follow-up, copay due

    push_site_config(app)
    for _ in range(3):  # the welcome screen's periodic look, and more: nothing while she is here
        app._check_idle(0)
        ui.pump(2)
    assert app.apply_site_config() is False
    assert app.kiosk_config.site_name == old_name and old_name in ui.texts(app)
    assert offered_languages(app) == ["en", "es", "zh", "vi", "ar"] and app.visit_idle.warn_after != 45
    shot("config-push-1-mid-visit-unchanged")
    visited = []
    ui.tap(app, "contact_ok")
    visited.append(app.manager.current)
    ui.tap(app, "card_none")
    visited.append(app.manager.current)
    copay_at_desk(app)
    skip_portal(app)
    visited.append(app.manager.current)
    assert visited == ["insurance_card", "copay", "done"]  # the steps her visit started with

    ui.tap(app, "finish")  # the visit ends: the new settings are taken up, no restart
    assert app.manager.current == "welcome"
    shown = ui.texts(app)
    assert f"Welcome to {NEW_NAME}" in shown and NEW_NAME in shown and old_name not in shown, "|".join(shown)
    assert offered_languages(app) == ["en", "vi"] and app.translator.languages == ("en", "vi")
    welcome_buttons = [b.code for b in ui.walk(app.manager.current_screen) if isinstance(b, LanguageButton)]
    assert sorted(welcome_buttons) == ["en", "vi"]
    logo = shown_logo(app)
    assert logo is not None and logo.texture.size == (360, 120)
    assert app.visit_idle.warn_after == 45
    shot("config-push-2-welcome-new-name-logo-languages")

    patient = add_follow_up_patient(app)
    identify(app, "NGUYENPUSH", "07041969")
    ui.tap(app, "yes_me")
    visited = [app.manager.current]
    ui.tap(app, "contact_ok")
    visited.append(app.manager.current)
    shot("config-push-3-next-visit-no-card-no-copay")
    skip_portal(app)
    visited.append(app.manager.current)
    assert visited == ["review_contact", "portal", "done"]  # no card step, copay off
    assert not [e for e in app.store.outbox_pending(1000)  # not even "pay at the desk": never asked
                if e.event_type.startswith("payment.") and e.payload.get("appointment_id") == "a-push"]
    ui.tap(app, "finish")
    assert not any(patient.first_name in t or "Nguyenpush" in t for t in ui.texts(app))

    assert not ui.exists(app, "language:es")  # Spanish is no longer offered
    ui.tap(app, "language:vi")
    assert app.translator.language == "vi"
    shot("config-push-4-welcome-in-vietnamese")
    app.switch_language("en")


def test_settings_the_kiosk_cannot_use_are_not_applied(app, caplog):
    push_site_config(app)
    items = app.store.bundle("config")[0]["items"]
    app.store.save_bundle("config", {"kind": "config", "version": "bad",
                                     "items": {**items, "languages": ["en", "xx"]}}, '"bad"')
    with caplog.at_level("ERROR"):
        assert app.apply_site_config() is False
    assert app.kiosk_config.site_name != NEW_NAME
    [refused] = [r for r in caplog.records if r.getMessage() == "site_config.not_applied"]
    assert refused.fields["problems"] == ["'languages': no translation for xx; the kiosk has en, ar, es, vi, zh"]
    assert app.apply_site_config() is False  # looked at once per version


def test_an_idle_welcome_screen_takes_new_settings_up_but_staff_mode_waits(app, shot):
    app.enter_staff_mode()
    push_site_config(app)
    app._site_checked_at = 0.0
    app._check_idle(0)
    assert app.apply_site_config() is False and app.kiosk_config.site_name != NEW_NAME  # staff at work
    app.leave_staff_mode()
    assert app.manager.current == "welcome"
    app._site_checked_at = 0.0
    app._check_idle(0)  # the welcome screen's periodic look (every 2 s), nobody there
    ui.pump(2)
    assert app.kiosk_config.site_name == NEW_NAME and f"Welcome to {NEW_NAME}" in ui.texts(app)
    assert app.site_settings.version == '"hillside-2"' and shown_logo(app) is not None
