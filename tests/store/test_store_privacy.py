"""No PHI in the clear on disk: canary values are searched for in the raw files."""

from datetime import date, datetime, time, timedelta

from store_helpers import NOW, TODAY, new_id
from kiosk.store import AppointmentRecord, ClinicianRecord, PatientRecord, StoreError, open_store

CANARY_FIRST = "Quennaxilda"
CANARY_LAST = "Zorbuvnik-Thrailes"
CANARY_BORN = date(1913, 2, 27)
CANARY_PHONE = "(555) 013-7742"
CANARY_EMAIL = "quennaxilda.zorbuvnik@example.org"
CANARY_STREET = "8841 Canaryvale Parkway"
NEW_PHONE = "(555) 019-2288"
NEW_EMAIL = "zorbuvnik.q@example.org"
NEW_STREET = "17 Wrenfeather Close"

NEEDLES = [
    CANARY_FIRST, CANARY_LAST, "Zorbuvnik", "Thrailes", "zorbuvnikthrailes",
    "1913-02-27", "02/27/1913", "2/27/1913", "19130227",
    CANARY_PHONE, "013-7742", "5550137742", CANARY_EMAIL, "Canaryvale",
    NEW_PHONE, "019-2288", "5550192288", NEW_EMAIL, "Wrenfeather",
]


def scan(data_dir):
    """Every needle found in any file of the data dir (db, -wal, -shm), any case."""
    found = []
    for path in sorted(data_dir.iterdir()):
        blob = path.read_bytes().lower()
        for needle in NEEDLES:
            for encoded in (needle.lower().encode("utf-8"), needle.lower().encode("utf-16-le")):
                if encoded in blob:
                    found.append((path.name, needle))
    return found


def test_canary_never_reaches_the_disk_in_clear(data_dir, key_file):
    store = open_store(data_dir, key_file)
    store.load_demo_clinic(TODAY)
    cid, pid, aid = new_id(), new_id(), new_id()
    store.import_schedule(
        [ClinicianRecord(cid, "Dr. Canary")],
        [PatientRecord(pid, CANARY_FIRST, CANARY_LAST, CANARY_BORN, phone=CANARY_PHONE,
                       email=CANARY_EMAIL, street=CANARY_STREET, city="Springfield",
                       state="IL", postal_code="62701")],
        [AppointmentRecord(aid, pid, cid, datetime.combine(TODAY, time(13, 40)), "follow_up")],
    )
    [m] = store.find_appointments("zorbuvnik thrailes", CANARY_BORN, TODAY)
    assert m.first_name == CANARY_FIRST
    store.check_in(aid, "sess", NOW)
    store.update_contact(pid, {"phone": NEW_PHONE, "email": NEW_EMAIL, "street": NEW_STREET}, "sess", NOW)
    typed = {"typed_last_name": CANARY_LAST, "typed_birth_date": "02/27/1913"}
    store.record_event("identify.failed", typed, "sess", NOW)
    store.audit("staff:1", "patient.contact_viewed", {"patient_id": pid})
    store.set_setting("staff.lockout_until", (NOW + timedelta(minutes=5)).isoformat())

    assert (data_dir / "kiosk.db-wal").exists()  # the writes are still in the WAL
    assert scan(data_dir) == []
    store.close()
    assert scan(data_dir) == []

    # Still readable with the key, of course.
    with open_store(data_dir, key_file) as again:
        assert again.get_contact(pid).email == NEW_EMAIL


def test_errors_name_ids_not_people(demo_store):
    try:
        demo_store.update_contact("no-such-id", {"phone": CANARY_PHONE}, "s", NOW)
    except StoreError as e:
        message = str(e)
    assert "no-such-id" in message and CANARY_PHONE not in message


def test_the_scan_would_see_plain_text(store, data_dir):
    """Guard for the canary test: a value stored in the clear is found."""
    store.set_setting("note", f"{CANARY_LAST} 02/27/1913")
    assert ("kiosk.db-wal", CANARY_LAST) in scan(data_dir)
    assert ("kiosk.db-wal", "02/27/1913") in scan(data_dir)
