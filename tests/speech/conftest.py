"""Fixtures for the speech tests: a post() that stands in for the UI thread, a fast
recording backend, and a Speaker wired to both that records what the UI would hear."""
from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable

import pytest

from kiosk.speech import RecordingBackend, Speaker

SPEED = 50.0  # the recording backend speaks 50x faster than real speech


class UiThread:
    """post() queues; pump() runs what was posted on the test's own thread, as Kivy's Clock would."""

    def __init__(self) -> None:
        self.posted: queue.Queue[Callable[[], None]] = queue.Queue()
        self.thread = threading.current_thread()

    def post(self, callback: Callable[[], None]) -> None:
        self.posted.put(callback)

    def pump(self) -> None:
        while True:
            try:
                self.posted.get_nowait()()
            except queue.Empty:
                return

    def pump_until(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError("timed out waiting for the speaker")
            try:
                self.posted.get(timeout=0.01)()
            except queue.Empty:
                pass


class Heard:
    """What the UI was told, in order: ("sentence", i), ("finished",), ("error", message)."""

    def __init__(self, ui: UiThread) -> None:
        self.ui = ui
        self.events: list[tuple] = []
        self.wrong_thread = False

    def _add(self, *event: object) -> None:
        self.wrong_thread |= threading.current_thread() is not self.ui.thread
        self.events.append(event)

    def attach(self, speaker) -> None:
        speaker.on_sentence = lambda index: self._add("sentence", index)
        speaker.on_finished = lambda: self._add("finished")
        speaker.on_error = lambda message: self._add("error", message)

    @property
    def sentences(self) -> list[int]:
        return [e[1] for e in self.events if e[0] == "sentence"]

    def count(self, kind: str) -> int:
        return sum(1 for e in self.events if e[0] == kind)

    def wait_finished(self, count: int = 1, timeout: float = 5.0) -> None:
        self.ui.pump_until(lambda: self.count("finished") >= count, timeout)


@pytest.fixture
def ui() -> UiThread:
    return UiThread()


@pytest.fixture
def recorder() -> RecordingBackend:
    return RecordingBackend(speed=SPEED)


@pytest.fixture
def heard(ui: UiThread) -> Heard:
    return Heard(ui)


@pytest.fixture
def speaker(recorder: RecordingBackend, ui: UiThread, heard: Heard):
    s = Speaker(recorder, ui.post)
    heard.attach(s)
    yield s
    s.close()
