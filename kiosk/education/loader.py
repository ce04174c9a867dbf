"""Reading education articles from assets/education and from the server's content bundle.

On disk, made to be easy for content authors::

    assets/education/<id>/article.json   {"id": "flu-shot", "version": 2, "topics": ["vaccines"],
                                          "visit_types": ["annual_physical"], "picture": "flu.png"}
    assets/education/<id>/<lang>.txt     the title on the first line, a blank line, then the
                                         paragraphs, separated by blank lines

`visit_types` empty (or left out) means every visit; `picture` is optional. The content
bundle the sync agent downloads has a list of articles as its items::

    [{"id": "flu-shot", "version": 2, "topics": [...], "visit_types": [...],
      "languages": {"en": {"title": "...", "paragraphs": ["...", ...]}, ...}}]

Reading is lenient where the meaning is clear (spaces around values, one string where a list
is expected, "Vaccines" for "vaccines", "3" for 3, a paragraph wrapped over several lines)
and reports everything else as a ContentProblem naming the file or bundle item. A broken
article, or a broken language of one, is left out; it never stops the others.
"""
from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .articles import BUNDLED, SERVED, ArticleEntry, ArticleText
from .topics import TOPICS, topic_by_id

META_FILE = "article.json"
_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{1,8})*")
_META_KEYS = ("id", "version", "topics", "visit_types", "picture", "comment")
_BUNDLE_KEYS = ("id", "version", "topics", "visit_types", "languages")
PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg")
MAX_TITLE_CHARS = 200
MAX_TEXT_CHARS = 20_000  # one language of one article; the bundled ones have about 2,000
MAX_ARTICLES = 500
MAX_VERSION = 1_000_000_000
_QUOTE_LIMIT = 40
# Lines of one paragraph are joined with a space, except between two CJK characters.
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")


@dataclass(frozen=True)
class ContentProblem:
    """One thing wrong in an article, for its author (or the clinic's IT)."""

    where: str  # a file, or "content bundle item 3"
    article_id: str | None
    message: str

    def __str__(self) -> str:
        named = f" (article {self.article_id!r})" if self.article_id else ""
        return f"{self.where}{named}: {self.message}"


def _quote(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _QUOTE_LIMIT else text[: _QUOTE_LIMIT - 3] + "..."


def _join_lines(lines: Iterable[str]) -> str:
    """One paragraph from its (possibly wrapped) lines, runs of spaces made one."""
    text = ""
    for line in (" ".join(raw.split()) for raw in lines):
        if not line:
            continue
        if text and not (_CJK.match(text[-1]) and _CJK.match(line[0])):
            text += " "
        text += line
    return text


def _paragraphs_of(lines: list[str]) -> list[str]:
    """Paragraphs are separated by blank lines."""
    paragraphs, current = [], []
    for line in lines + [""]:
        if line.strip():
            current.append(line)
        elif current:
            paragraphs.append(_join_lines(current))
            current = []
    return paragraphs


def _checked_text(title: str, paragraphs: list[str], problems: list[str]) -> ArticleText | None:
    if not title:
        problems.append("has no title")
        return None
    if len(title) > MAX_TITLE_CHARS:
        problems.append(f"the title has {len(title)} characters (at most {MAX_TITLE_CHARS}): "
                        "is a paragraph where the title should be?")
        return None
    if not paragraphs:
        problems.append("has a title but no paragraphs")
        return None
    size = len(title) + sum(len(p) for p in paragraphs)
    if size > MAX_TEXT_CHARS:
        problems.append(f"is {size} characters long (at most {MAX_TEXT_CHARS}): "
                        "split it into shorter articles")
        return None
    return ArticleText(title=title, paragraphs=tuple(paragraphs))


def parse_article_text(text: str) -> tuple[ArticleText | None, list[str]]:
    """A <lang>.txt file: the title on the first line, a blank line, then paragraphs
    separated by blank lines. None when it cannot be used; the problems say why."""
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    problems: list[str] = []
    if not text.strip():
        return None, ["is empty: write the title on the first line, a blank line, then the paragraphs"]
    if not lines[0].strip():
        # Which line was meant as the title is not clear: better not to guess.
        return None, ["the first line is blank: the first line must be the title"]
    if len(lines) > 1 and lines[1].strip():
        problems.append("put a blank line after the title: line 2 was read as the start of the first "
                        "paragraph")
    article = _checked_text(_join_lines(lines[:1]), _paragraphs_of(lines[1:]), problems)
    return article, problems


def _language(raw: Any) -> str | None:
    if not isinstance(raw, str):
        return None
    code = raw.strip().lower()
    return code if _LANGUAGE.fullmatch(code) else None


def _unknown_keys(raw: dict[str, Any], allowed: tuple[str, ...], problems: list[str]) -> None:
    for key in raw:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"unknown key {_quote(key)} is ignored{hint}")


