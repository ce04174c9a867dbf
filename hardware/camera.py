"""Cameras behind one small interface: a real one (OpenCV) and a replay one (files).

    camera = make_camera("opencv:0")      # or "replay:demo", "replay:/some/dir", "none"
    camera.start()                        # returns at once; a worker thread does the rest
    frame = camera.latest()               # newest Frame or None; never a queue
    camera.status, camera.reason, camera.fps
    camera.stop()                         # joins the worker, releases the device

Each camera runs one daemon worker thread that keeps only the newest frame (a one-slot
mailbox): a slow consumer skips frames instead of falling behind. A missing, unplugged
or busy camera is a status with a reason IT can act on, never an exception; the real
camera reconnects by itself with backoff.

Nothing here knows about insurance cards or Kivy: the card capture (issue #5) and the
barcode scanner (issue #6) both read frames from here. Frames are patient images: they
are never logged, and `stop()` drops the last one.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger(__name__)

DEMO_REPLAY_DIR = Path(__file__).resolve().parents[1] / "assets" / "demo" / "camera"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".webm")
PLAYLIST = "playlist.txt"  # optional in a replay folder: `file [repeat]` per line

FPS_WINDOW_S = 2.0  # the measured frame rate is over the last 2 s: steady, yet follows a stall
JOIN_TIMEOUT_S = 3.0  # a V4L2 read returns within a frame or its read timeout; 3 s is plenty
# The real camera retries an absent or failed device after these pauses (then the last, for
# ever): quick for a loose cable, gentle on the CPU and the log when there is no camera at all.
RECONNECT_BACKOFF_S = (0.5, 1.0, 2.0, 5.0)
FIRST_FRAME_TIMEOUT_S = 5.0  # an opened camera that sends nothing for this long is "failed"
READ_FAILURES_BEFORE_RECONNECT = 10  # a few failed reads happen on a busy USB bus; ten is a lost camera


class CameraStatus(str, Enum):
    STOPPED = "stopped"  # not started, or stopped
    STARTING = "starting"  # opening the device / waiting for the first frame
    RUNNING = "running"  # frames are arriving
    NO_CAMERA = "no_camera"  # nothing there (not configured, not plugged in, unplugged)
    FAILED = "failed"  # something is there but does not work (permissions, busy, no frames)


@dataclass(frozen=True, slots=True)
class Frame:
    image: np.ndarray  # BGR, uint8, height x width x 3; treat as read-only
    seq: int  # 1, 2, 3... per camera object, increasing across reconnects and restarts
    timestamp: float  # time.monotonic() when the frame arrived

    @property
    def width(self) -> int:
        return self.image.shape[1]

    @property
    def height(self) -> int:
        return self.image.shape[0]


class FpsMeter:
    """Frames per second over the last FPS_WINDOW_S seconds."""

    def __init__(self, window_s: float = FPS_WINDOW_S):
        self.window_s = window_s
        self._stamps: deque[float] = deque(maxlen=512)

    def tick(self, now: float) -> None:
        self._stamps.append(now)

    def reset(self) -> None:
        self._stamps.clear()

    def rate(self, now: float) -> float:
        stamps = [t for t in list(self._stamps) if now - t <= self.window_s]
        if len(stamps) < 2:
            return 0.0
        return (len(stamps) - 1) / max(stamps[-1] - stamps[0], 1e-6)


class Camera(ABC):
    """A camera producing BGR frames on a worker thread. Subclasses implement `_run`."""

    def __init__(self, description: str):
        self.description = description  # e.g. "opencv:/dev/video0": for logs and IT, never PHI
        self._lock = threading.Lock()
        self._new_frame = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._latest: Frame | None = None
        self._seq = 0
        self._status = CameraStatus.STOPPED
        self._reason = ""
        self._fps = FpsMeter()

    # ------------------------------------------------------------------ public
    @property
    def status(self) -> CameraStatus:
        with self._lock:
            return self._status

    @property
    def reason(self) -> str:
        """Why the camera is not running, for IT ("" when running)."""
        with self._lock:
            return self._reason

    @property
    def fps(self) -> float:
        """Frames per second actually arriving (measured, not the requested rate)."""
        with self._lock:
            return self._fps.rate(time.monotonic())

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the worker (returns at once). Starting a started camera does nothing."""
        if self._thread is not None and self._thread.is_alive():
            if not self._stopping.is_set():
                return
            self._thread.join(JOIN_TIMEOUT_S)  # stopped but not yet gone (a driver stuck in a read)
            if self._thread.is_alive():
                self._set_status(CameraStatus.FAILED, f"the camera {self.description} does not respond: "
                                 "unplug it and plug it in again, or restart the kiosk app")
                return
        self._stopping.clear()
        self._set_status(CameraStatus.STARTING)
        self._thread = threading.Thread(target=self._run_guarded, name=f"camera {self.description}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the worker, release the device and forget the last frame."""
        self._stopping.set()
        with self._new_frame:
            self._new_frame.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(JOIN_TIMEOUT_S)
            if thread.is_alive():  # kept, so start() does not run a second worker beside it
                log.warning("camera.stop_timeout", extra={"fields": {"camera": self.description}})
            else:
                self._thread = None
        with self._lock:
            self._latest = None
            self._fps.reset()
        self._set_status(CameraStatus.STOPPED)

    def latest(self) -> Frame | None:
        """The newest frame, or None when there is none (not running, unplugged)."""
        with self._lock:
            return self._latest

    def wait_for_frame(self, after_seq: int = 0, timeout: float | None = None) -> Frame | None:
        """Block until a frame newer than `after_seq` arrives; None on timeout or stop."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._new_frame:
            while not self._stopping.is_set():
                if self._latest is not None and self._latest.seq > after_seq:
                    return self._latest
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._new_frame.wait(remaining)
        return None

    def cue(self, scene: str) -> None:
        """Say what the patient is asked to show next ("card_front", "card_back", "qr_code").

        A real camera ignores it; the replay camera switches to that scene, which is how
        the demo "turns the card over". Screens call it without knowing which camera it is.
        """

    def __enter__(self) -> Camera:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.description} {self.status.value}>"

    # ------------------------------------------------------------------ for subclasses
    @abstractmethod
    def _run(self) -> None:
        """The worker: produce frames with `_publish` until `_stopping` is set."""

    def _publish(self, image: np.ndarray) -> Frame:
        now = time.monotonic()
        with self._new_frame:
            self._seq += 1
            frame = Frame(image, self._seq, now)
            self._latest = frame
            self._fps.tick(now)
            changed = self._status is not CameraStatus.RUNNING
            if changed:
                self._status, self._reason = CameraStatus.RUNNING, ""
            self._new_frame.notify_all()
        if changed:
            log.info("camera.status", extra={"fields": {"camera": self.description, "status": "running"}})
        return frame

    def _set_status(self, status: CameraStatus, reason: str = "") -> None:
        with self._new_frame:
            if (status, reason) == (self._status, self._reason):
                return
            self._status, self._reason = status, reason
            if status is not CameraStatus.RUNNING:
                self._latest = None  # no frozen picture of a camera that is gone
                self._fps.reset()
            self._new_frame.notify_all()
        level = logging.WARNING if status in (CameraStatus.NO_CAMERA, CameraStatus.FAILED) else logging.INFO
        log.log(level, "camera.status",
                extra={"fields": {"camera": self.description, "status": status.value, "reason": reason}})

    def _sleep(self, seconds: float) -> bool:
        """Wait, waking early on stop. True when the camera is being stopped."""
        return self._stopping.wait(max(seconds, 0.0))

    def _run_guarded(self) -> None:
        try:
            self._run()
        except Exception as error:  # a driver bug must not kill the app: it becomes a status
            log.exception("camera.crashed", extra={"fields": {"camera": self.description}})
            self._set_status(CameraStatus.FAILED,
                             f"camera {self.description} stopped on an internal error ({type(error).__name__}): "
                             "see the kiosk log; restarting the kiosk app restarts the camera")


class NoCamera(Camera):
    """The kiosk has no camera (camera = "none"): always `no_camera`, nothing runs."""

    def __init__(self, why: str = 'no camera configured (camera = "none" in the kiosk configuration)'):
        super().__init__("none")
        self._why = why

    def start(self) -> None:
        self._set_status(CameraStatus.NO_CAMERA, self._why)

    def stop(self) -> None:
        self._set_status(CameraStatus.STOPPED)

    def _run(self) -> None:  # never started
        pass


# ---------------------------------------------------------------------- the real camera
def _device_path(source: int | str) -> str | None:
    """The V4L2 device node for an index or path (Linux), None when there is no such thing."""
    if isinstance(source, int):
        return f"/dev/video{source}" if sys.platform.startswith("linux") else None
    return source


class OpenCVCamera(Camera):
    """A USB/V4L2 camera through cv2.VideoCapture, read continuously on a worker thread."""

    def __init__(self, source: int | str = 0, width: int = 1280, height: int = 720, fps: float = 30.0):
        self.source = source
        self.device = _device_path(source)
        super().__init__(f"opencv:{self.device or source}")
        self.width, self.height, self.requested_fps = width, height, fps

    def _run(self) -> None:
        attempt = 0
        while not self._stopping.is_set():
            ran_well = self._open_and_read()
            if self._stopping.is_set():
                return
            attempt = 0 if ran_well else attempt + 1
            pause = RECONNECT_BACKOFF_S[min(attempt, len(RECONNECT_BACKOFF_S) - 1)]
            if self._sleep(pause):  # the status (no_camera/failed + reason) stays until a frame comes
                return

    def _open_and_read(self) -> bool:
        """One connection: open, configure, read until stop or loss. True if frames came."""
        where = self.device or str(self.source)
        if self._device_missing():
            self._set_status(CameraStatus.NO_CAMERA,
                             f"no camera at {where}: check that the camera's USB cable is plugged in "
                             f"(retrying every {RECONNECT_BACKOFF_S[-1]:g} s)")
            return False
        capture = self._open()
        try:
            if capture is None or not capture.isOpened():
                self._set_status(CameraStatus.FAILED, self._cannot_open_reason(where))
                return False
            self._configure(capture)
            return self._read_loop(capture, where)
        finally:
            if capture is not None:
                capture.release()

    def _device_missing(self) -> bool:
        """A device node (or file) that is not there; stream URLs are not checked."""
        return bool(self.device) and "://" not in self.device and not os.path.exists(self.device)

    def _open(self):
        backend = cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY
        try:
            return cv2.VideoCapture(self.device or self.source, backend)
        except cv2.error:
            return None

    def _cannot_open_reason(self, where: str) -> str:
        if self.device and os.path.exists(self.device) and not os.access(self.device, os.R_OK | os.W_OK):
            return f"no permission to open the camera at {where}: add the kiosk user to the 'video' group"
        return (f"the camera at {where} cannot be opened: another program may be using it; "
                "otherwise unplug it and plug it in again")

    def _configure(self, capture) -> None:
        # MJPG first: most USB webcams give 1280x720 at 30 fps only compressed (raw YUYV
        # is often 10 fps at that size on USB 2). Unsupported settings are ignored.
        capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*"MJPG"))
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        capture.set(cv2.CAP_PROP_FPS, self.requested_fps)
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the newest picture, not one from the driver's queue
        if hasattr(cv2, "CAP_PROP_READ_TIMEOUT_MSEC"):  # an unplugged camera must not block stop()
            capture.set(cv2.CAP_PROP_READ_TIMEOUT_MSEC, 1000)
        got = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        if got != (self.width, self.height):
            log.warning("camera.resolution",
                        extra={"fields": {"camera": self.description, "asked": f"{self.width}x{self.height}",
                                          "got": f"{got[0]}x{got[1]}"}})

    def _read_loop(self, capture, where: str) -> bool:
        opened_at = time.monotonic()
        failures = 0
        got_frames = False
        while not self._stopping.is_set():
            ok, image = capture.read()
            if ok and image is not None:
                failures = 0
                got_frames = True
                self._publish(image)
                continue
            failures += 1
            if self._device_missing():
                self._set_status(CameraStatus.NO_CAMERA,
                                 f"the camera at {where} was unplugged: check its USB cable (reconnecting)")
                return got_frames
            if not got_frames and time.monotonic() - opened_at > FIRST_FRAME_TIMEOUT_S:
                self._set_status(CameraStatus.FAILED,
                                 f"the camera at {where} opens but sends no pictures: unplug it and plug it in "
                                 "again, or try another USB port")
                return False
            if got_frames and failures >= READ_FAILURES_BEFORE_RECONNECT:
                self._set_status(CameraStatus.FAILED,
                                 f"the camera at {where} stopped sending pictures: reconnecting")
                return True
            if self._sleep(0.05):
                break
        return got_frames


# ---------------------------------------------------------------------- the replay camera
@dataclass(frozen=True)
class _Scene:
    name: str
    images: tuple[Path, ...] = ()  # one entry per frame (repeats already expanded)
    video: Path | None = None


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def _scene_from_folder(name: str, folder: Path) -> _Scene:
    playlist = folder / PLAYLIST
    if playlist.is_file():
        frames: list[Path] = []
        for line in playlist.read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            file, _, repeat = line.partition(" ")
            frames += [folder / file] * (int(repeat) if repeat.strip() else 1)
        return _Scene(name, tuple(frames))
    return _Scene(name, tuple(sorted(p for p in folder.iterdir() if p.is_file() and _is_image(p))))


def _scenes_from(source) -> dict[str, _Scene]:
    """Scenes from a folder of images, a folder of scene folders, a video, a list or a mapping."""
    if isinstance(source, Mapping):
        scenes: dict[str, _Scene] = {}
        for name, item in source.items():
            found = list(_scenes_from(item).values())
            if len(found) != 1:
                raise ValueError(f"replay scene {name!r} must be one folder of images, one video or one list")
            scenes[str(name)] = _Scene(str(name), found[0].images, found[0].video)
        return scenes
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES:
            return {path.stem: _Scene(path.stem, video=path)}
        if not path.is_dir():
            return {}
        own = _scene_from_folder(path.name, path)
        if own.images:
            return {own.name: own}
        subfolders = sorted(p for p in path.iterdir() if p.is_dir())
        return {s.name: s for s in (_scene_from_folder(p.name, p) for p in subfolders) if s.images}
    if isinstance(source, Sequence):
        return {"default": _Scene("default", tuple(Path(p) for p in source))}
    raise TypeError(f"replay source must be a folder, a video file, a list of images or a mapping, not {source!r}")


class ReplayCamera(Camera):
    """Plays images or a video as a camera would: start-up delay, frames at `fps`, unplugs.

    `source` is a folder of images (played in name order, or as its playlist.txt says),
    a folder of scene folders (e.g. card_front/ and card_back/: `cue(name)` switches), a
    video file, a list of image paths, or a mapping {scene name: any of those}.

    Images are decoded for every frame (like a webcam's MJPG), so the CPU cost is real.
    `unplug_after=N` makes the camera vanish after N frames (status no_camera), and
    `replug_after=S` brings it back S seconds later; `unplug()`/`replug()` do it by hand.
    """

    def __init__(self, source, *, fps: float = 30.0, loop: bool = True, scene: str | None = None,
                 startup_delay: float = 0.3, unplug_after: int | None = None, replug_after: float | None = None):
        label = source if isinstance(source, (str, os.PathLike)) else type(source).__name__
        super().__init__(f"replay:{label}")
        self.source = source
        self.frame_interval = 1.0 / fps
        self.loop = loop
        self.startup_delay = startup_delay
        self.unplug_after = unplug_after
        self.replug_after = replug_after
        self._scenes = _scenes_from(source)
        self._scene = scene if scene is not None else next(iter(self._scenes), None)
        self._scene_changed = threading.Event()
        self._plugged = threading.Event()
        self._plugged.set()
        self._unplugged_by_hand = False
        self._frames_since_start = 0

    @property
    def scenes(self) -> list[str]:
        return list(self._scenes)

    @property
    def scene(self) -> str | None:
        return self._scene

    def cue(self, scene: str) -> None:
        if scene not in self._scenes:
            log.info("camera.cue_ignored", extra={"fields": {"camera": self.description, "scene": scene}})
            return
        self._scene = scene
        self._scene_changed.set()

    def unplug(self) -> None:
        """Simulate pulling the USB cable (the worker notices at its next frame)."""
        self._unplugged_by_hand = True
        self._plugged.clear()

    def replug(self) -> None:
        self._unplugged_by_hand = False
        self._plugged.set()

    def _run(self) -> None:
        self._frames_since_start = 0
        if self._scene is None or self._scene not in self._scenes:
            self._set_status(CameraStatus.NO_CAMERA,
                             f"replay camera: no images or video at {self.source}: "
                             "make them with scripts/make_replay_frames.py")
            return
        if self._sleep(self.startup_delay):
            return
        while not self._stopping.is_set():
            result = self._play()
            if result == "unplugged":
                self._set_status(CameraStatus.NO_CAMERA,
                                 f"the camera {self.description} was unplugged (simulated): check its USB cable")
                if not self._wait_for_replug():
                    return
                self._set_status(CameraStatus.STARTING, f"reconnecting to {self.description}")
                if self._sleep(self.startup_delay):
                    return
            elif result == "ended":  # played once (loop=False): idle until stopped or cued
                while not self._stopping.is_set() and not self._scene_changed.wait(0.05):
                    pass

    def _wait_for_replug(self) -> bool:
        """True when the camera is back, False when stopping."""
        if self.replug_after is not None and not self._unplugged_by_hand:
            if self._sleep(self.replug_after):
                return False
            self._plugged.set()
        while not self._plugged.wait(0.05):
            if self._stopping.is_set():
                return False
        return not self._stopping.is_set()

    def _play(self) -> str:
        """Play the current scene (and whatever is cued next). 'stopped', 'ended' or 'unplugged'."""
        next_due = time.monotonic()
        while not self._stopping.is_set():
            self._scene_changed.clear()
            for image in self._frames(self._scenes[self._scene]):
                if self._sleep(next_due - time.monotonic()):
                    return "stopped"
                if self.unplug_after is not None and self._frames_since_start >= self.unplug_after:
                    self.unplug_after = None  # once: a replugged camera keeps going
                    self._plugged.clear()
                if not self._plugged.is_set():
                    return "unplugged"
                if image is not None:
                    self._publish(image)
                    self._frames_since_start += 1
                # Like a sensor: the next frame is one period after the last, and a late
                # frame (busy CPU) is not made up for with a burst.
                next_due = max(next_due + self.frame_interval, time.monotonic())
                if self._scene_changed.is_set():
                    break
            else:
                if not self.loop and not self._scene_changed.is_set():
                    return "ended"
        return "stopped"

    def _frames(self, scene: _Scene):
        if scene.video is not None:
            yield from self._video_frames(scene.video)
            return
        for path in scene.images:
            if self._stopping.is_set() or self._scene_changed.is_set():
                return
            data = np.fromfile(path, np.uint8) if path.is_file() else np.empty(0, np.uint8)
            image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
            if image is None:
                log.warning("camera.replay_unreadable", extra={"fields": {"file": path.name}})
            yield image

    def _video_frames(self, path: Path):
        capture = cv2.VideoCapture(str(path))
        try:
            while not self._stopping.is_set() and not self._scene_changed.is_set():
                ok, image = capture.read()
                if not ok:
                    return
                yield image
        finally:
            capture.release()


# ---------------------------------------------------------------------- configuration
def make_camera(setting: str, *, width: int = 1280, height: int = 720, fps: float = 30.0) -> Camera:
    """The camera a configuration value names.

    "opencv:0" / "opencv:/dev/video2"  a real camera (index or device path)
    "replay:demo"                      the bundled synthetic card frames (assets/demo/camera)
    "replay:/path"                     a folder of images / scene folders, or a video file
    "none" or ""                       no camera (status no_camera)
    """
    value = (setting or "").strip()
    kind, _, arg = value.partition(":")
    kind = kind.lower()
    if kind in ("", "none"):
        return NoCamera()
    if kind == "opencv":
        arg = arg.strip() or "0"
        return OpenCVCamera(int(arg) if arg.isdigit() else arg, width=width, height=height, fps=fps)
    if kind == "replay":
        arg = arg.strip()
        return ReplayCamera(DEMO_REPLAY_DIR if arg in ("", "demo") else Path(arg).expanduser(), fps=fps)
    raise ValueError(f"camera setting {setting!r} is not understood: use \"opencv:0\", \"opencv:/dev/videoN\", "
                     "\"replay:demo\", \"replay:/path/to/images\" or \"none\"")
