"""Every text the kiosk ships can be drawn by the font the kiosk uses for its language.

Kivy's SDL2 labels have one font and no fallback: a character the font lacks shows as a
box. Checked with each language's regular and bold font: every catalog message of every
language in locales/, each language's name on the welcome screen, the bundled forms (all
languages they carry), the consent documents, and every education article under
assets/education/<id>/<lang>.txt that exists (plus the English consent and education texts
in every language's font, since they are shown when a translation is missing). Arabic is
checked as drawn: shaped into presentation forms.
"""
from __future__ import annotations

import unicodedata

import pytest
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen

from kiosk import fonts
from kiosk.i18n import Translator
from tests.i18n.glyphs import coverage_problems
from tests.i18n.shown_texts import (
    ShownText,
    all_shown_texts,
    catalog_texts,
    consent_texts,
    education_texts,
    english_fallbacks,
    form_texts,
)


def _fail_on(problems: list[str], what: str) -> None:
    assert not problems, (
        f"{len(problems)} character(s) in {what} cannot be drawn with the kiosk's font for their "
        "language (use other words, or add the character to the font):\n  " + "\n  ".join(problems)
    )


# -- the shipped texts --------------------------------------------------------------------------

def test_texts_were_found():
    """The collectors see what is there (a moved folder must not make this test pass empty)."""
    languages = {t.language for t in catalog_texts()}
    assert {"en", "es", "zh", "vi", "ar"} <= languages
    assert {t.language for t in form_texts()} >= {"en", "es", "zh", "vi", "ar"}
    assert {t.language for t in consent_texts()} >= {"en", "es"}
    assert {t.language for t in education_texts()} >= {"en"}


def test_every_shown_text_has_its_glyphs():
    _fail_on(coverage_problems(all_shown_texts()), "the kiosk's texts")


@pytest.mark.parametrize("language", sorted(Translator().languages))
def test_english_fallbacks_in_every_languages_font(language):
    fallbacks = [ShownText(language, f"{t.where} (English shown on a {language!r} screen)", t.text)
                 for t in english_fallbacks()]
    _fail_on(coverage_problems(fallbacks), f"English texts shown on {language!r} screens")


def test_each_language_name_is_drawn_in_its_own_font():
    translator = Translator()
    for code in translator.languages:
        name = translator.language_name(code)
        assert fonts.font_for_text(name) == fonts.fonts_for(code), (code, name)
        assert not fonts.missing_glyphs(name, fonts.font_for_text(name).bold), (code, name)


# -- the check itself finds what is missing -------------------------------------------------------

def test_a_character_the_font_lacks_is_reported_with_its_place():
    texts = [ShownText("en", "synthetic.po: msgid 'snow'", "Snow ☃ today"),
             ShownText("zh", "synthetic.json: item x", "\U00020000 和 Ω")]  # Ext. B hanzi: not in GB 2312
    problems = coverage_problems(texts)
    assert any(line.startswith("U+2603 '☃' SNOWMAN missing from NotoSans-Regular.ttf")
               and "synthetic.po: msgid 'snow' [en]" in line for line in problems), problems
    assert any(line.startswith("U+20000") and "NotoSansSCKiosk-Bold.otf" in line
               and "build_fonts.py" in line and "synthetic.json: item x [zh]" in line
               for line in problems), problems
    assert not any("U+548C" in line or "U+03A9" in line for line in problems)  # 和 and Ω are there


def test_the_first_places_are_listed_and_the_rest_counted():
    texts = [ShownText("en", f"file{i}", "☃") for i in range(8)]
    regular, bold = coverage_problems(texts)  # one line per font of the pair
    assert "NotoSans-Bold.ttf" in regular and "NotoSans-Regular.ttf" in bold  # sorted by font
    line = bold
    assert "file0 [en]; file1 [en]; file2 [en]; file3 [en]; file4 [en] and 3 more" in line


