"""POST /heartbeat: keep the latest status of each kiosk (the fleet view reads it)."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .models import Device, DeviceStatus


class Heartbeat(BaseModel):
    """All fields optional: an older agent that sends fewer still shows up as alive."""

    model_config = ConfigDict(extra="ignore")

    version: str | None = Field(default=None, max_length=64)
    backlog: int | None = Field(default=None, ge=0, le=10**9)
    oldest_unsent_age_seconds: float | None = Field(default=None, ge=0, le=10**10, allow_inf_nan=False)
    clock: AwareDatetime | None = None
    disk_free_bytes: int | None = Field(default=None, ge=0, le=2**62)
    dead_letters: int | None = Field(default=None, ge=0, le=10**9)
    last_error: str | None = Field(default=None, max_length=2000)


def record(db: Session, device_id: str, beat: Heartbeat, now: datetime) -> None:
    values = {
        "received_at": now,
        "version": beat.version,
        "backlog": beat.backlog,
        "oldest_unsent_age_seconds": beat.oldest_unsent_age_seconds,
        "kiosk_clock": beat.clock,
        "disk_free_bytes": beat.disk_free_bytes,
        "dead_letters": beat.dead_letters,
        "last_error": beat.last_error,
    }
    # One statement, so two heartbeats of one kiosk in two workers cannot both insert.
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(DeviceStatus).values(device_id=device_id, **values)
    db.execute(stmt.on_conflict_do_update(index_elements=[DeviceStatus.device_id], set_=values))
    if beat.version is not None:
        db.execute(update(Device).where(Device.id == device_id).values(version=beat.version))
