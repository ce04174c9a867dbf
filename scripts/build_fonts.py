#!/usr/bin/env python3
"""Build the kiosk's Arabic and Simplified Chinese fonts from Debian's Noto fonts.

    .venv/bin/python scripts/build_fonts.py            # write the fonts to assets/fonts/
    .venv/bin/python scripts/build_fonts.py --check    # exit 1 if assets/fonts/ is not what
                                                       # a build gives now (nothing written)

Why: Kivy draws text with SDL2_ttf, which takes one font file per label and has no fallback
font; the SDL2_ttf in Kivy's wheels (2.22) lays text out with HarfBuzz but sets no script or
direction, so it applies a font's default features (kerning, ligatures, marks) and never
joins Arabic letters (kiosk/widgets/shaping.py does that with arabic-reshaper). So a
screen's font must hold every character that screen shows:

* NotoSansArabicKiosk-{Regular,Bold}.ttf = Noto Sans (first: Latin letters and digits for
  names, times and codes on Arabic screens) merged with Noto Sans Arabic (Arabic letters,
  their presentation forms U+FB50-FDFF / U+FE70-FEFF, which arabic-reshaper turns text
  into, Arabic punctuation and digits). Where both have a character, Noto Sans's glyph is
  kept. fontTools.merge keeps Noto Sans's TrueType hints and drops the Arabic font's (their
  function tables cannot both live in one font); the Arabic glyphs render unhinted.
  Vertical metrics (hhea, OS/2 typo and win) are set to cover the tallest and deepest of
  the glyphs Arabic text is drawn with (the presentation forms arabic-reshaper produces,
  U+FE70-FEFF, and the vowel marks) and Noto Sans's own ascender/descender, so those are
  never clipped (SDL2_ttf cuts glyphs off at the font's ascent and descent). Not every
  glyph of the font: Quranic marks and letters of other languages reach far higher and
  lower, and covering them made every Arabic line half again as tall as an English one.
* NotoSansSCKiosk-{Regular,Bold}.otf = the "Noto Sans CJK SC" face of Debian's Noto Sans
  CJK collection (found by its name table, not by position), subset to: ASCII, Latin-1,
  Latin Extended-A, General Punctuation, CJK Symbols and Punctuation, Halfwidth and
  Fullwidth Forms, every character of GB 2312 (its 6,763 hanzi and its 682 other
  characters, enumerated by decoding every two-byte GB 2312 code with Python's 'gb2312'
  codec), and every character of the kiosk's bundled texts (catalogs, forms, consent
  documents, education articles) that the face has - so the Chinese texts, and the English
  ones shown when a text has no Chinese version, are covered. Layout features: fontTools'
  defaults without 'locl' (so a Japanese or Taiwanese system locale can never switch glyphs
  to other regional forms) and without the vertical ones; vertical metrics (vhea/vmtx/VORG)
  are dropped: the kiosk never sets text vertically.
* Vietnamese needs nothing built: the bundled NotoSans-{Regular,Bold}.ttf have every
  precomposed Vietnamese letter (tests/i18n checks it).

Both outputs get their own family name (name table), as the OFL asks of modified
versions; copyright and licence records are kept. The build is reproducible: the same
sources and texts give the same bytes (timestamps come from the source fonts). After
bundled texts gain characters, run it again (tests/i18n/test_glyph_coverage.py says when).
Sources: Debian packages fonts-noto-core and fonts-noto-cjk (apt-get install them).
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from fontTools import subset
from fontTools.merge import Merger, Options as MergeOptions
from fontTools.ttLib import TTCollection, TTFont

REPO = Path(__file__).resolve().parent.parent
OUT_DIR = REPO / "assets" / "fonts"
NOTO_CORE = Path("/usr/share/fonts/truetype/noto")
NOTO_CJK = Path("/usr/share/fonts/opentype/noto")
STYLES = ("Regular", "Bold")
CJK_SC_FAMILY = "Noto Sans CJK SC"

# Unicode blocks always kept in the Chinese subset (first, last code point).
CJK_SUBSET_BLOCKS = {
    "Basic Latin (printable ASCII)": (0x0020, 0x007E),
    "Latin-1 Supplement": (0x00A0, 0x00FF),
    "Latin Extended-A": (0x0100, 0x017F),
    "General Punctuation": (0x2000, 0x206F),
    "CJK Symbols and Punctuation": (0x3000, 0x303F),
    "Halfwidth and Fullwidth Forms": (0xFF00, 0xFFEF),
}
# 'locl' would let the system locale pick Japanese/Korean/Traditional forms; the rest are
# for vertical text. Dropping them also keeps the glyphs they reach out of the subset.
DROPPED_CJK_FEATURES = {"locl", "valt", "vchw", "vert", "vhal", "vjmo", "vkrn", "vpal", "vrt2"}
GB2312_HANZI = 6763  # GB 2312-80: 3,755 level-1 + 3,008 level-2 characters

# Texts the kiosk ships; those a Chinese screen can show (Chinese, and English where a
# text has no Chinese version) add their characters to the Chinese subset.
CATALOG = "locales/{lang}/LC_MESSAGES/kiosk.po"
JSON_TEXT_GLOBS = ("kiosk/forms/instruments/*.json", "kiosk/consent/documents/*.json")
EDUCATION_GLOB = "assets/education/*/*.txt"
TRANSLATION_EXTENSION = "http://hl7.org/fhir/StructureDefinition/translation"
CHINESE_SCREEN_LANGUAGES = ("zh", "en")  # en: the fallback of every bundled text


class BuildError(RuntimeError):
    """A source font is missing or not what this script expects."""


@dataclass(frozen=True)
class Built:
    name: str
    data: bytes
    glyphs: int
    characters: int


# -- helpers ------------------------------------------------------------------------------

def _need(path: Path) -> Path:
    if not path.is_file():
        package = "fonts-noto-cjk" if "CJK" in path.name else "fonts-noto-core"
        raise BuildError(f"missing source font {path}: install it with `apt-get install {package}`")
    return path


def _save(font: TTFont) -> bytes:
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue()


def _keep_source_timestamps(font: TTFont, sources: Iterable[TTFont]) -> None:
    """Same sources, same bytes: no build-time clock in the head table."""
    heads = [s["head"] for s in sources]
    font["head"].created = min(h.created for h in heads)
    font["head"].modified = max(h.modified for h in heads)
    font.recalcTimestamp = False


def _rename(font: TTFont, family: str, style: str, version_note: str, copyright_: str) -> None:
    """Own family name for a modified font (OFL), Windows and Mac English records."""
    ps_name = family.replace(" ", "") + "-" + style
    version = font["name"].getDebugName(5) or ""
    version = version.split(";")[0] + f"; {version_note}"
    records = {
        0: copyright_,
        1: family,
        2: style,
        3: f"{ps_name};{version}",
        4: f"{family} {style}",
        5: version,
        6: ps_name,
    }
    table = font["name"]
    # Typographic family/subfamily and the source's own unique names would contradict ours.
    table.names = [n for n in table.names if n.nameID not in (*records, 16, 17, 18, 21, 22)]
    for name_id, value in records.items():
        table.setName(value, name_id, 3, 1, 0x409)
        table.setName(value, name_id, 1, 0, 0)
    if "CFF " in font:  # the CFF table carries the PostScript names too
        cff = font["CFF "].cff
        cff.fontNames = [ps_name]
        top = cff.topDictIndex[0]
        for key, value in (("FullName", f"{family} {style}"), ("FamilyName", family)):
            if hasattr(top, key):
                setattr(top, key, value)
        if hasattr(top, "CIDFontName"):
            top.CIDFontName = ps_name


# What Arabic text is drawn with after shaping: the presentation forms and the vowel marks.
DRAWN_ARABIC = [*range(0xFE70, 0xFEFF), *range(0x064B, 0x0660), 0x0670]


def _cover_vertical_extent(font: TTFont, sources: Iterable[TTFont]) -> tuple[int, int]:
    """Ascender/descender covering the drawn Arabic glyphs and the given fonts' own line metrics."""
    glyf, cmap = font["glyf"], font.getBestCmap()
    drawn = [glyf[cmap[c]] for c in DRAWN_ARABIC if c in cmap]
    y_max = max(g.yMax for g in drawn if g.numberOfContours)
    y_min = min(g.yMin for g in drawn if g.numberOfContours)
    ascender = max([y_max, *(s["hhea"].ascent for s in sources)])
    descender = min([y_min, *(s["hhea"].descent for s in sources)])
    hhea, os2 = font["hhea"], font["OS/2"]
    hhea.ascent, hhea.descent, hhea.lineGap = ascender, descender, 0
    os2.sTypoAscender, os2.sTypoDescender, os2.sTypoLineGap = ascender, descender, 0
    os2.usWinAscent, os2.usWinDescent = ascender, -descender
    return ascender, descender


