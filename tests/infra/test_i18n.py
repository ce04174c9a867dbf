from __future__ import annotations

import datetime as dt
import gc
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

import kiosk.i18n as i18n
from kiosk.i18n import CatalogError, Translator, available_languages, date_field_order


def make_catalog(root: Path, lang: str, messages: dict) -> Path:
    catalog = Catalog(locale=lang, domain="kiosk")
    for msgid, msgstr in messages.items():
        if isinstance(msgstr, tuple):
            # As many forms as this Babel's CLDR data gives the language (Spanish has three
            # in Babel 2.19: one, many, other); the last repeats, as a translator's would.
            msgstr = msgstr + msgstr[-1:] * (catalog.num_plurals - len(msgstr))
        catalog.add(msgid, msgstr)
    path = root / lang / "LC_MESSAGES" / "kiosk.mo"
    path.parent.mkdir(parents=True)
    with path.open("wb") as fh:
        write_mo(fh, catalog)
    return path


@pytest.fixture
def locales(tmp_path: Path) -> Path:
    make_catalog(
        tmp_path,
        "es",
        {
            "Check in": "Registrarse",
            ("{n} form", "{n} forms"): ("{n} formulario", "{n} formularios"),
        },
    )
    return tmp_path


@pytest.fixture
def tr(locales: Path) -> Translator:
    return Translator(("en", "es"), default="en", locales_dir=locales)


def test_switch_language(tr: Translator) -> None:
    assert tr.languages == ("en", "es")
    assert tr.language == "en" and tr.default_language == "en"
    assert tr._("Check in") == "Check in"
    tr.set_language("es")
    assert tr.language == "es"
    assert tr._("Check in") == "Registrarse"
    assert tr.gettext("Not translated") == "Not translated"
    assert tr.gettext("") == ""
    tr.reset()
    assert tr.language == "en"


def test_ngettext(tr: Translator) -> None:
    assert tr.ngettext("{n} form", "{n} forms", 1) == "{n} form"
    assert tr.ngettext("{n} form", "{n} forms", 2) == "{n} forms"
    tr.set_language("es")
    assert tr.ngettext("{n} form", "{n} forms", 1) == "{n} formulario"
    assert tr.ngettext("{n} form", "{n} forms", 3) == "{n} formularios"


def test_unknown_language_rejected(tr: Translator) -> None:
    with pytest.raises(CatalogError, match="'fr' is not offered"):
        tr.set_language("fr")
    assert tr.language == "en"


def test_missing_catalog_names_path(tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as info:
        Translator(("en", "fr"), locales_dir=tmp_path)
    assert str(tmp_path / "fr" / "LC_MESSAGES" / "kiosk.mo") in str(info.value)


def test_english_needs_no_catalog(tmp_path: Path) -> None:
    tr = Translator(("en",), locales_dir=tmp_path)
    assert tr._("Hello") == "Hello"


def test_default_must_be_offered(locales: Path) -> None:
    with pytest.raises(CatalogError, match="default language"):
        Translator(("en",), default="es", locales_dir=locales)


def test_available_languages(locales: Path, tmp_path: Path) -> None:
    assert available_languages(locales) == ("en", "es")
    assert available_languages(tmp_path / "missing") == ("en",)
    assert Translator(locales_dir=locales).languages == ("en", "es")


def test_repo_catalogs_load() -> None:
    tr = Translator()
    assert {"en", "es"} <= set(tr.languages)
    tr.set_language("es")


class Widget:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def on_language(self, code: str) -> None:
        self.seen.append(code)


def test_listeners_called_and_dead_ones_dropped(tr: Translator) -> None:
    widget = Widget()
    seen: list[str] = []

    def func(code: str) -> None:
        seen.append(code)

    doomed = Widget()
    tr.bind(widget.on_language)
    tr.bind(func)
    tr.bind(doomed.on_language)
    assert tr.listener_count() == 3

    del doomed
    gc.collect()
    tr.set_language("es")
    assert widget.seen == ["es"] and seen == ["es"]
    assert tr.listener_count() == 2

    tr.unbind(func)
    tr.set_language("en")
    assert widget.seen == ["es", "en"] and seen == ["es"]
    assert tr.listener_count() == 1


def test_listener_is_held_weakly(tr: Translator) -> None:
    import weakref

    widget = Widget()
    ref = weakref.ref(widget)
    tr.bind(widget.on_language)
    del widget
    gc.collect()
    assert ref() is None  # the translator did not keep it alive
    tr.set_language("es")
    assert tr.listener_count() == 0


def test_failing_listener_does_not_stop_others(tr: Translator) -> None:
    widget = Widget()

    def broken(code: str) -> None:
        raise RuntimeError("listener bug")

    tr.bind(broken)
    tr.bind(widget.on_language)
    with pytest.raises(RuntimeError, match="listener bug"):
        tr.set_language("es")
    assert widget.seen == ["es"] and tr.language == "es"


def test_language_names(tr: Translator) -> None:
    assert tr.language_name("en") == "English"
    assert tr.language_name("es") == "Español"
    assert tr.language_name() == "English"


def test_format_date_and_time(tr: Translator) -> None:
    d = dt.date(2024, 3, 5)
    assert tr.format_date(d) == "March 5, 2024"
    assert tr.format_time(dt.time(14, 30)).replace("\u202f", " ") == "2:30 PM"
    assert tr.format_time(dt.datetime(2024, 3, 5, 9, 5)).replace("\u202f", " ") == "9:05 AM"
    tr.set_language("es")
    assert tr.format_date(d) == "5 de marzo de 2024"
    assert tr.format_time(dt.time(14, 30)).replace("\u202f", " ").replace("\xa0", " ") in (
        "2:30 p.m.",
        "2:30 p. m.",
    )


def test_date_field_order(tr: Translator) -> None:
    assert tr.date_field_order() == ("month", "day", "year")
    tr.set_language("es")
    assert tr.date_field_order() == ("day", "month", "year")
    assert date_field_order("de_DE") == ("day", "month", "year")
    assert date_field_order("ja_JP") == ("year", "month", "day")


def test_month_names(tr: Translator) -> None:
    assert tr.month_name(1) == "January"
    assert tr.month_name(12, "abbreviated") == "Dec"
    tr.set_language("es")
    assert tr.month_name(3) == "Marzo"
    assert len(tr.month_names()) == 12
    with pytest.raises(ValueError):
        tr.month_name(13)


def test_module_translator_reconfigured_in_place(monkeypatch: pytest.MonkeyPatch, locales: Path) -> None:
    monkeypatch.setattr(i18n, "_translator", None)
    first = i18n.get_translator()
    assert i18n.get_translator() is first
    widget = Widget()
    first.bind(widget.on_language)
    again = i18n.init_translator(("en", "es"), default="es", locales_dir=locales)
    assert again is first  # holders of the old reference see the new setup
    assert first.language == "es" and widget.seen == ["es"]
    assert i18n._("Check in") == "Registrarse"
    assert i18n.ngettext("{n} form", "{n} forms", 2) == "{n} formularios"
