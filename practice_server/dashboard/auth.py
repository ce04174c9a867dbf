"""Staff sign-in and who may see what: the sign-in and sign-out pages, the dependency every
dashboard route uses (`require_staff`), the CSRF check of every form post, and the audit
of sign-ins and of every view of patient data."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from datetime import datetime
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from .. import audit
from ..context import client_address, get_context
from . import accounts, sessions
from .accounts import ROLES
from .pages import SECURITY_HEADERS, refusal, render, static_file
from .sessions import StaffUser

__all__ = ["ROLES", "StaffUser", "audit_action", "audit_patients_shown", "audit_view", "check_csrf", "require_staff",
           "router"]

router = APIRouter(prefix="/staff")
COOKIE = "staff_session"
MAX_FIELD = 256


def _wants_page(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "") and request.method == "GET"


def require_staff(*roles: str):
    """FastAPI dependency: the signed-in person, if their role is one of `roles` (any when
    none given). No session: the sign-in page for page requests, 401 otherwise."""
    for role in roles:
        if role not in ROLES:
            raise ValueError(f"unknown role {role}")

    def dependency(request: Request) -> StaffUser:
        ctx = get_context(request)
        now = ctx.clock()
        # The live stream does not keep a session alive: only a person's requests do.
        touch = not request.url.path.endswith("/live")
        with ctx.write.begin() as db:
            user = sessions.current(db, request.cookies.get(COOKIE), now, touch=touch)
        if user is None:
            if _wants_page(request):
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                raise HTTPException(303, detail="sign in first", headers={
                    "Location": f"{request.scope.get('root_path', '')}/staff/login?next={quote(target)}"})
            raise HTTPException(401, detail={"code": "signed_out", "message": "sign in again"})
        if roles and user.role not in roles:
            raise refusal(request, user, 403, "Not for your role",
                          "This page is for other roles. Ask your administrator if you need it.")
        return user

    return dependency


def check_csrf(user: StaffUser, token: str | None) -> None:
    if not token or not hmac.compare_digest(token.encode(), user.csrf_token.encode()):
        raise HTTPException(403, detail={"code": "csrf", "message": "the form was not from this session; reload the page"})


def audit_view(db: Session, user: StaffUser, what: str, now: datetime, *, site_id: str | None = None,
               path: str | None = None, patients: Iterable[str] = ()) -> None:
    """A staff member saw patient data (`what`: e.g. "arrivals", "alerts"): one row for the
    view, and one per patient in `patients` (those it showed). Caller commits."""
    audit.record(db, "staff.viewed", now, code=what, site_id=site_id, staff_user=user.id, path=path)
    audit_patients_shown(db, user, what, now, patients, site_id=site_id, path=path)


def audit_patients_shown(db: Session, user: StaffUser, what: str, now: datetime, patient_ids: Iterable[str], *,
                         site_id: str | None, path: str | None = None) -> int:
    """Each patient on a page or a live update the staff member was shown. Caller commits."""
    return audit.record_patients(db, "staff.viewed_patient", now, patient_ids, code=what, site_id=site_id,
                                 staff_user=user.id, path=path)


def audit_action(db: Session, user: StaffUser, action: str, now: datetime, *, code: str | None = None,
                 site_id: str | None = None, patient_id: str | None = None) -> None:
    """A staff member did something (e.g. "appointment.roomed", "alert.acknowledged")."""
    audit.record(db, action, now, code=code, site_id=site_id, staff_user=user.id, patient_id=patient_id)


async def form_fields(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v[:MAX_FIELD] for k, v in form.items() if isinstance(v, str)}


def _safe_next(target: str | None) -> str:
    """Only a dashboard path of this server (no open redirect)."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and parts.path.startswith("/staff/") and "\\" not in target:
            return target
    return "/staff/arrivals"


# -- pages -------------------------------------------------------------------------------


@router.get("")
@router.get("/")
def home() -> Response:
    return RedirectResponse("/staff/arrivals", status_code=303)


@router.get("/login")
def login_page(request: Request) -> Response:
    return render(request, "login.html", None, next=_safe_next(request.query_params.get("next")), error=None,
                  signed_out=request.query_params.get("signed_out"))


@router.post("/login")
async def login(request: Request) -> Response:
    form = await form_fields(request)
    return await run_in_threadpool(_login, request, form)


def _login(request: Request, form: dict[str, str]) -> Response:
    ctx = get_context(request)
    now = ctx.clock()
    address = client_address(request)
    username, password = form.get("username", ""), form.get("password", "")
    target = _safe_next(form.get("next"))
    with ctx.write.begin() as db:
        minutes = sessions.locked_minutes(db, username, address, now)
        if minutes:
            audit.record(db, "staff.sign_in_refused", now, code="locked", client_address=address)
            error = (f"Too many tries. Wait {minutes} minute{'s' if minutes != 1 else ''} "
                     "or ask your administrator.")
            return render(request, "login.html", None, status=429, next=target, error=error, signed_out=None,
                          headers={"Retry-After": str(minutes * 60)})
        account = accounts.verify(db, username, password) if username and password else None
        if account is None:
            sessions.count_failure(db, username, address, now)
            audit.record(db, "staff.sign_in_failed", now, client_address=address)
            return render(request, "login.html", None, status=401, next=target, signed_out=None,
                          error="That username and password do not match an account that may sign in.")
        sessions.purge_finished(db, now)
        token = sessions.start(db, account, now)
        audit.record(db, "staff.signed_in", now, staff_user=account.id, client_address=address)
    response = RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})
    response.set_cookie(COOKIE, token, path="/staff", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", max_age=int(sessions.LIFETIME.total_seconds()))
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    form = await form_fields(request)
    return await run_in_threadpool(_logout, request, form)


def _logout(request: Request, form: dict[str, str]) -> Response:
    ctx = get_context(request)
    now = ctx.clock()
    token = request.cookies.get(COOKIE)
    with ctx.write.begin() as db:
        user = sessions.current(db, token, now, touch=False)
        if user is not None:
            check_csrf(user, form.get("csrf"))
            audit.record(db, "staff.signed_out", now, staff_user=user.id, client_address=client_address(request))
        sessions.end(db, token, now)
    response = RedirectResponse("/staff/login?signed_out=1", status_code=303, headers=SECURITY_HEADERS)
    response.delete_cookie(COOKIE, path="/staff")
    return response


@router.get("/static/{name}")
def dashboard_static(name: str) -> Response:
    return static_file(name)
