"""Translation completeness report: what each language's catalog still needs.

    python -m kiosk.i18n_report [--languages en,es,zh,vi,ar] [--locales DIR]

For each language, against the template locales/kiosk.pot (pure Python, Babel):

* missing       - a message of the template that is not in the language's .po
                  (`bash scripts/i18n.sh` adds it);
* untranslated  - an empty translation, or too few plural forms (not for English, the
                  source language: there an empty translation means "show the msgid");
* fuzzy         - marked fuzzy, so gettext ignores it (the header too: then the whole
                  catalog is skipped when compiling);
* placeholders  - {name} / %(name)s / %s placeholders missing, changed or added;
* obsolete      - "#~" entries, and entries the template no longer has.

Prints one summary line per language, then one line per problem; exit status 1 if there
is any problem (or a catalog is missing), 0 if none. Default languages: the kiosk's
default languages (kiosk.config) and every language with a catalog in the locales folder.
"""
from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import PoFileError, read_po

from kiosk.i18n import DEFAULT_LOCALES_DIR, DOMAIN, SOURCE_LANGUAGE

EXIT_OK, EXIT_PROBLEMS = 0, 1
KINDS = ("missing", "untranslated", "fuzzy", "placeholders", "obsolete")
FIX = {
    "missing": "run `bash scripts/i18n.sh` to add it to the .po, then translate it",
    "untranslated": "translate it, then run `bash scripts/i18n.sh compile`",
    "fuzzy": "check the translation, remove the '#, fuzzy' line, then `bash scripts/i18n.sh compile`",
    "placeholders": "keep every {placeholder} of the English text exactly as it is",
    "obsolete": "delete the entry (or run `bash scripts/i18n.sh`, which marks it #~)",
}

_BRACE = re.compile(r"\{[^{}]*\}")
_PERCENT = re.compile(r"%(?:\([^)]*\))?[#0 +-]*\d*(?:\.\d+)?[sdifrxXeEgGc]")

Key = tuple[str | None, str]  # (context, msgid)


@dataclass(frozen=True)
class Problem:
    language: str
    kind: str  # one of KINDS
    msgid: str
    detail: str = ""
    context: str | None = None

    def __str__(self) -> str:
        """'zh: fuzzy: 'Check in'', or for the whole catalog 'zh: fuzzy: <detail>'."""
        parts = [self.language, self.kind]
        if self.msgid:
            parts.append(f"{self.msgid!r}" + (f" (context {self.context!r})" if self.context else ""))
        if self.detail:
            parts.append(self.detail)
        return ": ".join(parts)


@dataclass
class LanguageReport:
    language: str
    catalog: Path
    total: int = 0  # messages in the template
    translated: int = 0  # of those, translated and not fuzzy (English: present and not fuzzy)
    problems: list[Problem] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(1 for p in self.problems if p.kind == kind)

    def summary(self) -> str:
        counts = ", ".join(f"{self.count(kind)} {kind}" for kind in KINDS)
        return f"{self.language}: {self.translated} of {self.total} translated; {counts}"


class ReportError(RuntimeError):
    """A catalog or the template cannot be read; the message says which and why."""


def placeholders(text: str) -> set[str]:
    """{name}, {name:spec}, {0}, %(name)s and %s style placeholders ({{ and }} are literal)."""
    text = text.replace("{{", "").replace("}}", "")
    return set(_BRACE.findall(text)) | set(_PERCENT.findall(text))


def catalog_file(language: str, locales_dir: Path = DEFAULT_LOCALES_DIR) -> Path:
    return Path(locales_dir) / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def template_file(locales_dir: Path = DEFAULT_LOCALES_DIR) -> Path:
    return Path(locales_dir) / f"{DOMAIN}.pot"


def _read(path: Path, locale: str | None = None) -> Catalog:
    try:
        with path.open("rb") as fh:
            return read_po(fh, locale=locale, abort_invalid=True)
    except OSError as exc:
        raise ReportError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (PoFileError, ValueError) as exc:
        raise ReportError(f"{path} is not a valid gettext catalog: {exc}") from None


def _key(message: Message) -> Key:
    msgid = message.id if isinstance(message.id, str) else message.id[0]
    return message.context, msgid


def _ids(message: Message) -> list[str]:
    return [message.id] if isinstance(message.id, str) else list(message.id)


def _forms(message: Message) -> list[str]:
    if message.string is None:
        return [""]
    if isinstance(message.string, str):
        return [message.string]
    return [s or "" for s in message.string]


def _describe_change(expected: set[str], found: set[str]) -> str:
    parts = []
    if expected - found:
        parts.append("missing " + ", ".join(sorted(expected - found)))
    if found - expected:
        parts.append("unexpected " + ", ".join(sorted(found - expected)))
    return "; ".join(parts)


