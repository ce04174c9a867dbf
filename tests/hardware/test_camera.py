"""The camera interface on the replay camera, the real camera without a device, the factory.

Timing bounds are loose on purpose (two busy cores): they tell "paced like a camera" from
"as fast as possible" or "stalled", not 30.0 from 29.5 fps; bench/bench_camera.py measures.
"""
from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest

from hardware.camera import (
    DEMO_REPLAY_DIR,
    CameraStatus,
    FpsMeter,
    NoCamera,
    OpenCVCamera,
    ReplayCamera,
    make_camera,
)


def wait_until(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def camera_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("camera ")]


@pytest.fixture
def stop_later():
    cameras = []
    yield cameras.append
    for camera in cameras:
        camera.stop()


def test_replay_starts_after_a_delay_then_runs(stop_later):
    camera = ReplayCamera(DEMO_REPLAY_DIR, fps=30, startup_delay=0.3)
    stop_later(camera)
    assert camera.status is CameraStatus.STOPPED
    camera.start()
    assert camera.status is CameraStatus.STARTING
    assert camera.latest() is None, "no frame before the start-up delay"
    frame = camera.wait_for_frame(timeout=5)
    assert frame is not None and frame.seq == 1
    assert frame.image.shape == (720, 1280, 3) and frame.image.dtype == np.uint8
    assert (frame.width, frame.height) == (1280, 720)
    assert camera.status is CameraStatus.RUNNING and camera.reason == ""


def test_replay_frame_rate_is_paced(stop_later):
    camera = ReplayCamera(DEMO_REPLAY_DIR, fps=20, startup_delay=0)
    stop_later(camera)
    camera.start()
    first = camera.wait_for_frame(timeout=5)
    time.sleep(1.0)
    last = camera.latest()
    produced = last.seq - first.seq
    elapsed = last.timestamp - first.timestamp
    # Paced: never faster than asked (no bursts), and not stalled even on a busy machine.
    assert 6 <= produced <= 24, f"{produced} frames in ~1 s at 20 fps"
    assert 10 <= produced / elapsed <= 24
    assert 10 <= camera.fps <= 24


def test_latest_only_never_a_queue(stop_later):
    camera = ReplayCamera(DEMO_REPLAY_DIR, fps=30, startup_delay=0)
    stop_later(camera)
    camera.start()
    camera.wait_for_frame(timeout=5)
    time.sleep(0.4)  # a slow consumer: frames went by meanwhile
    newest = camera.latest()
    assert newest.seq > 5
    assert camera.latest() is newest or camera.latest().seq > newest.seq
    following = camera.wait_for_frame(after_seq=newest.seq, timeout=2)
    assert following.seq > newest.seq and following.timestamp > newest.timestamp
    assert following.image is not newest.image, "each frame is a new picture"


def test_stop_ends_the_thread_and_drops_the_picture(stop_later):
    camera = ReplayCamera(DEMO_REPLAY_DIR, fps=30, startup_delay=0)
    stop_later(camera)
    camera.start()
    camera.start()  # twice: still one worker
    assert len(camera_threads()) == 1
    assert camera.wait_for_frame(timeout=5) is not None
    seq_before = camera.latest().seq
    camera.stop()
    assert camera_threads() == []
    assert camera.status is CameraStatus.STOPPED
    assert camera.latest() is None and camera.fps == 0.0
    assert camera.wait_for_frame(timeout=0.1) is None
    camera.start()  # the screen shown again
    again = camera.wait_for_frame(after_seq=seq_before, timeout=5)
    assert again is not None and again.seq > seq_before, "sequence numbers keep increasing across restarts"


def test_unplug_gives_no_camera_with_a_reason_then_reconnects(stop_later):
    camera = ReplayCamera(DEMO_REPLAY_DIR, fps=60, startup_delay=0.05, unplug_after=10)
    stop_later(camera)
    camera.start()
    assert wait_until(lambda: camera.status is CameraStatus.NO_CAMERA)
    assert "unplugged" in camera.reason and "USB cable" in camera.reason
    assert camera.latest() is None, "no frozen picture of a camera that is gone"
    assert camera.wait_for_frame(timeout=0.2) is None
    camera.replug()
    frame = camera.wait_for_frame(after_seq=10, timeout=5)
    assert frame is not None and frame.seq == 11
    assert camera.status is CameraStatus.RUNNING and camera.reason == ""


def test_unplugged_camera_comes_back_by_itself(stop_later):
    camera = ReplayCamera(DEMO_REPLAY_DIR, fps=60, startup_delay=0.05, unplug_after=5, replug_after=0.2)
    stop_later(camera)
    seen = []
    camera.start()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not (CameraStatus.NO_CAMERA in seen and camera.latest()
                                               and camera.latest().seq > 5):
        seen.append(camera.status)
        time.sleep(0.005)
    assert CameraStatus.NO_CAMERA in seen
    assert camera.latest().seq > 5 and camera.status is CameraStatus.RUNNING


def test_unplug_by_hand_and_stop_while_unplugged(stop_later):
    camera = ReplayCamera(DEMO_REPLAY_DIR, fps=60, startup_delay=0)
    stop_later(camera)
    camera.start()
    camera.wait_for_frame(timeout=5)
    camera.unplug()
    assert wait_until(lambda: camera.status is CameraStatus.NO_CAMERA)
    camera.stop()
    assert camera_threads() == [] and camera.status is CameraStatus.STOPPED