def _version(raw: Any, problems: list[str]) -> int | None:
    value = raw.strip() if isinstance(raw, str) else raw
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_VERSION:
        return value
    problems.append(f"'version' must be a whole number from 1 (raise it with every change), like 3; "
                    f"found {_quote(raw)}")
    return None


def _topics(raw: Any, problems: list[str]) -> tuple[str, ...]:
    known = ", ".join(t.id for t in TOPICS)
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list) or not values:
        problems.append(f"'topics' must list at least one of: {known}; found {_quote(raw)}")
        return ()
    topics: list[str] = []
    for value in values:
        topic = "-".join(value.strip().lower().replace("_", " ").split()) if isinstance(value, str) else None
        if topic is None or topic_by_id(topic) is None:
            problems.append(f"topic {_quote(value)} is not one of: {known}; it is left out")
        elif topic not in topics:
            topics.append(topic)
    return tuple(topics)


def _visit_types(raw: Any, problems: list[str]) -> tuple[str, ...]:
    if raw is None:
        return ()
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list):
        problems.append(f"'visit_types' must be a list of visit types like [\"new_patient\"] (empty: every "
                        f"visit); found {_quote(raw)}")
        return ()
    visit_types: list[str] = []
    for value in values:
        if not isinstance(value, str) or not value.strip():
            problems.append(f"visit type {_quote(value)} is not a visit type name; it is left out")
        elif value.strip() not in visit_types:
            visit_types.append(value.strip())
    return tuple(visit_types)


def _article_id(raw: Any, problems: list[str]) -> str | None:
    value = raw.strip() if isinstance(raw, str) else raw
    if isinstance(value, str) and _ID.fullmatch(value):
        return value
    problems.append("'id' must be lower-case letters, digits and '-' (at most 64), like 'flu-shot'; "
                    f"found {_quote(raw)}")
    return None


def _picture(directory: Path, raw: Any, problems: list[str]) -> Path | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or "/" in raw or "\\" in raw or raw.startswith("."):
        problems.append(f"'picture' must be the name of a file in the article's folder; found {_quote(raw)}")
        return None
    path = directory / raw
    if path.suffix.lower() not in PICTURE_SUFFIXES:
        problems.append(f"picture {raw!r} must be a {', '.join(PICTURE_SUFFIXES)} file; shown without it")
        return None
    if not path.is_file():
        problems.append(f"picture {raw!r} is not in the article's folder; shown without it")
        return None
    return path


