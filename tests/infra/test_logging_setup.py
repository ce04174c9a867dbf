from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.logging_setup import (
    REDACTED,
    PhiGuard,
    configure_logging,
    get_phi_guard,
    shutdown_logging,
)


@pytest.fixture
def logs(tmp_path: Path) -> Iterator[tuple[Path, io.StringIO, PhiGuard]]:
    root = logging.getLogger()
    old_level = root.level
    stream = io.StringIO()
    log_file = tmp_path / "logs" / "kiosk.log"
    guard = configure_logging(log_file, "DEBUG", stream=stream)
    try:
        yield log_file, stream, guard
    finally:
        guard.clear()
        shutdown_logging()
        root.setLevel(old_level)


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_json_lines_to_file_and_stream(logs) -> None:
    log_file, stream, _ = logs
    logging.getLogger("kiosk.flow").info(
        "checkin.done", extra={"fields": {"queue_position": 3, "wait_minutes": 30, "level": "x"}}
    )
    logging.getLogger("kiosk.sync").warning("sync.retry in %d s", 5)
    records = lines(log_file)
    assert [json.loads(s) for s in stream.getvalue().splitlines()] == records
    first, second = records
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["time"])
    assert first["level"] == "INFO" and first["logger"] == "kiosk.flow"
    assert first["event"] == "checkin.done"
    assert first["queue_position"] == 3 and first["wait_minutes"] == 30
    assert first["fields.level"] == "x"  # reserved names never overwrite the envelope
    assert second["level"] == "WARNING" and second["event"] == "sync.retry in 5 s"
    assert "phi_redacted" not in first


def test_log_dir_created_private_and_level(tmp_path: Path, logs) -> None:
    log_file, _, _ = logs
    assert log_file.parent.is_dir()
    assert (log_file.stat().st_mode & 0o777) == 0o600
    assert logging.getLogger().level == logging.DEBUG


def test_exception_is_logged(logs) -> None:
    log_file, _, _ = logs
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("kiosk").exception("store.failed")
    (rec,) = lines(log_file)
    assert rec["level"] == "ERROR" and "ValueError: boom" in rec["exc"]


def test_non_json_values_are_stringified(logs) -> None:
    log_file, _, _ = logs
    logging.getLogger("k").info("x", extra={"fields": {"path": Path("/a/b")}})
    assert lines(log_file)[0]["path"] == "/a/b"


def test_reconfigure_replaces_handlers(tmp_path: Path, logs) -> None:
    before = len(logging.getLogger().handlers)
    configure_logging(tmp_path / "other.log", "INFO", stream=io.StringIO())
    assert len(logging.getLogger().handlers) == before


def test_phi_redacted_everywhere(logs) -> None:
    log_file, stream, guard = logs
    assert guard is get_phi_guard()
    guard.add("Gonzalez", "Maria", "1956-04-02", None, "", "J")
    log = logging.getLogger("kiosk.identify")
    log.info("identify.failed for %s", "GONZALEZ")
    log.info("lookup", extra={"fields": {"name": "maria gonzalez", "tries": 2, "dob": ["1956-04-02"]}})
    try:
        raise KeyError("no patient Maria")
    except KeyError:
        log.exception("identify.crash")
    log.info("identify.ok", extra={"fields": {"initial": "J"}})  # too short to register
    a, b, c, d = lines(log_file)
    assert a["event"] == f"identify.failed for {REDACTED}" and a["phi_redacted"] is True
    assert b["name"] == f"{REDACTED} {REDACTED}" and b["tries"] == 2 and b["dob"] == [REDACTED]
    assert "Maria" not in c["exc"] and REDACTED in c["exc"]
    assert d["initial"] == "J" and "phi_redacted" not in d
    text = log_file.read_text(encoding="utf-8") + stream.getvalue()
    for phi in ("Gonzalez", "GONZALEZ", "maria", "1956-04-02"):
        assert phi not in text


def test_clear_stops_redaction(logs) -> None:
    log_file, _, guard = logs
    guard.add("Smith")
    logging.getLogger("k").info("Smith one")
    guard.clear()
    assert len(guard) == 0
    logging.getLogger("k").info("Smith two")
    one, two = lines(log_file)
    assert one["event"] == f"{REDACTED} one"
    assert two["event"] == "Smith two"


def test_guard_is_a_plain_filter() -> None:
    guard = PhiGuard()
    guard.add("O'Brien")
    rec = logging.LogRecord("k", logging.INFO, __file__, 1, "hello %s", ("o'brien",), None)
    assert guard.filter(rec) is True  # never drops a record
    assert rec.getMessage() == f"hello {REDACTED}"
    assert guard.redact("Mr O'BRIEN.") == f"Mr {REDACTED}."


def test_bad_level(tmp_path: Path) -> None:
    handlers = list(logging.getLogger().handlers)
    with pytest.raises(ValueError):
        configure_logging(tmp_path / "k.log", "LOUD", console=False)
    assert logging.getLogger().handlers == handlers
