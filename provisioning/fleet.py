"""The fleet view for IT: one row per kiosk, as a table for people or JSON for scripts.

Works on `practice_server.admin.DeviceStatus` objects (duck-typed, so it is tested without
the server). Only operational data: hostnames, ids, counts, ages — never PHI (the server's
last_error is the agent's own error text, which never carries patient data).
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

COLUMNS = ("SITE", "HOSTNAME", "DEVICE", "VERSION", "HEARTBEAT", "STATE", "BACKLOG", "OLDEST", "DISK", "LAST ERROR")
_MAX_ERROR = 48


def age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = max(0, int(seconds))
    if s < 120:
        return f"{s}s"
    if s < 2 * 3600:
        return f"{s // 60}m"
    if s < 2 * 86400:
        return f"{s // 3600}h"
    return f"{s // 86400}d"


def size(n: int | None) -> str:
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f}{unit}" if unit == "B" else f"{value:.1f}{unit}"
        value /= 1000
    return f"{n}B"


def state(d: Any) -> str:
    if d.revoked_at is not None:
        return "REVOKED"
    if d.last_heartbeat is None:
        return "NEVER SEEN"
    return "online" if d.online else "OFFLINE"


def rows(devices: Sequence[Any], now: datetime) -> list[tuple[str, ...]]:
    out = []
    for d in sorted(devices, key=lambda d: (d.site_name, d.hostname, d.device_id)):
        heartbeat = age((now - d.last_heartbeat).total_seconds()) + " ago" if d.last_heartbeat else "never"
        error = (d.last_error or "-").replace("\n", " ")
        if len(error) > _MAX_ERROR:
            error = error[: _MAX_ERROR - 1] + "…"
        out.append((
            d.site_name,
            d.hostname,
            d.device_id,
            d.version or "-",
            heartbeat,
            state(d),
            "-" if d.backlog is None else str(d.backlog) + (f" ({d.dead_letters} dead)" if d.dead_letters else ""),
            age(d.oldest_unsent_age_seconds),
            size(d.disk_free_bytes),
            error,
        ))
    return out


def table(devices: Sequence[Any], now: datetime) -> str:
    if not devices:
        return "No kiosks enrolled yet. Issue a token with `python -m provisioning issue-token`."
    body = rows(devices, now)
    widths = [max(len(c), *(len(r[i]) for r in body)) for i, c in enumerate(COLUMNS)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in body]
    offline = sum(1 for d in devices if d.revoked_at is None and not d.online)
    lines.append("")
    lines.append(f"{len(devices)} kiosk(s), {offline} not online, {sum(1 for d in devices if d.revoked_at)} revoked.")
    return "\n".join(lines)


def as_json(devices: Sequence[Any]) -> str:
    def plain(d: Any) -> dict[str, Any]:
        data = dataclasses.asdict(d) if dataclasses.is_dataclass(d) else dict(vars(d))
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()}

    return json.dumps([plain(d) for d in devices], indent=2)
