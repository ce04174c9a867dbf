"""Benchmark helper: make sure there is an X display, starting a private Xvfb if needed.

    from _xvfb import ensure_display
    ensure_display()          # before anything imports kivy.core.window

With $DISPLAY set nothing happens. Without it, Xvfb is started on a free display
number (Xvfb picks it and reports it through -displayfd), $DISPLAY is set for this
process and its children, and the server is killed (by its pid) when this process exits.
"""
from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import sys

SCREEN = "1280x800x24"
_server: subprocess.Popen | None = None


def ensure_display(screen: str = SCREEN, timeout: float = 20.0) -> str:
    global _server
    if os.environ.get("DISPLAY"):
        return os.environ["DISPLAY"]
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        sys.exit("bench: no $DISPLAY and no Xvfb on PATH (install the Debian package xvfb)")
    read_fd, write_fd = os.pipe()
    _server = subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-screen", "0", screen, "-nolisten", "tcp", "-noreset"],
        pass_fds=(write_fd,),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C in the terminal reaches us, we stop it
    )
    os.close(write_fd)
    atexit.register(_stop)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, _frame: sys.exit(128 + signum))
    number = _read_display_number(read_fd, timeout)
    os.close(read_fd)
    if number is None:
        _stop()
        sys.exit("bench: Xvfb did not start (no display number reported)")
    os.environ["DISPLAY"] = f":{number}"
    print(f"[bench] no $DISPLAY: started Xvfb on :{number} ({screen}), pid {_server.pid}", file=sys.stderr)
    return os.environ["DISPLAY"]


def _read_display_number(fd: int, timeout: float) -> str | None:
    import select

    data = b""
    while not data.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return None
        chunk = os.read(fd, 64)
        if not chunk:
            break
        data += chunk
    text = data.decode().strip()
    return text if text.isdigit() else None


def _stop() -> None:
    global _server
    server, _server = _server, None
    if server is None or server.poll() is not None:
        return
    server.terminate()
    try:
        server.wait(timeout=5)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
