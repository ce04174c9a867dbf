"""Kivy reads its settings when first imported: set them here, before anything imports Kivy.

Kiosk rules: fullscreen with no window controls, Escape never quits, one input provider
(two providers for one touchscreen double every tap), no Kivy settings panel, Kivy's own
files kept in the kiosk's data directory.
"""
from __future__ import annotations

import os
from pathlib import Path


def configure_kivy(kivy_home: Path, *, fullscreen: bool, size: tuple[int, int] = (1280, 800)) -> None:
    kivy_home.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.environ["KIVY_HOME"] = str(kivy_home)
    os.environ["KIVY_NO_ARGS"] = "1"  # our argparse owns the command line
    os.environ["KIVY_LOG_MODE"] = "PYTHON"  # Kivy logs through our JSON handlers, PHI guard included
    os.environ.setdefault("KIVY_NO_FILELOG", "1")

    from kivy.config import Config

    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "desktop", "0")
    Config.set("kivy", "keyboard_mode", "system")
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "borderless", "1")
    Config.set("graphics", "resizable", "0")
    Config.set("graphics", "width", str(size[0]))
    Config.set("graphics", "height", str(size[1]))
    Config.set("graphics", "show_cursor", "0" if fullscreen else "1")
    # Flat shapes need no anti-aliasing; without a GPU (software GL) it triples frame time.
    Config.set("graphics", "multisamples", "0")
    for provider in list(Config.options("input")):
        Config.remove_option("input", provider)
    Config.set("input", "mouse", "mouse,disable_multitouch")
