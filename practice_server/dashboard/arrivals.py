"""The arrivals board (/staff/arrivals): who is waiting, for how long, and what they
finished at the kiosk; "Roomed" takes a patient off the list. live.py keeps it current.
Every page load is a view of patient data and is audited, with a row per patient shown."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from ..alerts import open_alert_count
from ..context import get_context
from ..models import Appointment
from .auth import audit_action, audit_view, check_csrf, form_fields, require_staff
from .pages import page_html, refusal, render
from .sessions import StaffUser
from .waiting_room import WAITING, arrivals, clinicians_at, live_marker, local_time, mark_roomed, site_day, sites_for

router = APIRouter(prefix="/staff")
ANYONE = require_staff()


def choose_site(request: Request, db, user: StaffUser, wanted: str | None):
    sites = sites_for(db, user.site_ids)
    if not sites:
        raise refusal(request, user, 403, "No site", "Your account has no site yet. Ask your administrator.")
    site = next((s for s in sites if s.id == wanted), sites[0])
    return site, sites


def _board(request: Request, db, user: StaffUser, site_id: str, clinician_id: str | None, now) -> dict:
    day = site_day(db, site_id, now)
    rows = arrivals(db, site_id, day, clinician_id=clinician_id or None,
                    own_first=user.clinician_id if user.role == "clinician" else None)
    return {"rows": rows, "day": day, "now": now, "waiting": sum(r.state == WAITING for r in rows),
            "alerts_open": open_alert_count(db, (site_id,)), "time_of": lambda moment: local_time(db, site_id, moment)}


@router.get("/arrivals")
def arrivals_page(request: Request, site: str | None = None, clinician: str | None = None,
                  user: StaffUser = Depends(ANYONE)) -> Response:
    ctx = get_context(request)
    now = ctx.clock()
    with ctx.write.begin() as db:
        chosen, sites = choose_site(request, db, user, site)
        board = _board(request, db, user, chosen.id, clinician, now)
        audit_view(db, user, "arrivals", now, site_id=chosen.id, path=request.url.path,
                   patients=(r.patient_id for r in board["rows"]))
        return render(request, "arrivals.html", user, current="arrivals", site=chosen, sites=sites,
                      clinicians=clinicians_at(db, chosen.id, board["day"]), clinician=clinician or "", **board)


@router.post("/arrivals/{appointment_id}/roomed")
async def roomed(request: Request, appointment_id: str, user: StaffUser = Depends(require_staff())) -> Response:
    form = await form_fields(request)
    return await run_in_threadpool(_roomed, request, appointment_id, user, form)


def _roomed(request: Request, appointment_id: str, user: StaffUser, form: dict[str, str]) -> Response:
    check_csrf(user, form.get("csrf"))
    ctx = get_context(request)
    now = ctx.clock()
    site_id = form.get("site", "")
    with ctx.write.begin() as db:
        if not user.may_see_site(site_id) or not mark_roomed(db, site_id, appointment_id[:36], now):
            raise refusal(request, user, 404, "Not on the list",
                          "That patient is not waiting at this site any more. The list has been updated.")
        audit_action(db, user, "appointment.roomed", now, site_id=site_id, code=appointment_id[:36],
                     patient_id=db.scalar(select(Appointment.patient_id).where(Appointment.id == appointment_id[:36])))
    back = f"/staff/arrivals?site={site_id}" + (f"&clinician={form['clinician']}" if form.get("clinician") else "")
    return RedirectResponse(back, status_code=303)


def live_rows(request: Request, db, user: StaffUser, site_id: str, clinician: str | None, now) -> tuple[str, dict | None]:
    """For live.py: (marker, render) of the board; render() gives the rows' HTML and count
    (and the patients shown, for the audit)."""
    marker = live_marker(db, site_id, site_day(db, site_id, now))

    def render_rows() -> dict:
        board = _board(request, db, user, site_id, clinician, now)
        html = page_html(request, "_arrival_rows.html", user, site_id=site_id, clinician=clinician or "", **board)
        return {"html": html, "waiting": board["waiting"], "alerts": board["alerts_open"],
                "patients": [r.patient_id for r in board["rows"]]}  # for the audit, not sent

    return marker, render_rows
