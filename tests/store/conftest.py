"""Fixtures for the store tests: every test gets its own data dir and, in a
different directory, its own key file (the store refuses a key inside data_dir)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.store import Store, open_store
from store_helpers import TODAY


@pytest.fixture
def store(data_dir: Path, key_file: Path):
    s = open_store(data_dir, key_file)
    yield s
    s.close()


@pytest.fixture
def demo_store(store: Store) -> Store:
    store.load_demo_clinic(TODAY)
    return store
