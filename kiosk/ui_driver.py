"""Drive the real kiosk window as a person would: find a control, touch it, look at the screen.

Used by the scripted demo tour and the GUI tests. Touches go through Kivy's whole input
path (UnitTestTouch -> window -> widgets), so what works here works for a finger.
Controls are found by their `action` name, never by their (translated) text.
"""
from __future__ import annotations

import math
import os
import time
from pathlib import Path

from kivy.base import EventLoop, ExceptionManager
from kivy.core.window import Window
from kivy.tests.common import UnitTestTouch
from kivy.uix.scrollview import ScrollView


def pump(frames: int = 3) -> None:
    """Let Kivy run a few frames: layouts settle, kv rules and clocks fire."""
    for _ in range(frames):
        _as_main_loop(EventLoop.idle)


def _as_main_loop(action) -> None:
    """Run like Kivy's main loop does: an error goes to ExceptionManager's handlers first."""
    try:
        action()
    except Exception as error:
        if ExceptionManager.handle_exception(error) == ExceptionManager.RAISE:
            raise


def walk(widget):
    yield widget
    for child in widget.children:
        yield from walk(child)


def visible_roots(app) -> list:
    """What a person sees: the top bar, the current screen and any open modal view."""
    roots = [app.top_bar, app.manager.current_screen]
    roots += [w for w in Window.children if w is not app.root]
    return roots


def find(app, action: str):
    for root in visible_roots(app):
        for widget in walk(root):
            if getattr(widget, "action", None) == action and not widget.disabled and widget.opacity > 0:
                return widget
    raise LookupError(f"no visible control {action!r} on screen {app.manager.current!r}")


def exists(app, action: str) -> bool:
    try:
        find(app, action)
    except LookupError:
        return False
    return True


def tap(app, action: str, frames: int = 2) -> None:
    widget = find(app, action)
    _scroll_into_view(widget)
    _press(widget)
    pump(frames)


def type_keys(app, text: str) -> None:
    """Press on-screen keys one by one (keyboard or keypad on the current screen).

    Keys do not move while typing, so they are found once and pressed without waiting
    for frames in between; the screen is drawn once at the end. A letter the keyboard
    does not show is looked for behind its switch key (Arabic / Latin letters), as a
    person would.
    """
    keys = {}
    for char in text:
        action = "key:" + char
        if action not in keys:
            if not exists(app, action) and exists(app, "key:switch"):
                tap(app, "key:switch")
                keys.clear()  # the other letters are new widgets
            keys[action] = find(app, action)
        _press(keys[action])
    pump(2)


def press_key(key: int, codepoint: str | None = None, modifiers: tuple[str, ...] = (), frames: int = 2) -> None:
    """A key press from a physical keyboard or the assistive keypad, through the window."""
    _as_main_loop(lambda: Window.dispatch("on_key_down", key, 0, codepoint, list(modifiers)))
    _as_main_loop(lambda: Window.dispatch("on_key_up", key, 0))
    pump(frames)


def type_on_keyboard(text: str) -> None:
    """Type `text` on a physical keyboard (lower-case letters, as a keyboard sends them)."""
    for char in text:
        press_key(ord(char.lower()), char.lower(), frames=1)
    pump(2)


def _press(widget) -> None:
    x, y = widget.to_window(*widget.center)
    touch = UnitTestTouch(x, y)
    _as_main_loop(touch.touch_down)
    _as_main_loop(touch.touch_up)


def draw(app, action: str, points: list[tuple[float, float]]) -> None:
    """Drag one finger along `points`, given as fractions of the control (0..1, y down)."""
    widget = find(app, action)
    at = lambda fx, fy: widget.to_window(widget.x + fx * widget.width, widget.top - fy * widget.height)  # noqa: E731
    touch = UnitTestTouch(*at(*points[0]))
    _as_main_loop(touch.touch_down)
    for point in points[1:]:
        _as_main_loop(lambda: touch.touch_move(*at(*point)))
    _as_main_loop(touch.touch_up)
    pump(1)


def sign(app, action: str = "signature_pad") -> None:
    """Sign like a person: a slanted, looping name across the middle of the pad."""
    points = []
    steps = 120
    for i in range(steps + 1):
        t = i / steps
        a = 2 * math.pi * 6 * t
        points.append((0.1 + 0.7 * t - 0.05 * math.sin(a), 0.62 - 0.22 * (1 - math.cos(a)) * (0.8 + 0.2 * math.sin(5 * t))))
    draw(app, action, points)


def wait_until(condition, timeout: float) -> None:
    """Run frames until `condition()` holds (a camera capture, an idle warning ...)."""
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the screen did not change in time")
        pump(1)
        time.sleep(0.02)


def texts(app) -> list[str]:
    """Every piece of text on screen now."""
    found = []
    for root in visible_roots(app):
        for widget in walk(root):
            text = getattr(widget, "text", None)
            if isinstance(text, str) and text and getattr(widget, "opacity", 1) > 0:
                found.append(text)
    return found


def screenshot(path: Path) -> Path:
    """Save the window as PNG at exactly `path` (Kivy appends a counter; we rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pump(2)
    saved = Window.screenshot(name=str(path.with_name("shot.png")))
    os.replace(saved, path)
    return path


def _scroll_into_view(widget) -> None:
    parent = widget.parent
    while parent is not None and parent is not Window:  # the window is its own parent
        if isinstance(parent, ScrollView):
            if parent.viewport_size[1] > parent.height:  # only content taller than the view scrolls
                parent.scroll_to(widget, padding=10, animate=False)
            pump(2)
            return
        parent = parent.parent
