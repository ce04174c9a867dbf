"""What an education article is: one id and version, its tags, and its text per language.

`ArticleEntry` is the article in all its languages (as loaded from assets/education or the
server's content bundle); `Article` is what a reader shows: one language, with the link a
patient can send to their phone.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

FALLBACK_LANGUAGE = "en"
BUNDLED = "bundled"  # shipped with the kiosk in assets/education
SERVED = "server"  # from the practice's content bundle


@dataclass(frozen=True)
class ArticleText:
    """One language of an article: plain text, no markup."""

    title: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Article:
    """One article in one language, ready to read."""

    id: str
    version: int
    topics: tuple[str, ...]
    visit_types: tuple[str, ...]  # empty: for every visit type
    language: str  # the language of title and paragraphs
    title: str
    paragraphs: tuple[str, ...]
    picture: Path | None  # a bundled picture file, or None
    url: str | None  # the practice's public page of this article (None without a base URL)
    fell_back: bool = False  # True: the requested language had no text, English is shown


@dataclass(frozen=True)
class ArticleEntry:
    """One article in every language it has."""

    id: str
    version: int
    topics: tuple[str, ...]
    visit_types: tuple[str, ...]
    texts: Mapping[str, ArticleText]
    picture: Path | None = None
    origin: str = BUNDLED

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self.texts))

    def in_language(self, language: str, *, base_url: str | None = None,
                    fallback: bool = False) -> Article | None:
        """The article in `language`; with `fallback`, in English when that is missing."""
        shown = language if language in self.texts else None
        if shown is None and fallback and FALLBACK_LANGUAGE in self.texts:
            shown = FALLBACK_LANGUAGE
        if shown is None:
            return None
        text = self.texts[shown]
        return Article(id=self.id, version=self.version, topics=self.topics, visit_types=self.visit_types,
                       language=shown, title=text.title, paragraphs=text.paragraphs, picture=self.picture,
                       url=article_url(base_url, self.id, shown) if base_url else None,
                       fell_back=shown != language)

    def as_bundle_item(self) -> dict[str, Any]:
        """The content bundle's JSON form (pictures stay on the kiosk: they are not sent)."""
        return {
            "id": self.id, "version": self.version, "topics": list(self.topics),
            "visit_types": list(self.visit_types),
            "languages": {lang: {"title": t.title, "paragraphs": list(t.paragraphs)}
                          for lang, t in sorted(self.texts.items())},
        }


def article_url(base_url: str, article_id: str, language: str) -> str:
    """The practice's public page of an article: BASE/education/<id>?lang=<lang>.

    Nothing else goes in the link (no tracking, nothing about the patient or the kiosk):
    it ends up on a patient's phone.
    """
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"the education base URL must be http(s)://host[/path] without ?query or #fragment, "
                         f"got {base_url!r}")
    return f"{base_url.rstrip('/')}/education/{quote(article_id, safe='')}?lang={quote(language, safe='')}"