def test_cue_switches_scene(stop_later):
    back_images = [cv2.imread(str(p)) for p in sorted((DEMO_REPLAY_DIR / "card_back").glob("*.jpg"))]
    camera = ReplayCamera(DEMO_REPLAY_DIR, fps=60, startup_delay=0, scene="card_front")
    stop_later(camera)
    assert set(camera.scenes) == {"card_front", "card_back"} and camera.scene == "card_front"
    camera.start()
    front = camera.wait_for_frame(timeout=5)
    assert not any(np.array_equal(front.image, image) for image in back_images)
    camera.cue("card_back")
    camera.cue("qr_code")  # not a scene here: ignored, as a real camera ignores every cue
    assert camera.scene == "card_back"
    time.sleep(0.1)
    after = camera.wait_for_frame(after_seq=camera.latest().seq, timeout=5)
    assert any(np.array_equal(after.image, image) for image in back_images)


def test_play_once_then_idle(stop_later, tmp_path):
    paths = []
    for i in range(3):
        path = tmp_path / f"{i}.png"
        cv2.imwrite(str(path), np.full((48, 64, 3), i * 40, np.uint8))
        paths.append(path)
    camera = ReplayCamera(paths, fps=60, loop=False, startup_delay=0)
    stop_later(camera)
    camera.start()
    assert wait_until(lambda: camera.latest() is not None and camera.latest().seq == 3)
    time.sleep(0.2)
    assert camera.latest().seq == 3, "no loop: the last picture stays"
    assert int(camera.latest().image[0, 0, 0]) == 80


def test_video_file_source(stop_later, tmp_path):
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (160, 120))
    assert writer.isOpened()
    for i in range(5):
        writer.write(np.full((120, 160, 3), 40 * i, np.uint8))
    writer.release()
    camera = ReplayCamera(path, fps=60, loop=False, startup_delay=0)
    stop_later(camera)
    assert camera.scenes == ["clip"]
    camera.start()
    assert wait_until(lambda: camera.latest() is not None and camera.latest().seq == 5)
    assert camera.latest().image.shape == (120, 160, 3)


def test_replay_without_images_is_no_camera_not_a_crash(stop_later, tmp_path):
    camera = ReplayCamera(tmp_path / "missing", fps=30)
    stop_later(camera)
    camera.start()
    assert wait_until(lambda: camera.status is CameraStatus.NO_CAMERA)
    assert "make_replay_frames" in camera.reason
    assert camera.latest() is None


def test_opencv_camera_without_a_device(stop_later):
    camera = OpenCVCamera(99)
    stop_later(camera)
    camera.start()
    assert wait_until(lambda: camera.status is CameraStatus.NO_CAMERA, timeout=5)
    assert "/dev/video99" in camera.reason and "USB cable" in camera.reason
    assert camera.latest() is None and camera.wait_for_frame(timeout=0.1) is None
    started = time.monotonic()
    camera.stop()
    assert time.monotonic() - started < 2.0, "stop must not wait out the reconnect backoff"
    assert camera_threads() == [] and camera.status is CameraStatus.STOPPED


def test_opencv_camera_with_a_missing_path(stop_later, tmp_path):
    camera = OpenCVCamera(str(tmp_path / "video7"))
    stop_later(camera)
    camera.start()
    assert wait_until(lambda: camera.status is CameraStatus.NO_CAMERA, timeout=5)
    assert str(tmp_path / "video7") in camera.reason


def test_opencv_camera_on_something_that_is_not_a_camera(stop_later, tmp_path):
    not_a_camera = tmp_path / "video0"
    not_a_camera.write_bytes(b"not a video device")
    camera = OpenCVCamera(str(not_a_camera))
    stop_later(camera)
    camera.start()
    assert wait_until(lambda: camera.status is CameraStatus.FAILED, timeout=5)
    assert "cannot be opened" in camera.reason and "unplug" in camera.reason


def test_make_camera_from_configuration():
    assert isinstance(make_camera("none"), NoCamera)
    assert isinstance(make_camera(""), NoCamera)
    by_index = make_camera("opencv:2", width=640, height=480)
    assert isinstance(by_index, OpenCVCamera) and by_index.source == 2
    assert (by_index.width, by_index.height) == (640, 480)
    by_path = make_camera("opencv:/dev/video5")
    assert isinstance(by_path, OpenCVCamera) and by_path.source == "/dev/video5"
    demo = make_camera("replay:demo")
    assert isinstance(demo, ReplayCamera) and set(demo.scenes) == {"card_front", "card_back"}
    with pytest.raises(ValueError, match="opencv:0"):
        make_camera("webcam")


def test_no_camera_says_so():
    camera = make_camera("none")
    camera.start()
    assert camera.status is CameraStatus.NO_CAMERA and "none" in camera.reason
    assert camera.latest() is None and camera_threads() == []
    camera.stop()
    assert camera.status is CameraStatus.STOPPED


def test_fps_meter_uses_a_recent_window():
    meter = FpsMeter(window_s=2.0)
    for i in range(21):
        meter.tick(10.0 + i * 0.1)
    assert meter.rate(12.0) == pytest.approx(10.0)
    assert meter.rate(20.0) == 0.0, "nothing lately: 0 fps, not the old rate"