def load_article_dir(directory: Path) -> tuple[ArticleEntry | None, list[ContentProblem]]:
    """One article folder (article.json and <lang>.txt files)."""
    meta_path = directory / META_FILE
    problems: list[ContentProblem] = []

    def report(where: Path, found: list[str], article_id: str | None) -> None:
        problems.extend(ContentProblem(str(where), article_id, message) for message in found)

    try:
        raw = json.loads(meta_path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        report(meta_path, [f"is missing: every article folder needs one ({', '.join(_META_KEYS[:4])})"],
               directory.name)
        return None, problems
    except (OSError, ValueError) as error:
        report(meta_path, [f"cannot be read as JSON ({error})"], directory.name)
        return None, problems
    if not isinstance(raw, dict):
        report(meta_path, [f"must be a JSON object; found {type(raw).__name__}"], directory.name)
        return None, problems
    found: list[str] = []
    _unknown_keys(raw, _META_KEYS, found)
    article_id = _article_id(raw.get("id", directory.name), found)
    if article_id is not None and article_id != directory.name:
        found.append(f"its id {article_id!r} must be the folder's name {directory.name!r}")
        article_id = None
    version = _version(raw.get("version"), found)
    topics = _topics(raw.get("topics"), found)
    visit_types = _visit_types(raw.get("visit_types"), found)
    picture = _picture(directory, raw.get("picture"), found)
    report(meta_path, found, article_id or directory.name)
    texts = {}
    for path in sorted(directory.glob("*.txt")):
        language = _language(path.stem)
        if language is None:
            report(path, [f"{path.name!r} is not named after a language code like en.txt or es.txt; "
                          "it is left out"], article_id)
            continue
        if language in texts:
            report(path, [f"a second text in {language!r}; it is left out"], article_id)
            continue
        try:
            text, found_in_text = parse_article_text(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as error:
            text, found_in_text = None, [f"cannot be read as UTF-8 text ({error})"]
        report(path, found_in_text, article_id)
        if text is not None:
            texts[language] = text
    if article_id is None or version is None:
        return None, problems
    if not texts:
        report(directory, ["has no text in any language: add a <lang>.txt file such as en.txt"], article_id)
        return None, problems
    return ArticleEntry(id=article_id, version=version, topics=topics, visit_types=visit_types,
                        texts=MappingProxyType(texts), picture=picture, origin=BUNDLED), problems


def load_article_dirs(directory: Path) -> tuple[list[ArticleEntry], list[ContentProblem]]:
    """Every article folder in `directory` (other files, and folders starting with '.' or '_',
    are not articles), by id."""
    if not directory.is_dir():
        return [], [ContentProblem(str(directory), None, "is not a folder of articles")]
    entries, problems = [], []
    for folder in sorted(p for p in directory.iterdir() if p.is_dir() and p.name[:1] not in "._"):
        entry, found = load_article_dir(folder)
        problems += found
        if entry is not None:
            entries.append(entry)
    return entries, problems


def _bundle_texts(raw: Any, found: list[str]) -> dict[str, ArticleText]:
    if not isinstance(raw, dict) or not raw:
        found.append("'languages' must be an object like {\"en\": {\"title\": \"...\", \"paragraphs\": "
                     f"[\"...\"]}}; found {_quote(raw)}")
        return {}
    texts = {}
    for key, value in raw.items():
        language = _language(key)
        if language is None:
            found.append(f"{_quote(key)} is not a language code like 'en' or 'es'; it is left out")
            continue
        if not isinstance(value, dict):
            found.append(f"in {language!r}: must be an object with a title and paragraphs; it is left out")
            continue
        problems: list[str] = []
        title = value.get("title")
        paragraphs = value.get("paragraphs")
        if isinstance(paragraphs, str):  # one text: paragraphs separated by blank lines, as on disk
            paragraphs = _paragraphs_of(paragraphs.replace("\r\n", "\n").split("\n"))
        if not isinstance(title, str):
            problems.append(f"'title' must be text; found {_quote(title)}")
        elif not isinstance(paragraphs, list) or not all(isinstance(p, str) for p in paragraphs):
            problems.append(f"'paragraphs' must be a list of texts; found {_quote(paragraphs)}")
        else:
            joined = [p for p in (_join_lines(p.split("\n")) for p in paragraphs) if p]
            text = _checked_text(_join_lines(title.split("\n")), joined, problems)
            if text is not None and language in texts:
                problems.append("is there twice; the second is left out")
            elif text is not None:
                texts[language] = text
        found += [f"in {language!r}: {p}" + ("" if p.endswith("left out") else "; it is left out")
                  for p in problems]
    return texts


def _bundle_item(raw: Any) -> tuple[ArticleEntry | None, str | None, list[str]]:
    if not isinstance(raw, dict):
        return None, None, [f"must be a JSON object (an article); found {type(raw).__name__}"]
    found: list[str] = []
    if "picture" in raw:
        found.append("'picture' is ignored: pictures come only with the articles bundled with the kiosk")
    _unknown_keys({k: v for k, v in raw.items() if k != "picture"}, _BUNDLE_KEYS, found)
    article_id = _article_id(raw.get("id"), found)
    version = _version(raw.get("version"), found)
    topics = _topics(raw.get("topics"), found)
    visit_types = _visit_types(raw.get("visit_types"), found)
    texts = _bundle_texts(raw.get("languages"), found)
    if article_id is None or version is None:
        return None, article_id, found
    if not texts:
        found.append("has no usable text in any language")
        return None, article_id, found
    return ArticleEntry(id=article_id, version=version, topics=topics, visit_types=visit_types,
                        texts=MappingProxyType(texts), origin=SERVED), article_id, found


def parse_content_bundle(items: Any) -> tuple[list[ArticleEntry], list[ContentProblem]]:
    """The usable articles of the server's content bundle, in its order, and the problems.
    An id that comes twice is used once (the first)."""
    if not isinstance(items, list):
        return [], [ContentProblem("content bundle", None,
                                   f"'items' must be a list of articles; found {type(items).__name__}")]
    entries: list[ArticleEntry] = []
    problems: list[ContentProblem] = []
    if len(items) > MAX_ARTICLES:
        problems.append(ContentProblem("content bundle", None, f"has {len(items)} articles; only the first "
                                                               f"{MAX_ARTICLES} are used"))
    seen: dict[str, int] = {}
    for index, raw in enumerate(items[:MAX_ARTICLES], start=1):
        where = f"content bundle item {index}"
        entry, article_id, found = _bundle_item(raw)
        problems += [ContentProblem(where, article_id, message) for message in found]
        if entry is None:
            continue
        if entry.id in seen:
            first = seen[entry.id]
            problems.append(ContentProblem(where, entry.id, f"the same id as item {first}: only item {first} "
                                                            "is used"))
            continue
        seen[entry.id] = index
        entries.append(entry)
    return entries, problems