def _font_with(tmp_path, characters: str):
    """A tiny TrueType font mapping just these characters (one square glyph each)."""
    names = [".notdef"] + [f"g{ord(c):04X}" for c in characters]
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({ord(c): f"g{ord(c):04X}" for c in characters})
    pen = TTGlyphPen(None)
    pen.moveTo((100, 0)); pen.lineTo((100, 700)); pen.lineTo((500, 700)); pen.lineTo((500, 0)); pen.closePath()
    square = pen.glyph()
    builder.setupGlyf({name: square for name in names})
    builder.setupHorizontalMetrics({name: (600, 100) for name in names})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": "Test", "styleName": "Regular"})
    builder.setupOS2()
    builder.setupPost()
    path = tmp_path / f"test-{len(characters)}-{abs(hash(characters))}.ttf"
    builder.save(str(path))
    return path


def test_arabic_is_checked_as_drawn_shaped(tmp_path):
    """A font with the letter beh (U+0628) but not its joined forms cannot draw 'ببب'."""
    font = _font_with(tmp_path, "\u0628")
    missing = fonts.missing_glyphs("\u0628\u0628\u0628", font)
    assert missing == {"\ufe91", "\ufe92", "\ufe90"}  # initial, medial, final beh
    assert fonts.missing_glyphs("\u0628", _font_with(tmp_path, "\ufe8f")) == set()  # isolated form


def test_layout_whitespace_and_controls_are_not_glyphs(tmp_path):
    font = _font_with(tmp_path, "ab")
    assert fonts.missing_glyphs("a b\n\tb\r\x00", font) == set()
    # A no-break space is drawn as a glyph by SDL2_ttf, so a font without one is reported.
    assert fonts.missing_glyphs("a\u00a0b", font) == {"\u00a0"}


# -- the fonts have what their languages need --------------------------------------------------

VIETNAMESE_BASES = "aăâeêioôơuưyAĂÂEÊIOÔƠUƯY"
VIETNAMESE_TONES = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")


def vietnamese_letters() -> set[str]:
    letters = {unicodedata.normalize("NFC", b + t) for b in VIETNAMESE_BASES for t in VIETNAMESE_TONES}
    return letters | set("đĐ")


def test_every_vietnamese_letter_is_precomposed_and_in_noto_sans():
    letters = vietnamese_letters()
    assert len(letters) == 24 * 6 + 2 and all(len(ch) == 1 for ch in letters)
    for font in (fonts.LATIN.regular, fonts.LATIN.bold):
        assert fonts.missing_glyphs("".join(letters), font) == set(), font.name
    assert fonts.fonts_for("vi") == fonts.LATIN


def test_every_arabic_letter_in_every_joining_position():
    beh, samples = "\u0628", []
    letters = [chr(c) for c in range(0x0621, 0x064B)] + ["\u067e", "\u0686", "\u06a9", "\u06af", "\u06cc"]
    for letter in letters:
        samples += [letter, beh + letter, letter + beh, beh + letter + beh, "\u0644" + letter]
    text = " ".join(samples) + " ٠١٢٣٤٥٦٧٨٩ ، ؛ ؟ «»"
    for font in (fonts.ARABIC.regular, fonts.ARABIC.bold):
        assert fonts.missing_glyphs(text, font) == set(), font.name
        assert fonts.missing_glyphs("Dr. Patel 10:30 AM, 1956, é ñ ü", font) == set()  # Latin too


def gb2312_hanzi() -> set[str]:
    found = set()
    for first in range(0xB0, 0xF8):
        for second in range(0xA1, 0xFF):
            try:
                found.add(bytes((first, second)).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return {c for c in found if "\u4e00" <= c <= "\u9fff"}


def test_the_chinese_font_has_all_gb2312_hanzi_and_latin():
    """ASCII and Latin-1 for names, codes and times. (Noto Sans CJK has only 30 of the 128
    Latin Extended-A letters: a name like 'Dvořák' needs font_for_text on Chinese screens.)"""
    hanzi = gb2312_hanzi()
    assert len(hanzi) == 6763
    latin = "".join(chr(c) for c in [*range(0x21, 0x7F), *range(0xA1, 0x100)])
    for font in (fonts.SIMPLIFIED_CHINESE.regular, fonts.SIMPLIFIED_CHINESE.bold):
        assert fonts.missing_glyphs("".join(hanzi) + latin + "，。、：；？！（）“”…—", font) == set(), font.name


def test_regular_and_bold_have_the_same_characters():
    for pair in (fonts.LATIN, fonts.ARABIC, fonts.SIMPLIFIED_CHINESE):
        assert fonts.font_codepoints(pair.regular) == fonts.font_codepoints(pair.bold), pair
