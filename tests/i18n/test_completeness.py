"""The translation completeness report (python -m kiosk.i18n_report): the repo's catalogs are
complete for all five languages, and the report finds each kind of gap in a made-up catalog."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import write_po

from kiosk import i18n_report
from kiosk.config import DEFAULT_LANGUAGES

REPO = Path(__file__).resolve().parents[2]
KIOSK_LANGUAGES = ("en", "es", "zh", "vi", "ar")


def run_report(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kiosk.i18n_report", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120)


def test_the_repo_catalogs_are_complete():
    """What CI runs: every default language plus every catalog found, no problem at all."""
    result = run_report()
    assert result.returncode == 0, result.stdout + result.stderr
    summaries = {line.split(":")[0] for line in result.stdout.splitlines() if " translated; " in line}
    assert set(KIOSK_LANGUAGES) | set(DEFAULT_LANGUAGES) <= summaries


def test_the_five_kiosk_languages_are_complete():
    total = sum(1 for m in i18n_report._read(i18n_report.template_file()) if m.id)
    result = run_report("--languages", ",".join(KIOSK_LANGUAGES))
    assert result.returncode == 0, result.stdout + result.stderr
    for code in KIOSK_LANGUAGES:
        assert f"{code}: {total} of {total} translated; 0 missing" in result.stdout, code


# -- a made-up catalog with every kind of gap --------------------------------------------------

def _save(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, catalog, width=100)


@pytest.fixture
def locales(tmp_path: Path) -> Path:
    template = Catalog(project="test", fuzzy=False)
    template.add("Check in")
    template.add("Welcome to {clinic}")
    template.add("Wait %(minutes)s minutes")
    template.add("Back")
    template.add("Next")
    template.add(("{n} day", "{n} days"))
    template.add("Menu", context="staff")
    _save(tmp_path / "kiosk.pot", template)

    fr = Catalog(locale="fr", fuzzy=False)
    fr.add("Check in", "Enregistrer")
    fr.add("Welcome to {clinic}", "Bienvenue à {clinique}")  # placeholder translated by mistake
    fr.add("Wait %(minutes)s minutes", "Attendez quelques minutes")  # placeholder dropped
    fr.add("Back", "")  # untranslated
    fr.add("Next", "Suivant", flags=["fuzzy"])
    fr.add(("{n} day", "{n} days"), ("{n} jour",) + ("{n} jours",) * (fr.num_plurals - 1))  # CLDR's count
    fr.add("Gone", "Parti")  # no longer in the template
    fr.obsolete["Old"] = Message("Old", "Vieux")  # written as "#~" by write_po
    # "Menu" (context staff) is missing
    _save(tmp_path / "fr" / "LC_MESSAGES" / "kiosk.po", fr)

    en = Catalog(locale="en", fuzzy=False)
    for message in template:
        if message.id:
            en.add(message.id, "" if isinstance(message.id, str) else ("", ""), context=message.context)
    _save(tmp_path / "en" / "LC_MESSAGES" / "kiosk.po", en)
    return tmp_path


def test_every_kind_of_gap_is_reported(locales: Path):
    report = i18n_report.check_language("fr", locales)
    found = {(p.kind, p.msgid, p.context) for p in report.problems}
    assert found == {
        ("placeholders", "Welcome to {clinic}", None),
        ("placeholders", "Wait %(minutes)s minutes", None),
        ("untranslated", "Back", None),
        ("fuzzy", "Next", None),
        ("missing", "Menu", "staff"),
        ("obsolete", "Gone", None),
        ("obsolete", "Old", None),
    }
    details = {p.msgid: p.detail for p in report.problems}
    assert details["Welcome to {clinic}"] == "missing {clinic}; unexpected {clinique}"
    assert details["Wait %(minutes)s minutes"] == "missing %(minutes)s"
    assert (report.total, report.translated) == (7, 2)


def test_a_fuzzy_header_is_reported(locales: Path):
    es = Catalog(locale="es")  # a new catalog's header is fuzzy: pybabel compile skips it all
    _save(locales / "es" / "LC_MESSAGES" / "kiosk.po", es)
    report = i18n_report.check_language("es", locales)
    assert [p.detail for p in report.problems if p.kind == "fuzzy"] == [
        "the catalog header is marked fuzzy, so the whole catalog is not compiled: delete its '#, fuzzy' line"]


def test_english_may_leave_translations_empty(locales: Path):
    report = i18n_report.check_language("en", locales)
    assert report.problems == [] and report.translated == report.total == 7


def test_plural_forms_must_match_the_catalogs_count(locales: Path):
    ar = Catalog(locale="ar", fuzzy=False)  # Babel gives Arabic 6 plural forms
    ar.add(("{n} day", "{n} days"), ("{n} يوم", "{n} أيام"))
    _save(locales / "ar" / "LC_MESSAGES" / "kiosk.po", ar)
    report = i18n_report.check_language("ar", locales)
    plural = [p for p in report.problems if p.msgid == "{n} day"]
    assert [(p.kind, p.detail) for p in plural] == [
        ("untranslated", "2 of 6 plural forms translated (Plural-Forms of 'ar': nplurals=6)")]


def test_a_plural_form_may_leave_out_the_count_but_not_invent_one(locales: Path):
    template = i18n_report._read(locales / "kiosk.pot")
    message = next(m for m in template if m.id == ("{n} day", "{n} days"))
    ok = message.__class__(message.id, ("one day", "{n} days"))
    bad = message.__class__(message.id, ("{n} day", "{count} days"))
    assert i18n_report._placeholder_problem(message, ok) is None
    assert i18n_report._placeholder_problem(message, bad) == "plural form 1: unexpected {count}"


def test_command_line_lists_problems_and_exits_1(locales: Path):
    result = run_report("--languages", "en,fr,de", "--locales", str(locales))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert "en: 7 of 7 translated; 0 missing, 0 untranslated, 0 fuzzy, 0 placeholders, 0 obsolete" in lines
    assert "fr: 2 of 7 translated; 1 missing, 1 untranslated, 1 fuzzy, 2 placeholders, 2 obsolete" in lines
    assert "fr: untranslated: 'Back'" in lines
    assert "fr: missing: 'Menu' (context 'staff'): not in the .po" in lines
    assert any(line.startswith("de: missing: no catalog ") for line in lines)
    assert any(line.startswith("fuzzy: check the translation") for line in lines)


def test_command_line_exit_0_when_complete(locales: Path):
    result = run_report("--languages", "en", "--locales", str(locales))
    assert (result.returncode, result.stderr) == (0, "")


def test_an_unreadable_template_is_one_clear_line(tmp_path: Path):
    result = run_report("--languages", "en", "--locales", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.strip() == f"i18n_report: cannot read {tmp_path / 'kiosk.pot'}: No such file or directory"


def test_placeholders():
    assert i18n_report.placeholders("{a} {b:>3} {{literal}} %(x)s %d 100%") == {"{a}", "{b:>3}", "%(x)s", "%d"}
