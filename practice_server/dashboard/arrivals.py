"""The arrivals board (/staff/arrivals) and its live stream (/staff/live): who is waiting,
for how long, and what they finished at the kiosk; "Roomed" takes a patient off the list.

The live stream is server-sent events. Workers keep no state, so the stream polls the
database for waiting_room.live_marker every POLL seconds and sends the board's rows again
when it changed. Every page load and every stream opened is a view of patient data and
is audited; the stream ends when the session does (idle logout still applies)."""

from __future__ import annotations

import asyncio
import json
from datetime import date

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from ..context import get_context
from . import sessions
from .auth import COOKIE, audit_action, audit_view, check_csrf, form_fields, require_staff
from .pages import page_html, refusal, render
from .sessions import StaffUser
from .waiting_room import WAITING, arrivals, clinicians_at, live_marker, local_time, mark_roomed, site_day, sites_for

router = APIRouter(prefix="/staff")
POLL = 0.5  # seconds between looks at the database (the 2 s promise has room to spare)
KEEPALIVE = 15.0  # a comment now and then keeps proxies from closing a quiet stream
ANYONE = require_staff()


def _choose_site(request: Request, db, user: StaffUser, wanted: str | None):
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
            "time_of": lambda moment: local_time(db, site_id, moment)}


@router.get("/arrivals")
def arrivals_page(request: Request, site: str | None = None, clinician: str | None = None,
                  user: StaffUser = Depends(ANYONE)) -> Response:
    ctx = get_context(request)
    now = ctx.clock()
    with ctx.write.begin() as db:
        chosen, sites = _choose_site(request, db, user, site)
        board = _board(request, db, user, chosen.id, clinician, now)
        audit_view(db, user, "arrivals", now, site_id=chosen.id, path=request.url.path)
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
        audit_action(db, user, "appointment.roomed", now, site_id=site_id, code=appointment_id[:36])
    back = f"/staff/arrivals?site={site_id}" + (f"&clinician={form['clinician']}" if form.get("clinician") else "")
    return RedirectResponse(back, status_code=303)


# -- live stream -----------------------------------------------------------------------------


def _event(name: str, data: dict) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _look(request: Request, token: str | None, site_id: str, clinician: str | None, last: str | None):
    """One poll: (still signed in, new marker, rows html or None when unchanged)."""
    ctx = get_context(request)
    now = ctx.clock()
    with ctx.write.begin() as db:
        user = sessions.current(db, token, now, touch=False)
        if user is None:
            return False, last, None
        day: date = site_day(db, site_id, now)
        marker = live_marker(db, site_id, day)
        if marker == last:
            return True, marker, None
        board = _board(request, db, user, site_id, clinician, now)
        html = page_html(request, "_arrival_rows.html", user, site_id=site_id, clinician=clinician or "", **board)
        return True, marker, {"html": html, "waiting": board["waiting"]}


@router.get("/live")
async def live(request: Request, site: str, clinician: str | None = None,
               user: StaffUser = Depends(ANYONE)) -> Response:
    if not user.may_see_site(site):
        raise refusal(request, user, 403, "Not your site", "You do not work at that site.")
    ctx = get_context(request)

    def opened() -> None:
        with ctx.write.begin() as db:
            audit_view(db, user, "arrivals.live", ctx.clock(), site_id=site, path=request.url.path)

    await run_in_threadpool(opened)
    token = request.cookies.get(COOKIE)

    async def stream():
        marker, quiet = None, 0.0
        yield b"retry: 2000\n\n"
        while not await request.is_disconnected():
            signed_in, marker, board = await run_in_threadpool(_look, request, token, site, clinician, marker)
            if not signed_in:
                yield _event("signed_out", {})
                return
            if board is not None:
                yield _event("arrivals", board)
                quiet = 0.0
            elif quiet >= KEEPALIVE:
                yield b": still here\n\n"
                quiet = 0.0
            await asyncio.sleep(POLL)
            quiet += POLL

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
