"""Fixtures for the journey / logic tests (plain Python, no Kivy).

Every test gets its own data dir and, in a different directory, its own key file
(the store refuses a key inside the data dir), and an injected clock so nothing
depends on the wall clock.
"""

from __future__ import annotations


import pytest

from kiosk.flow import Journey
from kiosk.store import Store
from logic_helpers import NOW, FakeClock, core_steps


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)




@pytest.fixture
def journey(demo_store: Store, clock: FakeClock) -> Journey:
    return Journey(demo_store, core_steps(), clock)
