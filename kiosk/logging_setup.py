"""Structured JSON-lines logging for the kiosk (no Kivy).

    log = logging.getLogger(__name__)
    log.info("checkin.done", extra={"fields": {"queue_position": 3, "wait_min": 30}})

writes one JSON object per line to a rotating file (5 MB x 5) and to stderr::

    {"time": "2025-05-20T14:03:11.212Z", "level": "INFO", "logger": "kiosk.flow",
     "event": "checkin.done", "queue_position": 3, "wait_min": 30}

Code must never log PHI.  As defence in depth, `PhiGuard` (one per process,
`get_phi_guard()`) holds the PHI strings of the current patient session
(``guard.add(first_name, last_name, "1980-04-02")``; ``guard.clear()`` at the
wipe) and replaces any of them found in a record's message, fields or
exception text with "[redacted]" before the record is written.
"""
from __future__ import annotations

import datetime as _dt
import json
import logging
import logging.handlers
import os
import re
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

REDACTED = "[redacted]"
MAX_BYTES = 5 * 1024 * 1024
BACKUP_COUNT = 5
MIN_PHI_LENGTH = 2  # shorter strings (an initial) would redact everything

_RESERVED = ("time", "level", "logger", "event", "exc", "stack", "phi_redacted")
_HANDLER_MARK = "_kiosk_logging_handler"


class PhiGuard(logging.Filter):
    """Redacts registered PHI strings (case-insensitive) from log records.

    Attach to handlers (configure_logging does); thread-safe.
    """

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._terms: frozenset[str] = frozenset()
        self._pattern: re.Pattern[str] | None = None

    def add(self, *strings: object) -> None:
        """Register PHI of the current session. Non-strings are str()-ed; blanks ignored."""
        new = set()
        for s in strings:
            if s is None:
                continue
            text = str(s).strip()
            if len(text) >= MIN_PHI_LENGTH:
                new.add(text)
        if not new:
            return
        with self._lock:
            terms = self._terms | new
            self._terms = frozenset(terms)
            self._pattern = re.compile(
                "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)),
                re.IGNORECASE,
            )

    def clear(self) -> None:
        with self._lock:
            self._terms = frozenset()
            self._pattern = None

    def __len__(self) -> int:
        return len(self._terms)

    def redact(self, text: str) -> str:
        pattern = self._pattern
        return pattern.sub(REDACTED, text) if pattern is not None else text

    def _redact_value(self, value: Any) -> tuple[Any, bool]:
        pattern = self._pattern
        if pattern is None:
            return value, False
        if isinstance(value, str):
            new = pattern.sub(REDACTED, value)
            return new, new != value
        if isinstance(value, dict):
            changed = False
            out = {}
            for k, v in value.items():
                nk, ck = self._redact_value(k) if isinstance(k, str) else (k, False)
                nv, cv = self._redact_value(v)
                out[nk] = nv
                changed = changed or ck or cv
            return out, changed
        if isinstance(value, (list, tuple, set, frozenset)):
            items = [self._redact_value(v) for v in value]
            changed = any(c for _, c in items)
            return [v for v, _ in items], changed
        if isinstance(value, (int, float, bool)) or value is None:
            return value, False
        text = str(value)
        new = pattern.sub(REDACTED, text)
        return (new, True) if new != text else (value, False)

    def filter(self, record: logging.LogRecord) -> bool:
        if self._pattern is None:
            return True
        changed = False
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string must not lose the record
            message = str(record.msg)
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
            changed = True
        fields = getattr(record, "fields", None)
        if fields is not None:
            new_fields, c = self._redact_value(fields)
            if c:
                record.fields = new_fields
                changed = True
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            text = self.redact(record.exc_text)
            if text != record.exc_text:
                record.exc_text = text
                changed = True
        if record.stack_info:
            text = self.redact(record.stack_info)
            if text != record.stack_info:
                record.stack_info = text
                changed = True
        if changed:
            record.phi_redacted = True
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ms), level, logger, event, fields..., exc."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = _dt.datetime.fromtimestamp(record.created, tz=_dt.timezone.utc)
        out: dict[str, Any] = {
            "time": stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            for key, value in fields.items():
                key = str(key)
                out[f"fields.{key}" if key in _RESERVED else key] = value
        elif fields is not None:
            out["fields"] = fields
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            out["exc"] = record.exc_text
        if record.stack_info:
            out["stack"] = record.stack_info
        if getattr(record, "phi_redacted", False):
            out["phi_redacted"] = True
        return json.dumps(out, ensure_ascii=False, default=str)


_guard = PhiGuard()


def get_phi_guard() -> PhiGuard:
    """The process-wide PhiGuard that configure_logging attaches to its handlers."""
    return _guard


def _level(level: str | int) -> int:
    if isinstance(level, int):
        return level
    value = logging.getLevelName(str(level).upper())
    if not isinstance(value, int):
        raise ValueError(f"unknown log level {level!r}")
    return value


def configure_logging(
    log_file: Path | str,
    level: str | int = "INFO",
    *,
    console: bool = True,
    stream: IO[str] | None = None,
    guard: PhiGuard | None = None,
) -> PhiGuard:
    """Send all logging (root logger) as JSON lines to `log_file` (rotating) and stderr.

    Safe to call again (replaces the handlers it installed before). Creates the log
    directory (0700). Returns the PhiGuard attached to the handlers.
    """
    numeric_level = _level(level)
    guard = guard or _guard
    path = Path(log_file)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
            handler.close()
    formatter = JsonFormatter()
    handlers: list[logging.Handler] = [
        logging.handlers.RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
        )
    ]
    if console:
        handlers.append(logging.StreamHandler(stream if stream is not None else sys.stderr))
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(guard)
        setattr(handler, _HANDLER_MARK, True)
        root.addHandler(handler)
    root.setLevel(numeric_level)
    try:
        os.chmod(path, 0o600)
    except OSError:
        pass
    logging.captureWarnings(True)
    return guard


def shutdown_logging(handlers: Iterable[logging.Handler] | None = None) -> None:
    """Remove and close the handlers configure_logging installed (tests, clean exit)."""
    root = logging.getLogger()
    for handler in list(handlers if handlers is not None else root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
            handler.close()
