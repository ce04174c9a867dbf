"""The fleet page for IT (/staff/fleet, admins): every kiosk with its site, version, last
heartbeat, backlog and oldest unsent event, disk, dead letters and last error; kiosks
silent longer than the server's threshold are listed first and flagged; revoke (a reason
and a confirmation, audited) makes the server refuse the kiosk's next request. No PHI."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from provisioning.fleet import age, size

from .. import admin
from ..context import get_context
from .auth import audit_action, check_csrf, form_fields, require_staff
from .pages import refusal, render
from .sessions import StaffUser

router = APIRouter(prefix="/staff")
ADMIN = require_staff("admin")
LOW_DISK = 1_000_000_000  # bytes: below this the kiosk's outbox and photos may fill it


def _fleet(request: Request, db, user: StaffUser, now):
    silent = timedelta(minutes=get_context(request).settings.kiosk_silent_minutes)
    kiosks = [k for k in admin.list_fleet(db, now, silent) if user.may_see_site(k.site_id)]
    # Needs a look first: silent or never seen, then by site and name; revoked ones last.
    kiosks.sort(key=lambda k: (k.revoked_at is not None, k.online, k.site_name, k.hostname))
    return kiosks, silent


@router.get("/fleet")
def fleet_page(request: Request, confirm: str | None = None, user: StaffUser = Depends(ADMIN)) -> Response:
    ctx = get_context(request)
    now = ctx.clock()
    with ctx.read() as db:
        kiosks, silent = _fleet(request, db, user, now)
    silent_count = sum(1 for k in kiosks if k.revoked_at is None and not k.online)
    confirming = next((k for k in kiosks if k.device_id == confirm and k.revoked_at is None), None)
    return render(request, "fleet.html", user, current="fleet", kiosks=kiosks, now=now, age=age, size=size,
                  silent_minutes=int(silent.total_seconds() // 60), silent_count=silent_count,
                  confirming=confirming, low_disk=LOW_DISK, error=None)


@router.post("/fleet/{device_id}/revoke")
async def revoke(request: Request, device_id: str, user: StaffUser = Depends(ADMIN)) -> Response:
    form = await form_fields(request)
    return await run_in_threadpool(_revoke, request, device_id, user, form)


def _revoke(request: Request, device_id: str, user: StaffUser, form: dict[str, str]) -> Response:
    check_csrf(user, form.get("csrf"))
    reason = form.get("reason", "").strip()
    if not reason:
        raise refusal(request, user, 400, "Give a reason",
                      "Say why the kiosk is revoked (lost, stolen, replaced...) so the next person knows.")
    ctx = get_context(request)
    now = ctx.clock()
    with ctx.write.begin() as db:
        kiosk = next((k for k in admin.list_fleet(db, now) if k.device_id == device_id[:36]), None)
        if kiosk is None or not user.may_see_site(kiosk.site_id) or not admin.revoke_device(db, kiosk.device_id, now, reason):
            raise refusal(request, user, 404, "No such kiosk", "Reload the fleet page.")
        audit_action(db, user, "staff.device_revoked", now, code=kiosk.device_id, site_id=kiosk.site_id)
    return RedirectResponse("/staff/fleet", status_code=303)