# -- Arabic -------------------------------------------------------------------------------

def build_arabic(style: str) -> Built:
    latin_path = _need(NOTO_CORE / f"NotoSans-{style}.ttf")
    arabic_path = _need(NOTO_CORE / f"NotoSansArabic-{style}.ttf")
    sources = [TTFont(latin_path), TTFont(arabic_path)]
    for src in sources:
        if src["head"].unitsPerEm != 1000 or "glyf" not in src:
            raise BuildError(f"{src.reader.file.name}: expected a 1000-unit TrueType font")
    # DSIG would be a wrong signature after any change.
    merger = Merger(options=MergeOptions(drop_tables=["DSIG"]))
    font = merger.merge([str(latin_path), str(arabic_path)])
    font = TTFont(io.BytesIO(_save(font)))  # a plain, fully loaded font to finish off
    _cover_vertical_extent(font, sources[:1])  # Noto Sans (Latin) keeps its own line box
    copyright_ = "; ".join(s["name"].getDebugName(0) for s in sources)
    versions = " + ".join(
        f"{s['name'].getDebugName(4)} {s['name'].getDebugName(5).split(';')[0].replace('Version ', '')}"
        for s in sources
    )
    _rename(font, "Noto Sans Arabic Kiosk", style, f"kiosk build of {versions}", copyright_)
    _keep_source_timestamps(font, sources)
    cmap = font.getBestCmap()
    return Built(f"NotoSansArabicKiosk-{style}.ttf", _save(font), len(font.getGlyphOrder()), len(cmap))


