"""Schedule import from the EHR side: a FHIR Bundle of Appointments (a file, or an EHR
endpoint fetched page by page) or a CSV file for practices without FHIR.

Each row (CSV line, or Bundle Appointment entry) is checked on its own: a bad one is
reported with its line or entry number, what is wrong and how to fix it, and the good
ones are kept. Rows are upserts keyed on the EHR's ids, so running the same import
again (after an interruption, or tomorrow with changes) gives the same schedule. Every
change goes through schedule.touch / stamp_new, so kiosks pull it.

EHR ids that are not UUIDs are mapped to a stable UUID (uuid5 of the kind and the id).

CSV columns (header row, UTF-8; extra columns are ignored):
  appointment_id, start (YYYY-MM-DD HH:MM, the clinic's local time), visit_type,
  status (booked or cancelled; empty: booked), patient_id, first_name, last_name,
  birth_date (YYYY-MM-DD), clinician_id, clinician_name;
  optional: phone, email, street, city, state, postal_code, language, copay (e.g. 25.00)
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import and_
from sqlalchemy.orm import Session

from . import schedule
from .models import Appointment, Clinician, Patient, Site

NAMESPACE = uuid.UUID("8a7d3c1e-52b4-4f0e-9d55-0c3a6f1e2b90")  # ours: EHR id -> our UUID
REQUIRED = ("appointment_id", "start", "visit_type", "patient_id", "first_name", "last_name", "birth_date",
            "clinician_id", "clinician_name")
_VISIT_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
FHIR_STATUS = {"booked": "booked", "pending": "booked", "proposed": "booked", "cancelled": "cancelled",
               "noshow": "cancelled", "entered-in-error": "cancelled", "arrived": "booked", "checked-in": "booked",
               "fulfilled": "booked"}  # the kiosk's check-in sets arrival itself
MAX_PAGES = 1000


class ScheduleImportError(ValueError):
    """The whole import cannot run (unreadable file, no such site, endpoint down)."""


@dataclass
class Row:
    where: str  # "line 7" or "entry 3 (Appointment/abc)"
    appointment_id: str
    start: datetime  # naive, the clinic's local time
    visit_type: str
    status: str
    patient: dict[str, Any]
    clinician: dict[str, str]
    copay_cents: int | None = None


@dataclass
class Report:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def kept(self) -> int:
        return self.added + self.updated + self.unchanged

    def summary(self) -> str:
        return (f"{self.kept} appointments kept ({self.added} new, {self.updated} changed, {self.unchanged} "
                f"unchanged), {len(self.errors)} rows refused")


def our_id(kind: str, ehr_id: str) -> str:
    ehr_id = ehr_id.strip()
    return ehr_id.lower() if _UUID.match(ehr_id.lower()) else str(uuid.uuid5(NAMESPACE, f"{kind}:{ehr_id}"))


class RowError(ValueError):
    pass


# -- CSV -----------------------------------------------------------------------------------------


def rows_from_csv(text: str) -> Iterator[Row | str]:
    """Row, or a message for a row that cannot be used."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise ScheduleImportError(f"the CSV header lacks {', '.join(missing)}; the first line must name the columns "
                           f"(see `import-schedule --help`)")
    for record in reader:
        where = f"line {reader.line_num}"
        try:
            yield _csv_row(where, {k: (v or "").strip() for k, v in record.items() if k})
        except RowError as e:
            yield f"{where}: {e}"


def _csv_row(where: str, r: dict[str, str]) -> Row:
    empty = [c for c in REQUIRED if not r.get(c)]
    if empty:
        raise RowError(f"{', '.join(empty)} {'is' if len(empty) == 1 else 'are'} empty")
    try:
        start = datetime.strptime(r["start"], "%Y-%m-%d %H:%M")
    except ValueError:
        raise RowError(f"start {r['start']!r} is not YYYY-MM-DD HH:MM (e.g. 2026-11-24 09:30)") from None
    status = (r.get("status") or "booked").lower()
    if status not in ("booked", "cancelled"):
        raise RowError(f"status {r['status']!r} must be booked or cancelled")
    copay = None
    if r.get("copay"):
        try:
            copay = round(float(r["copay"].replace("$", "")) * 100)
        except ValueError:
            raise RowError(f"copay {r['copay']!r} is not an amount like 25.00") from None
        if not 0 <= copay <= 9_999_999:
            raise RowError("copay must be between 0 and 99999.99")
    return Row(where, r["appointment_id"], start, _visit_type(r["visit_type"]), status,
               _patient(r, r["patient_id"]), {"id": r["clinician_id"], "name": r["clinician_name"]}, copay)


