"""Every text the kiosk ships, with the language it is shown in and where it comes from.

Used by the glyph coverage test: catalogs (what a label shows: the translation, or the
msgid where there is none), the language names on the welcome screen, what Babel formats
(month names, times, amounts), the bundled forms,
the consent documents, whatever education articles exist under assets/education/ and the
letters of the typed-answer keyboards.
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.pofile import read_po
from babel.numbers import format_currency

from kiosk.config import DEFAULT_LANGUAGES
from kiosk.consent.documents import DOCUMENTS_DIR, load_default_documents
from kiosk.forms.selection import INSTRUMENTS_DIR
from kiosk.forms.translations import TRANSLATION
from kiosk.i18n import DEFAULT_LOCALES_DIR, DOMAIN, SOURCE_LANGUAGE, Translator
from kiosk.widgets.keyboard import LAYOUTS, SWITCH_CAPTIONS, text_layouts

REPO = Path(__file__).resolve().parents[2]
EDUCATION_DIR = REPO / "assets" / "education"
# FHIR Questionnaire fields a patient reads (item text, prefix, answer displays, title).
FORM_TEXT_KEYS = ("title", "text", "prefix", "display", "valueString")


@dataclass(frozen=True)
class ShownText:
    language: str  # the screen's language: it picks the font
    where: str  # file and message/field, for the failure message
    text: str


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)


def catalog_texts(locales_dir: Path = DEFAULT_LOCALES_DIR) -> Iterator[ShownText]:
    for po in sorted(Path(locales_dir).glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        language = po.parent.parent.name
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=language)
        for message in catalog:
            if not message.id:
                continue
            ids = [message.id] if isinstance(message.id, str) else list(message.id)
            strings = [message.string] if isinstance(message.string, str) else list(message.string or [])
            shown = [s for s in strings if s] or ids  # no translation: the msgid is shown
            for text in shown:
                yield ShownText(language, f"{_rel(po)}: msgid {ids[0]!r}", text)


def language_names(locales_dir: Path = DEFAULT_LOCALES_DIR) -> Iterator[ShownText]:
    """Each language's own name as the welcome screen shows it (drawn in its own font)."""
    translator = Translator(locales_dir=locales_dir)
    for code in translator.languages:
        yield ShownText(code, f"language name of {code!r} (Translator.language_name)",
                        translator.language_name(code))


def locale_formatted_texts(locales_dir: Path = DEFAULT_LOCALES_DIR) -> Iterator[ShownText]:
    """What Babel writes on screens in each language: month names (birth date entry),
    appointment times (confirm screen), the copay amount, the staff screen's date-times."""
    translator = Translator(locales_dir=locales_dir)
    for code in translator.languages:
        translator.set_language(code)
        where = f"Babel formatting for {code!r}"
        yield ShownText(code, f"{where}: month names", " ".join(translator.month_names()))
        for hour, minute in ((9, 5), (14, 30), (0, 0)):
            yield ShownText(code, f"{where}: time", translator.format_time(dt.time(hour, minute)))
        yield ShownText(code, f"{where}: date-time",
                        translator.format_datetime(dt.datetime(2026, 12, 31, 23, 59)))
        yield ShownText(code, f"{where}: copay", format_currency(1234.5, "USD", locale=translator.locale))


def _form_texts(node: object, base_language: str, where: str) -> Iterator[ShownText]:
    if isinstance(node, list):
        for value in node:
            yield from _form_texts(value, base_language, where)
        return
    if not isinstance(node, dict):
        return
    link_id = node.get("linkId")
    if isinstance(link_id, str):
        where = f"{where.split(' item ')[0]} item {link_id}"
    for key, value in node.items():
        if key in FORM_TEXT_KEYS and isinstance(value, str):
            yield ShownText(base_language, f"{where}: {key}", value)
        elif key.startswith("_") and key[1:] in FORM_TEXT_KEYS and isinstance(value, dict):
            for ext in value.get("extension") or []:
                if ext.get("url") != TRANSLATION:
                    continue
                parts = {e.get("url"): e for e in ext.get("extension") or []}
                lang = (parts.get("lang") or {}).get("valueCode")
                content = (parts.get("content") or {}).get("valueString")
                if isinstance(lang, str) and isinstance(content, str):
                    yield ShownText(lang.split("-")[0], f"{where}: {key[1:]} ({lang})", content)
        else:
            yield from _form_texts(value, base_language, where)


def form_texts(directory: Path = INSTRUMENTS_DIR) -> Iterator[ShownText]:
    for path in sorted(directory.glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("resourceType") != "Questionnaire":
            continue  # policy.json
        yield from _form_texts(raw, raw.get("language") or SOURCE_LANGUAGE, _rel(path))


def consent_texts(directory: Path = DOCUMENTS_DIR) -> Iterator[ShownText]:
    for document in load_default_documents(directory):
        for language in document.languages:
            where = f"{_rel(directory)}/{document.id}.json ({language})"
            yield ShownText(language, f"{where}: title", document.title[language])
            yield ShownText(language, f"{where}: body", document.body[language])


def education_texts(directory: Path = EDUCATION_DIR) -> Iterator[ShownText]:
    """assets/education/<id>/<lang>.txt, whatever exists now."""
    for path in sorted(directory.glob("*/*.txt")):
        yield ShownText(path.stem, _rel(path), path.read_text(encoding="utf-8"))


def keyboard_texts() -> Iterator[ShownText]:
    """The letters of each language's typed-answer keyboard and its switch key's caption."""
    for language in DEFAULT_LANGUAGES:
        for layout in filter(None, text_layouts(language)):
            where = f"kiosk/widgets/keyboard.py: layout {layout!r}"
            yield ShownText(language, where, " ".join(LAYOUTS[layout]))
            yield ShownText(language, where + " switch key", SWITCH_CAPTIONS[layout])


def all_shown_texts() -> list[ShownText]:
    return [*catalog_texts(), *language_names(), *locale_formatted_texts(), *form_texts(), *consent_texts(),
            *education_texts(), *keyboard_texts()]


def english_fallbacks() -> list[ShownText]:
    """English consent and education texts: shown, in the screen's font, to a patient whose
    language has no version of them."""
    return [t for t in (*consent_texts(), *education_texts()) if t.language == SOURCE_LANGUAGE]
