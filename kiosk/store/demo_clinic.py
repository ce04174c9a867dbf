"""A synthetic demo clinic: four clinicians, 230 patients, a week of appointments.

Deterministic: the same `today` always gives the same data (random.Random with
a fixed seed; the wall clock is never read). Obviously fake: 555 phone numbers,
example.org e-mail. Names mix languages and spellings (accents, hyphens,
apostrophes, spaces) so look-ups are exercised the way real patients type.
The schedule runs every day of the week so the demo works whenever it is shown.

DEMO_PATIENTS are planted, always present, and used by the demo tour and tests.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from .cipher import normalise_name
from .records import AppointmentRecord, ClinicianRecord, PatientRecord

SEED = 20240314
DAYS = 7  # today and the next 6 days
FIRST_SLOT, LAST_SLOT_END, SLOT_MINUTES = time(8, 0), time(17, 0), 20
BOOKED_SHARE = 0.72
RANDOM_PATIENTS = 232
TWIN_PAIRS = 6  # patients sharing last name + birth date (twins), on purpose
VISIT_TYPES = ("follow_up", "new_patient", "annual_physical")
# Copay due by visit type, and the planted patients who already have a portal account
# (the demo practice server uses the same).
COPAY_CENTS = {"annual_physical": 0, "follow_up": 2500, "new_patient": 4000}
PORTAL_ACCOUNTS = ("john_smith", "walter")
_VISIT_WEIGHTS = (0.6, 0.15, 0.25)

CLINICIANS = ("Dr. Amara Okafor", "Dr. Luis Fernández", "Dr. Mei Chen", "NP Sarah Whitfield")


@dataclass(frozen=True)
class DemoVisit:
    day_offset: int  # 0 = today
    start: time
    clinician: str
    visit_type: str


@dataclass(frozen=True, repr=False)
class DemoPatient:
    first_name: str
    last_name: str
    birth_date: date
    phone: str
    email: str
    street: str
    city: str
    state: str
    postal_code: str
    visits: tuple[DemoVisit, ...]

    def __repr__(self) -> str:
        return f"DemoPatient({self.first_name} {self.last_name[:1]}.)"


DEMO_PATIENTS: dict[str, DemoPatient] = {
    # Hyphen and accents; the demo tour's patient.
    "maria": DemoPatient(
        "Maria", "García-López", date(1956, 3, 14),
        "(555) 201-3344", "maria.garcia@example.org",
        "12 Elm Street", "Springfield", "IL", "62701",
        (DemoVisit(0, time(10, 20), "Dr. Luis Fernández", "follow_up"),),
    ),
    # Same last name and birth date: the kiosk must ask for the first name.
    "john_smith": DemoPatient(
        "John", "Smith", date(1980, 1, 1),
        "(555) 201-4410", "john.smith@example.org",
        "48 Oak Avenue", "Springfield", "IL", "62702",
        (DemoVisit(0, time(9, 0), "Dr. Amara Okafor", "annual_physical"),),
    ),
    "jane_smith": DemoPatient(
        "Jane", "Smith", date(1980, 1, 1),
        "(555) 201-4411", "jane.smith@example.org",
        "48 Oak Avenue", "Springfield", "IL", "62702",
        (DemoVisit(0, time(9, 40), "Dr. Mei Chen", "follow_up"),),
    ),
    # Apostrophe.
    "walter": DemoPatient(
        "Walter", "O'Brien", date(1948, 11, 2),
        "(555) 201-7789", "walter.obrien@example.org",
        "305 Maple Court", "Chatham", "IL", "62629",
        (DemoVisit(0, time(11, 0), "NP Sarah Whitfield", "follow_up"),),
    ),
    # Spaces; booked on other days only -> "no appointment today".
    "ana": DemoPatient(
        "Ana", "de la Cruz", date(1990, 7, 21),
        "(555) 201-9021", "ana.delacruz@example.org",
        "7 Willow Lane", "Rochester", "IL", "62563",
        (
            DemoVisit(2, time(14, 0), "Dr. Amara Okafor", "new_patient"),
            DemoVisit(5, time(8, 40), "Dr. Mei Chen", "follow_up"),
        ),
    ),
}

# (first names, last names) by language; some last names repeat on purpose.
_NAMES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (
        ("James", "Mary", "Robert", "Patricia", "Michael", "Linda", "William", "Elizabeth",
         "David", "Barbara", "Richard", "Susan", "Joseph", "Karen", "Thomas", "Nancy"),
        ("Smith", "Johnson", "Williams", "Brown", "Miller", "Davis", "Wilson", "Taylor",
         "Anderson", "Harris", "Clark", "O'Connor", "O'Neill", "MacDonald", "St. John",
         "Smith-Jones", "Baker"),
    ),
    (
        ("José", "María", "Juan", "Lucía", "Sofía", "Ángel", "Jesús", "Carmen", "Inés",
         "Raúl", "Andrés", "Ramón", "Mónica", "Rocío", "Álvaro", "Ximena", "Joaquín"),
        ("Muñoz", "García", "Hernández", "Martínez", "Rodríguez", "López", "Pérez",
         "Sánchez", "Núñez", "Peña", "Ibáñez", "Jiménez", "de la Cruz", "de León",
         "del Río", "García-López", "Ortiz-Mena"),
    ),
    (
        ("Anh", "Bảo", "Châu", "Dũng", "Hà", "Hải", "Hương", "Khánh", "Linh", "Minh",
         "Ngọc", "Phúc", "Quang", "Thảo", "Tuấn", "Vy"),
        ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
         "Bùi", "Đỗ", "Ngô"),
    ),
    (
        ("Chinedu", "Ngozi", "Oluwaseun", "Adaeze", "Emeka", "Funmilayo", "Ifeoma"),
        ("Okonkwo", "Adeyemi", "Eze", "Nwosu", "Okafor", "Adébáyọ̀"),
    ),
    (
        ("Łukasz", "Małgorzata", "Zofia", "Siobhán", "Seán", "François", "Chloé", "Zoë",
         "Anaïs", "Søren", "Björn"),
        ("Kowalski", "Wiśniewska", "Ó Súilleabháin", "O'Brien", "Lefèvre", "D'Angelo",
         "Van der Berg", "Müller", "Øberg"),
    ),
    (
        ("Fatima", "Omar", "Layla", "Yusuf", "Wei", "Jia", "Min-jun", "Ji-woo", "Priya", "Arjun"),
        ("Al-Sayed", "El-Amin", "Haddad", "Chen", "Wang", "Li", "Kim", "Park", "Patel", "Singh"),
    ),
)
_LANGUAGE_WEIGHTS = (0.3, 0.25, 0.17, 0.08, 0.1, 0.1)

_STREETS = ("Elm Street", "Oak Avenue", "Maple Court", "Lincoln Way", "Cedar Road",
            "Washington Street", "Prairie Lane", "Sunset Drive", "Lake Shore Road", "Mill Street")
_PLACES = (("Springfield", "IL", "62701"), ("Springfield", "IL", "62702"),
           ("Springfield", "IL", "62704"), ("Chatham", "IL", "62629"),
           ("Rochester", "IL", "62563"), ("Sherman", "IL", "62684"))


def _uuid4(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _slots() -> list[time]:
    first = FIRST_SLOT.hour * 60 + FIRST_SLOT.minute
    end = LAST_SLOT_END.hour * 60 + LAST_SLOT_END.minute
    return [time(m // 60, m % 60) for m in range(first, end, SLOT_MINUTES)]


def _random_patient(rng: random.Random, taken: set[tuple[str, date]]) -> PatientRecord:
    firsts, lasts = rng.choices(_NAMES, weights=_LANGUAGE_WEIGHTS)[0]
    first, last = rng.choice(firsts), rng.choice(lasts)
    while True:  # never collide with a planted identity: tests count those exactly
        born = date(1935, 1, 1) + timedelta(days=rng.randrange(365 * 87))
        if (normalise_name(last), born) not in taken:
            break
    street = f"{rng.randint(1, 9899)} {rng.choice(_STREETS)}"
    city, state, postal = rng.choice(_PLACES)
    email = ""
    if rng.random() < 0.85:
        email = f"{normalise_name(first)}.{normalise_name(last)}{rng.randint(1, 99)}@example.org"
    return PatientRecord(
        id=_uuid4(rng), first_name=first, last_name=last, birth_date=born,
        phone=f"(555) {rng.randint(200, 999)}-{rng.randint(0, 9999):04d}", email=email,
        street=street, city=city, state=state, postal_code=postal,
    )


def build_demo_schedule(
    today: date,
) -> tuple[list[ClinicianRecord], list[PatientRecord], list[AppointmentRecord]]:
    """Clinicians, patients and appointments for `today` and the next 6 days."""
    rng = random.Random(SEED)
    clinicians = [ClinicianRecord(id=_uuid4(rng), display_name=n) for n in CLINICIANS]
    clinician_id = {c.display_name: c.id for c in clinicians}

    patients: list[PatientRecord] = []
    planted: dict[tuple[int, str, time], tuple[str, str]] = {}  # slot -> (patient, visit type)
    for key, p in DEMO_PATIENTS.items():
        record = PatientRecord(
            id=_uuid4(rng), first_name=p.first_name, last_name=p.last_name,
            birth_date=p.birth_date, phone=p.phone, email=p.email, street=p.street,
            city=p.city, state=p.state, postal_code=p.postal_code, portal_account=key in PORTAL_ACCOUNTS,
        )
        patients.append(record)
        for v in p.visits:
            planted[(v.day_offset, v.clinician, v.start)] = (record.id, v.visit_type)
    taken = {(normalise_name(p.last_name), p.birth_date) for p in DEMO_PATIENTS.values()}

    pool = [_random_patient(rng, taken) for _ in range(RANDOM_PATIENTS)]
    for i in range(TWIN_PAIRS):
        a, b = pool[2 * i], pool[2 * i + 1]
        email = f"{normalise_name(b.first_name)}.{normalise_name(a.last_name)}@example.org"
        pool[2 * i + 1] = replace(b, last_name=a.last_name, birth_date=a.birth_date, email=email)
    patients += pool

    appointments: list[AppointmentRecord] = []
    for offset in range(DAYS):
        day = today + timedelta(days=offset)
        free = [p.id for p in pool]  # one appointment per patient per day
        rng.shuffle(free)
        for name in CLINICIANS:
            for slot in _slots():
                if (offset, name, slot) in planted:
                    patient_id, visit_type = planted[(offset, name, slot)]
                elif rng.random() < BOOKED_SHARE and free:
                    patient_id = free.pop()
                    visit_type = rng.choices(VISIT_TYPES, weights=_VISIT_WEIGHTS)[0]
                else:
                    continue
                appointments.append(
                    AppointmentRecord(
                        id=_uuid4(rng), patient_id=patient_id, clinician_id=clinician_id[name],
                        start=datetime.combine(day, slot), visit_type=visit_type,
                        copay_cents=COPAY_CENTS[visit_type] or None,
                    )
                )
    return clinicians, patients, appointments
