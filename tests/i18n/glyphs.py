"""Which shown texts have characters their font cannot draw, as readable problem lines."""
from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from kiosk.fonts import FONTS_DIR, fonts_for, missing_glyphs
from tests.i18n.shown_texts import ShownText

MAX_PLACES = 5  # places listed per missing character
# Fonts scripts/build_fonts.py makes: a missing character may only need a rebuild.
BUILT_FONTS = ("NotoSansArabicKiosk-", "NotoSansSCKiosk-")


def _char_name(ch: str) -> str:
    return f"U+{ord(ch):04X} {ch!r} {unicodedata.name(ch, 'unnamed')}"


def coverage_problems(texts: Iterable[ShownText], font_for_language=fonts_for) -> list[str]:
    """One line per (font, missing character): the character, the font, and where it is used."""
    places: dict[tuple[Path, str], list[str]] = defaultdict(list)
    for shown in texts:
        pair = font_for_language(shown.language)
        for font in dict.fromkeys((pair.regular, pair.bold)):
            for ch in sorted(missing_glyphs(shown.text, font)):
                places[(font, ch)].append(f"{shown.where} [{shown.language}]")
    lines = []
    for (font, ch), where in sorted(places.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
        more = f" and {len(where) - MAX_PLACES} more" if len(where) > MAX_PLACES else ""
        hint = (" (if the font's source has it: run .venv/bin/python scripts/build_fonts.py)"
                if font.name.startswith(BUILT_FONTS) else "")
        shown_font = font.relative_to(FONTS_DIR) if font.is_relative_to(FONTS_DIR) else font
        lines.append(f"{_char_name(ch)} missing from {shown_font}{hint}: used in "
                     + "; ".join(where[:MAX_PLACES]) + more)
    return lines
