"""Audio-and-keypad mode: the kiosk speaks and is worked with keys (Kivy has no screen reader).

While it is on, every screen speaks its text and then the focused control; the arrow
keys move a visible focus ring through the controls in reading order, Enter presses the
focused one, Escape presses the screen's Back, and help, repeat, "more time" and volume
are one key each (kiosk.audio_keys). Typed letters and digits go to the screen's entry.
Text stays on screen: the mode adds speech and keys, it takes nothing away.

Changes are found by looking, not by asking every screen to report them: a few times a
second the guide reads the visible texts; new text (a new page, a notice, the idle
warning) is spoken. Digits are ignored in that comparison, so a countdown does not
chatter. Speech goes to the speaker from the `speech` setting (the headphone jack).
"""
from __future__ import annotations

import logging
import re
import weakref

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.graphics import Color, Line
from kivy.metrics import dp
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.label import Label
from kivy.uix.modalview import ModalView
from kivy.uix.widget import Widget

from kiosk.audio_keys import KEY_HELP, Command, command_for, typed_character
from kiosk.theme import theme
from kiosk.widgets.tr import tr

log = logging.getLogger(__name__)

TIME_FACTOR = 3  # timeouts are this much longer: listening takes longer than reading
WATCH_SECONDS = 0.15
VOLUME_STEP = 10
SETTLE_FRAMES = 90  # at most ~1.5 s waiting for a new screen's layout to settle
BACK_ACTIONS = ("back", "form_back", "cancel", "not_me")
_DIGITS = re.compile(r"\d+")


class FocusRing(Widget):
    """A thick two-colour frame around the focused control, drawn above everything."""

    def __init__(self, **kwargs):
        super().__init__(size_hint=(None, None), **kwargs)
        with self.canvas:
            self._outer_colour = Color(0, 0, 0, 1)
            self._outer = Line(width=dp(5))
            self._inner_colour = Color(*theme.focus)
            self._inner = Line(width=dp(2.5))

    def frame(self, widget) -> None:
        x, y = widget.to_window(widget.x, widget.y)
        pad = dp(4)
        box = (x - pad, y - pad, widget.width + 2 * pad, widget.height + 2 * pad)
        self._outer.rectangle = box
        self._inner.rectangle = box
        self._inner_colour.rgba = theme.focus

    def on_touch_down(self, touch):
        return False  # never in the way of a finger


def _visible(widget) -> bool:
    return widget.opacity > 0 and widget.width > 0 and widget.height > 0


def _walk(widget):
    """Visible widgets in reading order (Kivy keeps children last-added first)."""
    if not _visible(widget):
        return
    yield widget
    for child in reversed(widget.children):
        yield from _walk(child)


def _plain(text: str) -> str:
    return _DIGITS.sub("#", text).strip()


