"""Reading a scanned code: check-in codes verified offline, licences parsed, the rest refused
in plain words; then handed to the journey."""

from __future__ import annotations

from datetime import timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from licence_data import aamva_text
from logic_helpers import MARIA_BORN, NOW, TODAY
from kiosk.flow import BIRTH_DATE, CONFIRM, QR_EXPIRED, QR_OTHER_SITE, QR_UNREADABLE
from kiosk.scanned_codes import LICENCE_UNREADABLE, read_scanned, use_scanned
from sync_protocol.checkin_token import (
    DEMO_KEY_ID, DEMO_SITE_ID, demo_checkin_token, demo_private_key, demo_public_keys, make_checkin_token,
)

KEYS = demo_public_keys()


def maria(store):
    [match] = store.find_appointments("García-López", MARIA_BORN, TODAY)
    return match.appointment_id


def test_a_demo_reminder_code_names_the_appointment(demo_store):
    code = demo_checkin_token(maria(demo_store), day=TODAY)
    scanned = read_scanned(code, keys=KEYS, site_id=DEMO_SITE_ID, now=NOW)
    assert scanned.kind == "checkin" and scanned.appointment_id == maria(demo_store)


def test_forged_expired_and_other_site_codes_get_their_plain_message(demo_store):
    appointment = maria(demo_store)
    forged = make_checkin_token(Ed25519PrivateKey.generate(), appointment_id=appointment, site_id=DEMO_SITE_ID,
                                expires_at=NOW + timedelta(hours=5), key_id=DEMO_KEY_ID)
    expired = make_checkin_token(demo_private_key(), appointment_id=appointment, site_id=DEMO_SITE_ID,
                                 expires_at=NOW - timedelta(minutes=1), key_id=DEMO_KEY_ID)
    elsewhere = make_checkin_token(demo_private_key(), appointment_id=appointment,
                                   site_id="0e0e0e0e-0000-4000-8000-000000000001",
                                   expires_at=NOW + timedelta(hours=5), key_id=DEMO_KEY_ID)
    for code, message in ((forged, QR_UNREADABLE), (expired, QR_EXPIRED), (elsewhere, QR_OTHER_SITE),
                          ("CK1.garbage", QR_UNREADABLE), ("https://example.org", QR_UNREADABLE)):
        scanned = read_scanned(code, keys=KEYS, site_id=DEMO_SITE_ID, now=NOW)
        assert (scanned.kind, scanned.message) == ("problem", message)


def test_a_licence_is_read_and_identifies_the_patient(journey, demo_store):
    text = aamva_text("GARCIA-LOPEZ", "MARIA", MARIA_BORN, expires=TODAY - timedelta(days=3))
    scanned = read_scanned(text, keys=KEYS, site_id=DEMO_SITE_ID, now=NOW)
    assert scanned.kind == "licence" and "MARIA" not in repr(scanned)
    journey.begin_scan()
    use_scanned(journey, scanned, TODAY)
    assert journey.state == CONFIRM
    assert journey.session.licence_address["city"] == "SPRINGFIELD"
    used = [e for e in demo_store.outbox_pending(100) if e.event_type == "identify.licence_used"]
    assert used[0].payload == {"expired": True}


def test_half_a_licence_is_refused_kindly(demo_store):
    text = aamva_text("GARCIA-LOPEZ", "MARIA", MARIA_BORN)[:30]
    scanned = read_scanned(text, keys=KEYS, site_id=DEMO_SITE_ID, now=NOW)
    assert (scanned.kind, scanned.message) == ("problem", LICENCE_UNREADABLE)


def test_a_code_goes_to_the_birth_date(journey, demo_store):
    journey.begin_scan()
    use_scanned(journey, read_scanned(demo_checkin_token(maria(demo_store), day=TODAY), keys=KEYS,
                                      site_id=DEMO_SITE_ID, now=NOW), TODAY)
    assert journey.state == BIRTH_DATE
