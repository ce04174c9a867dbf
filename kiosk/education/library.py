"""The education library a kiosk offers: the bundled articles, with the practice's
content bundle laid over them.

A served article replaces the bundled one with the same id when its version is the same or
newer (an older one is ignored: the kiosk's own copy was updated since). Bundled articles
the practice did not send stay in the library.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from .articles import Article, ArticleEntry, article_url
from .loader import ContentProblem, load_article_dirs, parse_content_bundle
from .topics import TOPICS, Topic, topic_order

log = logging.getLogger(__name__)

ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets" / "education"
CONTENT = "content"  # the store's bundle kind


def _normal_visit_type(value: str) -> str:
    """"Follow-up", "follow up" and "follow_up" are one visit type."""
    return "_".join(value.replace("-", " ").replace("_", " ").lower().split())


def merge(bundled: Iterable[ArticleEntry], served: Iterable[ArticleEntry]) -> list[ArticleEntry]:
    """`served` over `bundled`: the same or a newer version wins. At the same version the
    bundled picture is kept (the server never sends pictures)."""
    merged = {entry.id: entry for entry in bundled}
    for entry in served:
        own = merged.get(entry.id)
        if own is None or entry.version > own.version:
            merged[entry.id] = entry
        elif entry.version == own.version:
            merged[entry.id] = replace(entry, picture=own.picture)
    return list(merged.values())


class Library:
    """Articles by language, visit type and topic. Pure Python; no Kivy."""

    def __init__(self, entries: Iterable[ArticleEntry], base_url: str | None = None):
        self._entries = {entry.id: entry for entry in entries}
        if base_url is not None:
            article_url(base_url, "check", "en")  # a bad base URL is found now, not when a patient asks
        self._base_url = base_url

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def entries(self) -> list[ArticleEntry]:
        return list(self._entries.values())

    def _in(self, language: str) -> list[Article]:
        found = (e.in_language(language, base_url=self._base_url) for e in self._entries.values())
        return [a for a in found if a is not None]

    @staticmethod
    def _order(article: Article) -> tuple[int, str, str]:
        first = min((topic_order(t) for t in article.topics), default=len(TOPICS))
        return first, article.title.casefold(), article.id

    def articles(self, language: str) -> list[Article]:
        """Every article there is in `language`, by topic (in TOPICS order), then title."""
        return sorted(self._in(language), key=self._order)

    def for_visit(self, visit_type: str | None, language: str) -> list[Article]:
        """Every article in `language`, the relevant ones first: those written for this visit
        type, then those for every visit, then those for other visit types; each group by
        topic, then title."""
        wanted = _normal_visit_type(visit_type or "")

        def relevance(article: Article) -> int:
            types = {_normal_visit_type(v) for v in article.visit_types}
            if wanted and wanted in types:
                return 0
            return 1 if not types else 2

        return sorted(self._in(language), key=lambda a: (relevance(a), *self._order(a)))

    def topics(self, language: str) -> list[Topic]:
        """The topics that have an article in `language`, in TOPICS order."""
        used = {t for article in self._in(language) for t in article.topics}
        return [topic for topic in TOPICS if topic.id in used]

    def by_topic(self, topic: str, language: str) -> list[Article]:
        """The articles of one topic in `language`, by title."""
        return sorted((a for a in self._in(language) if topic in a.topics),
                      key=lambda a: (a.title.casefold(), a.id))

    def get(self, article_id: str, language: str, *, fallback: bool = False) -> Article | None:
        """One article in `language`; with `fallback`, in English when it has no `language`
        text (the Article's `fell_back` says so). None when there is no such article."""
        entry = self._entries.get(article_id)
        return None if entry is None else entry.in_language(language, base_url=self._base_url,
                                                             fallback=fallback)


@lru_cache(maxsize=4)
def _bundled(directory: Path) -> tuple[tuple[ArticleEntry, ...], tuple[ContentProblem, ...]]:
    entries, problems = load_article_dirs(directory)
    return tuple(entries), tuple(problems)


def bundled_articles(directory: Path = ASSETS_DIR) -> tuple[list[ArticleEntry], list[ContentProblem]]:
    """The articles shipped with the kiosk (read once per process) and their problems."""
    entries, problems = _bundled(directory)
    return list(entries), list(problems)


def default_content_bundle(directory: Path = ASSETS_DIR) -> list[dict[str, Any]]:
    """The bundled articles as content bundle items (what the practice server serves until a
    site publishes its own); a fresh copy each call."""
    return [entry.as_bundle_item() for entry in bundled_articles(directory)[0]]


def _log_problems(problems: Iterable[ContentProblem]) -> None:
    for problem in problems:  # article text and file names only: no patient data here
        log.warning("education.content_problem", extra={"fields": {"problem": str(problem)}})


def library_from_store(store: Any, base_url: str | None = None, directory: Path = ASSETS_DIR) -> Library:
    """The library as last synced: the store's content bundle over the bundled articles.
    Problems are logged for IT and the broken articles left out; never raises on content."""
    bundled, problems = bundled_articles(directory)
    served: list[ArticleEntry] = []
    saved = store.bundle(CONTENT)
    if saved is not None:
        items = saved[0].get("items") if isinstance(saved[0], dict) else None
        served, bundle_problems = parse_content_bundle(items)
        problems += bundle_problems
    _log_problems(problems)
    return Library(merge(bundled, served), base_url=base_url)
