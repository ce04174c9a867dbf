"""Sizes, colours, text scale and high-contrast mode, as Kivy properties kv rules bind to.

Colours come from `kiosk.palette` (pure, contrast-checked); this module only makes them
observable. Changing `scale` or `high_contrast` re-styles every bound widget at once.
"""
from __future__ import annotations

from pathlib import Path

from kivy.event import EventDispatcher
from kivy.metrics import dp, sp
from kivy.properties import BooleanProperty, ColorProperty, NumericProperty, StringProperty

from kiosk import fonts, palette

FONTS = Path(__file__).resolve().parent.parent / "assets" / "fonts"
TEXT_STEPS = (1.0, 1.5, 2.0)  # "A", "A+", "A++": the largest doubles every text size
MIN_TOUCH_DP = 48  # WCAG 2.5.5 / Material minimum; our buttons are larger still
CHROME_SCALE_CAP = 1.25  # the top bar grows less, so it never crowds out the content


def _property_name(palette_name: str) -> str:
    return palette_name[3:] + "_text" if palette_name.startswith("on_") else palette_name


class Theme(EventDispatcher):
    scale = NumericProperty(1.0)
    high_contrast = BooleanProperty(False)

    font_regular = StringProperty(str(FONTS / "NotoSans-Regular.ttf"))
    font_bold = StringProperty(str(FONTS / "NotoSans-Bold.ttf"))
    # Right-to-left language (Arabic): rows mirror (MirrorBoxLayout) and lines of text
    # start at the right; `start` is the halign for text that would be "left" in English.
    rtl = BooleanProperty(False)
    start = StringProperty("left")
    end = StringProperty("right")

    font_title = NumericProperty(0)
    font_body = NumericProperty(0)
    font_button = NumericProperty(0)
    font_small = NumericProperty(0)
    font_key = NumericProperty(0)
    font_chrome = NumericProperty(0)
    font_entry = NumericProperty(0)

    touch = NumericProperty(dp(64))  # default button height
    key = NumericProperty(dp(64))  # on-screen keyboard key height
    chrome = NumericProperty(dp(64))  # top bar height
    gap = NumericProperty(dp(16))
    pad = NumericProperty(dp(24))

    # One colour property per palette entry (background, text, primary, ...). Kivy would take
    # a property named "on_primary" for an event handler, so "on_X" becomes "X_text" here.
    for _name in palette.STANDARD.as_dict():
        locals()[_property_name(_name)] = ColorProperty((0, 0, 0, 1))
    del _name

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.fbind("scale", self._resize)
        self.fbind("high_contrast", self._recolour)
        self._resize()
        self._recolour()

    @property
    def palette(self) -> palette.Palette:
        return palette.HIGH_CONTRAST if self.high_contrast else palette.STANDARD

    def set_text_step(self, index: int) -> None:
        self.scale = TEXT_STEPS[index]

    def set_language(self, code: str) -> None:
        """The fonts that have the language's letters, and its writing direction."""
        pair = fonts.fonts_for(code)
        self.font_regular, self.font_bold = str(pair.regular), str(pair.bold)
        self.rtl = fonts.is_rtl(code)
        self.start, self.end = ("right", "left") if self.rtl else ("left", "right")

    def reset(self) -> None:
        """Back to defaults for the next patient."""
        self.scale = TEXT_STEPS[0]
        self.high_contrast = False

    def _resize(self, *_):
        s = self.scale
        self.font_title = sp(30) * s
        self.font_body = sp(24) * s
        self.font_button = sp(24) * s
        self.font_small = sp(20) * s
        self.font_entry = sp(32) * min(s, 1.5)
        # Keys carry one character: they grow less, so the keyboard always fits.
        self.font_key = sp(26) * min(s, 1.4)
        # Keys stay 60 dp high (their letters still grow): five rows of taller keys left no
        # room for the question above a keyboard at the largest text.
        self.key = dp(60)
        chrome = min(s, CHROME_SCALE_CAP)
        self.font_chrome = sp(18) * chrome
        self.chrome = dp(68) * chrome
        self.touch = max(dp(64), sp(24) * s * 1.9)

    def _recolour(self, *_):
        for name, colour in self.palette.as_dict().items():
            setattr(self, _property_name(name), colour)


theme = Theme()
