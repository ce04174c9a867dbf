"""The server's replies, checked against docs/SYNC_API.md and turned into plain values.

A reply of the wrong shape is a TransientError ("bad_reply"): a proxy or a half-deployed
server can send anything, and acting on half a reply could mark events sent that the
server never stored. Error messages name the field, never its value (values can be PHI).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from kiosk.store import AppointmentRecord, ClinicianRecord, PatientRecord

from .errors import TransientError

ACCEPTED, DUPLICATE, REJECTED = "accepted", "duplicate", "rejected"
RESULT_STATUSES = (ACCEPTED, DUPLICATE, REJECTED)
APPOINTMENT_STATUSES = ("booked", "arrived", "seen", "cancelled")
PATIENT_TEXT_FIELDS = ("phone", "email", "street", "city", "state", "postal_code")
MAX_REASON_CHARS = 300


@dataclass(frozen=True)
class EventResult:
    id: str
    status: str  # accepted | duplicate | rejected
    reason: str | None  # the server's reason for a rejection


@dataclass(frozen=True, repr=False)
class SchedulePage:
    cursor: str
    more: bool
    clinicians: list[ClinicianRecord]
    patients: list[PatientRecord]
    appointments: list[AppointmentRecord]

    def __repr__(self) -> str:  # patients are PHI
        return (
            f"SchedulePage(more={self.more}, clinicians={len(self.clinicians)}, "
            f"patients={len(self.patients)}, appointments={len(self.appointments)})"
        )


@dataclass(frozen=True)
class Bundle:
    kind: str
    version: str
    items: Any
    etag: str
    body: dict[str, Any]  # the whole reply, as the store keeps it


def bad(what: str) -> TransientError:
    return TransientError("bad_reply", f"the server's reply does not follow the sync API: {what}")


def _obj(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise bad(f"{what} is not a JSON object")
    return value


def _list(body: dict[str, Any], key: str, what: str) -> list[Any]:
    value = body.get(key)
    if not isinstance(value, list):
        raise bad(f"{what}: '{key}' is not a list")
    return value


def _str(row: dict[str, Any], key: str, what: str, *, empty_ok: bool = False) -> str:
    value = row.get(key)
    if not isinstance(value, str) or (not value and not empty_ok):
        raise bad(f"{what}: '{key}' is missing or not a string")
    return value


def event_results(body: Any, sent_ids: list[str]) -> list[EventResult]:
    """One result per event sent, same ids in the same order; anything else is refused
    whole, so a reply that leaves an event out can never get it marked."""
    body = _obj(body, "the events reply")
    rows = _list(body, "results", "the events reply")
    if len(rows) != len(sent_ids):
        raise bad(f"{len(rows)} results for a batch of {len(sent_ids)} events")
    results = []
    for row, sent in zip(rows, sent_ids, strict=True):
        row = _obj(row, "an event result")
        if row.get("id") != sent:
            raise bad("the results do not name the events of the batch in order")
        status = row.get("status")
        if status not in RESULT_STATUSES:
            raise bad("an event result has an unknown status")
        reason = row.get("reason")
        if status == REJECTED:
            reason = reason if isinstance(reason, str) and reason else "rejected (no reason given)"
            reason = reason[:MAX_REASON_CHARS]
        else:
            reason = None
        results.append(EventResult(id=sent, status=status, reason=reason))
    return results


def schedule_page(body: Any) -> SchedulePage:
    body = _obj(body, "the schedule reply")
    cursor = body.get("cursor")
    if not isinstance(cursor, str):
        raise bad("the schedule reply has no cursor string")
    more = body.get("more")
    if not isinstance(more, bool):
        raise bad("the schedule reply has no 'more' true/false")
    clinicians = [
        ClinicianRecord(id=_str(c, "id", "a clinician"), display_name=_str(c, "display_name", "a clinician"))
        for c in (_obj(c, "a clinician") for c in _list(body, "clinicians", "the schedule reply"))
    ]
    patients = [_patient(_obj(p, "a patient")) for p in _list(body, "patients", "the schedule reply")]
    appointments = [
        _appointment(_obj(a, "an appointment")) for a in _list(body, "appointments", "the schedule reply")
    ]
    known_patients = {p.id for p in patients}
    known_clinicians = {c.id for c in clinicians}
    for a in appointments:
        # The contract puts every appointment's patient and clinician in the same page;
        # without them the store could not apply the page at all.
        if a.patient_id not in known_patients or a.clinician_id not in known_clinicians:
            raise bad("an appointment's patient or clinician is not in the same page")
    return SchedulePage(cursor, more, clinicians, patients, appointments)


def _patient(row: dict[str, Any]) -> PatientRecord:
    what = "a patient"
    try:
        birth_date = date.fromisoformat(_str(row, "birth_date", what))
    except ValueError:
        raise bad(f"{what}: 'birth_date' is not an ISO date") from None
    text = {f: _str(row, f, what, empty_ok=True) if row.get(f) is not None else "" for f in PATIENT_TEXT_FIELDS}
    return PatientRecord(
        id=_str(row, "id", what),
        first_name=_str(row, "first_name", what, empty_ok=True),
        last_name=_str(row, "last_name", what),
        birth_date=birth_date,
        history=_history(row.get("history"), what),
        portal_account=row.get("portal_account") is True,
        **text,
    )


def _history(value: Any, what: str) -> dict[str, str]:
    """"form:<url>" / "consent:<id>@<version>" -> ISO date; absent from older servers."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad(f"{what}: 'history' is not an object")
    for key, day in value.items():
        if not isinstance(day, str):
            raise bad(f"{what}: a 'history' date is not a string")
        try:
            date.fromisoformat(day)
        except ValueError:
            raise bad(f"{what}: a 'history' date is not an ISO date") from None
    return dict(value)


