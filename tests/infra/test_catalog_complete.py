"""The translation catalogs are complete, consistent and compiled.

* every message in locales/kiosk.pot is translated (non-empty, not fuzzy) in each
  configured language other than English (the source language);
* a translation keeps exactly the msgid's placeholders ({clinic}, {seconds} ...);
* each committed .mo is what compiling its .po gives now;
* locales/kiosk.pot holds every string marked in kiosk/ (so a new string added
  without running scripts/i18n.sh fails here, naming the string).
"""
from __future__ import annotations

import gettext
import io
import os
import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from kiosk.config import DEFAULT_LANGUAGES
from kiosk.i18n import DOMAIN, SOURCE_LANGUAGE

try:  # babel >= 2.15
    from babel.messages.frontend import parse_mapping_cfg as _parse_mapping
except ImportError:  # pragma: no cover - older babel
    from babel.messages.frontend import parse_mapping as _parse_mapping

REPO = Path(__file__).resolve().parents[2]
LOCALES = REPO / "locales"
POT = LOCALES / f"{DOMAIN}.pot"
SCRIPT = REPO / "scripts" / "i18n.sh"
BABEL_CFG = REPO / "babel.cfg"
FIX = "run `bash scripts/i18n.sh`"
FIX_COMPILE = "run `bash scripts/i18n.sh compile`"


def _script_languages() -> tuple[str, ...]:
    """LANGUAGES=(en es ...) in scripts/i18n.sh: the catalogs that script maintains."""
    match = re.search(r"^LANGUAGES=\(([^)]*)\)", SCRIPT.read_text(), re.MULTILINE)
    assert match, f"no LANGUAGES=(...) line in {SCRIPT.relative_to(REPO)}"
    return tuple(match.group(1).split())


ALL_LANGUAGES = tuple(dict.fromkeys((*_script_languages(), *DEFAULT_LANGUAGES)))
TRANSLATED_LANGUAGES = tuple(code for code in ALL_LANGUAGES if code != SOURCE_LANGUAGE)


def _po_path(code: str) -> Path:
    return LOCALES / code / "LC_MESSAGES" / f"{DOMAIN}.po"


def _mo_path(code: str) -> Path:
    return LOCALES / code / "LC_MESSAGES" / f"{DOMAIN}.mo"


def _read(path: Path, locale: str | None = None) -> Catalog:
    assert path.is_file(), f"missing {path.relative_to(REPO)}: {FIX}"
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def _key(message: Message) -> tuple[str | None, str]:
    msgid = message.id if isinstance(message.id, str) else message.id[0]
    return message.context, msgid


def _show(key: tuple[str | None, str]) -> str:
    context, msgid = key
    return f"{msgid!r}" + (f" (context {context!r})" if context else "")


def _messages(catalog: Catalog) -> dict[tuple[str | None, str], Message]:
    return {_key(m): m for m in catalog if m.id}


_BRACE = re.compile(r"\{[^{}]*\}")
_PERCENT = re.compile(r"%(?:\([^)]*\))?[#0 +-]*\d*(?:\.\d+)?[sdifrxXeEgGc]")


def placeholders(text: str) -> set[str]:
    """{name}, {name:spec}, {0}, %(name)s and %s style placeholders ({{ and }} are literal)."""
    text = text.replace("{{", "").replace("}}", "")
    return set(_BRACE.findall(text)) | set(_PERCENT.findall(text))


def _forms(value: str | tuple | list | None) -> list[str]:
    if value is None:
        return [""]
    return [value] if isinstance(value, str) else [s or "" for s in value]


# -- every message translated ---------------------------------------------------------

def test_languages_are_configured() -> None:
    assert SOURCE_LANGUAGE in ALL_LANGUAGES
    assert TRANSLATED_LANGUAGES, "no language other than the source language is configured"


@pytest.mark.parametrize("code", TRANSLATED_LANGUAGES)
def test_every_message_is_translated(code: str) -> None:
    pot = _messages(_read(POT))
    catalog = _read(_po_path(code), locale=code)
    assert not catalog.fuzzy, (
        f"the header of {_po_path(code).relative_to(REPO)} is marked fuzzy, so it is not "
        f"compiled: remove the '#, fuzzy' line above the header and {FIX_COMPILE}"
    )
    po = _messages(catalog)
    problems: list[str] = []
    for key, template in pot.items():
        message = po.get(key)
        if message is None:
            problems.append(f"{_show(key)}: not in the .po ({FIX})")
            continue
        if message.fuzzy:
            problems.append(f"{_show(key)}: marked fuzzy")
        forms = _forms(message.string)
        if template.pluralizable:
            if len(forms) != catalog.num_plurals:
                problems.append(
                    f"{_show(key)}: {len(forms)} plural forms, expected {catalog.num_plurals}"
                )
        if not all(f.strip() for f in forms):
            problems.append(f"{_show(key)}: empty translation")
    assert not problems, (
        f"{len(problems)} untranslated message(s) in {_po_path(code).relative_to(REPO)} "
        f"(translate them, then {FIX_COMPILE}):\n  " + "\n  ".join(problems)
    )


