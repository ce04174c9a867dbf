"""A site's settings, pushed by the practice in the config bundle: read, checked and laid
over the kiosk's own configuration. No Kivy.

What a site sets (every key optional; absent keys keep the kiosk's own configuration):

    clinic_name             the name the kiosk shows (default: the site's name)
    logo                    {"media_type": "image/png" | "image/jpeg", "data": base64}
    languages               languages offered, e.g. ["en", "es"]; default_language among them
    idle_warning_seconds, idle_countdown_seconds, staff_idle_seconds   timeouts
    minutes_per_visit       pace of the expected-wait estimate
    copay                   false: the kiosk never asks for the copay (the desk collects)
    steps                   {"<visit type>": [step, ...], "default": [...]}: the steps after
                            check-in for a visit type (others: "default"; none: all steps)

The server checks a site's settings with this module before publishing them (plain
problems for IT, `strict`), and the kiosk checks them again before applying: a kiosk never
applies settings it cannot use (it keeps the ones it has and logs why). Steps always run
in the kiosk's order; the lists only say which ones run.
"""
from __future__ import annotations

import base64
import binascii
import difflib
import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from kiosk.config import INT_RANGES, KioskConfig
from kiosk.i18n import DEFAULT_LOCALES_DIR, available_languages

# The journey's steps after check-in, in the order they run (kiosk/steps/__init__.py).
STEP_NAMES = ("review_contact", "insurance_card", "consent", "copay", "forms", "portal")
DEFAULT_STEPS_KEY = "default"
LOGO_MEDIA_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG"}
MAX_LOGO_BYTES = 256 * 1024  # the logo rides in every config bundle download
MAX_LOGO_SIDE = 2048  # pixels
MAX_VISIT_TYPE_CHARS = 32  # as the schedule keeps them (sync_agent/replies.py)
MAX_CLINIC_NAME_CHARS = 80
SITE_TIMEOUT_KEYS = ("idle_warning_seconds", "idle_countdown_seconds", "staff_idle_seconds")
# Keys the server adds itself, or that the sync agent reads (checked where they are used).
SERVER_KEYS = ("site_name", "checkin_keys")
AGENT_KEYS = ("retention_days", "days_ahead", "sync_interval_seconds", "heartbeat_interval_seconds")
SITE_KEYS = ("clinic_name", "logo", "languages", "default_language", *SITE_TIMEOUT_KEYS, "minutes_per_visit",
             "copay", "steps")
# What a site's settings change in KioskConfig (the rest of it is the kiosk's own).
CONFIG_FIELDS = ("site_name", "languages", "default_language", *SITE_TIMEOUT_KEYS, "minutes_per_visit")