def _appointment(row: dict[str, Any]) -> AppointmentRecord:
    what = "an appointment"
    try:
        start = datetime.fromisoformat(_str(row, "start", what))
    except ValueError:
        raise bad(f"{what}: 'start' is not an ISO date-time") from None
    if start.tzinfo is not None:
        raise bad(f"{what}: 'start' must be naive local clinic time")
    status = row.get("status")
    if status not in APPOINTMENT_STATUSES:
        raise bad(f"{what}: unknown status")
    return AppointmentRecord(
        id=_str(row, "id", what),
        patient_id=_str(row, "patient_id", what),
        clinician_id=_str(row, "clinician_id", what),
        start=start,
        visit_type=_str(row, "visit_type", what)[:32],
        status=status,
        copay_cents=_copay(row.get("copay_cents"), what),
    )


def _copay(value: Any, what: str) -> int | None:
    """Amount due in cents; absent or null from servers that have none."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1_000_000:
        raise bad(f"{what}: 'copay_cents' is not a whole number of cents between 0 and 1000000")
    return value


def bundle(body: Any, kind: str, etag: str | None) -> Bundle:
    body = _obj(body, "the bundle reply")
    if body.get("kind", kind) != kind:
        raise bad(f"asked for the {kind} bundle, got another kind")
    if "items" not in body:
        raise bad("the bundle reply has no 'items'")
    if kind == "config":
        # Read as the kiosk app will read it (kiosk/site_config.py): settings the app would
        # refuse are not kept, and the problem shows in the health file and the fleet view.
        from kiosk.site_config import SiteConfigError, parse_site_config

        try:
            parse_site_config(_obj(body["items"], "the config bundle's items"))
        except SiteConfigError as error:
            raise bad("the config bundle: " + "; ".join(error.problems)) from None
    version = body.get("version")
    return Bundle(
        kind=kind,
        version=str(version) if version is not None else "",
        items=body["items"],
        etag=etag or "",
        body=body,
    )


def server_time(body: Any) -> datetime:
    body = _obj(body, "the heartbeat reply")
    try:
        value = datetime.fromisoformat(_str(body, "server_time", "the heartbeat reply"))
    except ValueError:
        raise bad("the heartbeat reply's server_time is not an ISO date-time") from None
    if value.tzinfo is None:
        raise bad("the heartbeat reply's server_time has no UTC offset")
    return value