class AudioGuide:
    def __init__(self, app, speaker_source):
        self.app = app
        self._speaker_source = speaker_source  # made on first use: most patients never need it
        self.on = False
        self._focused = None  # weakref to the focused control
        self._ring = FocusRing()
        self._watch_event = None
        self._seen_place = None
        self._seen_texts: set[str] = set()
        self._settling = None  # (texts, frames) while a new screen is being laid out

    @property
    def speaker(self):
        return self._speaker_source()

    # -- on and off -----------------------------------------------------------------
    def start(self, intro: bool = True) -> None:
        if self.on:
            return
        self.on = True
        self.app.set_time_factor(TIME_FACTOR)
        Window.add_widget(self._ring)
        self._seen_place, self._seen_texts = None, set()
        self._focused, self._settling = None, None
        log.info("audio_mode.on")
        words = tr._("Audio help is on. Use the arrow keys to move and Enter to choose. Press F1 for help.")
        self._look(intro=words if intro else None)
        self._watch_event = Clock.schedule_interval(lambda _dt: self._look(), WATCH_SECONDS)

    def stop(self) -> None:
        """Off for the next patient. What is being said is finished, not cut off mid-word."""
        if not self.on:
            return
        self.on = False
        if self._watch_event is not None:
            self._watch_event.cancel()
            self._watch_event = None
        if self._ring.parent is not None:
            self._ring.parent.remove_widget(self._ring)
        self._focused = None
        self.app.set_time_factor(1)
        log.info("audio_mode.off")

    # -- keys -------------------------------------------------------------------------
    def handle_key(self, key: int, codepoint: str | None, modifiers) -> bool:
        """True when the key was used (then nothing else should act on it)."""
        command = command_for(key, modifiers)
        if not self.on:
            # Any mode key on the welcome screen, or the help key anywhere, turns it on.
            if command is not None and (self.app.manager.current == "welcome" or command is Command.HELP):
                self.start()
                return True
            return False
        typed = typed_character(key, codepoint)
        screen = self.app.manager.current_screen
        if typed is not None and command is None and hasattr(screen, "on_key") and self._modal() is None:
            # Like the on-screen keyboard: capitals, except in an email address.
            email = getattr(screen, "layout", "") == "email"
            screen.on_key(typed if email or not typed.isalpha() else typed.upper())
            self._say(tr._("Delete") if typed == "\b" else typed.upper())
            self._look(quiet=True)
            return True
        if command is None:
            return False
        self._run(command)
        return True

    def _run(self, command: Command) -> None:
        if command in (Command.NEXT, Command.PREVIOUS):
            self._move(1 if command is Command.NEXT else -1)
        elif command is Command.ACTIVATE:
            self._activate(self._current())
        elif command is Command.BACK:
            back = next((w for w in self._controls() if getattr(w, "action", "") in BACK_ACTIONS), None)
            if back is None:
                self._say(tr._("There is no way back from here."))
            else:
                self._activate(back)
        elif command is Command.HELP:
            self._say(" ".join(tr._(line) for line in KEY_HELP))
        elif command is Command.REPEAT:
            self._look(intro="", again=True)
        elif command is Command.MORE_TIME:
            self.app.more_time()
            self._say(tr._("You have more time."))
        else:
            step = VOLUME_STEP if command is Command.VOLUME_UP else -VOLUME_STEP
            self.speaker.volume = max(10, min(100, self.speaker.volume + step))
            self._say(tr._("Volume {percent} percent").format(percent=self.speaker.volume))

    # -- focus ------------------------------------------------------------------------
    def focused(self):
        return self._focused() if self._focused is not None else None

    def _modal(self):
        return next((w for w in reversed(Window.children) if isinstance(w, ModalView)), None)

    def _roots(self) -> list:
        modal = self._modal()
        if modal is not None:
            return [modal]  # an open dialog is all that can be used
        return [self.app.manager.current_screen, self.app.top_bar]

    def _controls(self) -> list:
        found = []
        for root in self._roots():
            found += [w for w in _walk(root) if isinstance(w, ButtonBehavior) and not w.disabled]
        return found

    def _texts(self) -> list[str]:
        texts = []
        roots = self._roots()
        for root in roots if roots[-1] is not self.app.top_bar else roots[:-1]:
            for widget in _walk(root):
                if (isinstance(widget, Label) and not isinstance(widget, ButtonBehavior)
                        and not getattr(widget, "audio_skip", False) and widget.text.strip()):
                    texts.append(widget.text.strip())
        return texts

    def _current(self):
        controls = self._controls()
        widget = self.focused()
        if widget is None or widget not in controls:
            widget = controls[0] if controls else None
            self._focused = weakref.ref(widget) if widget is not None else None
        return widget

    def _move(self, step: int) -> None:
        controls = self._controls()
        if not controls:
            self._say(tr._("There is nothing to choose here."))
            return
        widget = self.focused()
        index = controls.index(widget) + step if widget in controls else 0
        widget = controls[index % len(controls)]
        self._focused = weakref.ref(widget)
        self._ring.frame(widget)
        self._say(self.describe(widget))

    def _activate(self, widget) -> None:
        if widget is None:
            return
        self._focused = weakref.ref(widget)
        before = self._place()
        widget.trigger_action(duration=0)
        # A press that opens another screen is answered by that screen's prompt; one that
        # stays (a choice) by what is new, or the control again (now "selected").
        Clock.schedule_once(lambda _dt: self._look(after_press=self._place() == before), 0)

    def describe(self, widget) -> str:
        """What is said for a control: its label and what kind of thing it is."""
        if hasattr(widget, "value") and hasattr(widget, "placeholder"):  # a typed entry
            if widget.value:
                return tr._("Text box: {text}").format(text=" ".join(widget.value))
            return tr._("Text box, empty: {hint}").format(hint=widget.placeholder)
        label = widget.text.strip()
        if getattr(widget, "selected", False):
            return tr._("{label}, selected").format(label=label)
        return tr._("{label}, button").format(label=label)

    # -- looking at the screen --------------------------------------------------------
    def _place(self) -> tuple:
        return self.app.manager.current, id(self._modal())

    def _look(self, intro: str | None = None, again: bool = False, after_press: bool = False, quiet: bool = False,
              settling: bool = False):
        if not self.on:
            return
        if self._settling is not None and not settling:
            return  # a new screen is being waited for (below): that look will speak
        place = self._place()
        texts = self._texts()
        plain = {_plain(t) for t in texts}
        new_place = place != self._seen_place
        if new_place and not self._settled(texts):
            # A screen just shown is laid out over several frames (more on a busy machine):
            # look again next frame, until its texts stop changing.
            Clock.schedule_once(lambda _dt: self._look(intro, again, after_press, quiet, settling=True), 0)
            return
        self._settling = None
        new_texts = [t for t in texts if _plain(t) not in self._seen_texts]
        old_focus = self.focused()
        if new_place:
            self._focused = None
        widget = self._current()
        moved = widget is not old_focus
        self._seen_place, self._seen_texts = place, plain
        if widget is not None:
            self._ring.frame(widget)
            if self._ring.parent is not None and Window.children[0] is not self._ring:
                Window.remove_widget(self._ring)
                Window.add_widget(self._ring)  # above a dialog that opened since
        parts = []
        if intro:
            parts.append(intro)
        if new_place or again or intro is not None:
            parts += texts
        elif new_texts:
            parts += new_texts
        elif quiet or not (moved or after_press):
            return
        if widget is not None:
            parts.append(self.describe(widget))
        # What the patient did, or a new screen, cuts in; text that merely appeared (a notice,
        # a late label) waits its turn, so it never cuts off the screen's own prompt.
        cut_in = new_place or again or intro is not None or after_press or quiet
        self._say(" ".join(_sentence(p) for p in parts), interrupt=cut_in)

    def _settled(self, texts: list[str]) -> bool:
        """True once a new screen shows the same texts two frames running (or after
        SETTLE_FRAMES frames: then it is spoken as it is)."""
        previous, frames = self._settling or (None, 0)
        if frames >= SETTLE_FRAMES or (texts and texts == previous):
            return True
        self._settling = (texts, frames + 1)
        return False

    def _say(self, text: str, interrupt: bool = True) -> None:
        if text:
            self.speaker.say(text, tr.language, interrupt=interrupt)


def _sentence(text: str) -> str:
    """End each spoken piece with a stop, so the voice pauses between a title and a button."""
    text = " ".join(text.split())
    return text if text[-1:] in ".?!:。？！؟" else text + "."