def _visit_type(text: str) -> str:
    slug = text.strip().lower().replace(" ", "_").replace("-", "_")
    if not _VISIT_TYPE.match(slug):
        raise RowError(f"visit_type {text!r} must be a short name of letters, digits and _ (e.g. follow_up)")
    return slug


def _patient(r: dict[str, str], ehr_id: str) -> dict[str, Any]:
    try:
        born = date.fromisoformat(r["birth_date"])
    except ValueError:
        raise RowError(f"birth_date {r['birth_date']!r} is not YYYY-MM-DD (e.g. 1961-05-17)") from None
    if not date(1900, 1, 1) <= born <= date.today():
        raise RowError(f"birth_date {born} is not a possible birth date")
    return {"ehr_id": ehr_id, "first_name": r["first_name"][:200], "last_name": r["last_name"][:200],
            "birth_date": born, **{k: (r.get(k) or "")[:200] for k in ("phone", "email", "street", "city", "state")},
            "postal_code": (r.get("postal_code") or "")[:20], "language": (r.get("language") or "en")[:35]}


# -- FHIR Bundle ---------------------------------------------------------------------------------


def rows_from_bundle(bundle: dict[str, Any], timezone: str, offset: int = 0) -> Iterator[Row | str]:
    if bundle.get("resourceType") != "Bundle":
        raise ScheduleImportError("the file is not a FHIR Bundle (resourceType must be Bundle)")
    entries = [e.get("resource") or {} for e in bundle.get("entry") or []]
    known = {(r.get("resourceType"), r.get("id")): r for r in entries}
    for index, resource in enumerate(entries, start=offset + 1):
        if resource.get("resourceType") != "Appointment":
            continue
        where = f"entry {index} (Appointment/{resource.get('id', '?')})"
        try:
            yield _fhir_row(where, resource, known, timezone)
        except RowError as e:
            yield f"{where}: {e}"


def _actor(appointment: dict, kind: str, known: dict) -> dict[str, Any]:
    contained = {f"#{r.get('id')}": r for r in appointment.get("contained") or []}
    for participant in appointment.get("participant") or []:
        reference = (participant.get("actor") or {}).get("reference", "")
        if reference.startswith(f"{kind}/"):
            found = known.get((kind, reference.split("/", 1)[1]))
        elif reference in contained and contained[reference].get("resourceType") == kind:
            found = contained[reference]
        else:
            continue
        if found is None:
            raise RowError(f"{reference} is not in the bundle; include the {kind} resource as an entry")
        return found
    raise RowError(f"no {kind} among the participants; add one with actor.reference {kind}/<id>")


def _fhir_row(where: str, a: dict, known: dict, timezone: str) -> Row:
    if not a.get("id"):
        raise RowError("the Appointment has no id")
    try:
        start = datetime.fromisoformat(str(a.get("start", "")).replace("Z", "+00:00"))
    except ValueError:
        raise RowError("start is missing or not a FHIR instant (e.g. 2026-11-24T09:30:00-06:00)") from None
    if start.tzinfo is None:
        raise RowError("start needs a time zone offset (e.g. 2026-11-24T09:30:00-06:00)")
    status = FHIR_STATUS.get(a.get("status", ""))
    if status is None:
        raise RowError(f"status {a.get('status')!r} is not an R4 Appointment status")
    kind = a.get("appointmentType") or {}
    visit = kind.get("text") or next((c.get("code") for c in kind.get("coding") or [] if c.get("code")), "")
    if not visit:
        raise RowError("appointmentType has neither text nor a coding code; the kiosk's steps depend on it")
    p = _actor(a, "Patient", known)
    name = (p.get("name") or [{}])[0]
    telecom = {t.get("system"): t.get("value", "") for t in p.get("telecom") or []}
    address = (p.get("address") or [{}])[0]
    language = next((c.get("code") for comm in p.get("communication") or []
                     for c in (comm.get("language") or {}).get("coding") or []), "en")
    record = {"first_name": " ".join(name.get("given") or []), "last_name": name.get("family", ""),
              "birth_date": p.get("birthDate", ""), "phone": telecom.get("phone", ""),
              "email": telecom.get("email", ""), "street": " ".join(address.get("line") or []),
              "city": address.get("city", ""), "state": address.get("state", ""),
              "postal_code": address.get("postalCode", ""), "language": language}
    if not (p.get("id") and record["first_name"] and record["last_name"] and record["birth_date"]):
        raise RowError("the Patient needs an id, a given and family name and a birthDate")
    practitioner = _actor(a, "Practitioner", known)
    pname = (practitioner.get("name") or [{}])[0]
    display = pname.get("text") or " ".join([*(pname.get("prefix") or []), *(pname.get("given") or []),
                                              pname.get("family", "")]).strip()
    if not practitioner.get("id") or not display:
        raise RowError("the Practitioner needs an id and a name")
    local = start.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
    return Row(where, a["id"], local, _visit_type(visit), status, _patient(record, p["id"]),
               {"id": practitioner["id"], "name": display})


