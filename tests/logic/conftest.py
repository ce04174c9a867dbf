"""Fixtures for the journey / logic tests (plain Python, no Kivy).

Every test gets its own data dir and, in a different directory, its own key file
(the store refuses a key inside the data dir), and an injected clock so nothing
depends on the wall clock.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The repo is not installed into the venv; make `import kiosk` work from any cwd.
_REPO = Path(__file__).resolve().parents[2]
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

from kiosk.flow import Journey  # noqa: E402
from kiosk.steps import default_steps  # noqa: E402
from kiosk.store import Store, open_store  # noqa: E402
from logic_helpers import NOW, TODAY, FakeClock  # noqa: E402


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return tmp_path / "secrets" / "kiosk.key"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def store(data_dir: Path, key_file: Path):
    s = open_store(data_dir, key_file)
    yield s
    s.close()


@pytest.fixture
def demo_store(store: Store) -> Store:
    store.load_demo_clinic(TODAY)
    return store


@pytest.fixture
def journey(demo_store: Store, clock: FakeClock) -> Journey:
    return Journey(demo_store, default_steps(), clock)
