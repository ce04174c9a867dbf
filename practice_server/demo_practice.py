"""The demo practice: two sites and a synthetic schedule, loaded into an empty database.

Only when the server runs on its default SQLite database (`serve` without --database).
Rolled forward to the current week when it has run out (same ids, new days).
The first site gets exactly the kiosk's demo clinic (kiosk.store.demo_clinic), so a
demo kiosk and the demo server share patients and appointment ids; the second site
gets two more clinicians seeing some of the same synthetic patients. No real person
is in here.

Check-in codes: the first site has the fixed id DEMO_SITE_ID and the practice signs
with the public DEMO key (sync_protocol.checkin_token), so a kiosk in demo mode can
check its demo reminders and letters. Copays follow the visit type ($0 for an annual
physical, $25 follow-up, $40 new patient); some patients have a portal account and
some get their reminders in Spanish.
"""

from __future__ import annotations

import logging
import random
import uuid
from datetime import datetime, time, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from kiosk.store.demo_clinic import COPAY_CENTS, DAYS, DEMO_PATIENTS, PORTAL_ACCOUNTS, build_demo_schedule
from sync_protocol.checkin_token import DEMO_SITE_ID

from . import admin, practice_keys, schedule
from .models import Appointment, Clinician, Patient, Reminder, Site

log = logging.getLogger(__name__)

FAMILY = ("Demo Family Clinic", "America/Chicago")
RIVERSIDE = ("Demo Riverside Clinic", "America/Chicago")
RIVERSIDE_CLINICIANS = ("Dr. Priya Natarajan", "Dr. Tomás Rivera")
SEED = 20251123
# Copay by visit type and the planted patients with a portal account are the kiosk demo
# clinic's (one definition). Who reads Spanish; the random pool gets its portal accounts
# and languages from PORTAL_SHARE / SPANISH_SHARE.
SPANISH_READERS = ("maria",)
PORTAL_SHARE, SPANISH_SHARE = 0.3, 0.2
# Staff dashboard accounts of the demo (README): username, name, role; one public password.
DEMO_STAFF = (("frontdesk", "Fran Front (demo)", "front_desk"), ("clinician", "Dr. Demo Clinician", "clinician"),
              ("admin", "Alex Admin (demo)", "admin"))
DEMO_STAFF_PASSWORD = "demo clinic staff only"


def load_demo_practice(sessions: sessionmaker[Session], now: datetime) -> bool:
    """Load the demo into an empty database, or roll an existing demo's week forward
    when its schedule has run out (a demo server started again a week later should
    still have patients today). False (and nothing done) otherwise."""
    with sessions.begin() as db:
        if db.scalar(select(func.count()).select_from(Site)):
            return _roll_forward(db, now)
        family = admin.create_site(db, *FAMILY, site_id=DEMO_SITE_ID)
        riverside = admin.create_site(db, *RIVERSIDE)
        practice_keys.install_demo_key(db, now)
        today = schedule.local_today(family.timezone, now)
        clinicians, patients, _ = build_demo_schedule(today)
        db.execute(insert(Clinician), [{"id": c.id, "display_name": c.display_name} for c in clinicians]
                   + _riverside_clinicians())
        db.execute(insert(Patient), _patient_rows(patients, now))
        count = _insert_week(db, family.id, riverside.id, today)
        _add_demo_staff(db, now)
    log.info("demo.loaded", extra={"fields": {"sites": 2, "appointments": count, "today": today.isoformat()}})
    return True


def _add_demo_staff(db: Session, now: datetime) -> None:
    """Dashboard accounts of the demo practice only, with a published password (like the
    public demo check-in key): a real practice adds its own with `staff add`."""
    from .dashboard import accounts

    known = {a.username for a in accounts.list_all(db)}
    for username, name, role in DEMO_STAFF:
        if username not in known:
            accounts.create(db, username, name, role, DEMO_STAFF_PASSWORD, now)


