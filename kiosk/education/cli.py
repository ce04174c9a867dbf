"""For content authors: `python -m kiosk.education check|list [PATH...]`.

PATH is an article folder (with article.json), a folder of article folders, or a content
bundle JSON file (a list of articles, or a bundle with "items"); by default the bundled
articles in assets/education.

`check` prints one line per article and language with its reading level and OK, TOO HARD or
NOT MEASURED (no standard formula: never a failure), then every problem found reading the
files; it exits 1 when a text is too hard or anything is broken. `list` prints each article's
version, languages, topics and visit types.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from .articles import ArticleEntry
from .library import ASSETS_DIR
from .loader import META_FILE, ContentProblem, load_article_dir, load_article_dirs, parse_content_bundle
from .readability import article_reading_levels


def load_path(path: Path) -> tuple[list[ArticleEntry], list[ContentProblem]]:
    """The articles at `path` (see the module docstring) and the problems reading them."""
    if path.is_dir():
        if (path / META_FILE).exists():
            entry, problems = load_article_dir(path)
            return ([entry] if entry else []), problems
        return load_article_dirs(path)
    if not path.exists():
        return [], [ContentProblem(str(path), None, "no such file or folder")]
    try:
        raw = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as error:
        return [], [ContentProblem(str(path), None, f"cannot be read as JSON ({error})")]
    items = raw.get("items") if isinstance(raw, dict) else raw
    entries, problems = parse_content_bundle(items)
    return entries, [ContentProblem(f"{path}: {p.where}", p.article_id, p.message) for p in problems]


def _load(paths: Sequence[Path]) -> tuple[list[ArticleEntry], list[ContentProblem]]:
    entries, problems = [], []
    for path in paths:
        found, found_problems = load_path(path)
        entries += found
        problems += found_problems
    return entries, problems


def check(paths: Sequence[Path], out: TextIO) -> int:
    entries, problems = _load(paths)
    counts = {"OK": 0, "TOO HARD": 0, "NOT MEASURED": 0}
    for entry in entries:
        for level in article_reading_levels(entry):
            status = "OK" if level.measured and level.ok else "TOO HARD" if not level.ok else "NOT MEASURED"
            counts[status] += 1
            print(f"{entry.id:<28} {level.language:<3} {status:<13} {level.message}", file=out)
    for problem in problems:
        print(f"BROKEN  {problem}", file=out)
    print(f"{len(entries)} articles: {counts['OK']} texts OK, {counts['TOO HARD']} too hard, "
          f"{counts['NOT MEASURED']} not measured (no standard formula), {len(problems)} problems", file=out)
    if not entries and not problems:
        print("no articles found: give an article folder, a folder of articles or a content bundle", file=out)
        return 1
    return 1 if counts["TOO HARD"] or problems else 0


def list_articles(paths: Sequence[Path], out: TextIO, err: TextIO) -> int:
    entries, problems = _load(paths)
    for entry in entries:
        visits = ", ".join(entry.visit_types) or "every visit"
        print(f"{entry.id:<28} v{entry.version:<4} {' '.join(entry.languages):<16} "
              f"topics: {', '.join(entry.topics) or '-'}; visits: {visits}", file=out)
    for problem in problems:
        print(f"BROKEN  {problem}", file=err)
    return 1 if problems else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kiosk.education",
                                     description="Check and list education articles.")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("check", "reading level of every article and language; exit 1 if any is too hard "
                                 "or broken"),
                       ("list", "id, version, languages, topics and visit types of every article")):
        command = commands.add_parser(name, help=text, description=text)
        command.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                             help=f"article folder, folder of articles or content bundle JSON "
                                  f"(default: {ASSETS_DIR})")
    args = parser.parse_args(argv)
    paths = args.paths or [ASSETS_DIR]
    if args.command == "check":
        return check(paths, sys.stdout)
    return list_articles(paths, sys.stdout, sys.stderr)
