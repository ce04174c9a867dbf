"""A box the patient signs in with a finger: strokes drawn live, handed over as a `Signature`.

Looks like paper whatever the theme (white, black ink, a dark border and a baseline with an
"X" and a hint under it), because that is what gets rendered to PNG and kept. Strokes are
kept in pad coordinates (origin top left, y down), so the PNG comes out the right way up.

Responsive on slow kiosks: a touch move appends one point to the current `Line`; long
strokes are split into several `Line`s so a move never re-tessellates more than
`POINTS_PER_LINE` points; the ink sits under a `Translate`, so moving the pad redraws nothing.
"""
from __future__ import annotations

import math

from kivy.graphics import Color, InstructionGroup, Line, PopMatrix, PushMatrix, Rectangle, Translate
from kivy.metrics import dp
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, StringProperty
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from kiosk import palette
from kiosk.signature import Signature
from kiosk.theme import theme

PAPER = (1, 1, 1, 1)
INK = (0, 0, 0, 1)
GUIDE = palette.hex_rgba("#444444")  # border, baseline, "X" and hint: 9.7:1 on white
BASELINE_FRACTION = 0.3  # the baseline sits this far up the pad, leaving room for the hint
POINTS_PER_LINE = 64  # a Line re-tessellates all its points on every append: keep it short
MIN_STEP_DP = 1.0  # moves closer than this to the last point add nothing but size


