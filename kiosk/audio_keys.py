"""Keys of the audio-and-keypad mode: what each key press means (pure, no Kivy).

A USB assistive keypad (12 keys: arrows, select, back, help, volume, ...) is set up to
send ordinary keyboard events, so this one table serves it and a plain keyboard alike.
Codes are Kivy's (kivy.core.window.Keyboard.keycodes); the number-pad keys that are not
digits carry the commands, so the digits still type a birth date.
"""
from __future__ import annotations

from enum import Enum

from kiosk.i18n_markers import N_


class Command(Enum):
    NEXT = "next"
    PREVIOUS = "previous"
    ACTIVATE = "activate"
    BACK = "back"
    HELP = "help"
    REPEAT = "repeat"
    MORE_TIME = "more_time"
    VOLUME_UP = "volume_up"
    VOLUME_DOWN = "volume_down"


TAB, ENTER, ESCAPE, BACKSPACE = 9, 13, 27, 8
UP, DOWN, RIGHT, LEFT = 273, 274, 275, 276
PAGE_UP = 280
F1, F2, F3 = 282, 283, 284
KP_DOT, KP_DIVIDE, KP_MULTIPLY, KP_MINUS, KP_PLUS, KP_ENTER = 266, 267, 268, 269, 270, 271

KEY_COMMANDS: dict[int, Command] = {
    DOWN: Command.NEXT,
    RIGHT: Command.NEXT,
    TAB: Command.NEXT,
    UP: Command.PREVIOUS,
    LEFT: Command.PREVIOUS,
    ENTER: Command.ACTIVATE,
    KP_ENTER: Command.ACTIVATE,
    ESCAPE: Command.BACK,
    PAGE_UP: Command.BACK,
    F1: Command.HELP,
    KP_MULTIPLY: Command.HELP,
    F2: Command.REPEAT,
    KP_DOT: Command.REPEAT,
    F3: Command.MORE_TIME,
    KP_DIVIDE: Command.MORE_TIME,
    KP_PLUS: Command.VOLUME_UP,
    KP_MINUS: Command.VOLUME_DOWN,
}

# Printable characters a name, email or date entry accepts from a physical keyboard.
TYPABLE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -'@._+")

# What the help key says, in order (translated when spoken).
KEY_HELP = (
    N_("Press the down arrow for the next choice and the up arrow for the one before."),
    N_("Press Enter to choose."),
    N_("Press Escape to go back."),
    N_("Press F2 to hear this screen again, and F3 if you need more time."),
    N_("Plus and minus on the number pad change the volume."),
)


def command_for(key: int, modifiers: list[str] | tuple[str, ...] = ()) -> Command | None:
    """The command of a key press, or None (a key this mode does not use)."""
    if key == TAB and "shift" in modifiers:
        return Command.PREVIOUS
    if modifiers and ("ctrl" in modifiers or "alt" in modifiers):
        return None
    return KEY_COMMANDS.get(key)


def typed_character(key: int, codepoint: str | None) -> str | None:
    """The character a key press types into an entry (BACKSPACE as "\\b"), or None."""
    if key == BACKSPACE:
        return "\b"
    if codepoint and len(codepoint) == 1 and codepoint in TYPABLE:
        return codepoint
    return None
