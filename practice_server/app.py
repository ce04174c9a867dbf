"""The FastAPI application: routes of docs/SYNC_API.md, error shapes, OpenAPI document.

`create_app(settings)` opens (and migrates) the database and returns the app; uvicorn
workers build theirs with `app_from_environment()`. Signed routes read their body
only after `auth.authenticated` accepted the signature, and parse it themselves, so
an unsigned request is a 401 whatever its body.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from sqlalchemy import text
from sqlalchemy.exc import InterfaceError, OperationalError

from . import __version__, auth, bundles, consent_documents, education_pages, enrolment, events, fhir_api, heartbeat, logs, schedule
from .auth import Caller, authenticated
from .context import ServerContext, client_address, get_context, utc_now
from .db import open_database, reader_sessions
from .errors import api_error, error_responses
from .guard import Guard
from .models import Site
from .dashboard import router as dashboard_router
from .portal import router as portal_router
from .settings import ServerSettings

log = logging.getLogger(__name__)

API = "/api/v1"
SIGNED_REFUSALS = (401, 403, 413, 503)
_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}
BODY_REFUSALS = (*SIGNED_REFUSALS, 422)


# -- answers (for the OpenAPI document and response validation) -------------------------


class Health(BaseModel):
    status: str
    version: str
    database: str


class ClinicianOut(BaseModel):
    id: str
    display_name: str


class PatientOut(BaseModel):
    id: str
    first_name: str
    last_name: str
    birth_date: str
    phone: str
    email: str
    street: str
    city: str
    state: str
    postal_code: str
    portal_account: bool  # has a patient-portal account already (no invitation needed)
    # "form:<questionnaire url>" / "consent:<document id>@<version>" -> "YYYY-MM-DD"
    history: dict[str, str]


class AppointmentOut(BaseModel):
    id: str
    patient_id: str
    clinician_id: str
    start: str
    visit_type: str
    status: str
    copay_cents: int | None  # what the patient pays at check-in; null = unknown


class ScheduleAnswer(BaseModel):
    cursor: str
    more: bool
    clinicians: list[ClinicianOut]
    patients: list[PatientOut]
    appointments: list[AppointmentOut]


class BundleAnswer(BaseModel):
    kind: str
    version: str
    items: Any


class ServerTime(BaseModel):
    server_time: str


# -- helpers -----------------------------------------------------------------------------


def _parse(model: type[BaseModel], body: bytes) -> Any:
    """Parse a signed route's body; errors get FastAPI's 422 shape (without echoing input)."""
    try:
        return model.model_validate_json(body)
    except ValidationError as e:
        problems = e.errors(include_url=False, include_input=False, include_context=False)
        raise RequestValidationError(
            [{"type": p["type"], "loc": ("body", *p["loc"]), "msg": p["msg"]} for p in problems]
        ) from None


def _json_body(model: type[BaseModel]) -> dict[str, Any]:
    """openapi_extra for a route that parses `model` itself (see _parse)."""
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}}


def _site(db, caller: Caller) -> Site:
    site = db.get(Site, caller.site_id)
    assert site is not None  # devices.site_id is a foreign key
    return site


# -- the app -----------------------------------------------------------------------------


def create_app(settings: ServerSettings, *, clock: Callable[[], datetime] | None = None) -> FastAPI:
    """Raises db.DatabaseError or settings.SettingsError with a message for IT."""
    engine, write = open_database(settings.database_url)
    ctx = ServerContext(
        settings=settings, engine=engine, write=write, read=reader_sessions(engine),
        clock=clock or utc_now, ca_certificate=settings.ca_certificate(),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        engine.dispose()

    app = FastAPI(
        title="Clinic kiosk sync API",
        version=__version__,
        description="See docs/SYNC_API.md. Every route but /enrol and /health is signed "
        "(RFC 9421, sync_protocol/signing.py).",
        openapi_url=f"{API}/openapi.json",
        docs_url=None,  # the Swagger page loads from a CDN; the practice network may have none
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.context = ctx
    app.add_middleware(Guard)
    app.include_router(portal_router)  # /portal: patient portal enrolment pages (issue #6)
    app.include_router(education_pages.router)  # /education: public article pages (the kiosk's QR link)
    # The OpenAPI document describes the kiosk sync API only: the dashboard is HTML and the
    # FHIR API publishes its own CapabilityStatement at /fhir/R4/metadata.
    app.include_router(dashboard_router, include_in_schema=False)  # /staff (issue #8)
    app.include_router(fhir_api.router, include_in_schema=False)  # /fhir/R4: EHR reads (issue #8)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def _database_down(request: Request, exc: Exception) -> JSONResponse:
        log.warning("database.unavailable", extra={"fields": {
            "error": type(getattr(exc, "orig", None) or exc).__name__, "path": request.url.path}})
        return JSONResponse(
            {"detail": {"code": "database_unavailable",
                        "message": "the database did not answer; try again shortly"}},
            status_code=503, headers={"Retry-After": "5"},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _one_error_shape(request: Request, exc: StarletteHTTPException) -> Response:
        page = getattr(exc, "page", None)  # the staff dashboard's refusals are pages
        if page is not None:
            return HTMLResponse(page, status_code=exc.status_code, headers=exc.headers)
        # Our own refusals already carry {"code", "message"}; Starlette's and FastAPI's
        # ("Not Found", "There was an error parsing the body") get the same shape.
        detail = exc.detail if isinstance(exc.detail, dict) else {
            "code": _CODES.get(exc.status_code, f"http_{exc.status_code}"), "message": str(exc.detail)}
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)

    @app.get(f"{API}/health", response_model=Health, responses={503: {"model": Health}})
    def health(ctx: ServerContext = Depends(get_context)) -> Any:
        try:
            with ctx.read() as db:
                db.execute(text("SELECT 1"))
        except (OperationalError, InterfaceError):
            return JSONResponse({"status": "error", "version": __version__, "database": "unavailable"},
                                status_code=503)
        return Health(status="ok", version=__version__, database="ok")

    @app.post(f"{API}/enrol", status_code=201, response_model=enrolment.EnrolAnswer,
              responses=error_responses(400, 401, 410, 413, 422, 503))
    def enrol(req: enrolment.EnrolRequest, request: Request,
              ctx: ServerContext = Depends(get_context)) -> Any:
        with ctx.write() as db:
            answer = enrolment.enrol(db, req, ctx.clock(), ctx.ca_certificate, request.url.path,
                                     client_address(request))
            db.commit()
        return answer

    @app.get(f"{API}/schedule", response_model=ScheduleAnswer,
             responses=error_responses(400, *SIGNED_REFUSALS))
    def get_schedule(
        cursor: str = Query("", max_length=schedule.MAX_CURSOR_CHARS),
        limit: int = Query(schedule.DEFAULT_LIMIT, ge=1, le=schedule.MAX_LIMIT),
        caller: Caller = Depends(authenticated),
        ctx: ServerContext = Depends(get_context),
    ) -> Any:
        with ctx.read() as db:
            site = _site(db, caller)
            config = bundles.config_items(db, site)
            try:
                page = schedule.pull(db, site.id, site.timezone, bundles.days_ahead(config),
                                     cursor, limit, ctx.clock())
            except schedule.BadCursor as e:
                raise api_error(400, "bad_cursor", f"{e}; start again with an empty cursor") from None
        return page.__dict__

    @app.get(f"{API}/bundles/{{kind}}", response_model=BundleAnswer,
             responses={304: {"description": "Not modified (If-None-Match matched the ETag)"},
                        **error_responses(*SIGNED_REFUSALS)})
    def get_bundle(
        kind: bundles.BundleKind,
        if_none_match: str | None = Header(None, max_length=1000),
        caller: Caller = Depends(authenticated),
        ctx: ServerContext = Depends(get_context),
    ) -> Any:
        with ctx.read() as db:
            answer = bundles.bundle(db, _site(db, caller), kind)
            served = answer["items"] if kind is bundles.BundleKind.consents else []
            unregistered = consent_documents.unregistered(db, served) if served else []
        if unregistered:
            # A served version counts as published: a kiosk may sign it days from now.
            with ctx.write.begin() as db:
                consent_documents.register(db, served, ctx.clock(), strict=False)
        headers = {"ETag": bundles.etag(answer["version"])}
        if bundles.matches(if_none_match, answer["version"]):
            return Response(status_code=304, headers=headers)
        return JSONResponse(answer, headers=headers)

    @app.post(f"{API}/events", response_model=events.EventResults,
              openapi_extra=_json_body(events.EventBatch), responses=error_responses(*BODY_REFUSALS))
    def post_events(request: Request, caller: Caller = Depends(auth.verified),
                    ctx: ServerContext = Depends(get_context)) -> Any:
        with auth.signed_write(ctx, request, caller) as db:
            batch = _parse(events.EventBatch, caller.body)
            results = events.push(db, caller, batch, ctx.clock())
        # Serialised here, once: returning the model would have FastAPI validate all of
        # it again against response_model (which still describes the answer in OpenAPI).
        return Response(events.results_json(results), media_type="application/json")

    @app.post(f"{API}/heartbeat", response_model=ServerTime,
              openapi_extra=_json_body(heartbeat.Heartbeat), responses=error_responses(*BODY_REFUSALS))
    def post_heartbeat(request: Request, caller: Caller = Depends(auth.verified),
                       ctx: ServerContext = Depends(get_context)) -> Any:
        now = ctx.clock()
        with auth.signed_write(ctx, request, caller) as db:
            heartbeat.record(db, caller.device_id, _parse(heartbeat.Heartbeat, caller.body), now)
        return ServerTime(server_time=now.isoformat())

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(title=app.title, version=app.version, description=app.description,
                              routes=app.routes)
            schemas = doc.setdefault("components", {}).setdefault("schemas", {})
            for model in (events.EventBatch, heartbeat.Heartbeat):
                schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                schemas.update(schema.pop("$defs", {}))
                schemas[model.__name__] = schema
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def app_from_environment() -> FastAPI:
    """uvicorn's factory in each worker process (settings come from the parent)."""
    logs.configure()
    return create_app(ServerSettings.from_env())
