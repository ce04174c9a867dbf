"""IT functions that `provisioning` calls directly against the server database.

Each takes a Session whose transaction the caller owns:

    engine, sessions = db.open_database(url)
    with sessions.begin() as db:
        site = admin.create_site(db, "Northside Clinic", "America/Chicago")

They flush (so ids and constraint errors show up at once) but never commit.
Every `now` must be timezone-aware. Errors IT can fix are ValueError with a plain message.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import audit, bundles, consent_documents, content_bundle, forms_bundle
from . import models as m
from .bundles import DEFAULT_CONFIG, store_config
from .enrolment import token_hash

MAX_TOKEN_TTL = timedelta(days=30)


@dataclass(frozen=True)
class SiteInfo:
    id: str
    name: str
    timezone: str


@dataclass(frozen=True)
class IssuedToken:
    token: str  # shown once to IT; the server keeps only its hash
    site_id: str
    expires_at: datetime


@dataclass(frozen=True)
class DeviceStatus:
    device_id: str
    site_id: str
    site_name: str
    hostname: str
    version: str | None
    enrolled_at: datetime
    last_heartbeat: datetime | None
    online: bool  # not revoked and heard from within silent_after
    backlog: int | None
    oldest_unsent_age_seconds: float | None
    disk_free_bytes: int | None
    dead_letters: int | None
    last_error: str | None
    revoked_at: datetime | None


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError("`now` must be timezone-aware (e.g. datetime.now(UTC))")
    return now.astimezone(UTC)


def _info(site: m.Site) -> SiteInfo:
    return SiteInfo(id=site.id, name=site.name, timezone=site.timezone)


def check_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as America/Chicago or Europe/London"
        ) from None


def create_site(db: Session, name: str, timezone: str, *, site_id: str | None = None) -> SiteInfo:
    """`site_id`: a fixed id (the demo practice's); by default a new UUID."""
    name = " ".join(name.split())
    if not name:
        raise ValueError("a site needs a name")
    if len(name) > 200:
        raise ValueError("a site name can have at most 200 characters")
    check_timezone(timezone)
    if _by_name(db, name) is not None:
        raise ValueError(f"there is already a site named {name!r}")
    now = datetime.now(UTC)
    site = m.Site(id=site_id or str(uuid.uuid4()), name=name, timezone=timezone, created_at=now)
    try:
        with db.begin_nested():
            db.add(site)
            db.flush()
    except IntegrityError:  # created by someone else just now
        raise ValueError(f"there is already a site named {name!r}") from None
    store_config(db, site.id, DEFAULT_CONFIG, now)
    audit.record(db, "site.created", now, site_id=site.id)
    db.flush()
    return _info(site)


def _by_name(db: Session, name: str) -> m.Site | None:
    return db.scalars(select(m.Site).where(func.lower(m.Site.name) == name.lower())).first()


def list_sites(db: Session) -> list[SiteInfo]:
    return [_info(s) for s in db.scalars(select(m.Site).order_by(m.Site.name))]


def find_site(db: Session, id_or_name: str) -> SiteInfo | None:
    """By id, else by name (case and extra spaces ignored)."""
    key = id_or_name.strip()
    site = db.get(m.Site, key) if len(key) <= 36 else None
    site = site or _by_name(db, " ".join(key.split()))
    return _info(site) if site else None


def issue_enrolment_token(db: Session, site_id: str, ttl: timedelta, now: datetime) -> IssuedToken:
    now = _aware(now)
    if not timedelta(0) < ttl <= MAX_TOKEN_TTL:
        raise ValueError(f"a token's lifetime must be more than 0 and at most {MAX_TOKEN_TTL.days} days")
    site = db.get(m.Site, site_id)
    if site is None:
        raise ValueError(f"no site with id {site_id!r}")
    # Hex, not urlsafe base64: a token starting with '-' read as an option on IT's command line.
    token = secrets.token_hex(32)
    expires_at = now + ttl
    db.add(m.EnrolmentToken(token_hash=token_hash(token), site_id=site.id, created_at=now,
                            expires_at=expires_at))
    audit.record(db, "token.issued", now, site_id=site.id)
    db.flush()
    return IssuedToken(token=token, site_id=site.id, expires_at=expires_at)


def list_fleet(db: Session, now: datetime, silent_after: timedelta = timedelta(minutes=5)) -> list[DeviceStatus]:
    """Every enrolled kiosk (revoked ones too), by site name and hostname."""
    now = _aware(now)
    rows = db.execute(
        select(m.Device, m.Site, m.DeviceStatus)
        .join(m.Site, m.Site.id == m.Device.site_id)
        .outerjoin(m.DeviceStatus, m.DeviceStatus.device_id == m.Device.id)
        .order_by(m.Site.name, m.Device.hostname, m.Device.enrolled_at)
    )
    fleet = []
    for device, site, status in rows:
        last = status.received_at if status else None
        fleet.append(DeviceStatus(
            device_id=device.id, site_id=site.id, site_name=site.name, hostname=device.hostname,
            version=device.version, enrolled_at=device.enrolled_at, last_heartbeat=last,
            online=device.revoked_at is None and last is not None and now - last <= silent_after,
            backlog=status.backlog if status else None,
            oldest_unsent_age_seconds=status.oldest_unsent_age_seconds if status else None,
            disk_free_bytes=status.disk_free_bytes if status else None,
            dead_letters=status.dead_letters if status else None,
            last_error=status.last_error if status else None,
            revoked_at=device.revoked_at,
        ))
    return fleet


def revoke_device(db: Session, device_id: str, now: datetime, reason: str) -> bool:
    """False when no device has this id. Revoking twice keeps the first time and reason."""
    now = _aware(now)
    device = db.get(m.Device, device_id.strip()) if len(device_id.strip()) <= 36 else None
    if device is None:
        return False
    if device.revoked_at is None:
        device.revoked_at = now
        device.revoked_reason = reason[:1000]
        audit.record(db, "device.revoked", now, device_id=device.id, site_id=device.site_id)
        db.flush()
    return True


def _site_or_error(db: Session, site_id: str) -> m.Site:
    site = db.get(m.Site, site_id) if len(site_id) <= 36 else None
    if site is None:
        raise ValueError(f"no site with id {site_id!r}")
    return site


def publish_forms_bundle(db: Session, site_id: str, items: dict, now: datetime) -> str:
    """Make `items` ({"questionnaires", "rules", "policy"}) the site's forms bundle
    (replacing the default or an earlier one). Every questionnaire and rules object is
    read with the kiosk's own parsers first; ValueError says what is wrong.
    Returns the bundle's new version (its ETag)."""
    now = _aware(now)
    site = _site_or_error(db, site_id)
    forms_bundle.check_forms_bundle(items)
    bundles.store(db, site.id, bundles.BundleKind.forms, items, now)
    audit.record(db, "forms.published", now, site_id=site.id)
    db.flush()
    return bundles.version_of(items)


def publish_consent_documents(db: Session, site_id: str, documents: list, now: datetime) -> str:
    """Make `documents` the site's consent documents (replacing the default or earlier
    ones) and register each version and language, so signatures on them are accepted
    (and still are after the site moves on to a newer version). A known id, version and
    language with other text is refused (ValueError): changed text needs a new version.
    Returns the consents bundle's new version (its ETag)."""
    now = _aware(now)
    site = _site_or_error(db, site_id)
    items = consent_documents.check_documents(documents)
    consent_documents.register(db, items, now, strict=True)
    bundles.store(db, site.id, bundles.BundleKind.consents, items, now)
    audit.record(db, "consents.published", now, site_id=site.id)
    db.flush()
    return bundles.version_of(items)


def publish_content_bundle(db: Session, site_id: str, items: list, now: datetime) -> str:
    """Make `items` (education articles, see content_bundle.py) the site's content bundle,
    replacing the kiosk package's default or an earlier one. The articles are read with the
    kiosk's own parser first; ValueError names the item and the problem.
    Returns the bundle's new version (its ETag)."""
    now = _aware(now)
    site = _site_or_error(db, site_id)
    checked = content_bundle.check_content_bundle(items)
    bundles.store(db, site.id, bundles.BundleKind.content, checked, now)
    audit.record(db, "content.published", now, site_id=site.id)
    db.flush()
    return bundles.version_of(checked)


def publish_site_config(db: Session, site_id: str, settings: dict, now: datetime, *,
                        logo: bytes | None = None, keep_logo: bool = True) -> str:
    """Make `settings` the site's kiosk settings (kiosk/site_config.py: clinic_name,
    languages, default_language, timeouts, minutes_per_visit, copay, steps per visit type,
    and the sync keys), replacing what the site published before; the defaults fill in
    what it leaves out. `logo`: the bytes of a PNG or JPEG file, checked (size, pixels, a
    whole image); None keeps the site's current logo, or removes it with keep_logo=False.
    The settings are read as a kiosk will read them, so a kiosk never gets settings it
    refuses; ValueError (SiteConfigError) lists every problem in words for IT.
    Kiosks take them up at their next sync, between patients.
    Returns the config bundle's new version (its ETag)."""
    from kiosk.site_config import SiteConfigError, check_logo, logo_item, parse_site_config

    now = _aware(now)
    site = _site_or_error(db, site_id)
    if not isinstance(settings, dict):
        raise SiteConfigError(["the site configuration must be a table of settings (a JSON object)"])
    items = dict(settings)
    if "logo" in items:
        raise SiteConfigError(["'logo': give the logo as an image file (--logo FILE), not as a setting"])
    if logo is not None:
        items["logo"] = logo_item(check_logo(logo))
    elif keep_logo:
        current = bundles.config_items(db, site, now).get("logo")
        if current is not None:
            items["logo"] = current
    parse_site_config(items, strict=True)
    # What kiosks will get (the defaults under the site's settings) must hold together too,
    # e.g. languages without the default language "en".
    parse_site_config({**DEFAULT_CONFIG, **items}, strict=True)
    bundles.store_config(db, site.id, items, now)
    audit.record(db, "config.published", now, site_id=site.id)
    db.flush()
    return bundles.version_of(bundles.config_items(db, site, now))


def site_config_summary(db: Session, site_id: str, now: datetime) -> dict:
    """What the site's kiosks get in their config bundle now (the logo's data shortened)."""
    site = _site_or_error(db, site_id)
    items = bundles.config_items(db, site, _aware(now))
    if isinstance(items.get("logo"), dict):
        items["logo"] = {**items["logo"], "data": f"({len(items['logo'].get('data', '')) * 3 // 4} bytes)"}
    return items
