"""Kiosk configuration: typed, frozen, read once at start-up before Kivy is imported.

Sources, later ones winning:

1. built-in defaults (demo mode: no server, demo staff PIN 2468);
2. an optional TOML file: the ``--config`` argument, else the ``KIOSK_CONFIG``
   environment variable (see ``kiosk/config.example.toml`` for every key);
3. environment overrides ``KIOSK_DATA_DIR`` and ``KIOSK_KEY_FILE``.

Every problem found is reported at once in one `ConfigError` whose message
names the file, the key, what was expected and what was found.  No Kivy here.
"""
from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kiosk import staff_pin
from kiosk.i18n import DEFAULT_LOCALES_DIR, available_languages, catalog_path

ENV_CONFIG = "KIOSK_CONFIG"
ENV_DATA_DIR = "KIOSK_DATA_DIR"
ENV_KEY_FILE = "KIOSK_KEY_FILE"
APP_DIR_NAME = "clinic-kiosk"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_LANGUAGES: tuple[str, ...] = ("en", "es", "zh", "vi", "ar")
DEFAULT_LANGUAGE = "en"
_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


class ConfigError(Exception):
    """The configuration cannot be used. `problems` lists each problem found."""

    def __init__(self, problems: Sequence[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        if len(self.problems) == 1:
            message = "kiosk configuration error: " + self.problems[0]
        else:
            message = f"kiosk configuration has {len(self.problems)} errors:\n" + "\n".join(
                f"  - {p}" for p in self.problems
            )
        super().__init__(message)


@dataclass(frozen=True)
class KioskConfig:
    data_dir: Path
    key_file: Path
    log_file: Path
    site_name: str = "Demo Family Clinic"
    server_url: str | None = None
    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    default_language: str = DEFAULT_LANGUAGE
    fullscreen: bool = True
    idle_warning_seconds: int = 60
    idle_countdown_seconds: int = 20
    staff_idle_seconds: int = 60
    staff_pin_hash: str = staff_pin.DEMO_PIN_HASH
    max_identify_attempts: int = 5
    cooldown_seconds: int = 120
    minutes_per_visit: int = 15
    log_level: str = "INFO"
    # The card camera: "opencv:0" (/dev/video0), "opencv:/dev/video2", "replay:<folder>"
    # (recorded frames, tests and demos) or "none". "auto": the first USB camera on a
    # kiosk with a server, the bundled recorded frames of a sample card in demo mode.
    camera: str = "auto"
    # The copay terminal: "simulator", "lan:https://10.0.0.50:8443" (a semi-integrated
    # terminal on the clinic network) or "none" (copays at the front desk). "auto": the
    # simulator in demo mode, none once enrolled until IT sets one.
    payment_terminal: str = "auto"
    # Receipts: "escpos-network:host[:port]", "escpos-usb:VID:PID", "file:/path", "none".
    receipt_printer: str = "none"
    # Speech for read-aloud and the audio mode: "espeak" (espeak-ng on the default sound
    # device), "espeak:<ALSA device>" (e.g. "espeak:plughw:CARD=Headphones", the headphone
    # jack), "espeak:null" (timed silently: no sound card) or "none".
    speech: str = "espeak"
    # Nightly restart (a fresh process every day) while nobody is at the kiosk:
    # "HH:MM-HH:MM" local time, outside clinic hours, or "none" (kiosk/watchdog.py).
    restart_window: str = "02:00-04:00"
    # The practice's check-in QR public keys (written by `provisioning enrol`).
    checkin_keys_file: Path | None = None
    # Sync with the practice server (written by `python -m provisioning enrol`).
    device_id: str | None = None
    site_id: str | None = None
    device_key_file: Path | None = None  # Ed25519 private key, 0600; default next to key_file
    server_ca_file: Path | None = None  # the practice CA; default next to key_file
    health_file: Path | None = None  # the agent's health, read by staff mode; default in data_dir
    sync_interval_seconds: int = 30
    heartbeat_interval_seconds: int = 60
    request_timeout_seconds: int = 10
    sync_batch_size: int = 500  # a backlog after days offline drains in fewer, larger requests
    retention_days: int = 7
    # Where the settings came from (for the log and for error messages); not a key.
    source: Path | None = field(default=None, compare=False)

    @property
    def demo(self) -> bool:
        """No practice server configured: run on embedded demo data."""
        return self.server_url is None


# key -> (lowest, highest, unit)
INT_RANGES: dict[str, tuple[int, int, str]] = {
    "idle_warning_seconds": (1, 3600, "seconds"),
    "idle_countdown_seconds": (1, 600, "seconds"),
    "staff_idle_seconds": (1, 3600, "seconds"),
    "max_identify_attempts": (1, 100, "attempts"),
    "cooldown_seconds": (1, 86400, "seconds"),
    "minutes_per_visit": (1, 480, "minutes"),
    "sync_interval_seconds": (1, 3600, "seconds"),
    "heartbeat_interval_seconds": (5, 3600, "seconds"),
    "request_timeout_seconds": (1, 120, "seconds"),
    "sync_batch_size": (1, 500, "events"),
    "retention_days": (0, 365, "days"),
}
_STR_KEYS = (
    "site_name",
    "server_url",
    "default_language",
    "staff_pin_hash",
    "log_level",
    "camera",
    "payment_terminal",
    "receipt_printer",
    "speech",
    "restart_window",
    "device_id",
    "site_id",
)
_PATH_KEYS = ("data_dir", "key_file", "log_file", "device_key_file", "server_ca_file", "health_file",
              "checkin_keys_file")
KNOWN_KEYS: tuple[str, ...] = (
    "data_dir",
    "key_file",
    "log_file",
    "log_level",
    "camera",
    "payment_terminal",
    "receipt_printer",
    "speech",
    "restart_window",
    "checkin_keys_file",
    "site_name",
    "server_url",
    "languages",
    "default_language",
    "fullscreen",
    *INT_RANGES,
    "staff_pin_hash",
    "device_id",
    "site_id",
    "device_key_file",
    "server_ca_file",
    "health_file",
)


def _toml_type(value: Any) -> str:
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a number with a fraction",
        str: "a string",
        list: "an array",
        dict: "a table",
    }
    for typ, name in names.items():
        if type(value) is typ:
            return f"{name} ({value!r})" if typ is not dict else name
    return f"{type(value).__name__} ({value!r})"


def _home(env: Mapping[str, str]) -> Path:
    home = env.get("HOME")
    return Path(home) if home else Path.home()


def _xdg(env: Mapping[str, str], var: str, fallback: str) -> Path:
    value = env.get(var)
    if value and os.path.isabs(value):
        return Path(value)
    return _home(env) / fallback


def default_data_dir(env: Mapping[str, str]) -> Path:
    return _xdg(env, "XDG_DATA_HOME", ".local/share") / APP_DIR_NAME


def default_key_file(env: Mapping[str, str]) -> Path:
    return _xdg(env, "XDG_CONFIG_HOME", ".config") / APP_DIR_NAME / "data.key"


def _abs(path: Path, base: Path, env: Mapping[str, str]) -> Path:
    text = str(path)
    if text == "~" or text.startswith("~/"):
        path = _home(env) / text[2:]
    return path if path.is_absolute() else base / path


def _is_within(child: Path, parent: Path) -> bool:
    c = Path(os.path.realpath(child))
    p = Path(os.path.realpath(parent))
    return c == p or p in c.parents


def config_path_from_argv(argv: Sequence[str]) -> Path | None:
    """The value of ``--config PATH`` / ``--config=PATH`` in argv, if any."""
    for i, arg in enumerate(argv):
        if arg == "--config" and i + 1 < len(argv):
            return Path(argv[i + 1])
        if arg.startswith("--config="):
            return Path(arg.split("=", 1)[1])
    return None


def load_config(path: Path | str | None = None, env: Mapping[str, str] | None = None) -> KioskConfig:
    """Build the KioskConfig from defaults, the TOML file and the environment.

    `path` is the ``--config`` argument; when None, ``env["KIOSK_CONFIG"]`` is used if
    set.  `env` defaults to os.environ.  Raises ConfigError listing every problem.
    """
    env = os.environ if env is None else env
    origin = "--config"
    if path is None and env.get(ENV_CONFIG):
        path, origin = env[ENV_CONFIG], f"environment variable {ENV_CONFIG}"
    source = Path(path).expanduser() if path is not None else None
    raw: dict[str, Any] = {}
    where = "built-in defaults (no config file)"
    if source is not None:
        source = source if source.is_absolute() else Path.cwd() / source
        where = str(source)
        try:
            with source.open("rb") as fh:
                raw = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(f"config file {source} (from {origin}) does not exist") from None
        except IsADirectoryError:
            raise ConfigError(f"config file {source} (from {origin}) is a directory, expected a TOML file") from None
        except PermissionError:
            raise ConfigError(
                f"config file {source} (from {origin}) cannot be read: permission denied "
                f"(the kiosk runs as user id {os.getuid()})"
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {source} is not valid TOML: {exc}") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(f"config file {source} is not UTF-8 text: {exc}") from None
    return _build(raw, source, where, env)


def _build(raw: dict[str, Any], source: Path | None, where: str, env: Mapping[str, str]) -> KioskConfig:
    problems: list[str] = []
    base = source.parent if source is not None else Path.cwd()

    def bad(key: str, expected: str, found: Any, *, raw_found: bool = True) -> None:
        shown = _toml_type(found) if raw_found else str(found)
        problems.append(f"{where}: key '{key}': expected {expected}, found {shown}")

    for key in raw:
        if key not in KNOWN_KEYS:
            close = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            kind = "table" if isinstance(raw[key], dict) else "key"
            problems.append(
                f"{where}: unknown {kind} '{key}'{hint}; known keys: {', '.join(KNOWN_KEYS)}"
            )

    values: dict[str, Any] = {}

    # -- strings ---------------------------------------------------------------
    for key in _STR_KEYS:
        if key in raw:
            if isinstance(raw[key], str):
                values[key] = raw[key].strip()
            else:
                bad(key, "a string", raw[key])

    if "site_name" in values and not 1 <= len(values["site_name"]) <= 80:
        bad("site_name", "a non-empty name of at most 80 characters", values["site_name"])

    if "server_url" in values:
        url = values["server_url"]
        if url == "":
            values["server_url"] = None  # explicit empty: demo mode
        else:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
            if parts.scheme not in ("https", "http") or not host:
                bad("server_url", "an https:// URL such as 'https://practice.example.org'", url)
            elif parts.scheme == "http" and host not in _LOOPBACK_HOSTS:
                bad(
                    "server_url",
                    "https:// (plain http:// is only allowed for localhost / 127.0.0.1)",
                    url,
                )
            else:
                values["server_url"] = url.rstrip("/")

    if "log_level" in values:
        level = values["log_level"].upper()
        if level not in LOG_LEVELS:
            bad("log_level", "one of " + ", ".join(LOG_LEVELS), raw["log_level"])
        else:
            values["log_level"] = level

    for key, kinds in (("payment_terminal", ("auto", "none", "simulator", "lan")),
                       ("receipt_printer", ("none", "dummy", "file", "escpos-network", "escpos-usb"))):
        if key in values and values[key].split(":", 1)[0] not in kinds:
            bad(key, "one of " + ", ".join(f"'{k}'" for k in kinds) + " (see kiosk/config.example.toml)", values[key])

    if "speech" in values and values["speech"] != "none" and values["speech"].split(":", 1)[0] != "espeak":
        bad("speech", "'espeak', 'espeak:<ALSA device>' (the headphone jack), 'espeak:null' or 'none'", values["speech"])

    if "restart_window" in values:
        from kiosk.watchdog import parse_window

        try:
            parse_window(values["restart_window"])
        except ValueError as e:
            bad("restart_window", str(e), values["restart_window"])

    if "camera" in values:
        camera = values["camera"]
        kind = camera.split(":", 1)[0]
        if camera not in ("auto", "none") and (kind not in ("opencv", "replay") or ":" not in camera):
            bad("camera", "'opencv:0' (the first camera), 'opencv:/dev/videoN', 'replay:<folder>', 'auto' or 'none'", camera)

    # -- booleans ------------------------------------------------------------
    if "fullscreen" in raw:
        if isinstance(raw["fullscreen"], bool):
            values["fullscreen"] = raw["fullscreen"]
        else:
            bad("fullscreen", "true or false (no quotes)", raw["fullscreen"])

    # -- integers ------------------------------------------------------------
    for key, (lo, hi, unit) in INT_RANGES.items():
        if key not in raw:
            continue
        value = raw[key]
        if type(value) is not int:
            bad(key, f"a whole number of {unit} between {lo} and {hi} (no quotes)", value)
        elif not lo <= value <= hi:
            bad(key, f"a whole number of {unit} between {lo} and {hi}", value)
        else:
            values[key] = value

    # -- languages -----------------------------------------------------------
    offered = available_languages(DEFAULT_LOCALES_DIR)
    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    if "languages" in raw:
        value = raw["languages"]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            bad("languages", 'a non-empty array of language codes such as ["en", "es"]', value)
        elif len(set(value)) != len(value):
            bad("languages", "each language code once", value)
        else:
            languages = tuple(v.strip() for v in value)
            values["languages"] = languages
    for code in languages:
        if code not in offered:
            problems.append(
                f"{where}: key 'languages': unknown language {code!r}; this kiosk has "
                f"catalogs for {', '.join(offered)} (missing {catalog_path(code, DEFAULT_LOCALES_DIR)})"
            )
    default_language = values.get("default_language", DEFAULT_LANGUAGE)
    if default_language not in languages:
        problems.append(
            f"{where}: key 'default_language': expected one of the configured languages "
            f"({', '.join(languages)}), found {default_language!r}"
        )

    # -- paths ---------------------------------------------------------------
    paths: dict[str, Path] = {}
    for key in _PATH_KEYS:
        if key in raw:
            value = raw[key]
            if not isinstance(value, str) or not value.strip():
                bad(key, "a path string", value)
            else:
                paths[key] = _abs(Path(value.strip()), base, env)
    for key, var in (("data_dir", ENV_DATA_DIR), ("key_file", ENV_KEY_FILE)):
        if env.get(var):
            paths[key] = _abs(Path(env[var]), Path.cwd(), env)
    data_dir = paths.get("data_dir", default_data_dir(env))
    key_file = paths.get("key_file", default_key_file(env))
    log_file = paths.get("log_file", data_dir / "logs" / "kiosk.log")
    device_key_file = paths.get("device_key_file", key_file.parent / "device.key")
    server_ca_file = paths.get("server_ca_file", key_file.parent / "practice-ca.pem")
    health_file = paths.get("health_file", data_dir / "sync-health.json")
    checkin_keys_file = paths.get("checkin_keys_file", key_file.parent / "checkin_keys.json")
    if _is_within(device_key_file, data_dir):
        problems.append(
            f"{where}: key 'device_key_file': the device's private key must be kept outside "
            f"data_dir ({data_dir}), found {device_key_file}"
        )
    if _is_within(key_file, data_dir):
        key_origin = f"environment variable {ENV_KEY_FILE}" if env.get(ENV_KEY_FILE) else "key 'key_file'"
        problems.append(
            f"{where}: {key_origin}: the data key must be kept outside data_dir "
            f"({data_dir}), found {key_file} (e.g. use {default_key_file(env)})"
        )
    if data_dir.exists() and not data_dir.is_dir():
        problems.append(f"{where}: key 'data_dir': expected a directory, found a file at {data_dir}")

    # -- staff PIN -----------------------------------------------------------
    server_url = values.get("server_url")
    if "staff_pin_hash" in values:
        try:
            staff_pin.parse_pin_hash(values["staff_pin_hash"])
        except staff_pin.PinHashError as exc:
            problems.append(
                f"{where}: key 'staff_pin_hash': {exc}; found {values['staff_pin_hash']!r}. "
                "Make one with: python -m kiosk.staff_pin"
            )
        else:
            if server_url is not None and staff_pin.verify_pin(staff_pin.DEMO_PIN, values["staff_pin_hash"]):
                problems.append(
                    f"{where}: key 'staff_pin_hash': this is the public demo PIN "
                    f"{staff_pin.DEMO_PIN}, not allowed with a server_url. "
                    "Make a new one with: python -m kiosk.staff_pin"
                )
    elif server_url is not None:
        problems.append(
            f"{where}: key 'staff_pin_hash' is missing: a kiosk with a server_url needs its own "
            "staff PIN hash (the demo PIN only works in demo mode). "
            "Make one with: python -m kiosk.staff_pin"
        )

    if problems:
        raise ConfigError(problems)
    values.pop("server_url", None)
    return KioskConfig(
        data_dir=data_dir,
        key_file=key_file,
        log_file=log_file,
        device_key_file=device_key_file,
        server_ca_file=server_ca_file,
        health_file=health_file,
        checkin_keys_file=checkin_keys_file,
        server_url=server_url,
        source=source,
        **values,
    )
