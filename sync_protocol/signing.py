"""RFC 9421 HTTP Message Signatures for kiosk -> practice server requests.

Built on the `http-message-signatures` library (RFC 9421 + RFC 9530 Content-Digest);
this module only fixes our profile so the signer and the verifier cannot drift:

- algorithm Ed25519, key id = the kiosk's device id, label ``kiosk``, tag ``clinic-kiosk``;
- covered components: ``@method``, ``@path``, ``@query`` and ``content-digest``
  (SHA-256 of the body, also for an empty body), so a captured signature cannot be
  moved to another endpoint, query or body;
- parameters ``created`` (seconds) and ``nonce`` (random, 128 bits), both required.

Freshness (created within MAX_SKEW of the server clock) is checked here against an
injected `now`; whether a nonce was seen before is the caller's business (the server
keeps nonces in its database so several workers share them).
No Kivy, no web framework: the kiosk's agent and the server both import this.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    InvalidSignature,
    algorithms,
)
from http_message_signatures.exceptions import HTTPMessageSignaturesException
from requests.structures import CaseInsensitiveDict

LABEL = "kiosk"
TAG = "clinic-kiosk"
COVERED = ("@method", "@path", "@query", "content-digest")
MAX_SKEW = timedelta(minutes=5)
MAX_NONCE_CHARS = 64

# Reasons a request is refused (the `code` the server puts in its 401 answer).
UNSIGNED = "unsigned"
MALFORMED = "malformed"
BAD_SIGNATURE = "bad_signature"
STALE = "stale"
UNKNOWN_DEVICE = "unknown_device"


class SignatureRejected(Exception):
    """The request's signature does not hold. `code` is one of the constants above;
    the message says what was wrong in words IT can act on (never key material)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Verified:
    device_id: str
    nonce: str
    created: datetime


@dataclass
class _Message:
    """The three things the library reads from a request."""

    method: str
    url: str
    headers: Any


class _OneKey(HTTPSignatureKeyResolver):
    def __init__(
        self,
        private_key: Ed25519PrivateKey | None = None,
        public_key_for: Callable[[str], Ed25519PublicKey | None] | None = None,
    ) -> None:
        self._private_key = private_key
        self._public_key_for = public_key_for

    def resolve_private_key(self, key_id: str) -> Ed25519PrivateKey:
        assert self._private_key is not None
        return self._private_key

    def resolve_public_key(self, key_id: str) -> Ed25519PublicKey | None:
        assert self._public_key_for is not None
        key = self._public_key_for(key_id)
        if key is None:  # raised as-is so the caller can answer "unknown device"
            raise _UnknownKey(key_id)
        return key


class _UnknownKey(Exception):
    pass


class _Verifier(HTTPMessageVerifier):
    # Freshness is checked by verify_request against the injected clock, in both
    # directions; the library's own wall-clock check must not be tighter.
    max_clock_skew = timedelta(days=36500)


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def sign_request(
    method: str,
    url: str,
    headers: MutableMapping[str, str],
    body: bytes,
    *,
    device_id: str,
    private_key: Ed25519PrivateKey,
    now: datetime,
    nonce: str | None = None,
) -> None:
    """Add Content-Digest, Signature-Input and Signature to `headers` in place.

    `url` is the full URL the request goes to (path and query are signed);
    `now` is the signer's best idea of the server's clock (see the agent's skew).
    """
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519, key_resolver=_OneKey(private_key=private_key)
    )
    for name in [n for n in headers if n.lower() == "content-digest"]:
        del headers[name]  # re-signing a retried request: digest the body again
    signer.sign(
        _Message(method.upper(), url, headers),
        key_id=device_id,
        created=now.astimezone(UTC).replace(microsecond=0),
        nonce=nonce or new_nonce(),
        label=LABEL,
        tag=TAG,
        covered_component_ids=COVERED,
        body=body,
    )


def verify_request(
    method: str,
    url: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    *,
    public_key_for: Callable[[str], Ed25519PublicKey | None],
    now: datetime,
) -> Verified:
    """Check a request signed by `sign_request`. Raises SignatureRejected.

    `public_key_for(device_id)` returns the enrolled key, or None for a device the
    server does not know (revocation is the caller's check: it needs a 403, not a 401).
    """
    fields = CaseInsensitiveDict()
    for name, value in headers:
        fields[name] = f"{fields[name]}, {value}" if name in fields else value
    if "signature" not in fields and "signature-input" not in fields:
        raise SignatureRejected(UNSIGNED, "the request is not signed (no Signature header)")
    if "signature" not in fields or "signature-input" not in fields:
        raise SignatureRejected(MALFORMED, "Signature and Signature-Input must both be present")
    verifier = _Verifier(
        signature_algorithm=algorithms.ED25519,
        key_resolver=_OneKey(public_key_for=public_key_for),
    )
    try:
        results = verifier.verify(
            _Message(method.upper(), url, fields),
            max_age=None,
            expect_tag=TAG,
            require_components=COVERED,
            body=body,
        )
    except _UnknownKey as e:
        raise SignatureRejected(UNKNOWN_DEVICE, f"no enrolled kiosk has key id {str(e)[:64]!r}") from None
    except InvalidSignature as e:
        cause = e.__cause__
        if isinstance(cause, _UnknownKey):
            raise SignatureRejected(
                UNKNOWN_DEVICE, f"no enrolled kiosk has key id {str(cause)[:64]!r}"
            ) from None
        text = str(e).strip()
        crypto_failed = cause is not None and "InvalidSignature" in type(cause).__name__
        if crypto_failed or not text:
            raise SignatureRejected(
                BAD_SIGNATURE,
                "the signature does not match this request (another key signed it, or the "
                "method, path, query or body was changed)",
            ) from None
        code = BAD_SIGNATURE if "digest" in text.lower() else MALFORMED
        raise SignatureRejected(code, f"signature check failed: {text[:200]}") from None
    except (HTTPMessageSignaturesException, ValueError, TypeError, KeyError) as e:
        raise SignatureRejected(MALFORMED, f"malformed signature: {str(e)[:200]}") from None
    result = results[0]
    params = result.parameters
    nonce = params.get("nonce")
    if not isinstance(nonce, str) or not 8 <= len(nonce) <= MAX_NONCE_CHARS:
        raise SignatureRejected(MALFORMED, "the signature needs a nonce of 8-64 characters")
    created = datetime.fromtimestamp(params["created"], tz=UTC)
    skew = abs(now.astimezone(UTC) - created)
    if skew > MAX_SKEW:
        raise SignatureRejected(
            STALE,
            f"signature created {int(skew.total_seconds())} s away from the server clock "
            f"(limit {int(MAX_SKEW.total_seconds())} s): check the kiosk's clock",
        )
    return Verified(device_id=str(params["keyid"]), nonce=nonce, created=created)
