"""Fixtures: the bundled replay scenes and the frame-drawing script (see camera_frames.py)."""
from __future__ import annotations

import importlib.util
import sys

import pytest
from camera_frames import SCRIPT, SceneFrame, load_scene


@pytest.fixture(scope="session")
def front_scene() -> list[SceneFrame]:
    return load_scene("card_front")


@pytest.fixture(scope="session")
def back_scene() -> list[SceneFrame]:
    return load_scene("card_back")


@pytest.fixture(scope="session")
def synth():
    """scripts/make_replay_frames.py as a module (table, cards, placing, sensor noise)."""
    spec = importlib.util.spec_from_file_location("make_replay_frames", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
