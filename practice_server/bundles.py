"""Bundles a kiosk downloads: its site's config, forms, consents and content.

Stored per site in the `bundles` table. The config bundle is the defaults, overlaid
with what the site stored, plus the site's name. The forms bundle is what the site
published, else the kiosk package's default forms (forms_bundle.py); the consents
bundle is a list of documents: the site's published ones, else the kiosk package's
(consent_documents.py); the content bundle is a list of education articles: the site's
published ones, else the kiosk package's (content_bundle.py). The version (and ETag) is a
hash of the canonical JSON of the items, so any worker computes the same one.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy.orm import Session

from . import consent_documents, content_bundle, forms_bundle, practice_keys
from .models import Bundle, Site


class BundleKind(str, Enum):
    config = "config"
    forms = "forms"
    consents = "consents"
    content = "content"


DEFAULT_CONFIG: dict[str, Any] = {
    "languages": ["en", "es", "zh", "vi", "ar"],
    "default_language": "en",
    "minutes_per_visit": 15,
    "retention_days": 7,
    "days_ahead": 3,
    "sync_interval_seconds": 30,
    "heartbeat_interval_seconds": 60,
}
MAX_DAYS_AHEAD = 30


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, NaN refused: the same text for the same value everywhere."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def version_of(items: Any) -> str:
    return hashlib.sha256(canonical_json(items).encode()).hexdigest()[:32]


def _stored(db: Session, site_id: str, kind: str) -> Any | None:
    row = db.get(Bundle, (site_id, kind))
    return None if row is None else json.loads(row.items)


def config_items(db: Session, site: Site, now: datetime | None = None) -> dict[str, Any]:
    """The site's config, with the practice's check-in public keys (rotation reaches
    enrolled kiosks this way; see practice_keys.py)."""
    stored = _stored(db, site.id, BundleKind.config.value) or {}
    checkin_keys = practice_keys.published_keys(db, now or datetime.now(UTC))
    return {**DEFAULT_CONFIG, **stored, "site_name": site.name, "checkin_keys": checkin_keys}


def days_ahead(config: dict[str, Any]) -> int:
    value = config.get("days_ahead")
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_DAYS_AHEAD:
        return value
    return DEFAULT_CONFIG["days_ahead"]


def forms_items(db: Session, site_id: str) -> dict[str, Any]:
    stored = _stored(db, site_id, BundleKind.forms.value)
    return stored if stored is not None else forms_bundle.default_forms_bundle()


def consent_items(db: Session, site_id: str) -> list[dict[str, Any]]:
    stored = _stored(db, site_id, BundleKind.consents.value)
    return stored if stored is not None else consent_documents.default_documents()


def content_items(db: Session, site_id: str) -> list[dict[str, Any]]:
    stored = _stored(db, site_id, BundleKind.content.value)
    return stored if stored is not None else content_bundle.default_content_bundle()


def bundle(db: Session, site: Site, kind: BundleKind) -> dict[str, Any]:
    if kind is BundleKind.config:
        items: Any = config_items(db, site)
    elif kind is BundleKind.forms:
        items = forms_items(db, site.id)
    elif kind is BundleKind.consents:
        items = consent_items(db, site.id)
    elif kind is BundleKind.content:
        items = content_items(db, site.id)
    else:
        items = _stored(db, site.id, kind.value) or []
    return {"kind": kind.value, "version": version_of(items), "items": items}


def store(db: Session, site_id: str, kind: BundleKind, items: Any, now: datetime) -> None:
    """Set what a site serves for `kind` (the caller checked `items`)."""
    text = canonical_json(items)
    row = db.get(Bundle, (site_id, kind.value))
    if row is None:
        db.add(Bundle(site_id=site_id, kind=kind.value, items=text, updated_at=now))
    else:
        row.items, row.updated_at = text, now


def store_config(db: Session, site_id: str, overrides: dict[str, Any], now: datetime) -> None:
    """Set a site's config overrides (without site_name and checkin_keys, which follow
    the site and the practice's keys)."""
    derived = ("site_name", "checkin_keys")
    store(db, site_id, BundleKind.config, {k: v for k, v in overrides.items() if k not in derived}, now)


def etag(version: str) -> str:
    return f'"{version}"'


def matches(if_none_match: str | None, version: str) -> bool:
    """RFC 9110 If-None-Match: a list of (weak or strong) entity tags, or "*"."""
    if not if_none_match:
        return False
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag == "*":
            return True
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag == etag(version):
            return True
    return False
