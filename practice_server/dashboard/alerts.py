"""Alerts that need a person (/staff/alerts): urgent form answers, patients who need help
at a kiosk, copay problems, and dead letters (events the server refused) with retry and
resolve. Acknowledging, retrying and resolving are audited; so is every view (the page
names patients). live.py keeps the page current."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from babel.numbers import format_currency
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import alerts as server_alerts
from .. import dead_letters
from ..context import get_context
from ..models import Alert, Appointment, Clinician, Device, Event, Patient
from .arrivals import choose_site
from .auth import audit_action, audit_view, check_csrf, form_fields, require_staff
from .pages import page_html, refusal, render
from .sessions import StaffUser
from .waiting_room import local_time

router = APIRouter(prefix="/staff")
HELP_REASONS = {
    "no_match": "no appointment matched the name and birth date",
    "no_appointment_today": "no appointment today was found for them",
    "first_name_mismatch": "the first name did not match",
    "patient_rejected_match": "they said the appointment shown was not theirs",
    "cooldown": "the kiosk paused check-ins after repeated tries",
}
PAYMENT_WORDS = {"declined": "the card was declined", "timeout": "the payment terminal did not answer in time",
                 "error": "the payment terminal reported an error"}


@dataclass(frozen=True)
class AlertCard:
    id: str
    kind: str
    high: bool
    title: str
    what: str
    todo: str
    patient_id: str | None
    when: datetime
    occurrences: int


def _card(db: Session, site_id: str, a: server_alerts.OpenAlert) -> AlertCard:
    kiosk = db.scalar(select(Device.hostname).where(Device.id == a.device_id)) if a.device_id else None
    who = visit = ""
    if a.appointment_id:
        row = db.execute(select(Patient.first_name, Patient.last_name, Appointment.start, Clinician.display_name)
                         .join(Appointment, Appointment.patient_id == Patient.id)
                         .join(Clinician, Clinician.id == Appointment.clinician_id)
                         .where(Appointment.id == a.appointment_id)).first()
        if row is not None:
            who = f"{row.last_name}, {row.first_name}"
            visit = f"{row.start.strftime('%H:%M')} with {row.display_name}"
    if a.kind == "urgent_answer":
        flags = ", ".join(f.replace("_", " ") for f in a.flags) or "urgent answer"
        return AlertCard(a.id, a.kind, True, f"Urgent answer: {who}", f"{flags} ({visit}).",
                         "A clinician should see the patient now, before they leave the waiting room.",
                         a.patient_id, a.raised_at, a.occurrences)
    if a.kind == "needs_help":
        reason = HELP_REASONS.get(a.detail.get("reason", ""), "they could not check in")
        tries = f" {a.occurrences} times" if a.occurrences > 1 else ""
        return AlertCard(a.id, a.kind, False, f"A patient needs help at kiosk {kiosk or '?'}",
                         f"Check-in did not work{tries}: {reason}. The kiosk asked them to come to the desk.",
                         "Look for the patient at the kiosk and check them in at the desk.",
                         None, a.last_raised_at, a.occurrences)
    amount = format_currency(a.detail.get("amount_cents", 0) / 100, "USD", locale="en_US")
    problem = PAYMENT_WORDS.get(a.detail.get("status", ""), "the payment did not go through")
    return AlertCard(a.id, a.kind, False, f"Copay problem: {who}", f"{amount}: {problem} ({visit}).",
                     "Collect the copay at the desk.", a.patient_id, a.raised_at, a.occurrences)


def _page_data(request: Request, db: Session, user: StaffUser, site_id: str, now: datetime) -> dict:
    cards = [_card(db, site_id, a) for a in server_alerts.open_alerts(db, site_id)]
    letters = dead_letters.open_dead_letters(db, (site_id,))
    return {"cards": cards, "letters": letters, "now": now, "site_id": site_id,
            "time_of": lambda moment: local_time(db, site_id, moment),
            "minutes_ago": lambda moment: max(0, int((now - moment).total_seconds() // 60))}


def live_marker(db: Session, site_id: str) -> str:
    alerts_part = db.execute(select(func.count(), func.max(Alert.received_at), func.max(Alert.acknowledged_at),
                                    func.sum(Alert.occurrences)).where(Alert.site_id == site_id)).one()
    letters_part = db.execute(select(func.count(), func.max(Event.received_at), func.max(Event.resolved_at))
                              .join(Device, Device.id == Event.device_id)
                              .where(Device.site_id == site_id, Event.status == "rejected")).one()
    return repr((alerts_part, letters_part))


def live_rows(request: Request, db: Session, user: StaffUser, site_id: str, _clinician, now) -> tuple[str, object]:
    def render_rows() -> dict:
        data = _page_data(request, db, user, site_id, now)
        return {"html": page_html(request, "_alert_list.html", user, **data), "open": len(data["cards"]),
                "alerts": len(data["cards"]), "patients": [c.patient_id for c in data["cards"]]}  # audit only

    return live_marker(db, site_id), render_rows


@router.get("/alerts")
def alerts_page(request: Request, site: str | None = None, user: StaffUser = Depends(require_staff())) -> Response:
    ctx = get_context(request)
    now = ctx.clock()
    with ctx.write.begin() as db:
        chosen, sites = choose_site(request, db, user, site)
        data = _page_data(request, db, user, chosen.id, now)
        audit_view(db, user, "alerts", now, site_id=chosen.id, path=request.url.path,
                   patients=(c.patient_id for c in data["cards"]))
        return render(request, "alerts.html", user, current="alerts", site=chosen, sites=sites,
                      alerts_open=len(data["cards"]), **data)


def _back(site_id: str) -> Response:
    return RedirectResponse(f"/staff/alerts?site={site_id}", status_code=303)


@router.post("/alerts/{alert_id}/acknowledge")
async def acknowledge(request: Request, alert_id: str, user: StaffUser = Depends(require_staff())) -> Response:
    form = await form_fields(request)
    return await run_in_threadpool(_acknowledge, request, alert_id, user, form)


def _acknowledge(request: Request, alert_id: str, user: StaffUser, form: dict[str, str]) -> Response:
    check_csrf(user, form.get("csrf"))
    ctx = get_context(request)
    now = ctx.clock()
    site_id = form.get("site", "")
    with ctx.write.begin() as db:
        alert = db.get(Alert, alert_id[:36].lower())
        if not user.may_see_site(site_id) or alert is None or \
                not server_alerts.acknowledge(db, site_id, alert_id, user.display_name, now):
            raise refusal(request, user, 404, "No such alert", "It may have been dealt with already.")
        audit_action(db, user, "alert.acknowledged", now, code=alert.kind, site_id=site_id, patient_id=alert.patient_id)
    return _back(site_id)


@router.post("/dead-letters/{device_id}/{event_id}/retry")
async def retry(request: Request, device_id: str, event_id: str,
                user: StaffUser = Depends(require_staff("admin"))) -> Response:
    form = await form_fields(request)
    return await run_in_threadpool(_retry, request, device_id, event_id, user, form)


def _retry(request: Request, device_id: str, event_id: str, user: StaffUser, form: dict[str, str]) -> Response:
    check_csrf(user, form.get("csrf"))
    ctx = get_context(request)
    now = ctx.clock()
    site_id = form.get("site", "")
    with ctx.write.begin() as db:
        try:
            reason = dead_letters.retry(db, device_id, event_id, now, user.site_ids)
        except KeyError:
            raise refusal(request, user, 404, "No such event", "Reload the page.") from None
        audit_action(db, user, "dead_letter.retried", now, code="accepted" if reason is None else "still_rejected",
                     site_id=site_id)
    return _back(site_id)


@router.post("/dead-letters/{device_id}/{event_id}/resolve")
async def resolve(request: Request, device_id: str, event_id: str,
                  user: StaffUser = Depends(require_staff("front_desk", "admin"))) -> Response:
    form = await form_fields(request)
    return await run_in_threadpool(_resolve, request, device_id, event_id, user, form)


def _resolve(request: Request, device_id: str, event_id: str, user: StaffUser, form: dict[str, str]) -> Response:
    check_csrf(user, form.get("csrf"))
    note = form.get("note", "").strip()
    if not note:
        raise refusal(request, user, 400, "Say what was done",
                      "Write a short note of how the event was dealt with, then press Resolve again.")
    ctx = get_context(request)
    now = ctx.clock()
    site_id = form.get("site", "")
    with ctx.write.begin() as db:
        if not dead_letters.resolve(db, device_id, event_id, user.id, note, now, user.site_ids):
            raise refusal(request, user, 404, "No such event", "Reload the page.")
        audit_action(db, user, "dead_letter.resolved", now, site_id=site_id)
    return _back(site_id)