def _roll_forward(db: Session, now: datetime) -> bool:
    family, riverside = admin.find_site(db, FAMILY[0]), admin.find_site(db, RIVERSIDE[0])
    if family is None or riverside is None:
        return False  # not the demo practice: never touch a real schedule
    _add_demo_staff(db, now)  # a demo database made before the dashboard
    practice_keys.install_demo_key(db, now)  # a demo database made before check-in codes
    today = schedule.local_today(family.timezone, now)
    last_day = db.scalar(select(func.max(Appointment.day)).where(Appointment.site_id == family.id))
    if last_day is not None and last_day >= today:
        return False
    # Same ids every week (the generator is seeded): kiosks move their rows to the new days.
    week = select(Appointment.id).where(Appointment.site_id.in_((family.id, riverside.id)))
    db.execute(delete(Reminder).where(Reminder.appointment_id.in_(week)))
    db.execute(delete(Appointment).where(Appointment.site_id.in_((family.id, riverside.id))))
    count = _insert_week(db, family.id, riverside.id, today)
    log.info("demo.rolled_forward", extra={"fields": {"appointments": count, "today": today.isoformat()}})
    return True


def _patient_rows(patients, now: datetime) -> list[dict]:
    planted = {(p.first_name, p.last_name, p.birth_date): key for key, p in DEMO_PATIENTS.items()}
    rng = random.Random(SEED)
    rows = []
    for p in patients:
        key = planted.get((p.first_name, p.last_name, p.birth_date))
        portal, spanish = rng.random() < PORTAL_SHARE, rng.random() < SPANISH_SHARE  # drawn for all: stable
        if key is not None:
            portal, spanish = key in PORTAL_ACCOUNTS, key in SPANISH_READERS
        rows.append({
            "id": p.id, "first_name": p.first_name, "last_name": p.last_name, "birth_date": p.birth_date,
            "phone": p.phone, "email": p.email, "street": p.street, "city": p.city, "state": p.state,
            "postal_code": p.postal_code, "language": "es" if spanish else "en",
            "portal_account": portal, "updated_at": now,
        })
    return rows


def _riverside_clinicians() -> list[dict[str, str]]:
    rng = random.Random(SEED)
    return [{"id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "display_name": n}
            for n in RIVERSIDE_CLINICIANS]


def _insert_week(db: Session, family_id: str, riverside_id: str, today) -> int:
    """Appointments for today and the next days at both demo sites."""
    _, patients, appointments = build_demo_schedule(today)
    rng = random.Random(SEED)
    extra = _riverside_clinicians()
    for _ in extra:
        rng.getrandbits(128)  # the same draws as the clinician ids: appointment ids stay stable
    stamp = schedule.stamp_new(db)
    rows = [
        {"id": a.id, "site_id": family_id, "patient_id": a.patient_id, "clinician_id": a.clinician_id,
         "start": a.start, "day": a.start.date(), "visit_type": a.visit_type, "status": a.status,
         "copay_cents": COPAY_CENTS.get(a.visit_type), **stamp}
        for a in appointments
    ]
    # Riverside: mornings only, patients from the random pool (not the planted demo ones).
    pool = [p.id for p in patients[len(patients) // 2:]]
    for offset in range(DAYS):
        day = today + timedelta(days=offset)
        for clinician in extra:
            for minutes in range(9 * 60, 12 * 60, 30):
                if rng.random() < 0.6:
                    rows.append({
                        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                        "site_id": riverside_id, "patient_id": rng.choice(pool),
                        "clinician_id": clinician["id"],
                        "start": datetime.combine(day, time(minutes // 60, minutes % 60)),
                        "day": day, "visit_type": "follow_up", "status": "booked",
                        "copay_cents": COPAY_CENTS["follow_up"], **stamp,
                    })
    db.execute(insert(Appointment), rows)
    return len(rows)


