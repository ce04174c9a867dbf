"""systemd units for a kiosk: the touchscreen app under the cage Wayland compositor, and
the sync agent. Both notify systemd (Type=notify) and have a watchdog; both restart
themselves nightly in the kiosk's restart_window when idle (kiosk/watchdog.py), and
Restart=always brings them back.

Both run as the unprivileged kiosk user with the file system read-only except the
kiosk's data folder (ProtectSystem=strict + ReadWritePaths), so a compromised app can
change neither its config, its keys nor the system. The keys (device key, data key) are
made by `provisioning enrol` as root beforehand, readable by the kiosk user only.

The kiosk app cannot have PrivateDevices (it needs the GPU, touch input, the tty, camera,
scanner and printer) nor MemoryDenyWriteExecute (Mesa's shader compiler JITs); the
agent, which only talks to the network, gets both fences.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from provisioning.errors import ProvisioningError

KIOSK_UNIT = "clinic-kiosk.service"
AGENT_UNIT = "clinic-sync-agent.service"


@dataclass(frozen=True)
class UnitOptions:
    user: str = "kiosk"
    config: Path = Path("/etc/clinic-kiosk/kiosk.toml")
    venv: Path = Path("/opt/clinic-kiosk/venv")
    data_dir: Path = Path("/var/lib/clinic-kiosk")
    cage: Path = Path("/usr/bin/cage")
    tty: int = 1


def _arg(path: Path | str) -> str:
    text = str(path)
    if any(c in text for c in "\"'\\\n%$"):
        raise ProvisioningError(f"path {text!r} contains a character systemd units would misread; choose a plainer path")
    return f'"{text}"' if " " in text else text


def _check_abs(name: str, path: Path) -> None:
    if not Path(path).is_absolute():
        raise ProvisioningError(f"--{name} must be an absolute path, found {path}")


# Common to both services. Comments in the output explain to whoever reads the unit.
def _hardening(opts: UnitOptions) -> str:
    under_home = any(str(p).startswith(("/home/", "/root/")) for p in (opts.venv, opts.config, opts.data_dir))
    return f"""\
# Hardening: read-only system, writable data folder only, no privilege gain.
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths={_arg(opts.data_dir)}
ProtectHome={"read-only" if under_home else "yes"}
PrivateTmp=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
SystemCallArchitectures=native
CapabilityBoundingSet=
UMask=0077
"""


def kiosk_unit(opts: UnitOptions) -> str:
    python = opts.venv / "bin" / "python"
    tty = f"tty{opts.tty}"
    return f"""\
# Clinic check-in kiosk: the touchscreen app, fullscreen under the cage Wayland kiosk
# compositor on {tty}. Written by `python -m provisioning write-units`.
[Unit]
Description=Clinic check-in kiosk (touchscreen app under cage)
Documentation=file://{opts.config}
After=systemd-user-sessions.service plymouth-quit-wait.service dbus.socket systemd-logind.service
Wants=dbus.socket systemd-logind.service
# The kiosk owns the console: no login prompt on its tty.
Conflicts=getty@{tty}.service
After=getty@{tty}.service
ConditionPathExists=/dev/{tty}
# Keep retrying forever: a kiosk that gave up is a dark screen in the waiting room.
StartLimitIntervalSec=0

[Service]
# The app tells systemd when its first frame is up (READY=1) and pings from its UI clock;
# it runs as a child of cage, hence NotifyAccess=all. A frozen UI misses the watchdog and
# is restarted; a patient's confirmed steps are already in the local database.
Type=notify
NotifyAccess=all
WatchdogSec=60
TimeoutStartSec=120
User={opts.user}
# A logind session on the tty gives cage its seat (DRM and input devices).
PAMName=login
TTYPath=/dev/{tty}
TTYReset=yes
TTYVHangup=yes
TTYVTDisallocate=yes
StandardInput=tty-fail
StandardOutput=journal
StandardError=journal
UtmpIdentifier={tty}
UtmpMode=user
ExecStart={_arg(opts.cage)} -- {_arg(python)} -m kiosk --config {_arg(opts.config)}
Restart=always
RestartSec=2
# The Wayland socket lives in the user's runtime folder, which must stay writable.
ReadWritePaths=-/run/user
{_hardening(opts)}
[Install]
WantedBy=graphical.target
"""


def agent_unit(opts: UnitOptions) -> str:
    python = opts.venv / "bin" / "python"
    return f"""\
# Clinic kiosk sync agent: pushes check-ins to the practice server, pulls the schedule.
# Written by `python -m provisioning write-units`.
[Unit]
Description=Clinic kiosk sync agent
Documentation=file://{opts.config}
Wants=network-online.target
After=network-online.target
# Offline is normal for a kiosk: never stop restarting.
StartLimitIntervalSec=0

[Service]
# READY=1 once running; watchdog pings while its loop makes progress (sync_agent/__main__.py).
Type=notify
NotifyAccess=main
WatchdogSec=120
User={opts.user}
ExecStart={_arg(python)} -m sync_agent --config {_arg(opts.config)}
Restart=always
RestartSec=5
StandardOutput=journal
StandardError=journal
{_hardening(opts)}# Only the network and local sockets; no devices; no writable+executable memory.
PrivateDevices=yes
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
MemoryDenyWriteExecute=yes

[Install]
WantedBy=multi-user.target
"""


def write_units(out_dir: Path, opts: UnitOptions) -> list[Path]:
    for name in ("config", "venv", "data-dir", "cage"):
        _check_abs(name, getattr(opts, name.replace("-", "_")))
    if not opts.user or not opts.user.replace("-", "").replace("_", "").isalnum():
        raise ProvisioningError(f"--user {opts.user!r} is not a plain user name")
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for name, text in ((KIOSK_UNIT, kiosk_unit(opts)), (AGENT_UNIT, agent_unit(opts))):
            path = out_dir / name
            path.write_text(text, encoding="utf-8")
            path.chmod(0o644)
            written.append(path)
    except OSError as exc:
        raise ProvisioningError(f"cannot write units into {out_dir}: {exc.strerror}") from None
    return written
