"""Translations and locale formatting (pure Python, no Kivy).

Catalogs are gettext `.mo` files at ``locales/<lang>/LC_MESSAGES/kiosk.mo``
(built from the `.po` files by ``scripts/i18n.sh`` or ``scripts/setup.sh``).
English is the source language: with no English catalog, message ids are shown
as they are.  A missing catalog for any other configured language is an error.

`Translator` holds the current language and tells its listeners after every
switch; Kivy code wraps it (kiosk/widgets/tr.py) so kv rules re-render.
Listeners are held weakly: a listener whose owner is gone is dropped.
"""
from __future__ import annotations

import datetime as _dt
import gettext as _gettext
import inspect
import logging
import weakref
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel import dates as _dates

log = logging.getLogger(__name__)

DOMAIN = "kiosk"
SOURCE_LANGUAGE = "en"
# The repo's locales/ folder (the package is installed editable, see pyproject).
DEFAULT_LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
# Language code -> Babel locale used for dates, times and numbers.
BABEL_LOCALES: dict[str, str] = {"en": "en_US", "es": "es_US", "zh": "zh_Hans_CN", "vi": "vi_VN", "ar": "ar"}


class CatalogError(RuntimeError):
    """A configured language has no compiled catalog, or a language is unknown."""


def catalog_path(code: str, locales_dir: Path = DEFAULT_LOCALES_DIR) -> Path:
    return Path(locales_dir) / code / "LC_MESSAGES" / f"{DOMAIN}.mo"


def available_languages(locales_dir: Path = DEFAULT_LOCALES_DIR) -> tuple[str, ...]:
    """Codes that have a compiled catalog, plus the source language; sorted, source first."""
    found = {SOURCE_LANGUAGE}
    root = Path(locales_dir)
    if root.is_dir():
        for child in root.iterdir():
            if child.is_dir() and catalog_path(child.name, root).is_file():
                found.add(child.name)
    return tuple(sorted(found, key=lambda c: (c != SOURCE_LANGUAGE, c)))


def babel_locale(code: str) -> Locale:
    name = BABEL_LOCALES.get(code, code)
    try:
        return Locale.parse(name)
    except (UnknownLocaleError, ValueError) as exc:
        raise CatalogError(f"unknown language code {code!r} (no Babel locale {name!r})") from exc


def _load_catalog(code: str, locales_dir: Path) -> _gettext.NullTranslations:
    path = catalog_path(code, locales_dir)
    if path.is_file():
        with path.open("rb") as fh:
            return _gettext.GNUTranslations(fh)
    if code == SOURCE_LANGUAGE:
        return _gettext.NullTranslations()
    raise CatalogError(
        f"no compiled catalog for language {code!r}: expected {path} "
        f"(run scripts/i18n.sh, or remove {code!r} from 'languages' in the config)"
    )


Listener = Callable[[str], object]


