"""Consent documents: the ones a site serves its kiosks, and the register of every
version (per language) the practice ever published or served.

A document, as the kiosk package ships it (kiosk/consent/documents/*.json, read by
kiosk.consent.documents, whose parser the server uses too) and as a clinic publishes
its own:

    {"id": "hipaa-notice", "version": "2026-11", "kind": "privacy" | "financial" | "treatment",
     "title": {"en": "...", "es": "..."}, "body": {"en": "...", "es": "..."}}

The patient is shown `consent_text(title, body)` in their language; the kiosk sends
its SHA-256 with the signature, and the server accepts only a text registered in
`consent_documents` (sync_protocol/consent_hash.py makes the text and hash on both
sides). A version names one text for good: registering other text under a known
id, version and language is refused.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kiosk.consent.documents import load_default_documents, parse_consent_document
from sync_protocol.consent_hash import consent_sha256, consent_text

from .models import ConsentDocument

log = logging.getLogger(__name__)


class DocumentError(ValueError):
    """Documents that clash with each other or with registered ones; the message says which."""


@dataclass(frozen=True)
class DocumentText:
    """One document version in one language, as the patient sees it."""

    id: str
    version: str
    language: str
    kind: str
    title: str
    text: str
    sha256: str


def check_documents(documents: Any) -> list[dict[str, Any]]:
    """The documents in their JSON form, each read by the kiosk's own parser (so the
    server publishes only what kiosks can show). ConsentDocumentError / DocumentError
    (both ValueError) name the document and every problem."""
    if not isinstance(documents, list):
        raise DocumentError("consent documents: expected a list of documents")
    checked: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, raw in enumerate(documents, start=1):
        document = parse_consent_document(raw, where=f"consent document {i}")
        if document.id in seen:
            # A kiosk uses one version per id: a second would never be shown.
            raise DocumentError(f"consent document {i}: id {document.id!r} is there twice")
        seen.add(document.id)
        checked.append(document.as_dict())
    return checked


def texts(documents: list[dict[str, Any]]) -> list[DocumentText]:
    """Each (checked) document in each of its languages."""
    return [
        DocumentText(id=d["id"], version=d["version"], language=lang, kind=d["kind"], title=d["title"][lang],
                     text=consent_text(d["title"][lang], d["body"][lang]),
                     sha256=consent_sha256(d["title"][lang], d["body"][lang]))
        for d in documents for lang in sorted(set(d["title"]) & set(d["body"]))
    ]


@lru_cache(maxsize=1)
def _default_documents() -> tuple[Any, ...]:
    return tuple(load_default_documents())


def default_documents() -> list[dict[str, Any]]:
    """The kiosk package's consent documents, in their JSON form (a fresh copy each call)."""
    return [d.as_dict() for d in _default_documents()]


def unregistered(db: Session, documents: list[dict[str, Any]]) -> list[DocumentText]:
    return [t for t in texts(documents) if db.get(ConsentDocument, (t.id, t.version, t.language)) is None]


def register(db: Session, documents: list[dict[str, Any]], now: datetime, *, strict: bool = True) -> int:
    """Register every (document, version, language) not known yet; returns how many.

    A known one with other text: DocumentError when `strict` (publishing), else a
    warning in the log and the registered text stays (serving: the kiosk's signature
    on the other text will be refused, and staff see why).
    """
    added = 0
    for t in texts(documents):
        known = db.get(ConsentDocument, (t.id, t.version, t.language))
        if known is None:
            try:
                with db.begin_nested():  # another worker may register it at the same moment
                    db.add(ConsentDocument(id=t.id, version=t.version, language=t.language, kind=t.kind,
                                           title=t.title, text=t.text, sha256=t.sha256, published_at=now))
                added += 1
                continue
            except IntegrityError:
                known = db.get(ConsentDocument, (t.id, t.version, t.language), populate_existing=True)
                if known is None:
                    raise
        if known.sha256 != t.sha256 or known.kind != t.kind:
            message = (f"consent document {t.id} version {t.version} ({t.language}) was published before "
                       "with other text or kind; give the changed document a new version")
            if strict:
                raise DocumentError(message)
            log.warning("consent.document_clash", extra={"fields": {
                "document_id": t.id, "version": t.version, "language": t.language}})
    return added


def find(db: Session, document_id: str, version: str, language: str) -> ConsentDocument | None:
    if len(document_id) > 64 or len(version) > 40 or len(language) > 35:
        return None
    return db.get(ConsentDocument, (document_id, version, language))
