from __future__ import annotations

from dataclasses import fields

import pytest

from kiosk.palette import (
    AAA_TEXT,
    HIGH_CONTRAST,
    NON_TEXT_MIN,
    NON_TEXT_PAIRS,
    PALETTES,
    STANDARD,
    TEXT_PAIRS,
    Palette,
    contrast_ratio,
    hex_rgba,
    palette_for,
    rgba_hex,
)

ALL = [STANDARD, HIGH_CONTRAST]


@pytest.mark.parametrize("palette", ALL, ids=lambda p: p.name)
@pytest.mark.parametrize("fg, bg", TEXT_PAIRS, ids=lambda a: a)
def test_text_pairs_reach_aaa(palette: Palette, fg: str, bg: str) -> None:
    ratio = contrast_ratio(getattr(palette, fg), getattr(palette, bg))
    assert ratio >= AAA_TEXT, f"{palette.name}: {fg} on {bg} is {ratio:.2f}:1"


@pytest.mark.parametrize("palette", ALL, ids=lambda p: p.name)
@pytest.mark.parametrize("fg, bg", NON_TEXT_PAIRS, ids=lambda a: a)
def test_non_text_pairs_reach_3_to_1(palette: Palette, fg: str, bg: str) -> None:
    assert contrast_ratio(getattr(palette, fg), getattr(palette, bg)) >= NON_TEXT_MIN


def test_every_colour_is_in_a_pair() -> None:
    paired = {name for pair in TEXT_PAIRS + NON_TEXT_PAIRS for name in pair}
    colours = {f.name for f in fields(Palette)} - {"name"}
    assert colours == paired


@pytest.mark.parametrize("palette", ALL, ids=lambda p: p.name)
def test_colours_are_opaque_rgba_floats(palette: Palette) -> None:
    for name, colour in palette.as_dict().items():
        assert len(colour) == 4, name
        assert all(0.0 <= c <= 1.0 for c in colour), name
        assert colour[3] == 1.0, name


def test_contrast_ratio_reference_values() -> None:
    black, white = hex_rgba("#000000"), hex_rgba("#FFFFFF")
    assert contrast_ratio(black, white) == pytest.approx(21.0)
    assert contrast_ratio(white, black) == pytest.approx(21.0)
    assert contrast_ratio(white, white) == pytest.approx(1.0)
    # WCAG's own example: #777777 on white is about 4.48:1
    assert contrast_ratio(hex_rgba("#777777"), white) == pytest.approx(4.48, abs=0.01)
    # translucent black over white is lighter than solid black
    assert contrast_ratio((0, 0, 0, 0.5), white) < 21.0


def test_high_contrast_is_black_yellow_white() -> None:
    assert rgba_hex(HIGH_CONTRAST.background) == "#000000"
    assert rgba_hex(HIGH_CONTRAST.primary) == "#FFFF00"
    assert rgba_hex(HIGH_CONTRAST.text) == "#FFFFFF"


def test_lookup_helpers() -> None:
    assert PALETTES == {"standard": STANDARD, "high_contrast": HIGH_CONTRAST}
    assert palette_for(True) is HIGH_CONTRAST and palette_for(False) is STANDARD
    assert rgba_hex(hex_rgba("#0B3A75")) == "#0B3A75"
    with pytest.raises(ValueError):
        hex_rgba("#123")