class SiteConfigError(ValueError):
    """The site's settings cannot be used; `problems` lists each, in words for IT."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("site configuration: " + "; ".join(self.problems))


@dataclass(frozen=True, repr=False)
class Logo:
    media_type: str
    data: bytes
    width: int
    height: int

    @property
    def extension(self) -> str:
        return "png" if self.media_type == "image/png" else "jpg"

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def __repr__(self) -> str:
        return f"Logo({self.media_type}, {self.width}x{self.height}, {len(self.data)} bytes)"


@dataclass(frozen=True)
class SiteSettings:
    version: str = ""
    site_name: str | None = None  # clinic_name, else the site's name from the server
    logo: Logo | None = None
    languages: tuple[str, ...] | None = None
    default_language: str | None = None
    idle_warning_seconds: int | None = None
    idle_countdown_seconds: int | None = None
    staff_idle_seconds: int | None = None
    minutes_per_visit: int | None = None
    copay: bool = True
    steps: Mapping[str, frozenset[str]] = field(default_factory=dict)  # visit type -> step names

    def runs_step(self, step: str, visit_type: str | None) -> bool:
        """Whether a visit of this type goes through `step` at this site."""
        if step == "copay" and not self.copay:
            return False
        chosen = self.steps.get(visit_type or "", self.steps.get(DEFAULT_STEPS_KEY))
        return chosen is None or step in chosen


def over(config: KioskConfig, settings: SiteSettings | None, local: KioskConfig) -> KioskConfig:
    """`config` with the site-managed fields taken from `settings`, or from `local` (the
    kiosk's own configuration) where the site sets nothing. Other fields stay as they are."""
    values = {}
    for name in CONFIG_FIELDS:
        value = getattr(settings, name) if settings is not None else None
        values[name] = value if value is not None else getattr(local, name)
    if values["default_language"] not in values["languages"]:  # the site sets languages, not a default
        values["default_language"] = values["languages"][0]
    return replace(config, **values)


def parse_site_config(items: Any, version: str = "", *, strict: bool = False,
                      known_languages: tuple[str, ...] | None = None) -> SiteSettings:
    """The site settings in a config bundle's items. SiteConfigError lists every problem.

    `strict` (publishing): unknown keys and the keys the server sets itself are problems
    too; a kiosk ignores keys a newer server may add. `known_languages`: the languages with
    catalogs (default: this installation's locales)."""
    if not isinstance(items, Mapping):
        raise SiteConfigError(["the site configuration must be a table of settings (a JSON object)"])
    problems: list[str] = []
    values: dict[str, Any] = {}

    def bad(key: str, expected: str, found: Any) -> None:
        problems.append(f"'{key}': expected {expected}, found {_shown(found)}")

    for key in items:
        if strict and key in SERVER_KEYS:
            problems.append(f"'{key}' is set by the server itself" + (
                " (it is the site's name: rename the site, or set clinic_name for the name the kiosk shows)"
                if key == "site_name" else ""))
        elif strict and key not in SITE_KEYS + AGENT_KEYS:
            close = difflib.get_close_matches(str(key), SITE_KEYS + AGENT_KEYS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(f"unknown setting '{key}'{hint}; known: {', '.join(SITE_KEYS + AGENT_KEYS)}")

    name = items.get("clinic_name", items.get("site_name"))
    name_key = "clinic_name" if "clinic_name" in items else "site_name"
    if name is not None:
        if not isinstance(name, str) or not 1 <= len(" ".join(name.split())) <= MAX_CLINIC_NAME_CHARS:
            bad(name_key, f"a name of 1 to {MAX_CLINIC_NAME_CHARS} characters", name)
        else:
            values["site_name"] = " ".join(name.split())

    # The agent's keys: a kiosk ignores one out of its range (sync_agent/agent.py `setting`),
    # publishing refuses it.
    for key in (*SITE_TIMEOUT_KEYS, "minutes_per_visit", *(AGENT_KEYS if strict else ())):
        if key not in items:
            continue
        low, high, unit = INT_RANGES.get(key, (0, 30, "days"))  # days_ahead: 0..30 (server's MAX_DAYS_AHEAD)
        value = items[key]
        if type(value) is not int or not low <= value <= high:
            bad(key, f"a whole number of {unit} from {low} to {high}", value)
        elif key not in AGENT_KEYS:
            values[key] = value

    _languages(items, values, problems, known_languages)

    if "copay" in items:
        if type(items["copay"]) is not bool:
            bad("copay", "true or false (no quotes)", items["copay"])
        else:
            values["copay"] = items["copay"]

    if "steps" in items:
        values["steps"] = _steps(items["steps"], problems)

    if items.get("logo") is not None:
        try:
            values["logo"] = logo_from_item(items["logo"])
        except SiteConfigError as e:
            problems.extend(e.problems)

    if problems:
        raise SiteConfigError(problems)
    return SiteSettings(version=version, **values)


def _languages(items: Mapping, values: dict, problems: list[str], known: tuple[str, ...] | None) -> None:
    known = known if known is not None else available_languages(DEFAULT_LOCALES_DIR)
    languages = items.get("languages")
    if languages is not None:
        if not isinstance(languages, list) or not languages or not all(isinstance(c, str) for c in languages):
            problems.append(f"'languages': expected a list of language codes such as [\"en\", \"es\"], "
                            f"found {_shown(languages)}")
            languages = None
        elif len(set(languages)) != len(languages):
            problems.append("'languages': each language once")
            languages = None
        elif unknown := [c for c in languages if c not in known]:
            problems.append(f"'languages': no translation for {', '.join(unknown)}; the kiosk has "
                            f"{', '.join(known)}")
            languages = None
        else:
            values["languages"] = tuple(languages)
    default = items.get("default_language")
    if default is not None:
        offered = languages if languages is not None else known
        if not isinstance(default, str) or default not in offered:
            problems.append(f"'default_language': expected one of the languages offered ({', '.join(offered)}), "
                            f"found {_shown(default)}")
        else:
            values["default_language"] = default


def _steps(value: Any, problems: list[str]) -> dict[str, frozenset[str]]:
    if not isinstance(value, Mapping) or not value:
        problems.append("'steps': expected a table of visit type = [steps], e.g. "
                        "follow_up = [\"review_contact\", \"copay\"], found " + _shown(value))
        return {}
    steps: dict[str, frozenset[str]] = {}
    for visit_type, names in value.items():
        where = f"'steps.{visit_type}'"
        if not isinstance(visit_type, str) or not 1 <= len(visit_type) <= MAX_VISIT_TYPE_CHARS:
            problems.append(f"'steps': a visit type must be a name of 1 to {MAX_VISIT_TYPE_CHARS} characters")
            continue
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            problems.append(f"{where}: expected a list of step names (an empty list: none), found {_shown(names)}")
            continue
        unknown = [n for n in names if n not in STEP_NAMES]
        if unknown:
            problems.append(f"{where}: unknown step {', '.join(map(repr, unknown))}; the steps are "
                            f"{', '.join(STEP_NAMES)}")
            continue
        steps[visit_type] = frozenset(names)
    return steps


# -- the logo ------------------------------------------------------------------------------

def check_logo(data: bytes, media_type: str | None = None) -> Logo:
    """A PNG or JPEG of at most MAX_LOGO_BYTES and MAX_LOGO_SIDE pixels a side that decodes
    whole. `media_type` (when given) must match what the bytes are."""
    from PIL import Image, UnidentifiedImageError  # Pillow: Kivy's own image loader on the kiosk

    if not data:
        raise SiteConfigError(["'logo': the file is empty"])
    if len(data) > MAX_LOGO_BYTES:
        raise SiteConfigError([f"'logo': {len(data) // 1024} KiB is too large; at most {MAX_LOGO_BYTES // 1024} KiB "
                               f"(save it smaller, e.g. 600 pixels wide)"])
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind, (width, height) = image.format, image.size
            if kind not in LOGO_MEDIA_TYPES.values():
                raise SiteConfigError([f"'logo': a {kind or 'unknown'} image; use a PNG or JPEG file"])
            if max(width, height) > MAX_LOGO_SIDE:
                raise SiteConfigError([f"'logo': {width}x{height} pixels is too large; at most "
                                       f"{MAX_LOGO_SIDE} pixels a side"])
            image.load()  # decodes every pixel: a truncated or corrupt file fails here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        if isinstance(e, SiteConfigError):
            raise
        raise SiteConfigError(["'logo': not a readable PNG or JPEG image (is the file complete?)"]) from None
    actual = next(t for t, f in LOGO_MEDIA_TYPES.items() if f == kind)
    if media_type is not None and media_type != actual:
        raise SiteConfigError([f"'logo': says {media_type} but the image is {actual}"])
    return Logo(actual, bytes(data), width, height)


def logo_item(logo: Logo) -> dict[str, str]:
    """How a logo travels in the config bundle (JSON)."""
    return {"media_type": logo.media_type, "data": base64.b64encode(logo.data).decode("ascii")}


def logo_from_item(item: Any) -> Logo:
    if not isinstance(item, Mapping) or set(item) != {"media_type", "data"}:
        raise SiteConfigError(["'logo': expected {\"media_type\": \"image/png\" or \"image/jpeg\", \"data\": base64}"])
    if item["media_type"] not in LOGO_MEDIA_TYPES:
        raise SiteConfigError([f"'logo': media_type must be image/png or image/jpeg, found {_shown(item['media_type'])}"])
    text = item["data"]
    if not isinstance(text, str) or len(text) > (MAX_LOGO_BYTES * 4) // 3 + 4:
        raise SiteConfigError([f"'logo': the image data is missing or larger than {MAX_LOGO_BYTES // 1024} KiB"])
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise SiteConfigError(["'logo': the image data is not base64"]) from None
    return check_logo(data, item["media_type"])


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