@pytest.mark.parametrize("code", TRANSLATED_LANGUAGES)
def test_translations_keep_placeholders(code: str) -> None:
    problems: list[str] = []
    for key, message in _messages(_read(_po_path(code), locale=code)).items():
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        expected = set().union(*(placeholders(i) for i in ids))
        for form in _forms(message.string):
            if not form:
                continue  # reported by test_every_message_is_translated
            found = placeholders(form)
            if found != expected:
                problems.append(
                    f"{_show(key)} -> {form!r}: placeholders {sorted(found)}, "
                    f"expected {sorted(expected)}"
                )
    assert not problems, (
        f"placeholders changed in {_po_path(code).relative_to(REPO)} (keep them exactly, "
        "untranslated):\n  " + "\n  ".join(problems)
    )


# -- compiled catalogs up to date -------------------------------------------------------

def _translations(data: bytes) -> gettext.GNUTranslations:
    return gettext.GNUTranslations(io.BytesIO(data))


@pytest.mark.parametrize("code", ALL_LANGUAGES)
def test_mo_is_compiled_from_po(code: str) -> None:
    catalog = _read(_po_path(code), locale=code)
    buf = io.BytesIO()
    write_mo(buf, catalog)  # what `pybabel compile` writes (fuzzy entries left out)
    fresh = _translations(buf.getvalue())
    mo = _mo_path(code)
    assert mo.is_file(), f"missing {mo.relative_to(REPO)}: {FIX_COMPILE}"
    committed = _translations(mo.read_bytes())

    want = {k: v for k, v in fresh._catalog.items() if k != ""}  # "" is the header
    have = {k: v for k, v in committed._catalog.items() if k != ""}
    differ = sorted(
        (repr(k) for k in want.keys() | have.keys() if want.get(k) != have.get(k)), key=str
    )
    assert not differ, (
        f"{mo.relative_to(REPO)} is out of date with its .po ({FIX_COMPILE}); "
        f"{len(differ)} message(s) differ:\n  " + "\n  ".join(differ[:20])
    )
    assert fresh._info.get("plural-forms") == committed._info.get("plural-forms"), (
        f"{mo.relative_to(REPO)} has other Plural-Forms than its .po: {FIX_COMPILE}"
    )


# -- template holds every marked string --------------------------------------------------

def _method_map() -> tuple[list[tuple[str, str]], dict]:
    with BABEL_CFG.open(encoding="utf-8") as fh:
        return _parse_mapping(fh, str(BABEL_CFG))


def _only_kiosk(dirpath: str) -> bool:
    rel = Path(os.path.relpath(dirpath, REPO))
    if rel == Path("."):
        return True
    return rel.parts[0] == "kiosk" and not any(p.startswith((".", "_")) for p in rel.parts)


def test_pot_has_every_marked_string() -> None:
    method_map, options_map = _method_map()
    assert method_map, f"{BABEL_CFG.name} maps no files"
    keywords = {**DEFAULT_KEYWORDS, "N_": None}  # scripts/i18n.sh: --keywords N_
    extracted: dict[tuple[str | None, str], list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        REPO,
        method_map,
        options_map,
        keywords=keywords,
        directory_filter=_only_kiosk,
    ):
        msgid = message if isinstance(message, str) else message[0]
        if msgid:
            extracted.setdefault((context, msgid), []).append(f"{filename}:{lineno}")
    assert extracted, "nothing extracted from kiosk/: is the package installed (pip install -e .)?"

    in_pot = set(_messages(_read(POT)))
    missing = sorted(k for k in extracted if k not in in_pot)
    assert not missing, (
        f"{len(missing)} string(s) marked for translation are not in "
        f"{POT.relative_to(REPO)}. Run `bash scripts/i18n.sh`, then translate the new "
        f"entries in locales/<lang>/LC_MESSAGES/{DOMAIN}.po for "
        f"{', '.join(TRANSLATED_LANGUAGES)} and run `bash scripts/i18n.sh compile`:\n  "
        + "\n  ".join(f"{_show(k)} at {', '.join(extracted[k])}" for k in missing)
    )
