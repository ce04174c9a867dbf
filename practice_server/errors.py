"""The one error shape of the API: {"detail": {"code": ..., "message": ...}}."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from pydantic import BaseModel


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    detail: ErrorDetail


def api_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> HTTPException:
    return HTTPException(status_code=status, detail={"code": code, "message": message}, headers=headers)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the refusals a route can give."""
    words = {
        400: "Bad request (bad_cursor; bad_request: a body that is not UTF-8)",
        401: "Not authenticated (unsigned, malformed, bad_signature, stale, replayed, "
        "unknown_device; token_unknown at enrolment)",
        403: "The device was revoked",
        410: "The enrolment token was used or has expired",
        413: "Request body over 2 MiB (too_large)",
        503: "The database did not answer (database_unavailable)",
    }
    out: dict[int | str, dict[str, Any]] = {
        s: {"model": ErrorBody, "description": words[s]} for s in statuses if s != 422
    }
    if 422 in statuses:  # FastAPI's validation shape, or our own (e.g. bad_public_key)
        out[422] = {"description": "Validation error", "content": {"application/json": {"schema": {"anyOf": [
            {"$ref": "#/components/schemas/HTTPValidationError"},
            {"$ref": "#/components/schemas/ErrorBody"},
        ]}}}}
    return out
