"""The sync agent's health, as a small JSON file the kiosk's staff mode reads.

The agent is another process; a file (written atomically: temp file + rename)
is the simplest channel that survives either side restarting. No PHI, no Kivy.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path

ONLINE = "online"
OFFLINE = "offline"
NOT_ENROLLED = "not_enrolled"
UNKNOWN = "unknown"  # no file yet, or one that cannot be read


@dataclass(frozen=True)
class SyncHealth:
    state: str = UNKNOWN  # online | offline | not_enrolled | unknown
    backlog: int = 0  # events not yet accepted by the server
    oldest_unsent: datetime | None = None  # UTC
    dead_letters: int = 0  # events the server rejected (staff must look)
    last_success: datetime | None = None  # UTC, last complete sync
    last_attempt: datetime | None = None  # UTC
    last_error: str | None = None  # for IT, never PHI
    clock_skew_seconds: float = 0.0  # server clock minus kiosk clock
    updated_at: datetime | None = None  # UTC, when the agent wrote this
    pid: int | None = None  # the agent process


_TIMES = ("oldest_unsent", "last_success", "last_attempt", "updated_at")


def write_health(path: Path, health: SyncHealth) -> None:
    data = asdict(health)
    for key in _TIMES:
        data[key] = data[key].isoformat() if data[key] else None
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".sync-health.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_health(path: Path | None) -> SyncHealth:
    """The last health written, or SyncHealth(state="unknown") when there is none."""
    if path is None:
        return SyncHealth()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        known = {f.name for f in fields(SyncHealth)}
        values = {k: v for k, v in data.items() if k in known}
        for key in _TIMES:
            if values.get(key):
                values[key] = datetime.fromisoformat(values[key])
        return SyncHealth(**values)
    except (OSError, ValueError, TypeError, AttributeError):
        return SyncHealth()
