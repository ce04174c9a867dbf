from collections import Counter
from datetime import date, datetime, time, timedelta

from kiosk.store import normalise_name
from kiosk.store.demo_clinic import (
    CLINICIANS,
    DEMO_PATIENTS,
    VISIT_TYPES,
    build_demo_schedule,
)
from store_helpers import TODAY


def test_deterministic_for_a_given_day():
    assert build_demo_schedule(TODAY) == build_demo_schedule(TODAY)
    _, _, a1 = build_demo_schedule(TODAY)
    _, _, a2 = build_demo_schedule(TODAY + timedelta(days=1))
    assert [a.start - timedelta(days=1) for a in a2] == [a.start for a in a1]


def test_shape_of_the_clinic():
    clinicians, patients, appts = build_demo_schedule(TODAY)
    assert [c.display_name for c in clinicians] == list(CLINICIANS)
    assert len(patients) >= 220
    assert len({p.id for p in patients}) == len(patients)
    days = {a.start.date() for a in appts}
    assert days == {TODAY + timedelta(days=i) for i in range(7)}
    slots = {time(8 + m // 60, m % 60) for m in range(0, 9 * 60, 20)}
    assert {a.start.time() for a in appts} <= slots
    assert {a.visit_type for a in appts} == set(VISIT_TYPES)
    # Never two appointments in one clinician's slot, never a patient twice a day.
    assert len({(a.clinician_id, a.start) for a in appts}) == len(appts)
    assert len({(a.patient_id, a.start.date()) for a in appts}) == len(appts)
    assert {a.status for a in appts} == {"booked"}


def test_names_and_data_look_like_a_real_and_obviously_fake_clinic():
    _, patients, _ = build_demo_schedule(TODAY)
    last = [p.last_name for p in patients]
    first = [p.first_name for p in patients]
    assert any(normalise_name(n) != n.lower() and n.isalpha() for n in last + first)  # accents
    assert any("-" in n for n in last) and any("'" in n for n in last) and any(" " in n for n in last)
    assert any(n.startswith("Nguy") for n in last) and "Muñoz" in last and "José" in first
    assert all(p.phone.startswith("(555) ") for p in patients)
    assert all(p.email == "" or p.email.endswith("@example.org") for p in patients)
    assert all(date(1930, 1, 1) < p.birth_date < TODAY for p in patients)
    identities = Counter((normalise_name(p.last_name), p.birth_date) for p in patients)
    shared = [k for k, n in identities.items() if n > 1]
    assert len(shared) >= 3  # John & Jane Smith plus twins


def test_planted_patients():
    clinicians, patients, appts = build_demo_schedule(TODAY)
    names = {c.id: c.display_name for c in clinicians}
    for key, planted in DEMO_PATIENTS.items():
        name = (planted.first_name, planted.last_name)
        [record] = [p for p in patients if (p.first_name, p.last_name) == name]
        assert record.birth_date == planted.birth_date and record.phone == planted.phone
        mine = sorted(
            (a.start, names[a.clinician_id], a.visit_type) for a in appts if a.patient_id == record.id
        )
        expected = sorted(
            (datetime.combine(TODAY + timedelta(days=v.day_offset), v.start), v.clinician, v.visit_type)
            for v in planted.visits
        )
        assert mine == expected, key
    maria = DEMO_PATIENTS["maria"]
    address = (maria.street, maria.city, maria.state, maria.postal_code)
    assert address == ("12 Elm Street", "Springfield", "IL", "62701")
    assert maria.email == "maria.garcia@example.org" and maria.phone == "(555) 201-3344"
    assert all(v.day_offset != 0 for v in DEMO_PATIENTS["ana"].visits)
    # Nobody random shares a planted identity: tests can count them exactly.
    planted_ids = Counter((normalise_name(p.last_name), p.birth_date) for p in DEMO_PATIENTS.values())
    all_ids = Counter((normalise_name(p.last_name), p.birth_date) for p in patients)
    assert all(all_ids[k] == n for k, n in planted_ids.items())
    assert "García" not in repr(maria)


def test_load_demo_clinic_is_idempotent(demo_store, data_dir):
    from store_helpers import raw

    before = raw(data_dir, "SELECT COUNT(*) FROM appointments")[0][0]
    demo_store.load_demo_clinic(TODAY)
    demo_store.load_demo_clinic(TODAY + timedelta(days=1))  # schedule not empty: no-op
    assert raw(data_dir, "SELECT COUNT(*) FROM appointments")[0][0] == before > 400
    assert raw(data_dir, "SELECT COUNT(*) FROM patients")[0][0] >= 220
