"""Fixtures for the education tests: article folders written on the fly, and the practice
server fixtures of tests/server (reused as they are, for the content bundle tests)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SERVER_TESTS = Path(__file__).resolve().parents[1] / "server"


def _server_fixtures():
    # tests/server/conftest.py imports its helpers as top-level modules, as pytest does for it.
    if str(SERVER_TESTS) not in sys.path:
        sys.path.insert(0, str(SERVER_TESTS))
    spec = importlib.util.spec_from_file_location("server_conftest_for_education", SERVER_TESTS / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


_server = _server_fixtures()
sqlite_template = _server.sqlite_template
postgres_url = _server.postgres_url
database_url = _server.database_url
server = _server.server
site = _server.site
kiosk = _server.kiosk


@pytest.fixture
def articles_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "education"
    folder.mkdir()
    return folder
