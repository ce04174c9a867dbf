"""The enrolment pages (an APIRouter under /portal): the kiosk's QR link, then birth date,
password, optional authenticator app, terms, done; and a clear page for every refusal.

Every page view and every decision writes an audit row (action portal.*, a code, the
kiosk's device and site ids, the path, the client address: never the invitation, a
birth date, a password or a code). Each request is one write transaction, so a refusal's
counters and audit row are kept with it. Argon2 hashing runs outside any transaction
(it takes tens of milliseconds and SQLite writers queue behind an open one).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from .. import audit
from ..context import ServerContext, client_address, get_context
from ..models import Device, Patient, Site
from ..static_files import static_response
from . import accounts, enrolment_state, invitations, limits, passwords, two_factor
from .enrolment_state import COOKIE, COOKIE_PATH, LIFETIME
from .invitations import InvitationRefused
from .messages import choose, words
from .models import PortalInvitationUse, PortalSession
from .pages import base_path, render
from .terms import TERMS_VERSION, terms_text

log = logging.getLogger(__name__)

router = APIRouter(prefix="/portal", include_in_schema=False)

# Refusal code -> (page, HTTP status). The page's words are <page>_title / <page>_body.
PROBLEM_PAGES: dict[str, tuple[str, int]] = {
    "malformed": ("forged", 400),
    "forged": ("forged", 400),
    "unknown_device": ("forged", 400),
    "unknown_appointment": ("forged", 400),
    "expired": ("expired", 410),
    "used": ("used", 410),
    "revoked": ("revoked", 403),
    "locked": ("locked", 423),
    "too_many": ("too_many", 429),
    "has_account": ("has_account", 409),
    "session": ("session", 410),
    "csrf": ("csrf", 403),
    "missing": ("missing", 400),
}
STEP_PATHS = {"birth_date": "birth-date", "password": "password", "two_factor": "two-factor",
              "terms": "terms", "done": "done"}
STEP_NUMBERS = {"birth_date": 1, "password": 2, "two_factor": 3, "terms": 4}
STATIC = {"portal.css": "text/css; charset=utf-8", "portal.js": "text/javascript; charset=utf-8"}
EMPTY_DATE = {"month": "", "day": "", "year": ""}
MAX_FIELD = 256
PURGE_ONE_IN = 20  # longer form values are cut before use (a password over 128 is refused anyway)


# -- shared pieces -----------------------------------------------------------------------


@dataclass
class Visit:
    """One request: its context, clock reading, client address and language."""

    request: Request
    ctx: ServerContext
    now: datetime
    address: str | None
    language: str

    @classmethod
    def of(cls, request: Request, chosen_before: str | None = None) -> Visit:
        ctx = get_context(request)
        return cls(request, ctx, ctx.clock(), client_address(request),
                   choose(request.query_params.get("lang"), chosen_before,
                          request.headers.get("accept-language")))

    def audit(self, db: Session, action: str, code: str | None, *, device_id: str | None = None,
              site_id: str | None = None) -> None:
        audit.record(db, action, self.now, code=code, device_id=device_id, site_id=site_id,
                     path=self.request.url.path, client_address=self.address)

    def problem(self, db: Session, code: str, *, device_id: str | None = None,
                site_id: str | None = None, switch_url: str | None = None) -> Response:
        """Audit the refusal and answer its clear page."""
        page, status = PROBLEM_PAGES[code]
        self.audit(db, "portal.refused", code, device_id=device_id, site_id=site_id)
        t = words(self.language)
        body = t[f"{page}_body"]
        headers = {}
        if code == "too_many":
            lockout = limits.address_lockout(db, self.address, self.now)
            minutes = lockout.minutes_left(self.now) if lockout else 1
            body = t["too_many_body_one"] if minutes == 1 else body.format(minutes=minutes)
            headers["Retry-After"] = str(minutes * 60)
        extra = {"switch_url": switch_url} if switch_url else {}
        return render(self.request, "problem.html", self.language, status=status, headers=headers,
                      title=t[f"{page}_title"], body=body, problem=page,
                      site_name=_site_name(db, site_id), **extra)

    def redirect_to(self, step: str) -> RedirectResponse:
        return RedirectResponse(f"{base_path(self.request)}/enrol/{STEP_PATHS[step]}", status_code=303)


def _site_name(db: Session, site_id: str | None) -> str | None:
    site = db.get(Site, site_id) if site_id else None
    return site.name if site else None


def _set_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        COOKIE, token, max_age=int(LIFETIME.total_seconds()), path=COOKIE_PATH, httponly=True,
        samesite="strict", secure=request.url.scheme == "https",
    )


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v[:MAX_FIELD] for k, v in form.items() if isinstance(v, str)}


def _enrolment(visit: Visit, db: Session, step: str, form: dict[str, str] | None
               ) -> PortalSession | Response:
    """The enrolment of this request's cookie, at `step` and still usable; else the page to
    answer instead (a refusal, or a redirect to the step the enrolment is really at)."""
    if limits.address_lockout(db, visit.address, visit.now):
        return visit.problem(db, "too_many")
    row = enrolment_state.load(db, visit.request.cookies.get(COOKIE), visit.now)
    if row is None:
        return visit.problem(db, "session")
    ids = {"device_id": row.device_id, "site_id": row.site_id}
    if form is not None and not enrolment_state.csrf_matches(row, form.get("csrf")):
        limits.count_address_failure(db, visit.address, visit.now)
        return visit.problem(db, "csrf", **ids)
    visit.language = choose(visit.request.query_params.get("lang"), row.language, None)
    row.language = visit.language
    if row.step != step:
        return visit.redirect_to(row.step)
    if step == "done":
        return row
    device = db.get(Device, row.device_id)
    if device is None or device.revoked_at is not None:
        return visit.problem(db, "revoked", **ids)
    if db.get(PortalInvitationUse, row.invitation_id) is not None:
        return visit.problem(db, "used", **ids)
    if limits.invitation_locked(db, row.invitation_id):
        return visit.problem(db, "locked", **ids)
    return row


def _step_page(visit: Visit, db: Session, row: PortalSession, template: str, title_key: str, *,
               status: int = 200, errors: list[tuple[str | None, str]] | None = None,
               **values) -> Response:
    visit.audit(db, "portal.page", row.step if not errors else f"{row.step}.again",
                device_id=row.device_id, site_id=row.site_id)
    t = words(visit.language)
    return render(visit.request, template, visit.language, status=status, errors=errors or [],
                  title=t[title_key], step=STEP_NUMBERS.get(row.step), csrf=row.csrf_token,
                  site_name=_site_name(db, row.site_id), **values)


# -- the link from the kiosk's QR code ---------------------------------------------------


@router.get("/enrol")
def open_invitation(request: Request) -> Response:
    visit = Visit.of(request)
    text = request.query_params.get("i", "")
    other = words(visit.language)["other_language_code"]
    switch = f"{request.url.path}?i={quote(text[:invitations.MAX_TEXT])}&lang={other}"
    with visit.ctx.write.begin() as db:
        if limits.address_lockout(db, visit.address, visit.now):
            return visit.problem(db, "too_many")
        if not text:
            return visit.problem(db, "missing")
        try:
            invited = invitations.resolve(db, text, visit.now)
        except InvitationRefused as e:
            if e.code in invitations.UNREADABLE:
                limits.count_address_failure(db, visit.address, visit.now)
            return visit.problem(db, e.code, device_id=e.device_id, site_id=e.site_id, switch_url=switch)
        current = enrolment_state.load(db, request.cookies.get(COOKIE), visit.now)
        if current is not None and current.invitation_id == invited.invitation_id:
            # Opened again in the same browser: carry on where the patient was.
            if request.query_params.get("lang"):
                current.language = visit.language
            return visit.redirect_to(current.step)
        if random.randrange(PURGE_ONE_IN) == 0:  # like the nonces: now and then, not a job
            enrolment_state.purge_expired(db, visit.now)
            limits.purge_old_windows(db, visit.now)
        token, row = enrolment_state.start(db, invited, visit.language, visit.now)
        db.flush()
        # The first page is answered here, not by a redirect: a SameSite=Strict cookie set
        # on a redirect that began on another site (the phone's camera app, a mail) would
        # not be sent with the redirected request.
        response = _step_page(visit, db, row, "birth_date.html", "bd_title", form=EMPTY_DATE,
                              switch_url=f"{base_path(request)}/enrol/birth-date?lang={other}")
    _set_cookie(response, request, token)
    return response


# -- step 1: birth date --------------------------------------------------------------------


def _parse_birth_date(form: dict[str, str]) -> date | None:
    try:
        year, month, day = (int(form.get(k, "").strip()) for k in ("year", "month", "day"))
        parsed = date(year, month, day)
    except ValueError:
        return None
    return parsed if 1900 <= parsed.year <= 2100 else None


@router.get("/enrol/birth-date")
def birth_date_page(request: Request) -> Response:
    visit = Visit.of(request)
    with visit.ctx.write.begin() as db:
        row = _enrolment(visit, db, "birth_date", None)
        if isinstance(row, Response):
            return row
        return _step_page(visit, db, row, "birth_date.html", "bd_title", form=EMPTY_DATE)


@router.post("/enrol/birth-date")
async def birth_date_answer(request: Request) -> Response:
    form = await _form(request)
    visit = Visit.of(request)
    return await _in_thread(_birth_date_answer, visit, form)


def _birth_date_answer(visit: Visit, form: dict[str, str]) -> Response:
    with visit.ctx.write.begin() as db:
        row = _enrolment(visit, db, "birth_date", form)
        if isinstance(row, Response):
            return row
        t = words(visit.language)
        shown = {k: form.get(k, "") for k in ("month", "day", "year")}
        ids = {"device_id": row.device_id, "site_id": row.site_id}
        answer = _parse_birth_date(form)
        if answer is None:  # a typo is not a guess: no try is used up
            visit.audit(db, "portal.birth_date", "invalid", **ids)
            return _step_page(visit, db, row, "birth_date.html", "bd_title", status=422,
                              errors=[(_first_field(visit.language), t["bd_invalid"])], form=shown)
        if not limits.claim_birth_date_try(db, row.invitation_id):
            visit.audit(db, "portal.birth_date", "locked", **ids)
            return visit.problem(db, "locked", **ids)
        patient = db.get(Patient, row.patient_id)
        if patient is None or patient.birth_date != answer:
            limits.count_address_failure(db, visit.address, visit.now)
            visit.audit(db, "portal.birth_date", "wrong", **ids)
            left = limits.INVITATION_MAX_FAILURES - limits.invitation_failures(db, row.invitation_id)
            if left <= 0:
                return visit.problem(db, "locked", **ids)
            message = f"{t['bd_wrong']} {t['bd_tries_left'].format(n=left)}"
            return _step_page(visit, db, row, "birth_date.html", "bd_title", status=422,
                              errors=[(_first_field(visit.language), message)], form=shown)
        limits.give_back_birth_date_try(db, row.invitation_id)
        visit.audit(db, "portal.birth_date", "confirmed", **ids)
        if accounts.has_account(db, row.patient_id):
            return visit.problem(db, "has_account", **ids)
        row.step = "password"
        return visit.redirect_to(row.step)


def _first_field(language: str) -> str:
    return "day" if language == "es" else "month"


# -- step 2: password ----------------------------------------------------------------------


@router.get("/enrol/password")
def password_page(request: Request) -> Response:
    visit = Visit.of(request)
    with visit.ctx.write.begin() as db:
        row = _enrolment(visit, db, "password", None)
        if isinstance(row, Response):
            return row
        return _step_page(visit, db, row, "password.html", "pw_title")


@router.post("/enrol/password")
async def password_answer(request: Request) -> Response:
    form = await _form(request)
    visit = Visit.of(request)
    return await _in_thread(_password_answer, visit, form)


def _password_answer(visit: Visit, form: dict[str, str]) -> Response:
    password, again = form.get("password", ""), form.get("password2", "")
    with visit.ctx.write.begin() as db:
        row = _enrolment(visit, db, "password", form)
        if isinstance(row, Response):
            return row
        t = words(visit.language)
        found = passwords.problems(password)
        errors = [("password", t[key]) for key in found]
        if not found and password != again:
            errors.append(("password2", t["pw_mismatch"]))
        if errors:
            visit.audit(db, "portal.password", "refused:" + ",".join(found or ["mismatch"]),
                        device_id=row.device_id, site_id=row.site_id)
            return _step_page(visit, db, row, "password.html", "pw_title", status=422, errors=errors)
        token_hash = row.token_hash
    password_hash = passwords.hash_password(password)  # outside the transaction: slow on purpose
    with visit.ctx.write.begin() as db:
        row = db.get(PortalSession, token_hash)
        if row is None or row.step != "password":  # expired or moved on meanwhile
            return visit.problem(db, "session")
        row.password_hash = password_hash
        row.step = "two_factor"
        visit.audit(db, "portal.password", "set", device_id=row.device_id, site_id=row.site_id)
        return visit.redirect_to(row.step)


# -- step 3: authenticator app (optional) --------------------------------------------------


def _two_factor_page(visit: Visit, db: Session, row: PortalSession, **kw) -> Response:
    if row.totp_secret is None:
        row.totp_secret = two_factor.new_secret()
    t = words(visit.language)
    issuer = _site_name(db, row.site_id) or t["portal"]
    uri = two_factor.provisioning_uri(row.totp_secret, issuer)
    return _step_page(visit, db, row, "two_factor.html", "tf_title",
                      qr_svg=Markup(two_factor.qr_svg(uri, t["tf_qr_label"])), otpauth_uri=uri,
                      secret=two_factor.grouped(row.totp_secret), **kw)


@router.get("/enrol/two-factor")
def two_factor_page(request: Request) -> Response:
    visit = Visit.of(request)
    with visit.ctx.write.begin() as db:
        row = _enrolment(visit, db, "two_factor", None)
        if isinstance(row, Response):
            return row
        return _two_factor_page(visit, db, row)


@router.post("/enrol/two-factor")
async def two_factor_answer(request: Request) -> Response:
    form = await _form(request)
    visit = Visit.of(request)
    return await _in_thread(_two_factor_answer, visit, form)


def _two_factor_answer(visit: Visit, form: dict[str, str]) -> Response:
    with visit.ctx.write.begin() as db:
        row = _enrolment(visit, db, "two_factor", form)
        if isinstance(row, Response):
            return row
        ids = {"device_id": row.device_id, "site_id": row.site_id}
        if form.get("action") == "skip":
            row.totp_secret, row.totp_enabled = None, False
            visit.audit(db, "portal.two_factor", "skipped", **ids)
        elif row.totp_secret and two_factor.code_is_valid(row.totp_secret, form.get("code", ""), visit.now):
            row.totp_enabled = True
            visit.audit(db, "portal.two_factor", "enabled", **ids)
        else:
            visit.audit(db, "portal.two_factor", "wrong_code", **ids)
            return _two_factor_page(visit, db, row, status=422,
                                    errors=[("code", words(visit.language)["tf_wrong"])])
        row.step = "terms"
        return visit.redirect_to(row.step)


# -- step 4: terms, and the account ----------------------------------------------------------


def _terms_page(visit: Visit, db: Session, row: PortalSession, **kw) -> Response:
    return _step_page(visit, db, row, "terms.html", "terms_title", version=TERMS_VERSION,
                      paragraphs=terms_text(visit.language), totp_enabled=row.totp_enabled, **kw)


@router.get("/enrol/terms")
def terms_page(request: Request) -> Response:
    visit = Visit.of(request)
    with visit.ctx.write.begin() as db:
        row = _enrolment(visit, db, "terms", None)
        if isinstance(row, Response):
            return row
        return _terms_page(visit, db, row)


@router.post("/enrol/terms")
async def terms_answer(request: Request) -> Response:
    form = await _form(request)
    visit = Visit.of(request)
    return await _in_thread(_terms_answer, visit, form)


def _terms_answer(visit: Visit, form: dict[str, str]) -> Response:
    with visit.ctx.write.begin() as db:
        row = _enrolment(visit, db, "terms", form)
        if isinstance(row, Response):
            return row
        ids = {"device_id": row.device_id, "site_id": row.site_id}
        # The version shown must be the version accepted (a page left open across an update).
        if form.get("accept") != "yes" or form.get("version") != TERMS_VERSION:
            visit.audit(db, "portal.terms", "not_accepted", **ids)
            return _terms_page(visit, db, row, status=422,
                               errors=[("accept", words(visit.language)["terms_required"])])
        try:
            accounts.create_account(db, row, visit.now)
        except accounts.AccountRefused as e:
            return visit.problem(db, e.code, **ids)
        row.step = "done"
        visit.audit(db, "portal.account", "created", **ids)
        return visit.redirect_to(row.step)


@router.get("/enrol/done")
def done_page(request: Request) -> Response:
    visit = Visit.of(request)
    with visit.ctx.write.begin() as db:
        row = _enrolment(visit, db, "done", None)
        if isinstance(row, Response):
            return row
        return _step_page(visit, db, row, "done.html", "done_title", totp_enabled=row.totp_enabled)


# -- local CSS and JS (no CDN) -------------------------------------------------------------


@router.get("/static/{name}", name="portal_static")
def static_file(name: str) -> Response:
    return static_response(__package__, name, STATIC, max_age=3600)


async def _in_thread(function, *args) -> Response:
    """Database work off the event loop (as FastAPI does for plain `def` routes)."""
    return await run_in_threadpool(function, *args)