class SignaturePad(Widget):
    hint = StringProperty("")  # the screen sets it, translated ("Sign above the line")
    is_empty = BooleanProperty(True)
    line_width = NumericProperty(dp(3))
    bg_color = ColorProperty(PAPER)  # what the accessibility test measures text against
    action = StringProperty("")  # stable name for tests and the tour, never shown

    __events__ = ("on_signature_changed",)

    def __init__(self, **kwargs):
        self._strokes: list[list[tuple[float, float]]] = []  # pad coordinates, y down
        self._lines: list[Line] = []  # Line instructions of the stroke being drawn
        self._touch = None  # the one touch drawing now; a second finger (a palm) is ignored
        self._drawn_size = (0.0, 0.0)
        super().__init__(**kwargs)
        self._mark = Label(text="X", color=GUIDE, bold=True, size_hint=(None, None))
        self._hint = Label(color=GUIDE, halign="center", valign="top", size_hint=(None, None))
        self.add_widget(self._mark)
        self.add_widget(self._hint)
        with self.canvas.before:
            Color(*PAPER)
            self._paper = Rectangle()
            Color(*GUIDE)
            self._border = Line(width=dp(1.5))
            self._baseline = Line(width=dp(1.5))
        with self.canvas.after:  # ink over the hint, never under it
            PushMatrix()
            self._origin = Translate()
            Color(*INK)
            self._ink = InstructionGroup()
            PopMatrix()
        self.fbind("pos", self._place)
        self.fbind("size", self._place)
        self.fbind("hint", self._place)
        self.fbind("size", self._rescale_ink)
        self.fbind("line_width", self._redraw_ink)
        # bind(), not fbind(): the theme lives forever and must hold a pad only weakly.
        theme.bind(font_small=self._place, font_title=self._place, font_regular=self._place)
        self._place()

    # -- public -------------------------------------------------------------------------------
    def signature(self) -> Signature:
        return Signature(strokes=tuple(tuple(s) for s in self._strokes), width=self.width, height=self.height)

    def clear(self) -> None:
        """Wipe every stroke (also a stroke being drawn: its touch is then ignored)."""
        had_ink = bool(self._strokes)
        self._strokes = []
        self._lines = []
        self._touch = None
        self._ink.clear()
        self.is_empty = True
        if had_ink:
            self.dispatch("on_signature_changed")

    def on_signature_changed(self, *args):
        """A stroke was finished or the pad was cleared."""

    # -- touches ------------------------------------------------------------------------------
    def on_touch_down(self, touch):
        if not self.collide_point(*touch.pos):
            return False
        if self.disabled or self._touch is not None or not _is_finger_or_left_button(touch):
            return True  # inside the pad: nothing under it should react either
        touch.grab(self)
        self._touch = touch
        self._strokes.append([])
        line = Line(width=self.line_width, cap="round", joint="round")
        self._lines = [line]
        self._ink.add(line)
        self._add_point(touch)
        self.is_empty = False
        return True

    def on_touch_move(self, touch):
        if touch.grab_current is self and touch is self._touch:
            self._add_point(touch)
        return touch is self._touch or self.collide_point(*touch.pos)

    def on_touch_up(self, touch):
        if touch.grab_current is not self:
            return touch is self._touch or self.collide_point(*touch.pos)
        touch.ungrab(self)
        if touch is self._touch:  # not cleared in the meantime
            self._add_point(touch)
            self._touch = None
            self._lines = []
            self.dispatch("on_signature_changed")
        return True

    def _add_point(self, touch) -> None:
        """Append the touch position (clamped inside the box) to the stroke and its Line."""
        inset = self.line_width / 2
        local_x = min(max(touch.x - self.x, inset), self.width - inset)
        local_y = min(max(touch.y - self.y, inset), self.height - inset)
        stroke = self._strokes[-1]
        point = (local_x, self.height - local_y)
        if stroke and math.dist(stroke[-1], point) < dp(MIN_STEP_DP):
            return
        stroke.append(point)
        line = self._lines[-1]
        points = line.points
        if len(points) >= 2 * POINTS_PER_LINE:
            # Continue in a new Line from the last point: round caps hide the seam.
            line = Line(points=points[-2:], width=self.line_width, cap="round", joint="round")
            self._lines.append(line)
            self._ink.add(line)
            points = line.points
        if len(stroke) == 1:
            points = _dot(local_x, local_y)  # a tap shows as a dot, like a pen's
        elif len(stroke) == 2:
            first_x, first_y = stroke[0]
            points = [first_x, self.height - first_y, local_x, local_y]  # the dot becomes a line
        else:
            points = points + [local_x, local_y]
        line.points = points

    # -- drawing ------------------------------------------------------------------------------
    def _place(self, *_):
        self._paper.pos, self._paper.size = self.pos, self.size
        self._border.rectangle = (self.x, self.y, self.width, self.height)
        self._origin.xy = self.pos
        gap = dp(12)
        self._hint.font_name = theme.font_regular
        self._hint.font_size = theme.font_small
        self._hint.text = self.hint
        self._hint.text_size = (max(self.width - 2 * gap, 1), None)
        self._hint.texture_update()
        self._hint.size = self._hint.texture_size
        baseline = self.y + max(self.height * BASELINE_FRACTION, self._hint.height + 2 * gap)
        self._hint.pos = (self.center_x - self._hint.width / 2, baseline - gap - self._hint.height)
        self._baseline.points = [self.x + gap, baseline, self.right - gap, baseline]
        self._mark.font_name = theme.font_bold
        self._mark.font_size = theme.font_title
        self._mark.texture_update()
        self._mark.size = self._mark.texture_size
        self._mark.pos = (self.x + 2 * gap, baseline + dp(4))

    def _rescale_ink(self, *_):
        """Keep the strokes where they were on the box when it changes size (text size A++)."""
        old_w, old_h = self._drawn_size
        self._drawn_size = (self.width, self.height)
        if self._strokes and old_w > 0 and old_h > 0 and (old_w, old_h) != self._drawn_size:
            sx, sy = self.width / old_w, self.height / old_h
            self._strokes = [[(x * sx, y * sy) for x, y in stroke] for stroke in self._strokes]
            self._redraw_ink()

    def _redraw_ink(self, *_):
        self._ink.clear()
        self._lines = []
        for index, stroke in enumerate(self._strokes):
            flat = []
            for x, y in stroke:
                flat += [x, self.height - y]
            if len(stroke) == 1:
                flat = _dot(*flat)
            lines = [Line(points=flat[i : i + 2 * POINTS_PER_LINE + 2], width=self.line_width, cap="round", joint="round")
                     for i in range(0, max(len(flat) - 2, 1), 2 * POINTS_PER_LINE)]
            for line in lines:
                self._ink.add(line)
            if self._touch is not None and index == len(self._strokes) - 1:
                self._lines = lines  # the stroke being drawn goes on in its last Line


def _dot(x: float, y: float) -> list[float]:
    """A Line that shows a dot: a zero-length one shows almost nothing, so give it one pixel
    for its round caps to sit on."""
    return [x - 0.5, y, x + 0.5, y]


def _is_finger_or_left_button(touch) -> bool:
    """A finger, or the left mouse button; not a right/middle click, the wheel, or the red dot
    Kivy's mouse provider leaves for multitouch emulation."""
    if getattr(touch, "multitouch_sim", False):
        return False
    if "button" in touch.profile:
        return touch.button == "left"
    return True
