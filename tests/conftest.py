"""Fixtures shared by the test folders that need a kiosk database."""
from pathlib import Path

import pytest


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    """Outside data_dir, as the store requires."""
    return tmp_path / "secrets" / "kiosk.key"
