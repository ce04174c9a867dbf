"""JSON-lines logging to stderr (journald / the container runtime keeps it).

Same line format as the kiosk (kiosk.logging_setup.JsonFormatter). The server logs
ids, codes and counts only: never names, birth dates or event payloads.
"""

from __future__ import annotations

import logging
import sys

from kiosk.logging_setup import JsonFormatter

_MARK = "_practice_server_handler"


def configure(level: str = "INFO") -> None:
    """Route all logging (uvicorn's too) through one JSON handler on stderr; idempotent."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _MARK, False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    setattr(handler, _MARK, True)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per plugin otherwise
    # We write our own access line (guard.py): uvicorn's would repeat it without the time taken.
    logging.getLogger("uvicorn.access").disabled = True
