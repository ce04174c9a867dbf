"""Synthetic camera frames for the camera and card-capture tests (helpers; fixtures in conftest).

The bundled replay scenes (assets/demo/camera, made by scripts/make_replay_frames.py) name
each file after its phase (`07_moving.jpg`), which is the ground truth here. Variants the
scenes do not have (a small card, a dark room, glare) are drawn with the same script.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from hardware.camera import DEMO_REPLAY_DIR, Frame

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_replay_frames.py"
FPS = 30.0


@dataclass(frozen=True)
class SceneFrame:
    phase: str  # empty | hand | moving | blurred | steady
    file: str
    image: np.ndarray


def load_scene(name: str) -> list[SceneFrame]:
    """The scene as the replay camera plays it: one entry per frame (playlist repeats expanded)."""
    folder = DEMO_REPLAY_DIR / name
    frames, decoded = [], {}
    for line in (folder / "playlist.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        file, repeat = line.split()
        if file not in decoded:
            decoded[file] = cv2.imread(str(folder / file))
        phase = file.split("_", 1)[1].rsplit(".", 1)[0]
        frames += [SceneFrame(phase, file, decoded[file])] * int(repeat)
    return frames


def as_frames(images, start_seq: int = 1, start_time: float = 100.0, fps: float = FPS) -> list[Frame]:
    """Camera frames with consecutive sequence numbers and timestamps `fps` apart."""
    return [Frame(image, start_seq + i, start_time + i / fps) for i, image in enumerate(images)]
