"""Who saw or acted on one patient's data, for the practice's privacy officer (a patient
may ask for this accounting): `python -m practice_server access-report PATIENT_ID`.

Reads the audit log's rows that name the patient: each time the dashboard showed them
(arrivals, alerts, live updates) and each action on them (roomed, alert acknowledged),
with the staff account, its role, the site and the time. Ids and codes only, as the
audit log keeps them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .dashboard.models import StaffUser
from .models import AuditEntry, Site
from .schedule_import import our_id


@dataclass(frozen=True)
class Access:
    at: datetime
    action: str  # staff.viewed_patient, appointment.roomed, alert.acknowledged, ...
    what: str  # the page or the alert kind
    username: str
    role: str
    site: str


def accesses(db: Session, patient_id: str, since: datetime) -> list[Access]:
    """Every audited access to `patient_id` (ours, or the EHR's id the schedule came with)
    from `since`, oldest first."""
    rows = db.execute(
        select(AuditEntry.at, AuditEntry.action, AuditEntry.code, StaffUser.username, StaffUser.role, Site.name)
        .outerjoin(StaffUser, StaffUser.id == AuditEntry.staff_user)
        .outerjoin(Site, Site.id == AuditEntry.site_id)
        .where(AuditEntry.patient_id == our_id("patient", patient_id.strip()), AuditEntry.at >= since)
        .order_by(AuditEntry.at, AuditEntry.id))
    return [Access(at, action, code or "", username or "(no staff account)", role or "", site or "")
            for at, action, code, username, role, site in rows]


def format_report(patient_id: str, since: datetime, found: list[Access]) -> str:
    lines = [f"Accesses to patient {patient_id} since {since:%Y-%m-%d %H:%M} UTC: {len(found)}"]
    for a in found:
        lines.append(f"{a.at:%Y-%m-%d %H:%M:%S}  {a.username:<20} {a.role:<11} {a.action:<22} {a.what:<16} {a.site}")
    return "\n".join(lines)
