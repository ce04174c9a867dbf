"""Server audit entries: refused requests, enrolments, IT actions, staff sign-ins and views
of patient data. Ids and codes only, never a request body."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from .models import AuditEntry

log = logging.getLogger(__name__)


def record(
    db: Session,
    action: str,
    now: datetime,
    *,
    code: str | None = None,
    device_id: str | None = None,
    site_id: str | None = None,
    path: str | None = None,
    client_address: str | None = None,
    staff_user: str | None = None,
    patient_id: str | None = None,
    fhir_client: str | None = None,
) -> None:
    """Add an audit row to `db`'s transaction (the caller commits) and log the same ids."""
    entry = AuditEntry(
        at=now,
        action=action[:64],
        code=code[:64] if code else None,
        device_id=device_id[:64] if device_id else None,
        site_id=site_id,
        path=path[:200] if path else None,
        client_address=client_address[:100] if client_address else None,
        staff_user=staff_user,
        patient_id=patient_id,
        fhir_client=fhir_client,
    )
    db.add(entry)
    log.info(
        "audit." + action,
        extra={"fields": {"code": code, "device_id": entry.device_id, "site_id": site_id,
                          "path": entry.path, "client": entry.client_address,
                          "staff_user": staff_user, "patient_id": patient_id,
                          "fhir_client": fhir_client}},
    )


def record_patients(db: Session, action: str, now: datetime, patient_ids: Iterable[str], *, code: str,
                    site_id: str | None, staff_user: str, path: str | None = None) -> int:
    """One row per patient whose data a staff member was shown, so "who saw this patient?"
    is one indexed query; one log line with the count. Returns the number of rows."""
    ids = sorted({p for p in patient_ids if p})
    db.add_all([AuditEntry(at=now, action=action[:64], code=code[:64], site_id=site_id,
                           path=path[:200] if path else None, staff_user=staff_user, patient_id=p) for p in ids])
    if ids:
        log.info("audit." + action, extra={"fields": {"code": code, "site_id": site_id, "staff_user": staff_user,
                                                      "patients": len(ids)}})
    return len(ids)
