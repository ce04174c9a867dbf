"""Scan to check in, by a real window: the reminder's QR code (then the birth date) and the
driver's licence (straight to "is this you?"), shown to the replay camera."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import cv2
import pytest

from hardware.camera import DEMO_REPLAY_DIR, ReplayCamera
from kiosk import ui_driver as ui
from kiosk.store.demo_clinic import DEMO_PATIENTS
from sync_protocol.checkin_token import DEMO_KEY_ID, DEMO_SITE_ID, demo_checkin_token, make_checkin_token
from tests.gui.patient_steps import check_in_to_review, confirm_contact, mdy
from tests.hardware.scan_images import Distortion, pdf417_symbol, qr_symbol, render_frame
from tests.logic.licence_data import aamva_text

pytestmark = pytest.mark.gui


def show_to_camera(app, tmp_path: Path, symbol, name: str) -> None:
    """The replay camera now shows `symbol` on a sheet at the kiosk (and the demo card)."""
    folder = tmp_path / name
    folder.mkdir()
    for n in range(3):
        cv2.imwrite(str(folder / f"{n:02d}.jpg"), render_frame(symbol, Distortion(name, angle=4.0 * n, seed=n)))
    app.release_card_camera()
    app._card_camera = ReplayCamera({"card_front": DEMO_REPLAY_DIR / "card_front",
                                     "card_back": DEMO_REPLAY_DIR / "card_back", "qr_code": folder}, fps=15)


@pytest.fixture
def camera_back(app):
    kept = app._card_camera
    yield
    app.release_card_camera()
    app._card_camera = kept


def maria_appointment(app) -> str:
    maria = DEMO_PATIENTS["maria"]
    [match] = app.store.find_appointments(maria.last_name, maria.birth_date, app.today())
    return match.appointment_id


def test_check_in_with_the_reminder_qr_code(app, shot, tmp_path, camera_back):
    show_to_camera(app, tmp_path, qr_symbol(demo_checkin_token(maria_appointment(app), day=app.today())), "qr")
    ui.tap(app, "scan_code")
    assert app.manager.current == "scan"
    shot("scan-qr-camera")
    ui.wait_until(lambda: app.manager.current == "birth_date", 20)
    shot("scan-qr-birth-date")
    assert app.card_camera().running is False, "the camera stops once the code is read"
    ui.type_keys(app, mdy(DEMO_PATIENTS["maria"].birth_date))
    ui.tap(app, "next")
    assert app.manager.current == "confirm"
    ui.tap(app, "yes_me")
    confirm_contact(app)
    assert app.manager.current == "done"


def test_a_forged_code_is_refused_in_plain_words(app, shot, tmp_path, camera_back):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    forged = make_checkin_token(Ed25519PrivateKey.generate(), appointment_id=maria_appointment(app),
                                site_id=DEMO_SITE_ID, expires_at=app.clock() + timedelta(hours=4), key_id=DEMO_KEY_ID)
    show_to_camera(app, tmp_path, qr_symbol(forged), "forged")
    ui.tap(app, "scan_code")
    ui.wait_until(lambda: app.screen("scan").notice != "", 20)
    assert app.manager.current == "scan"
    assert "We could not use this code. Please check in with your name and date of birth." in ui.texts(app)
    shot("scan-forged")
    ui.tap(app, "type_instead")
    assert app.manager.current == "last_name"


def test_check_in_with_a_driver_licence(app, shot, tmp_path, camera_back):
    walter = DEMO_PATIENTS["walter"]
    text = aamva_text(walter.last_name.upper(), walter.first_name.upper(), walter.birth_date)
    show_to_camera(app, tmp_path, pdf417_symbol(text), "licence")
    ui.tap(app, "scan_code")
    ui.wait_until(lambda: app.manager.current == "confirm", 25)
    shot("scan-licence-confirm")
    assert app.journey.session.appointment.first_name == walter.first_name
    ui.tap(app, "yes_me")
    assert app.manager.current == "review_contact"
    # The licence shows another address: offered, and saved only if the patient says so.
    assert "12 Elm St, Springfield, IL, 62704" in ui.texts(app)
    shot("scan-licence-address-offer")
    ui.tap(app, "licence_use")
    contact = app.store.get_contact(app.journey.session.appointment.patient_id)
    assert (contact.street, contact.city, contact.state, contact.postal_code) == ("12 Elm St", "Springfield", "IL", "62704")
    assert not ui.exists(app, "licence_use")
    kinds = [e.event_type for e in app.store.outbox_pending(1000)]
    assert "identify.licence_used" in kinds
    everything = " ".join(str(e.payload) for e in app.store.outbox_pending(1000))
    assert "S1234567" not in everything  # the licence number is never kept


def test_the_portal_invitation_qr_is_a_signed_link_without_phi(app, shot):
    """Maria has no portal account: after check-in the kiosk shows a QR code whose link
    carries an invitation signed by this kiosk's key, and nothing about her."""
    import cv2 as cv
    from pyzbar import pyzbar

    from sync_protocol.portal_invitation import verify_portal_invitation

    check_in_to_review(app, "GARCIA LOPEZ", DEMO_PATIENTS["maria"])
    ui.tap(app, "contact_ok")
    ui.tap(app, "card_none")
    if ui.exists(app, "copay_desk"):
        ui.tap(app, "copay_desk")
    assert app.manager.current == "portal"
    picture = shot("portal-qr")
    [code] = pyzbar.decode(cv.imread(str(picture)))
    link = code.data.decode()
    assert link.startswith("https://portal.demo.invalid/portal/enrol?i=PI1.")
    key, device_id, _url = app._portal_signer()
    invitation = verify_portal_invitation(link.split("?i=", 1)[1], lambda d: key.public_key() if d == device_id else None,
                                          app.clock())
    maria = DEMO_PATIENTS["maria"]
    assert invitation.appointment_id == app.journey.session.appointment.appointment_id
    assert maria.last_name.upper() not in link.upper() and maria.first_name.upper() not in link.upper()
    [shown] = [e.payload for e in app.store.outbox_pending(1000) if e.event_type == "portal.invitation_shown"]
    assert shown["invitation_id"] == invitation.invitation_id
    ui.tap(app, "portal_done")
    assert app.manager.current == "done"


def test_without_a_camera_the_patient_is_told_to_type_their_name(app, shot, camera_back):
    from hardware.camera import make_camera

    app.release_card_camera()
    app._card_camera = make_camera("opencv:/dev/video-that-is-not-there")
    ui.tap(app, "scan_code")
    ui.wait_until(lambda: app.screen("scan").notice != "", 20)
    texts = " ".join(ui.texts(app))
    assert 'The camera is not working right now. Please touch "Type my name instead".' in texts and "/dev/" not in texts
    shot("scan-no-camera")
    ui.tap(app, "type_instead")
    assert app.manager.current == "last_name"