# -- Simplified Chinese -------------------------------------------------------------------

def gb2312_characters() -> set[str]:
    """Every character GB 2312 encodes (decoding each two-byte code; gaps are skipped)."""
    found: set[str] = set()
    for first in range(0xA1, 0xFF):
        for second in range(0xA1, 0xFF):
            try:
                found.add(bytes((first, second)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return found


def gb2312_hanzi() -> set[str]:
    hanzi = {c for c in gb2312_characters() if 0x4E00 <= ord(c) <= 0x9FFF}
    if len(hanzi) != GB2312_HANZI:
        raise BuildError(f"Python's gb2312 codec gave {len(hanzi)} hanzi, expected {GB2312_HANZI}")
    return hanzi


def _shown_language(code: object, languages: tuple[str, ...]) -> bool:
    return isinstance(code, str) and code.replace("_", "-").split("-")[0].lower() in languages


def _json_strings(node: object, languages: tuple[str, ...]) -> Iterable[str]:
    """Strings of a form or consent document, leaving out other languages' translations:
    FHIR translation extensions in another language, and {"en": ..., "es": ...} maps'
    other entries."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, list):
        for value in node:
            yield from _json_strings(value, languages)
    elif isinstance(node, dict):
        if node.get("url") == TRANSLATION_EXTENSION:
            parts = {e.get("url"): e for e in node.get("extension") or [] if isinstance(e, dict)}
            if _shown_language((parts.get("lang") or {}).get("valueCode"), languages):
                yield str((parts.get("content") or {}).get("valueString") or "")
            return
        language_map = node and all(
            isinstance(k, str) and 2 <= len(k.split("-")[0]) <= 3 and k.split("-")[0].islower()
            and k.split("-")[0].isalpha() and isinstance(v, str) for k, v in node.items())
        for key, value in node.items():
            if language_map and not _shown_language(key, languages):
                continue
            yield from _json_strings(value, languages)


def bundled_text_characters(repo: Path = REPO, languages: tuple[str, ...] = CHINESE_SCREEN_LANGUAGES) -> set[str]:
    """Characters of every bundled text in `languages`: catalogs (msgids are English),
    forms, consent documents and education articles."""
    texts: list[str] = []
    for lang in languages:
        catalog = repo / CATALOG.format(lang=lang)
        if catalog.is_file():
            texts.append(catalog.read_text(encoding="utf-8"))
    for pattern in JSON_TEXT_GLOBS:
        for path in sorted(repo.glob(pattern)):
            texts.extend(_json_strings(json.loads(path.read_text(encoding="utf-8")), languages))
    for path in sorted(repo.glob(EDUCATION_GLOB)):
        if _shown_language(path.stem, languages):
            texts.append(path.read_text(encoding="utf-8"))
    return {c for text in texts for c in text if c.isprintable() or c == "\u00a0"}


def cjk_sc_face(collection: Path) -> int:
    """Index of the 'Noto Sans CJK SC' face in a Noto CJK collection, by its name table."""
    faces = TTCollection(str(_need(collection)), lazy=True)
    for index, face in enumerate(faces.fonts):
        family = face["name"].getDebugName(16) or face["name"].getDebugName(1)
        if family == CJK_SC_FAMILY:
            return index
    names = [f["name"].getDebugName(1) for f in faces.fonts]
    raise BuildError(f"{collection}: no {CJK_SC_FAMILY!r} face among {names}")


def chinese_subset_characters(repo: Path = REPO) -> set[int]:
    wanted = {cp for first, last in CJK_SUBSET_BLOCKS.values() for cp in range(first, last + 1)}
    wanted |= {ord(c) for c in gb2312_characters() | gb2312_hanzi()}
    wanted |= {ord(c) for c in bundled_text_characters(repo)}
    return wanted


def build_chinese(style: str, repo: Path = REPO) -> Built:
    collection = NOTO_CJK / f"NotoSansCJK-{style}.ttc"
    index = cjk_sc_face(collection)
    source = TTFont(str(collection), fontNumber=index)
    has = set(source.getBestCmap())
    unicodes = sorted(chinese_subset_characters(repo) & has)
    missing_hanzi = sorted(c for c in gb2312_hanzi() if ord(c) not in has)
    if missing_hanzi:
        raise BuildError(f"{CJK_SC_FAMILY} {style} lacks GB 2312 hanzi: {''.join(missing_hanzi[:20])}")

    options = subset.Options()
    options.layout_features = [f for f in options.layout_features if f not in DROPPED_CJK_FEATURES]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True  # a missing character shows as a box, not as nothing
    options.glyph_names = False
    options.drop_tables += ["vhea", "vmtx", "VORG", "DSIG"]
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(unicodes=unicodes)
    font = TTFont(str(collection), fontNumber=index)
    subsetter.subset(font)
    _rename(
        font,
        "Noto Sans SC Kiosk",
        style,
        f"kiosk subset of {CJK_SC_FAMILY} {style} (Debian fonts-noto-cjk)",
        source["name"].getDebugName(0),
    )
    _keep_source_timestamps(font, [source])
    return Built(f"NotoSansSCKiosk-{style}.otf", _save(font), len(font.getGlyphOrder()), len(unicodes))


# -- command line -------------------------------------------------------------------------

def build_all(repo: Path = REPO) -> list[Built]:
    return [build_arabic(s) for s in STYLES] + [build_chinese(s, repo) for s in STYLES]


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with assets/fonts/ instead of writing; exit 1 if different")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder (default: assets/fonts)")
    args = parser.parse_args(argv)
    try:
        fonts = build_all()
    except BuildError as exc:
        print(f"build_fonts: {exc}", file=sys.stderr)
        return 2
    stale = []
    for font in fonts:
        path = args.out / font.name
        line = (f"{font.name}: {len(font.data):,} bytes, {font.glyphs:,} glyphs, "
                f"{font.characters:,} characters, sha256 {_digest(font.data)}")
        if args.check:
            same = path.is_file() and path.read_bytes() == font.data
            print(("ok    " if same else "STALE ") + line)
            if not same:
                stale.append(font.name)
        else:
            args.out.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=args.out, delete=False) as tmp:
                tmp.write(font.data)
            Path(tmp.name).chmod(0o644)
            Path(tmp.name).replace(path)
            print(line)
    if stale:
        print(f"build_fonts: {', '.join(stale)} out of date: run `.venv/bin/python scripts/build_fonts.py`",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
