"""Update the kiosk's TOML config in place: set some keys, keep every other key and comment.

The kiosk config is flat (top-level keys only, see kiosk/config.example.toml). We edit
it line by line so IT's comments survive, then parse the result and compare it with
what we meant; if the file has a shape the line editor cannot handle (a value spanning
lines, tables), we fall back to writing the merged keys afresh (comments lost, keys kept).
Writes are atomic: a temporary file in the same folder, fsync, rename, fsync the folder,
so a power cut leaves the old or the new file, never half of one.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from provisioning.errors import ProvisioningError

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str | Path):
        # A JSON string is a valid TOML basic string (same escapes, \uXXXX included).
        return json.dumps(str(value))
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to the kiosk config")


def read_config(path: Path) -> tuple[str, dict[str, Any]]:
    """The file's text and parsed keys; ('', {}) when it does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):  # the folder check reports the latter clearly
        return "", {}
    except OSError as exc:
        raise ProvisioningError(f"cannot read the kiosk config {path}: {exc.strerror}") from None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProvisioningError(
            f"the existing kiosk config {path} is not valid TOML ({exc}); fix it or move it away"
        ) from None


def updated_text(text: str, updates: Mapping[str, Any]) -> str:
    """`text` with each key of `updates` set (replaced where it is, else appended)."""
    for key in updates:
        if not _BARE_KEY.match(key):
            raise ValueError(f"not a bare TOML key: {key!r}")
    original = tomllib.loads(text) if text else {}
    wanted = {**original, **{k: _plain(v) for k, v in updates.items()}}
    lines = text.splitlines()
    done: set[str] = set()
    first_table = next((i for i, line in enumerate(lines) if line.lstrip().startswith("[")), len(lines))
    for i in range(first_table):
        for key, value in updates.items():
            if re.match(rf"^\s*{re.escape(key)}\s*=", lines[i]):
                lines[i] = f"{key} = {toml_value(value)}"
                done.add(key)
    new = [f"{k} = {toml_value(v)}" for k, v in updates.items() if k not in done]
    if new:
        header = ["", "# Written by `python -m provisioning enrol`."] if text.strip() else [
            "# Clinic kiosk configuration, written by `python -m provisioning enrol`.",
            "# Every key is described in kiosk/config.example.toml.",
        ]
        lines[first_table:first_table] = header + new
    result = "\n".join(lines) + "\n"
    try:
        if tomllib.loads(result) == wanted:
            return result
    except tomllib.TOMLDecodeError:
        pass
    # The line editor met something it does not understand: write the keys afresh.
    if any(isinstance(v, dict) for v in wanted.values()):
        raise ProvisioningError("the kiosk config has [tables]; it should only hold top-level keys")
    return (
        "# Clinic kiosk configuration, rewritten by `python -m provisioning enrol`.\n"
        + "".join(f"{k} = {toml_value(v)}\n" for k, v in wanted.items())
    )


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def atomic_write(path: Path, data: bytes, mode: int) -> None:
    """Replace `path` with `data` atomically; the file has `mode` from its creation."""
    directory = path.parent
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