def _placeholder_problem(template: Message, message: Message) -> str | None:
    expected = set().union(*(placeholders(i) for i in _ids(template)))
    forms = [f for f in _forms(message) if f]
    if not forms:
        return None
    if not template.pluralizable:
        found = placeholders(forms[0])
        return _describe_change(expected, found) if found != expected else None
    # Plural forms: a form may leave the count out ("one day"), but none may add or change
    # a placeholder, and together they use all of them.
    for index, form in enumerate(forms):
        extra = placeholders(form) - expected
        if extra:
            return f"plural form {index}: unexpected " + ", ".join(sorted(extra))
    found = set().union(*(placeholders(f) for f in forms))
    return _describe_change(expected, found) if found != expected else None


def check_language(language: str, locales_dir: Path = DEFAULT_LOCALES_DIR,
                   template: Catalog | None = None) -> LanguageReport:
    """Every problem of one language's catalog, in template order, obsolete ones last."""
    locales_dir = Path(locales_dir)
    template = template if template is not None else _read(template_file(locales_dir))
    path = catalog_file(language, locales_dir)
    report = LanguageReport(language, path)
    wanted = {_key(m): m for m in template if m.id}
    report.total = len(wanted)
    if not path.is_file():
        report.problems.append(Problem(
            language, "missing", "", f"no catalog {path}: add {language!r} to LANGUAGES in "
            f"scripts/i18n.sh and run it (all {len(wanted)} messages are missing)"))
        return report
    catalog = _read(path, locale=language)
    if catalog.fuzzy:
        report.problems.append(Problem(language, "fuzzy", "", "the catalog header is marked fuzzy, so "
                                       "the whole catalog is not compiled: delete its '#, fuzzy' line"))
    have = {_key(m): m for m in catalog if m.id}
    for key, message_template in wanted.items():
        context, msgid = key
        message = have.get(key)
        if message is None:
            report.problems.append(Problem(language, "missing", msgid, "not in the .po", context))
            continue
        forms = _forms(message)
        problems_before = len(report.problems)
        if message.fuzzy:
            report.problems.append(Problem(language, "fuzzy", msgid, "", context))
        if language != SOURCE_LANGUAGE:
            empty = [i for i, f in enumerate(forms) if not f.strip()]
            if message_template.pluralizable and (empty or len(forms) != catalog.num_plurals):
                # Babel pads a message to the catalog's number of forms, so a short one shows
                # up as empty forms.
                filled = len(forms) - len(empty)
                report.problems.append(Problem(
                    language, "untranslated", msgid,
                    f"{filled} of {catalog.num_plurals} plural forms translated (Plural-Forms of "
                    f"{language!r}: nplurals={catalog.num_plurals})", context))
            elif empty:
                report.problems.append(Problem(language, "untranslated", msgid, "", context))
        changed = _placeholder_problem(message_template, message)
        if changed:
            report.problems.append(Problem(language, "placeholders", msgid, changed, context))
        if len(report.problems) == problems_before:
            report.translated += 1
    for key, message in have.items():
        if key not in wanted:
            report.problems.append(Problem(language, "obsolete", key[1], "no longer in the template", key[0]))
    for message in catalog.obsolete.values():
        context, msgid = _key(message)
        report.problems.append(Problem(language, "obsolete", msgid, "marked #~", context))
    return report


def default_languages(locales_dir: Path = DEFAULT_LOCALES_DIR) -> tuple[str, ...]:
    """The kiosk's default languages and every language with a catalog; source first."""
    from kiosk.config import DEFAULT_LANGUAGES  # here, so the module imports without a config

    found = set(DEFAULT_LANGUAGES)
    root = Path(locales_dir)
    if root.is_dir():
        found.update(p.parent.parent.name for p in root.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return tuple(sorted(found, key=lambda c: (c != SOURCE_LANGUAGE, c)))


def build_report(languages: Iterable[str], locales_dir: Path = DEFAULT_LOCALES_DIR) -> list[LanguageReport]:
    template = _read(template_file(Path(locales_dir)))
    return [check_language(lang, locales_dir, template) for lang in languages]


def format_report(reports: Sequence[LanguageReport]) -> list[str]:
    lines = [r.summary() for r in reports]
    problems = [p for r in reports for p in r.problems]
    if problems:
        lines.append("")
        lines.extend(str(p) for p in problems)
        lines.append("")
        lines.extend(f"{kind}: {FIX[kind]}" for kind in KINDS if any(p.kind == kind for p in problems))
    return lines


def _parse_languages(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kiosk.i18n_report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--languages", type=_parse_languages, default=None,
                        help="comma-separated codes (default: the kiosk's languages and every catalog found)")
    parser.add_argument("--locales", type=Path, default=DEFAULT_LOCALES_DIR,
                        help="the locales folder (default: the repo's locales/)")
    args = parser.parse_args(argv)
    languages = args.languages if args.languages else default_languages(args.locales)
    try:
        reports = build_report(languages, args.locales)
    except ReportError as exc:
        print(f"i18n_report: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    print("\n".join(format_report(reports)))
    return EXIT_PROBLEMS if any(r.problems for r in reports) else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
