"""systemd's service notifications (sd_notify) and the nightly restart window, for the
kiosk app and the sync agent. No Kivy.

sd_notify is one datagram of KEY=value lines to the unix socket named by $NOTIFY_SOCKET
("@name" is Linux's abstract namespace). Written here in a few lines instead of adding a
dependency: the maintained binding (systemd-python) needs libsystemd's headers to build,
and the pure-Python `sdnotify` package has not been released since 2017.

The watchdog: systemd sets $WATCHDOG_USEC and restarts the service when no WATCHDOG=1
arrives in time. We ping at half that. $WATCHDOG_PID names the process meant to ping;
the kiosk app runs as a child of the cage compositor (the unit's main process, so the
unit says NotifyAccess=all), so a WATCHDOG_PID of our parent counts as ours too.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from datetime import datetime, time, timedelta

log = logging.getLogger(__name__)

DEFAULT_WINDOW = "02:00-04:00"
MIN_UPTIME = timedelta(hours=20)  # a kiosk restarted by hand today is not restarted again tonight


class Notifier:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        self.address = "\0" + address[1:] if address.startswith("@") else address
        self.watchdog_seconds: float | None = None
        usec, pid = env.get("WATCHDOG_USEC"), env.get("WATCHDOG_PID")
        if self.address and usec and usec.isdigit() and int(usec) > 0 and \
                (pid is None or pid in (str(os.getpid()), str(os.getppid()))):
            self.watchdog_seconds = int(usec) / 1_000_000
        self._failed = False

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    @property
    def ping_every(self) -> float | None:
        """Seconds between WATCHDOG=1 (half systemd's timeout); None without a watchdog."""
        return self.watchdog_seconds / 2 if self.watchdog_seconds else None

    def notify(self, *lines: str) -> bool:
        if not self.address:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
                s.connect(self.address)
                s.sendall("\n".join(lines).encode())
            return True
        except OSError as e:
            if not self._failed:  # once: a broken socket would otherwise fill the log
                log.warning("watchdog.notify_failed", extra={"fields": {"error": type(e).__name__}})
                self._failed = True
            return False

    def ready(self, status: str = "") -> bool:
        return self.notify("READY=1", *([f"STATUS={status}"] if status else []))

    def ping(self) -> bool:
        return self.notify("WATCHDOG=1")

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")


def parse_window(text: str) -> tuple[time, time] | None:
    """"02:00-04:00" -> (02:00, 04:00); "none" -> None. ValueError with what to write."""
    if text.strip().lower() == "none":
        return None
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        raise ValueError("a window like '02:00-04:00' (local time, outside clinic hours) or 'none'") from None
    if start == end:
        raise ValueError("a window with a start and a different end, like '02:00-04:00'")
    return start, end


def restart_due(window: tuple[time, time] | None, now_local: datetime, uptime: timedelta) -> bool:
    """True when a process that is otherwise idle should restart now: inside the nightly
    window (which may pass midnight) and up long enough."""
    if window is None or uptime < MIN_UPTIME:
        return False
    start, end = window
    at = now_local.time()
    return start <= at < end if start < end else (at >= start or at < end)