class Translator:
    """Current language, its gettext catalog and its Babel locale.

    `languages` are the codes this kiosk offers (default: every catalog found in
    `locales_dir`).  Listeners registered with `bind(callback)` are called as
    ``callback(new_code)`` after every language switch.
    """

    def __init__(
        self,
        languages: Sequence[str] | None = None,
        default: str = SOURCE_LANGUAGE,
        locales_dir: Path | str = DEFAULT_LOCALES_DIR,
    ) -> None:
        self._listeners: list[weakref.ref] = []
        self._setup(languages, default, locales_dir)

    def _setup(
        self, languages: Sequence[str] | None, default: str, locales_dir: Path | str
    ) -> None:
        locales_dir = Path(locales_dir)
        codes = tuple(languages) if languages is not None else available_languages(locales_dir)
        if not codes:
            raise CatalogError("no languages configured")
        if len(set(codes)) != len(codes):
            raise CatalogError(f"duplicate language codes in {list(codes)}")
        catalogs: dict[str, _gettext.NullTranslations] = {}
        locales: dict[str, Locale] = {}
        for code in codes:
            catalogs[code] = _load_catalog(code, locales_dir)
            locales[code] = babel_locale(code)
        if default not in catalogs:
            raise CatalogError(f"default language {default!r} is not one of {list(codes)}")
        self.locales_dir = locales_dir
        self._catalogs = catalogs
        self._locales = locales
        self._languages = codes
        self._default = default
        self._language = default

    def reconfigure(
        self,
        languages: Sequence[str] | None = None,
        default: str = SOURCE_LANGUAGE,
        locales_dir: Path | str = DEFAULT_LOCALES_DIR,
    ) -> None:
        """Load other languages in place (listeners kept, then told), e.g. from the config."""
        self._setup(languages, default, locales_dir)
        self._notify()

    # -- language ---------------------------------------------------------------------
    @property
    def languages(self) -> tuple[str, ...]:
        return self._languages

    @property
    def default_language(self) -> str:
        return self._default

    @property
    def language(self) -> str:
        return self._language

    @property
    def locale(self) -> Locale:
        return self._locales[self._language]

    def set_language(self, code: str) -> None:
        """Switch language and call every live listener (even if `code` is current)."""
        if code not in self._catalogs:
            raise CatalogError(f"language {code!r} is not offered; offered: {list(self._languages)}")
        self._language = code
        self._notify()

    def reset(self) -> None:
        """Back to the default language (end of a patient session)."""
        self.set_language(self._default)

    # -- messages ---------------------------------------------------------------------
    def gettext(self, msgid: str) -> str:
        if not msgid:
            return ""  # gettext("") would return the catalog header
        return self._catalogs[self._language].gettext(msgid)

    _ = gettext

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._catalogs[self._language].ngettext(singular, plural, n)

    def pgettext(self, context: str, msgid: str) -> str:
        return self._catalogs[self._language].pgettext(context, msgid)

    # -- locale formatting -------------------------------------------------------------
    def language_name(self, code: str | None = None) -> str:
        """The language's own name, capitalised: 'English', 'Español'."""
        code = code or self._language
        loc = self._locales.get(code) or babel_locale(code)
        name = Locale.parse(loc.language).get_display_name(loc.language) or code
        return name[:1].upper() + name[1:]

    def format_date(self, d: _dt.date, format: str = "long") -> str:  # noqa: A002
        return _dates.format_date(d, format=format, locale=self.locale)

    def format_time(self, t: _dt.time | _dt.datetime, format: str = "short") -> str:  # noqa: A002
        # Kiosk times are local wall-clock times: never let Babel convert zones.
        if isinstance(t, _dt.datetime):
            t = t.replace(tzinfo=None).time()
        return _dates.format_time(t, format=format, locale=self.locale)

    def format_datetime(self, value: _dt.datetime, format: str = "medium") -> str:  # noqa: A002
        return _dates.format_datetime(value.replace(tzinfo=None), format=format, locale=self.locale)

    def date_field_order(self) -> tuple[str, str, str]:
        """Order of day/month/year fields in this locale's short date pattern."""
        return date_field_order(self.locale)

    def month_name(self, month: int, width: str = "wide") -> str:
        """Stand-alone month name, capitalised ('January', 'Enero')."""
        if not 1 <= month <= 12:
            raise ValueError(f"month must be 1..12, found {month}")
        name = self.locale.months["stand-alone"][width][month]
        return name[:1].upper() + name[1:]

    def month_names(self, width: str = "wide") -> list[str]:
        return [self.month_name(m, width) for m in range(1, 13)]

    # -- listeners ---------------------------------------------------------------------
    def bind(self, callback: Listener) -> None:
        """Call `callback(code)` after each switch. Held weakly: keep your own reference
        (bound methods are held with WeakMethod, so binding `widget.on_lang` is enough)."""
        ref: weakref.ref = (
            weakref.WeakMethod(callback) if inspect.ismethod(callback) else weakref.ref(callback)
        )
        self._listeners.append(ref)

    def unbind(self, callback: Listener) -> None:
        self._listeners = [r for r in self._listeners if (f := r()) is not None and f != callback]

    def listener_count(self) -> int:
        """Live listeners (dead ones are dropped as a side effect)."""
        self._listeners = [r for r in self._listeners if r() is not None]
        return len(self._listeners)

    def _notify(self) -> None:
        alive: list[weakref.ref] = []
        callbacks = []
        for ref in self._listeners:
            cb = ref()
            if cb is not None:
                alive.append(ref)
                callbacks.append(cb)
        self._listeners = alive
        first_error: BaseException | None = None
        for cb in callbacks:
            try:
                cb(self._language)
            except Exception as exc:  # noqa: BLE001 - tell everyone, then re-raise
                log.exception("i18n.listener_failed")
                first_error = first_error or exc
        if first_error is not None:
            raise first_error


def date_field_order(locale: Locale | str) -> tuple[str, str, str]:
    """('month', 'day', 'year') for en_US, ('day', 'month', 'year') for es_US ..."""
    loc = Locale.parse(locale) if isinstance(locale, str) else locale
    pattern = _dates.get_date_format("short", locale=loc).pattern
    kinds = {"y": "year", "Y": "year", "u": "year", "M": "month", "L": "month", "d": "day"}
    order: list[str] = []
    quoted = False
    for ch in pattern:
        if ch == "'":
            quoted = not quoted
            continue
        if not quoted and ch in kinds and kinds[ch] not in order:
            order.append(kinds[ch])
    for k in ("month", "day", "year"):  # should not happen, but never return a partial order
        if k not in order:
            order.append(k)
    return tuple(order)  # type: ignore[return-value]


# -- module-level translator -----------------------------------------------------------
_translator: Translator | None = None


def init_translator(
    languages: Iterable[str] | None = None,
    default: str = SOURCE_LANGUAGE,
    locales_dir: Path | str = DEFAULT_LOCALES_DIR,
) -> Translator:
    """Configure the process-wide translator, e.g. from KioskConfig.

    If it already exists (kiosk/widgets/tr.py takes it at import) it is reconfigured in
    place, so everyone holding it sees the new languages."""
    global _translator
    langs = tuple(languages) if languages is not None else None
    if _translator is None:
        _translator = Translator(langs, default=default, locales_dir=locales_dir)
    else:
        _translator.reconfigure(langs, default=default, locales_dir=locales_dir)
    return _translator


def get_translator() -> Translator:
    """The process-wide translator; made with every available language on first use."""
    global _translator
    if _translator is None:
        _translator = Translator()
    return _translator


def _(msgid: str) -> str:
    """Translate with the process-wide translator (for Python code; kv uses `tr._`)."""
    return get_translator().gettext(msgid)


def ngettext(singular: str, plural: str, n: int) -> str:
    return get_translator().ngettext(singular, plural, n)
