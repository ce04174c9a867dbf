"""Drive the real kiosk window as a person would: find a control, touch it, look at the screen.

Used by the scripted demo tour and the GUI tests. Touches go through Kivy's whole input
path (UnitTestTouch -> window -> widgets), so what works here works for a finger.
Controls are found by their `action` name, never by their (translated) text.
"""
from __future__ import annotations

import os
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
    for frames in between; the screen is drawn once at the end.
    """
    keys = {}
    for char in text:
        action = "key:" + char
        if action not in keys:
            keys[action] = find(app, action)
        _press(keys[action])
    pump(2)


def _press(widget) -> None:
    x, y = widget.to_window(*widget.center)
    touch = UnitTestTouch(x, y)
    _as_main_loop(touch.touch_down)
    _as_main_loop(touch.touch_up)


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