def fetch_bundles(url: str, token: str | None = None, timeout: float = 30) -> Iterator[dict]:
    """The Bundle at `url` and the pages its `next` links lead to (TLS verified)."""
    headers = {"Accept": "application/fhir+json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    for _ in range(MAX_PAGES):
        try:
            answer = requests.get(url, headers=headers, timeout=timeout)
        except requests.RequestException as e:
            raise ScheduleImportError(f"could not reach {url.split('?')[0]}: {type(e).__name__}; check the address, "
                               "the network and the EHR's certificate") from None
        if answer.status_code != 200:
            raise ScheduleImportError(f"{url.split('?')[0]} answered HTTP {answer.status_code}; check the address and "
                               "the token ($CLINIC_EHR_TOKEN)")
        try:
            bundle = answer.json()
        except ValueError:
            raise ScheduleImportError(f"{url.split('?')[0]} did not answer JSON") from None
        yield bundle
        url = next((link.get("url") for link in bundle.get("link") or [] if link.get("relation") == "next"), None)
        if not url:
            return
    raise ScheduleImportError(f"more than {MAX_PAGES} pages; import a narrower date range")


# -- storing -------------------------------------------------------------------------------------


def store(db: Session, site: Site, rows: Iterable[Row | str], now: datetime) -> Report:
    """Upsert every good row in its own savepoint; messages for the bad ones."""
    report = Report()
    for row in rows:
        if isinstance(row, str):
            report.errors.append(row)
            continue
        try:
            with db.begin_nested():
                outcome = _upsert(db, site, row, now)
        except RowError as e:
            report.errors.append(f"{row.where}: {e}")
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
    return report


def _upsert(db: Session, site: Site, row: Row, now: datetime) -> str:
    clinician_id = our_id("clinician", row.clinician["id"])
    clinician = db.get(Clinician, clinician_id)
    if clinician is None:
        db.add(Clinician(id=clinician_id, display_name=row.clinician["name"][:200]))
    elif clinician.display_name != row.clinician["name"][:200]:
        clinician.display_name = row.clinician["name"][:200]
        schedule.touch(db, Appointment.clinician_id == clinician_id)
    patient_id = our_id("patient", row.patient["ehr_id"])
    values = {k: v for k, v in row.patient.items() if k != "ehr_id"}
    patient = db.get(Patient, patient_id)
    if patient is None:
        db.add(Patient(id=patient_id, updated_at=now, **values))
    elif any(getattr(patient, k) != v for k, v in values.items()):
        for k, v in values.items():
            setattr(patient, k, v)
        patient.updated_at = now
        db.flush()
        schedule.touch_patient(db, patient_id, now.date())
    db.flush()
    appointment_id = our_id("appointment", row.appointment_id)
    existing = db.get(Appointment, appointment_id)
    fields = {"patient_id": patient_id, "clinician_id": clinician_id, "start": row.start, "day": row.start.date(),
              "visit_type": row.visit_type, "copay_cents": row.copay_cents}
    if existing is None:
        db.add(Appointment(id=appointment_id, site_id=site.id, status=row.status, **fields, **schedule.stamp_new(db)))
        return "added"
    if existing.site_id != site.id:
        raise RowError(f"appointment {row.appointment_id} belongs to another site; import it with that site's name")
    status = row.status if row.status == "cancelled" or existing.status == "cancelled" else existing.status
    changes = {k: v for k, v in {**fields, "status": status}.items() if getattr(existing, k) != v}
    if not changes:
        return "unchanged"
    db.flush()
    schedule.touch(db, and_(Appointment.id == appointment_id), changes)
    return "updated"


def parse_file(text: str, kind: str, timezone: str) -> Iterator[Row | str]:
    if kind == "csv":
        return rows_from_csv(text)
    try:
        bundle = json.loads(text)
    except ValueError as e:
        raise ScheduleImportError(f"the file is not JSON ({e.msg} at line {e.lineno}); is it a CSV? use --format csv") from None
    return rows_from_bundle(bundle, timezone)
