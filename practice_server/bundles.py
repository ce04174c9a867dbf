"""Bundles a kiosk downloads: its site's config (and, later, forms, consents, content).

Stored per site in the `bundles` table. The config bundle is the defaults, overlaid
with what the site stored, plus the site's name. The version (and ETag) is a hash of
the canonical JSON of the items, so any worker computes the same one.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy.orm import Session

from .models import Bundle, Site


class BundleKind(str, Enum):
    config = "config"
    forms = "forms"
    consents = "consents"
    content = "content"


DEFAULT_CONFIG: dict[str, Any] = {
    "languages": ["en", "es"],
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


def config_items(db: Session, site: Site) -> dict[str, Any]:
    stored = _stored(db, site.id, BundleKind.config.value) or {}
    return {**DEFAULT_CONFIG, **stored, "site_name": site.name}


def days_ahead(config: dict[str, Any]) -> int:
    value = config.get("days_ahead")
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_DAYS_AHEAD:
        return value
    return DEFAULT_CONFIG["days_ahead"]


def bundle(db: Session, site: Site, kind: BundleKind) -> dict[str, Any]:
    if kind is BundleKind.config:
        items: Any = config_items(db, site)
    else:
        items = _stored(db, site.id, kind.value) or []
    return {"kind": kind.value, "version": version_of(items), "items": items}


def store_config(db: Session, site_id: str, overrides: dict[str, Any], now: datetime) -> None:
    """Set a site's config overrides (without site_name, which follows the site)."""
    items = canonical_json({k: v for k, v in overrides.items() if k != "site_name"})
    row = db.get(Bundle, (site_id, BundleKind.config.value))
    if row is None:
        db.add(Bundle(site_id=site_id, kind=BundleKind.config.value, items=items, updated_at=now))
    else:
        row.items, row.updated_at = items, now


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
