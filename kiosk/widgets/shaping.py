"""Arabic shaping and right-to-left order for Kivy's SDL2 labels.

SDL2_ttf draws one glyph per code point, left to right: Arabic letters would come out
unjoined and backwards. Kivy's Pango provider would fix that but is not in the pip
wheels, so this core label does the two missing steps itself:

- measuring (`get_extents`) uses the shaped text (arabic-reshaper's presentation forms),
  so Kivy wraps lines at the widths that will really be drawn;
- drawing (`_render_text`, called once per wrapped line) reorders that line with the
  Unicode bidirectional algorithm (python-bidi) in the paragraph's base direction.

Reordering per wrapped line, not per paragraph, is what keeps the first line on top.
Text without right-to-left characters takes the stock path untouched.
"""
from __future__ import annotations

import re
from functools import lru_cache

from bidi.algorithm import get_display
from kivy.core.text import Label as StockCoreLabel
from kivy.core.text.markup import MarkupLabel as StockMarkupLabel

from kiosk import fonts

# Hebrew, Arabic (with supplements, extended and presentation forms), Syriac, Thaana, NKo.
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
_MARKUP_TAG = re.compile(r"\[/?[a-z_]+(=[^\]]*)?\]")


def has_rtl(text: str) -> bool:
    return bool(_RTL.search(text))


def base_direction(text: str) -> str:
    """'rtl' or 'ltr' from the first strongly directional letter (Unicode rule P2)."""
    for char in text:
        if _RTL.match(char):
            return "rtl"
        if char.isalpha():
            return "ltr"
    return "ltr"


# Joined Arabic letter forms, still in logical (reading) order: the same shaping the glyph
# check (kiosk.fonts) measures, cached because Kivy measures every word of every line.
shape = lru_cache(maxsize=4096)(fonts.shaped)


@lru_cache(maxsize=4096)
def visual_line(text: str, direction: str) -> str:
    """One wrapped line, shaped and put in drawing (left-to-right) order."""
    if not has_rtl(text):
        return text
    return get_display(shape(text), base_dir="R" if direction == "rtl" else "L")


class ShapingCoreLabel(StockCoreLabel):
    def get_extents(self, text):
        return super().get_extents(shape(text))

    def get_cached_extents(self):
        return self.get_extents

    @staticmethod
    def find_base_direction(text):
        # Lets halign "auto" right-align right-to-left paragraphs (Kivy asks this).
        return base_direction(text)

    def _render_text(self, text, x, y):
        super()._render_text(visual_line(text, base_direction(self.text)), x, y)


class ShapingMarkupLabel(StockMarkupLabel):
    """The same for labels with markup (the reader's highlighted sentence).

    A markup line is drawn in pieces (one per style run), left to right. For a
    right-to-left paragraph each piece is reordered on its own and the pieces are put
    back mirrored within their line, so the first piece read is the rightmost."""

    def get_extents(self, text):
        return super().get_extents(shape(text))

    def get_cached_extents(self):
        return self.get_extents

    def render_lines(self, lines, options, render_text, y, size):
        direction = base_direction(_MARKUP_TAG.sub("", self.text))
        if direction != "rtl":
            return super().render_lines(lines, options, render_text, y, size)
        pieces = []  # (text, x, y, options) as the stock layout would draw them
        end = super().render_lines(lines, options, lambda t, px, py: pieces.append((t, px, py, self.options)), y, size)
        by_line: dict[float, list] = {}
        for piece in pieces:
            by_line.setdefault(piece[2], []).append(piece)
        for line in by_line.values():
            widths = []
            for text, _x, _y, piece_options in line:
                self.options = piece_options
                widths.append(self.get_extents(text)[0])
            left = min(p[1] for p in line)
            right = max(p[1] + w for p, w in zip(line, widths))
            for (text, px, py, piece_options), width in zip(line, widths):
                self.options = piece_options
                render_text(visual_line(text, "rtl"), left + right - px - width, py)
        return end


def install() -> None:
    """Make every plain Kivy Label (and so every widget built on one) use this label.

    Kivy's Label looks its core label class up in its module at render time, so this
    must run before the first label is drawn (kiosk.widgets.load_rules does it)."""
    import kivy.uix.label as label_module

    label_module.CoreLabel = ShapingCoreLabel
    label_module.CoreMarkupLabel = ShapingMarkupLabel
