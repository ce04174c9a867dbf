"""Colour palettes for the kiosk (pure Python, no Kivy).

Two palettes: `STANDARD` (warm, calm, clinical) and `HIGH_CONTRAST`
(black / yellow / white).  Colours are RGBA tuples of floats in 0..1, the form
Kivy's `Color` and `background_color` take.

Every text colour on its background reaches WCAG 2.x AAA contrast (7:1); the
pairs are listed in `TEXT_PAIRS` and checked by the tests.  Non-text parts
that must be seen (focus ring, outlines of inputs and secondary buttons) reach
at least 3:1 against what surrounds them (`NON_TEXT_PAIRS`, WCAG 1.4.11).
"""
from __future__ import annotations

from dataclasses import dataclass, fields

RGBA = tuple[float, float, float, float]

AAA_TEXT = 7.0
NON_TEXT_MIN = 3.0


def hex_rgba(value: str, alpha: float = 1.0) -> RGBA:
    """'#RRGGBB' (or 'RRGGBB') -> (r, g, b, a) floats in 0..1."""
    h = value.strip().lstrip("#")
    if len(h) != 6:
        raise ValueError(f"expected #RRGGBB, found {value!r}")
    r, g, b = (int(h[i : i + 2], 16) / 255.0 for i in (0, 2, 4))
    return (r, g, b, float(alpha))


def rgba_hex(color: RGBA) -> str:
    """(r, g, b, a) -> '#RRGGBB' (alpha ignored)."""
    return "#" + "".join(f"{round(c * 255):02X}" for c in color[:3])


@dataclass(frozen=True)
class Palette:
    name: str
    background: RGBA  # window background
    surface: RGBA  # cards, panels, dialogs
    text: RGBA  # body text on background and surface
    text_muted: RGBA  # secondary text (hints, captions) on background and surface
    primary: RGBA  # main action button background
    on_primary: RGBA  # text on primary
    secondary: RGBA  # secondary button background
    on_secondary: RGBA  # text on secondary
    danger: RGBA  # destructive / "start over" button background
    on_danger: RGBA  # text on danger
    focus: RGBA  # focus ring drawn around the focused control
    outline: RGBA  # borders of inputs and secondary buttons
    input_bg: RGBA  # text input / keypad display background
    input_text: RGBA  # text typed into inputs
    warning_bg: RGBA  # idle warning / offline banner background
    warning_text: RGBA  # text on the warning banner

    def as_dict(self) -> dict[str, RGBA]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "name"}


STANDARD = Palette(
    name="standard",
    background=hex_rgba("#F7F4EE"),  # warm off-white
    surface=hex_rgba("#FFFFFF"),
    text=hex_rgba("#1C1A17"),  # warm near-black
    text_muted=hex_rgba("#4A4540"),
    primary=hex_rgba("#0B3A75"),  # deep blue
    on_primary=hex_rgba("#FFFFFF"),
    secondary=hex_rgba("#DCE6F2"),  # pale blue-grey
    on_secondary=hex_rgba("#0B2A52"),
    danger=hex_rgba("#8E1B1B"),  # deep red
    on_danger=hex_rgba("#FFFFFF"),
    focus=hex_rgba("#C2410C"),  # burnt orange
    outline=hex_rgba("#5C5650"),
    input_bg=hex_rgba("#FFFFFF"),
    input_text=hex_rgba("#1C1A17"),
    warning_bg=hex_rgba("#FBE7B5"),  # soft amber
    warning_text=hex_rgba("#3A2A00"),
)

HIGH_CONTRAST = Palette(
    name="high_contrast",
    background=hex_rgba("#000000"),
    surface=hex_rgba("#000000"),
    text=hex_rgba("#FFFFFF"),
    text_muted=hex_rgba("#FFFF00"),
    primary=hex_rgba("#FFFF00"),
    on_primary=hex_rgba("#000000"),
    secondary=hex_rgba("#000000"),
    on_secondary=hex_rgba("#FFFFFF"),
    danger=hex_rgba("#FFFFFF"),
    on_danger=hex_rgba("#000000"),
    focus=hex_rgba("#00FFFF"),
    outline=hex_rgba("#FFFFFF"),
    input_bg=hex_rgba("#FFFFFF"),
    input_text=hex_rgba("#000000"),
    warning_bg=hex_rgba("#FFFF00"),
    warning_text=hex_rgba("#000000"),
)

PALETTES: dict[str, Palette] = {p.name: p for p in (STANDARD, HIGH_CONTRAST)}

# (text attribute, background attribute): every pair must reach AAA_TEXT.
TEXT_PAIRS: tuple[tuple[str, str], ...] = (
    ("text", "background"),
    ("text", "surface"),
    ("text_muted", "background"),
    ("text_muted", "surface"),
    ("on_primary", "primary"),
    ("on_secondary", "secondary"),
    ("on_danger", "danger"),
    ("input_text", "input_bg"),
    ("warning_text", "warning_bg"),
)

# (element attribute, surrounding attribute): every pair must reach NON_TEXT_MIN.
NON_TEXT_PAIRS: tuple[tuple[str, str], ...] = (
    ("focus", "background"),
    ("focus", "surface"),
    ("outline", "background"),
    ("outline", "surface"),
)


def _linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def relative_luminance(color: RGBA | tuple[float, float, float]) -> float:
    """WCAG 2.x relative luminance of an sRGB colour (alpha ignored)."""
    r, g, b = color[:3]
    return 0.2126 * _linear(r) + 0.7152 * _linear(g) + 0.0722 * _linear(b)


def _over(fg: RGBA, bg: RGBA) -> tuple[float, float, float]:
    """Composite a possibly translucent fg over an opaque bg."""
    a = fg[3] if len(fg) > 3 else 1.0
    return tuple(a * f + (1.0 - a) * b for f, b in zip(fg[:3], bg[:3]))  # type: ignore[return-value]


def contrast_ratio(fg: RGBA, bg: RGBA) -> float:
    """WCAG 2.x contrast ratio (1..21) of fg drawn on bg (bg treated as opaque)."""
    l1 = relative_luminance(_over(fg, bg))
    l2 = relative_luminance(bg)
    hi, lo = max(l1, l2), min(l1, l2)
    return (hi + 0.05) / (lo + 0.05)


def palette_for(high_contrast: bool) -> Palette:
    return HIGH_CONTRAST if high_contrast else STANDARD
