"""Request authentication: RFC 9421 signature (sync_protocol.signing), nonce, revocation.

`authenticated` is a FastAPI dependency for every signed route. It reads the raw body
itself, so a request that is not properly signed is refused (401/403) before its body
is even parsed. Nonces go into the database (primary key device+nonce), in their own
short transaction, so any worker refuses a replay, also of a request whose handler
later failed. (POST /events uses `verified` instead: it spends the nonce first thing
in its own transaction, and on its own if that transaction fails.) Every refusal writes an audit row (device id as claimed, code, path,
client address; never a body) and answers {"detail": {"code", "message"}}.
"""

from __future__ import annotations

import base64
import binascii
import logging
import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import NoReturn

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import Request
from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from sync_protocol.signing import MAX_SKEW, SignatureRejected, verify_request

from . import audit
from .context import ServerContext, client_address, get_context
from .errors import api_error
from .models import Device, Nonce

log = logging.getLogger(__name__)

REPLAYED = "replayed"
REVOKED = "revoked"
# Old nonces can never be replayed (their signatures are stale), so they are purged;
# about one request in PURGE_ONE_IN does it, which keeps the table small without a job.
NONCE_KEEP = 2 * MAX_SKEW
PURGE_ONE_IN = 50
_KEYID = re.compile(r'keyid="([^"]{1,64})"')


@dataclass(frozen=True)
class Caller:
    """The enrolled, not revoked kiosk that signed the request."""

    device_id: str
    site_id: str
    body: bytes = field(repr=False)  # exactly the bytes the signature covers
    nonce: str = field(default="", repr=False)
    created: datetime | None = field(default=None, repr=False)  # the signature's `created`


def public_key_from_base64(text: str) -> Ed25519PublicKey:
    """Raises ValueError unless `text` is base64 of 32 raw Ed25519 public key bytes."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError("public_key is not base64") from None
    if len(raw) != 32:
        raise ValueError(f"public_key must be 32 bytes (Ed25519, raw), not {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


async def authenticated(request: Request) -> Caller:
    body = await request.body()
    return await run_in_threadpool(_authenticate, get_context(request), request, body)


async def verified(request: Request) -> Caller:
    """Like `authenticated`, except for the nonce: the route spends it itself, first
    thing in its own write transaction (`spend_nonce`, one commit instead of two), and
    with `spend_nonce_alone` when that transaction fails (the nonce is spent all the same)."""
    body = await request.body()
    return await run_in_threadpool(_verify, get_context(request), request, body)


def _signed_url(request: Request) -> str:
    """The URL as the kiosk signed it: the raw (still percent-encoded) path and query."""
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string") or b""
    url = "http://server" + raw_path.decode("latin-1")
    return url + ("?" + query.decode("latin-1") if query else "")


def _authenticate(ctx: ServerContext, request: Request, body: bytes) -> Caller:
    caller = _verify(ctx, request, body)
    now = ctx.clock()
    with ctx.write.begin() as db:
        spent = spend_nonce(db, caller, now)
    if not spent:
        refuse_replayed(ctx, request, caller, now)
    return caller


def spend_nonce(db: Session, caller: Caller, now: datetime) -> bool:
    """Store the caller's nonce in `db`'s transaction; False if it was used before.
    Now and then old nonces are purged in the same transaction."""
    if random.randrange(PURGE_ONE_IN) == 0:
        db.execute(delete(Nonce).where(Nonce.created_at < now - NONCE_KEEP))
    try:
        with db.begin_nested():
            db.execute(insert(Nonce).values(device_id=caller.device_id, nonce=caller.nonce,
                                            created_at=caller.created))
    except IntegrityError:
        return False
    return True


class _Replayed(Exception):
    pass


@contextmanager
def signed_write(ctx: ServerContext, request: Request, caller: Caller) -> Iterator[Session]:
    """The write transaction of a signed route (after `verified`): the nonce is spent first,
    so a replay is refused before the body is even parsed, and the route's work commits
    with it (one commit, not two). If the work fails, the transaction rolls back and the
    nonce is spent on its own: a request that got an answer can never be replayed."""
    now = ctx.clock()
    try:
        with ctx.write.begin() as db:
            if not spend_nonce(db, caller, now):
                raise _Replayed
            yield db
    except _Replayed:
        refuse_replayed(ctx, request, caller, now)
    except Exception:
        spend_nonce_alone(ctx, caller)
        raise


def spend_nonce_alone(ctx: ServerContext, caller: Caller) -> None:
    """After a route's transaction failed: spend the nonce in a transaction of its own.
    Best effort (the database may be what failed); the route's error is what answers."""
    try:
        with ctx.write.begin() as db:
            spend_nonce(db, caller, ctx.clock())
    except Exception as e:  # noqa: BLE001
        log.warning("nonce.not_spent", extra={"fields": {"error": type(e).__name__}})


def refuse_replayed(ctx: ServerContext, request: Request, caller: Caller, now: datetime) -> NoReturn:
    _refuse(ctx, request, now, 401, REPLAYED,
            "this signature's nonce was used before: sign every request afresh",
            caller.device_id, caller.site_id)


def _verify(ctx: ServerContext, request: Request, body: bytes) -> Caller:
    """The signature holds and the device is enrolled, not revoked (else 401/403)."""
    now = ctx.clock()
    devices: dict[str, Device | None] = {}

    def public_key_for(device_id: str) -> Ed25519PublicKey | None:
        if len(device_id) > 36:
            return None
        with ctx.read() as db:
            device = db.get(Device, device_id)
        devices[device_id] = device
        if device is None:
            return None
        return public_key_from_base64(device.public_key)

    try:
        signed = verify_request(
            request.method, _signed_url(request), request.headers.items(), body,
            public_key_for=public_key_for, now=now,
        )
    except SignatureRejected as e:
        match = _KEYID.search(request.headers.get("signature-input", ""))
        _refuse(ctx, request, now, 401, e.code, str(e), match.group(1) if match else None)
    device = devices.get(signed.device_id)
    if device is None:  # verify_request resolved the key, so this cannot happen
        raise RuntimeError("verified a signature without looking up its device")
    if device.revoked_at is not None:
        _refuse(ctx, request, now, 403, REVOKED,
                "this kiosk was revoked by IT; enrol it again with a new token",
                device.id, device.site_id)
    return Caller(device_id=device.id, site_id=device.site_id, body=body,
                  nonce=signed.nonce, created=signed.created)


def _refuse(
    ctx: ServerContext,
    request: Request,
    now: datetime,
    status: int,
    code: str,
    message: str,
    device_id: str | None,
    site_id: str | None = None,
) -> NoReturn:
    with ctx.write.begin() as db:
        audit.record(db, "request.refused", now, code=code, device_id=device_id, site_id=site_id,
                     path=request.url.path, client_address=client_address(request))
    raise api_error(status, code, message)
