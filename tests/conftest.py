"""Fixtures shared by the test folders that need a kiosk database."""
from datetime import date
from pathlib import Path

import pytest

from kiosk.store import Store, open_store

# The demo clinic's "today" in the store and logic tests (no dependence on the real date).
TEST_TODAY = date(2025, 3, 10)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    """Outside data_dir, as the store requires."""
    return tmp_path / "secrets" / "kiosk.key"


@pytest.fixture
def store(data_dir: Path, key_file: Path):
    s = open_store(data_dir, key_file)
    yield s
    s.close()


@pytest.fixture
def demo_store(store: Store) -> Store:
    store.load_demo_clinic(TEST_TODAY)
    return store
