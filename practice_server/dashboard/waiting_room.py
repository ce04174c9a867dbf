"""What the arrivals board shows: one row per appointment of a site's day, with what the
patient did at the kiosk (forms, copay, insurance card, consent), and a cheap marker that
changes whenever any of it does (the live stream polls it; no state lives in a worker)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from .. import schedule
from ..kiosk_payments import visit_payment_states
from ..models import (Alert, Appointment, Clinician, FormResponse, InsuranceCard, Patient, PatientConsent, Site,
                      VisitPayment)

WAITING, BOOKED, ROOMED, CANCELLED = "waiting", "booked", "roomed", "cancelled"
_ORDER = {WAITING: 0, BOOKED: 1, ROOMED: 2, CANCELLED: 3}


@dataclass(frozen=True)
class Arrival:
    appointment_id: str
    patient_id: str
    patient_name: str
    birth_date: date
    clinician_id: str
    clinician: str
    visit_type: str
    start: datetime  # local clinic time
    state: str  # waiting, booked, roomed, cancelled
    arrived_at: datetime | None  # UTC
    forms: str  # complete, partial, none
    copay: str  # paid, deferred, problem, none
    card: str  # new, no card, none
    consent: str  # signed, at desk, none
    urgent: bool  # an open urgent-answer alert

    def waited_minutes(self, now: datetime) -> int | None:
        if self.state != WAITING or self.arrived_at is None:
            return None
        return max(0, int((now - self.arrived_at).total_seconds() // 60))


def site_day(db: Session, site_id: str, now: datetime) -> date:
    site = db.get(Site, site_id)
    return schedule.local_today(site.timezone, now)


def local_time(db: Session, site_id: str, moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(db.get(Site, site_id).timezone)).strftime("%H:%M")


def _state(a: Appointment) -> str:
    if a.status == "cancelled":
        return CANCELLED
    if a.roomed_at is not None or a.status == "seen":
        return ROOMED
    return WAITING if a.status == "arrived" else BOOKED


def arrivals(db: Session, site_id: str, day: date, *, clinician_id: str | None = None,
             own_first: str | None = None) -> list[Arrival]:
    """The day's appointments at the site: waiting patients first (longest wait first),
    then booked ones by time, then roomed; `own_first` (a clinician's id) floats theirs up."""
    where = [Appointment.site_id == site_id, Appointment.day == day]
    if clinician_id:
        where.append(Appointment.clinician_id == clinician_id)
    rows = db.execute(
        select(Appointment, Patient, Clinician).join(Patient, Patient.id == Appointment.patient_id)
        .join(Clinician, Clinician.id == Appointment.clinician_id).where(*where)
    ).all()
    ids = [a.id for a, _p, _c in rows]
    forms, cards, consents = defaultdict(set), {}, {}
    urgent = set()
    if ids:
        for appointment_id, status in db.execute(
                select(FormResponse.appointment_id, FormResponse.status).where(FormResponse.appointment_id.in_(ids))):
            forms[appointment_id].add(status)
        for appointment_id, status in db.execute(
                select(InsuranceCard.appointment_id, InsuranceCard.status).where(InsuranceCard.appointment_id.in_(ids))):
            cards[appointment_id] = "new" if status in ("current", "superseded") or cards.get(appointment_id) == "new" \
                else "no card"
        for appointment_id, status in db.execute(
                select(PatientConsent.appointment_id, PatientConsent.status).where(PatientConsent.appointment_id.in_(ids))):
            if consents.get(appointment_id) != "signed":
                consents[appointment_id] = "signed" if status == "signed" else "at desk"
        urgent = set(db.scalars(select(Alert.appointment_id).where(
            Alert.appointment_id.in_(ids), Alert.acknowledged_at.is_(None), Alert.kind == "urgent_answer")))
    payments = visit_payment_states(db, ids)
    out = []
    for a, p, c in rows:
        statuses = forms.get(a.id, set())
        form_state = "none" if not statuses else "partial" if statuses - {"completed"} else "complete"
        out.append(Arrival(
            appointment_id=a.id, patient_id=p.id, patient_name=f"{p.last_name}, {p.first_name}",
            birth_date=p.birth_date, clinician_id=c.id, clinician=c.display_name, visit_type=a.visit_type,
            start=a.start, state=_state(a), arrived_at=a.arrived_at, forms=form_state,
            copay=payments.get(a.id, "none"), card=cards.get(a.id, "none"), consent=consents.get(a.id, "none"),
            urgent=a.id in urgent,
        ))
    far = datetime.max.replace(tzinfo=None)

    def key(r: Arrival):
        arrived = r.arrived_at.replace(tzinfo=None) if r.arrived_at else far
        return (own_first is not None and r.clinician_id != own_first, _ORDER[r.state],
                arrived if r.state == WAITING else r.start, r.patient_name)

    return sorted(out, key=key)


def live_marker(db: Session, site_id: str, day: date) -> str:
    """Changes whenever anything the board shows changes: appointment rows (arrivals,
    rooming, contact changes all bump change_seq) and what the kiosks sent for the day."""
    parts = [db.scalar(select(func.max(Appointment.change_seq)).where(
        Appointment.site_id == site_id, Appointment.day == day))]
    for table, when in ((FormResponse, FormResponse.received_at), (InsuranceCard, InsuranceCard.received_at),
                        (PatientConsent, PatientConsent.received_at), (VisitPayment, VisitPayment.at)):
        parts.append(db.execute(select(func.count(), func.max(when)).where(
            table.site_id == site_id, table.appointment_id.in_(
                select(Appointment.id).where(and_(Appointment.site_id == site_id, Appointment.day == day))))).one())
    parts.append(db.execute(select(func.count(), func.max(Alert.received_at), func.max(Alert.acknowledged_at))
                            .where(Alert.site_id == site_id)).one())
    return repr(parts)


def mark_roomed(db: Session, site_id: str, appointment_id: str, now: datetime) -> bool:
    """The patient went to a room: off the waiting list, and the kiosks' queue positions
    move up (status "seen" is the schedule's "no longer waiting"; change_seq makes the
    kiosks pull it). False when there is no such waiting patient at the site."""
    return schedule.touch(db, and_(Appointment.id == appointment_id, Appointment.site_id == site_id,
                                   Appointment.status == "arrived"),
                          {"status": "seen", "roomed_at": now}) == 1


def sites_for(db: Session, site_ids: tuple[str, ...]) -> list[Site]:
    query = select(Site).order_by(Site.name)
    if site_ids:
        query = query.where(Site.id.in_(site_ids))
    return list(db.scalars(query))


def clinicians_at(db: Session, site_id: str, day: date) -> list[Clinician]:
    return list(db.scalars(select(Clinician).where(Clinician.id.in_(
        select(Appointment.clinician_id).where(Appointment.site_id == site_id, Appointment.day == day)))
        .order_by(Clinician.display_name)))
