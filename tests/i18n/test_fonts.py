"""kiosk.fonts: which font draws which language, and the built fonts' metrics and names."""
from __future__ import annotations

import pytest
from fontTools.ttLib import TTFont

from kiosk import fonts


@pytest.mark.parametrize("code, pair", [
    ("en", fonts.LATIN), ("es", fonts.LATIN), ("vi", fonts.LATIN), ("fr", fonts.LATIN),
    ("ar", fonts.ARABIC), ("ar-EG", fonts.ARABIC), ("ar_SA", fonts.ARABIC),
    ("zh", fonts.SIMPLIFIED_CHINESE), ("zh-Hans", fonts.SIMPLIFIED_CHINESE), ("ZH_cn", fonts.SIMPLIFIED_CHINESE),
])
def test_fonts_for_language(code, pair):
    assert fonts.fonts_for(code) == pair
    assert pair.regular.is_file() and pair.bold.is_file()


def test_writing_direction():
    assert fonts.is_rtl("ar") and fonts.is_rtl("ar-EG") and fonts.is_rtl("he")
    assert not any(fonts.is_rtl(code) for code in ("en", "es", "zh", "vi"))
    with pytest.raises(ValueError, match="unknown language code 'xx-nope'"):
        fonts.is_rtl("xx-nope")


@pytest.mark.parametrize("text, pair", [
    ("English", fonts.LATIN), ("Español", fonts.LATIN), ("Tiếng Việt", fonts.LATIN),
    ("中文", fonts.SIMPLIFIED_CHINESE), ("العربية", fonts.ARABIC),
    ("Dr. 王 10:30", fonts.SIMPLIFIED_CHINESE),  # Latin and hanzi: only the Chinese font has both
    ("", fonts.LATIN),
])
def test_font_for_text(text, pair):
    assert fonts.font_for_text(text) == pair


def test_font_for_text_with_no_complete_font_takes_the_closest():
    # Hanzi and Arabic together: no font has both; the Chinese one lacks fewer characters.
    assert fonts.font_for_text("中文中文 ب") == fonts.SIMPLIFIED_CHINESE


def test_a_missing_font_file_says_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="assets/fonts/README.md"):
        fonts.missing_glyphs("a", tmp_path / "nope.ttf")


@pytest.mark.parametrize("path", [fonts.ARABIC.regular, fonts.ARABIC.bold])
def test_arabic_font_line_metrics_cover_every_drawn_glyph(path):
    """SDL2_ttf clips at the ascent/descent: the letters shaped Arabic is drawn with, and
    their vowel marks, must fit (Quranic marks and other languages' letters need not)."""
    font = TTFont(path)
    glyf, cmap = font["glyf"], font.getBestCmap()
    shaped = [*range(0xFE70, 0xFEFF), *range(0x064B, 0x0660), 0x0670]
    drawn = [glyf[cmap[c]] for c in shaped if c in cmap and glyf[cmap[c]].numberOfContours]
    assert len(drawn) > 140
    highest, lowest = max(g.yMax for g in drawn), min(g.yMin for g in drawn)
    hhea, os2 = font["hhea"], font["OS/2"]
    assert hhea.ascent >= highest and hhea.descent <= lowest
    assert (os2.sTypoAscender, os2.sTypoDescender) == (hhea.ascent, hhea.descent)
    assert (os2.usWinAscent, -os2.usWinDescent) == (hhea.ascent, hhea.descent)
    # and at least Noto Sans's own line, so Latin names and digits fit too
    assert hhea.ascent >= 1069 and hhea.descent <= -293


@pytest.mark.parametrize("path, family, style", [
    (fonts.ARABIC.regular, "Noto Sans Arabic Kiosk", "Regular"),
    (fonts.ARABIC.bold, "Noto Sans Arabic Kiosk", "Bold"),
    (fonts.SIMPLIFIED_CHINESE.regular, "Noto Sans SC Kiosk", "Regular"),
    (fonts.SIMPLIFIED_CHINESE.bold, "Noto Sans SC Kiosk", "Bold"),
])
def test_built_fonts_have_their_own_names_and_keep_the_licence(path, family, style):
    name = TTFont(path)["name"]
    assert name.getDebugName(1) == family and name.getDebugName(2) == style
    assert "Open Font License" in name.getDebugName(13)
    assert TTFont(path)["OS/2"].usWeightClass == (700 if style == "Bold" else 400)


def test_arabic_font_keeps_noto_sans_latin_glyphs():
    """Latin letters in the merged font are Noto Sans's own (same advance widths)."""
    latin, merged = TTFont(fonts.LATIN.regular), TTFont(fonts.ARABIC.regular)
    latin_cmap, merged_cmap = latin.getBestCmap(), merged.getBestCmap()
    for ch in "AZaz09@.":
        assert latin["hmtx"][latin_cmap[ord(ch)]] == merged["hmtx"][merged_cmap[ord(ch)]], ch
