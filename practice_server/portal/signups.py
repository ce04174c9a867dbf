"""Portal sign-ups made from a site's kiosks, per clinic-local day (for the staff dashboard)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import PortalAccount


def portal_signups(db: Session, site_id: str, day_from: date, day_to: date) -> list[tuple[date, int]]:
    """[(day, accounts made that day through an invitation from one of the site's kiosks)]
    for every day from `day_from` to `day_to` inclusive, days without any included as 0.
    Days are the site's local dates."""
    if day_to < day_from:
        return []
    rows = db.execute(
        select(PortalAccount.created_day, func.count())
        .where(PortalAccount.site_id == site_id, PortalAccount.created_via_device.is_not(None),
               PortalAccount.created_day >= day_from, PortalAccount.created_day <= day_to)
        .group_by(PortalAccount.created_day)
    ).all()
    counts = {day: int(n) for day, n in rows}
    return [(day, counts.get(day, 0))
            for day in (day_from + timedelta(days=i) for i in range((day_to - day_from).days + 1))]
