"""FHIR R4 read API for the practice's EHR or integration engine (/fhir/R4).

    POST /fhir/R4/auth/token        OAuth 2.0 client credentials -> a 5-minute bearer token
    GET  /fhir/R4/metadata          CapabilityStatement (no token needed)
    GET  /fhir/R4/<Type>?params     search: a searchset Bundle with total and next link
    GET  /fhir/R4/<Type>/<id>       read

Types: Appointment (date, patient, status), Patient (_id, _lastUpdated),
QuestionnaireResponse (patient, authored, status), Consent (patient, date),
Coverage (patient), DocumentReference (patient, date; card photos and signed consents).
Dates take the prefixes eq, ge, le, gt, lt and a YYYY-MM-DD value. An unknown parameter
is refused (400) rather than ignored, so an EHR never takes a partial answer for a full
one. Every answer is audited with the client id and counts, never patient data.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import __version__, audit, fhir_clients, fhir_resources
from .context import client_address, get_context
from .models import Appointment, Clinician, ConsentDocument, FormResponse, InsuranceCard, Patient, PatientConsent, Site

router = APIRouter(prefix="/fhir/R4")
FHIR_JSON = "application/fhir+json"
DEFAULT_COUNT, MAX_COUNT = 50, 200
_PREFIXES = ("eq", "ge", "le", "gt", "lt")
_STATUS_IN = {v: k for k, v in fhir_resources.APPOINTMENT_STATUS.items()}


class FhirError(Exception):
    def __init__(self, status: int, code: str, diagnostics: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(diagnostics)
        self.status, self.code, self.diagnostics, self.headers = status, code, diagnostics, headers or {}


def _json(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=FHIR_JSON,
                        headers={"Cache-Control": "no-store", **(headers or {})})


def _outcome(e: FhirError) -> JSONResponse:
    return _json({"resourceType": "OperationOutcome",
                  "issue": [{"severity": "error", "code": e.code, "diagnostics": e.diagnostics}]},
                 e.status, e.headers)


# -- token ---------------------------------------------------------------------------------


def _credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        return client_id, secret
    return form.get("client_id", ""), form.get("client_secret", "")


@router.post("/auth/token")
async def token(request: Request) -> Response:
    form = {k: v[:500] for k, v in (await request.form()).items() if isinstance(v, str)}
    return await run_in_threadpool(_token, request, form)


def _token(request: Request, form: dict[str, str]) -> Response:
    refused = {"Cache-Control": "no-store"}
    if form.get("grant_type") != "client_credentials":
        return JSONResponse({"error": "unsupported_grant_type",
                             "error_description": "use grant_type=client_credentials"}, 400, headers=refused)
    client_id, secret = _credentials(request, form)
    ctx = get_context(request)
    now = ctx.clock()
    with ctx.write.begin() as db:
        issued = fhir_clients.issue_token(db, client_id, secret, form.get("scope"), now)
        audit.record(db, "fhir.token" if issued else "fhir.token_refused", now, fhir_client=client_id[:64] or None,
                     client_address=client_address(request))
    if issued is None:
        return JSONResponse({"error": "invalid_client",
                             "error_description": "unknown, revoked or wrong client credentials, or a scope the "
                                                  "client was not given"}, 401,
                            headers={**refused, "WWW-Authenticate": 'Basic realm="fhir"'})
    access, scopes = issued
    return JSONResponse({"access_token": access, "token_type": "Bearer", "scope": scopes,
                         "expires_in": int(fhir_clients.TOKEN_LIFETIME.total_seconds())}, headers=refused)


def _caller(request: Request, db: Session, resource: str, now: datetime) -> fhir_clients.Caller:
    header = request.headers.get("authorization", "")
    bearer = header[7:].strip() if header.lower().startswith("bearer ") else ""
    who = fhir_clients.caller(db, bearer, now) if bearer else None
    if who is None:
        raise FhirError(401, "login", "a valid bearer token is needed: POST client credentials to /fhir/R4/auth/token",
                        {"WWW-Authenticate": 'Bearer realm="fhir", error="invalid_token"'})
    if not who.may_read(resource):
        raise FhirError(403, "forbidden", f"this client may not read {resource} (scope system/{resource}.read)")
    return who


# -- parameters ------------------------------------------------------------------------------


def _date_bounds(values: list[str], name: str) -> list[tuple[str, date]]:
    out = []
    for value in values:
        prefix, text = (value[:2], value[2:]) if value[:2] in _PREFIXES else ("eq", value)
        try:
            out.append((prefix, date.fromisoformat(text)))
        except ValueError:
            raise FhirError(400, "invalid", f"{name}={value}: use a date YYYY-MM-DD, optionally after eq, ge, le, gt "
                                            "or lt, e.g. {name}=ge2026-11-01".replace("{name}", name)) from None
    return out


def _on_days(column, bounds: list[tuple[str, date]]) -> list:
    ops = {"eq": column.__eq__, "ge": column.__ge__, "le": column.__le__, "gt": column.__gt__, "lt": column.__lt__}
    return [ops[p](d) for p, d in bounds]


def _on_instants(column, bounds: list[tuple[str, date]]) -> list:
    """A date against a UTC instant column: the whole UTC day."""
    out = []
    for prefix, d in bounds:
        start = datetime.combine(d, time.min, tzinfo=UTC)
        end = start + timedelta(days=1)
        out += {"eq": [column >= start, column < end], "ge": [column >= start], "gt": [column >= end],
                "le": [column < end], "lt": [column < start]}[prefix]
    return out


def _reference(value: str, kind: str = "Patient") -> str:
    return value.split("/", 1)[1] if value.startswith(f"{kind}/") else value


def _page(params: dict[str, list[str]]) -> tuple[int, int]:
    try:
        count = int(params.pop("_count", [str(DEFAULT_COUNT)])[0])
        offset = int(params.pop("_offset", ["0"])[0])
    except ValueError:
        raise FhirError(400, "invalid", "_count and _offset must be whole numbers") from None
    return max(1, min(count, MAX_COUNT)), max(0, offset)


# -- searches: each returns (statement of rows, builder row -> resource) ----------------------


def _appointments(db: Session, p: dict[str, list[str]]):
    q = (select(Appointment, Patient.first_name, Patient.last_name, Clinician.display_name, Site.timezone)
         .join(Patient, Patient.id == Appointment.patient_id).join(Clinician, Clinician.id == Appointment.clinician_id)
         .join(Site, Site.id == Appointment.site_id))
    where = _on_days(Appointment.day, _date_bounds(p.pop("date", []), "date"))
    if "patient" in p:
        where.append(Appointment.patient_id == _reference(p.pop("patient")[0]))
    if "status" in p:
        wanted = p.pop("status")[0].split(",")
        if unknown := [s for s in wanted if s not in _STATUS_IN]:
            raise FhirError(400, "invalid", f"status {','.join(unknown)}: use {', '.join(_STATUS_IN)}")
        where.append(Appointment.status.in_([_STATUS_IN[s] for s in wanted]))
    return q.where(*where).order_by(Appointment.start, Appointment.id), \
        lambda r: fhir_resources.appointment(r[0], f"{r[1]} {r[2]}", r[3], r[4])


def _patients(db: Session, p: dict[str, list[str]]):
    where = _on_instants(Patient.updated_at, _date_bounds(p.pop("_lastUpdated", []), "_lastUpdated"))
    if "_id" in p:
        where.append(Patient.id.in_(p.pop("_id")[0].split(",")))
    return select(Patient).where(*where).order_by(Patient.updated_at, Patient.id), \
        lambda r: fhir_resources.patient(r[0])


def _responses(db: Session, p: dict[str, list[str]]):
    where = _on_days(FormResponse.day, _date_bounds(p.pop("authored", []), "authored"))
    if "patient" in p:
        where.append(FormResponse.patient_id == _reference(p.pop("patient")[0]))
    if "status" in p:
        where.append(FormResponse.status.in_(p.pop("status")[0].split(",")))
    return select(FormResponse).where(*where).order_by(FormResponse.authored, FormResponse.id), \
        lambda r: fhir_resources.questionnaire_response(r[0])


def _signed_consents(p: dict[str, list[str]]):
    where = [PatientConsent.status == "signed"]
    where += _on_days(PatientConsent.day, _date_bounds(p.pop("date", []), "date"))
    if "patient" in p:
        where.append(PatientConsent.patient_id == _reference(p.pop("patient")[0]))
    return (select(PatientConsent, ConsentDocument)
            .join(ConsentDocument, (ConsentDocument.id == PatientConsent.document_id)
                  & (ConsentDocument.version == PatientConsent.document_version)
                  & (ConsentDocument.language == PatientConsent.document_language))
            .where(*where).order_by(PatientConsent.at, PatientConsent.id))


def _consents(db: Session, p: dict[str, list[str]]):
    if "status" in p and p.pop("status")[0] != "active":
        return _signed_consents(p).where(False), None  # signed consents are the only ones kept as Consent
    return _signed_consents(p), lambda r: fhir_resources.consent(r[0], r[1])


def _coverages(db: Session, p: dict[str, list[str]]):
    where = [InsuranceCard.status == "current"]
    if "patient" in p:
        where.append(InsuranceCard.patient_id == _reference(p.pop("patient")[0]))
    q = (select(InsuranceCard.patient_id, func.min(InsuranceCard.id)).where(*where)
         .group_by(InsuranceCard.patient_id).order_by(InsuranceCard.patient_id))

    def build(r) -> dict:
        ids = list(db.scalars(select(InsuranceCard.id).where(
            InsuranceCard.patient_id == r[0], InsuranceCard.status == "current").order_by(InsuranceCard.side)))
        return fhir_resources.coverage(r[0], ids)

    return q, build


def _documents(db: Session, p: dict[str, list[str]]):
    """Card photos, then signed consents (two tables: paged as one list, cards first)."""
    bounds = _date_bounds(p.pop("date", []), "date")
    patient_id = _reference(p.pop("patient")[0]) if "patient" in p else None
    cards = select(InsuranceCard).where(InsuranceCard.image_jpeg.is_not(None),
                                        *_on_instants(InsuranceCard.at, bounds))
    consents = _signed_consents({"date": [f"{pr}{d}" for pr, d in bounds],
                                 **({"patient": [patient_id]} if patient_id else {})})
    if patient_id:
        cards = cards.where(InsuranceCard.patient_id == patient_id)
    return (cards.order_by(InsuranceCard.at, InsuranceCard.id), consents), None


SEARCHES: dict[str, tuple[Callable, set[str]]] = {
    "Appointment": (_appointments, {"date", "patient", "status"}),
    "Patient": (_patients, {"_id", "_lastUpdated"}),
    "QuestionnaireResponse": (_responses, {"patient", "authored", "status"}),
    "Consent": (_consents, {"patient", "date", "status"}),
    "Coverage": (_coverages, {"patient"}),
    "DocumentReference": (_documents, {"patient", "date"}),
}


def _search(db: Session, resource: str, params: dict[str, list[str]]) -> tuple[list[dict], int, int, int]:
    count, offset = _page(params)
    search, allowed = SEARCHES[resource]
    if unknown := sorted(set(params) - allowed):
        raise FhirError(400, "not-supported", f"{resource} cannot be searched by {', '.join(unknown)}; "
                                              f"it can by {', '.join(sorted(allowed))}, _count and _offset")
    statement, build = search(db, dict(params))
    if resource == "DocumentReference":
        cards, consents = statement
        found = [fhir_resources.document_reference(r) for r in db.scalars(cards)]
        found += [fhir_resources.consent_document(c, d) for c, d in db.execute(consents)]
        return found[offset:offset + count], len(found), count, offset
    total = db.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = db.execute(statement.limit(count).offset(offset)).all() if build else []
    return [build(r) for r in rows], total or 0, count, offset


def _bundle(request: Request, resources: list[dict], total: int, count: int, offset: int) -> dict:
    base = str(request.url).split("?")[0]
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("_count", "_offset")]
    links = [{"relation": "self", "url": str(request.url)}]
    if offset + count < total:
        links.append({"relation": "next", "url": f"{base}?{urlencode([*kept, ('_count', count), ('_offset', offset + count)])}"})
    root = base.rsplit("/", 1)[0]
    return {"resourceType": "Bundle", "type": "searchset", "total": total, "link": links,
            "entry": [{"fullUrl": f"{root}/{r['resourceType']}/{r['id']}", "resource": r,
                       "search": {"mode": "match"}} for r in resources]}


def _answer(request: Request, resource: str, resource_id: str | None) -> Response:
    ctx = get_context(request)
    now = ctx.clock()
    try:
        if resource not in SEARCHES:
            raise FhirError(404, "not-supported", f"this server has no {resource[:40]}; see /fhir/R4/metadata")
        with ctx.write.begin() as db:
            who = _caller(request, db, resource, now)
            if resource_id is not None:
                found = _read(db, resource, resource_id[:80])
                audit.record(db, "fhir.read", now, code=f"{resource}:{len(found)}", fhir_client=who.client_id,
                             path=request.url.path[:200])
                if not found:
                    raise FhirError(404, "not-found", f"{resource}/{resource_id[:80]} is not here")
                return _json(found[0])
            params: dict[str, list[str]] = {}
            for key, value in request.query_params.multi_items():
                params.setdefault(key, []).append(value)
            resources, total, count, offset = _search(db, resource, params)
            audit.record(db, "fhir.search", now, code=f"{resource}:{len(resources)}", fhir_client=who.client_id,
                         path=request.url.path[:200])
            return _json(_bundle(request, resources, total, count, offset))
    except FhirError as e:
        return _outcome(e)


def _read(db: Session, resource: str, resource_id: str) -> list[dict]:
    if resource == "Coverage":
        patient_id = resource_id.removeprefix("cov-")
        return _search(db, "Coverage", {"patient": [patient_id]})[0]
    if resource == "DocumentReference":
        return [r for r in _search(db, "DocumentReference", {"_count": [str(MAX_COUNT)]})[0] if r["id"] == resource_id]
    column = {"Appointment": Appointment.id, "Patient": Patient.id, "QuestionnaireResponse": FormResponse.id,
              "Consent": PatientConsent.id}[resource]
    statement, build = SEARCHES[resource][0](db, {})
    return [build(r) for r in db.execute(statement.where(column == resource_id))] if build else []


@router.get("/metadata")
def metadata(request: Request) -> Response:
    base = str(request.url).rsplit("/", 1)[0]
    return _json({
        "resourceType": "CapabilityStatement", "status": "active", "date": "2026-11-24", "kind": "instance",
        "software": {"name": "clinic-kiosk practice server", "version": __version__},
        "implementation": {"description": "What the clinic's check-in kiosks collected", "url": base},
        "fhirVersion": "4.0.1", "format": ["application/fhir+json"],
        "rest": [{
            "mode": "server",
            "security": {
                "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                         "code": "SMART-on-FHIR"}]}],
                "extension": [{"url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                               "extension": [{"url": "token", "valueUri": f"{base}/auth/token"}]}],
                "description": "OAuth 2.0 client credentials; scopes system/<Resource>.read or system/*.read",
            },
            "resource": [{"type": name, "interaction": [{"code": "read"}, {"code": "search-type"}],
                          "searchParam": [{"name": p, "type": "date" if p in ("date", "authored", "_lastUpdated")
                                           else "reference" if p == "patient" else "token"} for p in sorted(allowed)]}
                         for name, (_s, allowed) in SEARCHES.items()],
        }],
    })


@router.get("/{resource}")
def search(request: Request, resource: str) -> Response:
    return _answer(request, resource, None)


@router.get("/{resource}/{resource_id}")
def read(request: Request, resource: str, resource_id: str) -> Response:
    return _answer(request, resource, resource_id)
