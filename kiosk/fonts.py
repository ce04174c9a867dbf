"""Which bundled font draws which language, and which characters a font cannot draw.

Pure Python (no Kivy). Kivy's SDL2 text provider takes one font file per label and has no
fallback font: a character missing from that file is drawn as a box. So each language
gets a font that holds all of its letters (built by scripts/build_fonts.py):

* Latin languages (English, Spanish, Vietnamese ...): Noto Sans;
* Arabic: Noto Sans Arabic Kiosk (Noto Sans merged with Noto Sans Arabic, so names and
  digits in Latin letters show too);
* Simplified Chinese: Noto Sans SC Kiosk (the SC face of Noto Sans CJK, subset to GB 2312
  and the kiosk's texts).

Arabic is drawn as presentation forms (arabic-reshaper joins the letters before drawing,
kiosk/widgets/shaping.py), so coverage of Arabic text is checked on its shaped form.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import arabic_reshaper
from babel import Locale, UnknownLocaleError
from fontTools.ttLib import TTFont

FONTS_DIR = Path(__file__).resolve().parent.parent / "assets" / "fonts"


@dataclass(frozen=True)
class FontPair:
    regular: Path
    bold: Path


LATIN = FontPair(FONTS_DIR / "NotoSans-Regular.ttf", FONTS_DIR / "NotoSans-Bold.ttf")
ARABIC = FontPair(FONTS_DIR / "NotoSansArabicKiosk-Regular.ttf", FONTS_DIR / "NotoSansArabicKiosk-Bold.ttf")
SIMPLIFIED_CHINESE = FontPair(FONTS_DIR / "NotoSansSCKiosk-Regular.otf", FONTS_DIR / "NotoSansSCKiosk-Bold.otf")

# Languages whose letters Noto Sans lacks; every other language is drawn with Noto Sans.
_BY_LANGUAGE: dict[str, FontPair] = {"ar": ARABIC, "zh": SIMPLIFIED_CHINESE}
# font_for_text tries these in order and takes the first that has every character.
_CANDIDATES: tuple[FontPair, ...] = (LATIN, SIMPLIFIED_CHINESE, ARABIC)

# The same joining kiosk/widgets/shaping.py draws with (vowel marks kept).
_reshaper = arabic_reshaper.ArabicReshaper(configuration={"delete_harakat": False})
_ARABIC = re.compile("[\u0600-\u08ff\ufb50-\ufdff\ufe70-\ufefc]")
# Characters the layout consumes instead of drawing: line breaks, tabs, ordinary spaces.
# No-break and narrow spaces (U+00A0, U+202F ...) are drawn as glyphs, so they are checked.
_LAYOUT_WHITESPACE = frozenset(" \t\n\r\v\f\u0085\u2028\u2029")


def primary_language(code: str) -> str:
    """'zh' for 'zh', 'zh-Hans', 'zh_CN'."""
    return code.replace("_", "-").split("-")[0].lower()


def fonts_for(language: str) -> FontPair:
    """The regular and bold font for a language code ('ar', 'zh-CN', 'es' ...)."""
    return _BY_LANGUAGE.get(primary_language(language), LATIN)


def is_rtl(language: str) -> bool:
    """Whether the language is written right to left (CLDR's character order, via Babel)."""
    try:
        locale = Locale.parse(primary_language(language))
    except (UnknownLocaleError, ValueError) as exc:
        raise ValueError(f"unknown language code {language!r}: its writing direction is not known") from exc
    return locale.character_order == "right-to-left"


def shaped(text: str) -> str:
    """The characters that are really drawn: Arabic letters joined into presentation forms
    (logical order; reordering for display does not change which characters are drawn)."""
    return _reshaper.reshape(text) if _ARABIC.search(text) else text


def drawn_characters(text: str) -> set[str]:
    """Every character a label showing `text` draws a glyph for."""
    return {
        ch for ch in shaped(text)
        if ch not in _LAYOUT_WHITESPACE and unicodedata.category(ch) != "Cc"
    }


@lru_cache(maxsize=None)
def _codepoints(font_path: str) -> frozenset[int]:
    font = TTFont(font_path, lazy=True, fontNumber=0)
    try:
        return frozenset(font.getBestCmap() or {})
    finally:
        font.close()


def font_codepoints(font_path: Path | str) -> frozenset[int]:
    """The characters a font file maps to glyphs (read once per file)."""
    path = Path(font_path)
    if not path.is_file():
        raise FileNotFoundError(f"font file {path} is missing (see assets/fonts/README.md to rebuild it)")
    return _codepoints(str(path.resolve()))


def missing_glyphs(text: str, font_path: Path | str) -> set[str]:
    """Characters of `text` (after Arabic shaping) the font has no glyph for."""
    have = font_codepoints(font_path)
    return {ch for ch in drawn_characters(text) if ord(ch) not in have}


def font_for_text(text: str) -> FontPair:
    """A font pair that draws all of `text`, e.g. a language's own name ('العربية', '中文')
    on a screen in another language: the first of Noto Sans, Noto Sans SC Kiosk, Noto Sans
    Arabic Kiosk with every character; failing that, the one missing the fewest."""
    missing_counts = []
    for pair in _CANDIDATES:
        missing = len(missing_glyphs(text, pair.regular))
        if not missing:
            return pair
        missing_counts.append(missing)
    return _CANDIDATES[missing_counts.index(min(missing_counts))]
