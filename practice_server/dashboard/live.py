"""The dashboard's live stream (/staff/live?view=arrivals|alerts&site=...): server-sent
events, so a board changes without a page reload.

Workers keep no state, so the stream polls the database for the view's change marker
every POLL seconds and sends the view's rows again when it changed. Opening a stream is a
view of patient data and is audited, and so is each patient the first time the stream
shows them; the stream does not keep the session alive and ends
(event `signed_out`) when the session does."""

from __future__ import annotations

import asyncio
import json

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse

from ..context import get_context
from . import alerts, arrivals, sessions
from .auth import COOKIE, audit_patients_shown, audit_view, require_staff
from .pages import refusal
from .sessions import StaffUser

router = APIRouter(prefix="/staff")
POLL = 0.5  # seconds between looks at the database (the 2 s promise has room to spare)
KEEPALIVE = 15.0  # a comment now and then keeps proxies from closing a quiet stream
VIEWS = {"arrivals": arrivals.live_rows, "alerts": alerts.live_rows}


def _event(name: str, data: dict) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _look(request: Request, view: str, token: str | None, site_id: str, clinician: str | None, last: str | None,
          shown: set[str]):
    """One poll: (still signed in, marker, the view's data or None when unchanged). Patients
    this stream shows for the first time are audited and added to `shown`."""
    ctx = get_context(request)
    now = ctx.clock()
    with ctx.write.begin() as db:
        user = sessions.current(db, token, now, touch=False)
        if user is None:
            return False, last, None
        marker, render = VIEWS[view](request, db, user, site_id, clinician, now)
        if marker == last:
            return True, marker, None
        data = render()
        new = {p for p in data.pop("patients") if p} - shown
        audit_patients_shown(db, user, f"{view}.live", now, new, site_id=site_id, path=request.url.path)
        shown |= new
        return True, marker, data


@router.get("/live")
async def live(request: Request, site: str, view: str = "arrivals", clinician: str | None = None,
               user: StaffUser = Depends(require_staff())) -> Response:
    if view not in VIEWS:
        raise refusal(request, user, 404, "No such view", "Reload the page.")
    if not user.may_see_site(site):
        raise refusal(request, user, 403, "Not your site", "You do not work at that site.")
    ctx = get_context(request)

    def opened() -> None:
        with ctx.write.begin() as db:
            audit_view(db, user, f"{view}.live", ctx.clock(), site_id=site, path=request.url.path)

    await run_in_threadpool(opened)
    token = request.cookies.get(COOKIE)

    async def stream():
        marker, quiet, shown = None, 0.0, set()
        yield b"retry: 2000\n\n"
        while not await request.is_disconnected():
            signed_in, marker, data = await run_in_threadpool(
                _look, request, view, token, site, clinician, marker, shown)
            if not signed_in:
                yield _event("signed_out", {})
                return
            if data is not None:
                yield _event(view, data)
                quiet = 0.0
            elif quiet >= KEEPALIVE:
                yield b": still here\n\n"
                quiet = 0.0
            await asyncio.sleep(POLL)
            quiet += POLL

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
