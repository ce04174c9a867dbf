"""The content bundle a site's kiosks download: education articles.

    [{"id": "flu-shot", "version": 2, "topics": ["vaccines"], "visit_types": [],
      "languages": {"en": {"title": "...", "paragraphs": ["...", ...]}, ...}}, ...]

A site serves what it published (admin.publish_content_bundle) or, until then, the kiosk
package's bundled articles (kiosk.education.default_content_bundle()). Publishing reads the
articles with the kiosk's own parser (kiosk.education.parse_content_bundle) and refuses
anything it would report, so an article a kiosk would set aside or change never reaches it.
A kiosk shows its bundled articles beside the published ones; a published article replaces
the bundled one with the same id when its version is the same or newer.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any

from kiosk.education import default_content_bundle as kiosk_default_content_bundle
from kiosk.education import parse_content_bundle


class ContentBundleError(ValueError):
    """The articles are malformed; the message names the item and the problem."""


def check_content_bundle(items: Any) -> list[dict[str, Any]]:
    """The articles in their canonical JSON form; ContentBundleError says what is wrong
    (for whoever publishes them)."""
    if not isinstance(items, list):
        raise ContentBundleError(f"a content bundle is a list of articles; found {type(items).__name__}")
    articles, problems = parse_content_bundle(items)
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise ContentBundleError(f"{problems[0]}{more}")
    return [article.as_bundle_item() for article in articles]


@lru_cache(maxsize=1)
def _default() -> tuple[dict[str, Any], ...]:
    return tuple(kiosk_default_content_bundle())


def default_content_bundle() -> list[dict[str, Any]]:
    """The kiosk package's bundled articles as bundle items (a fresh copy each call)."""
    return copy.deepcopy(list(_default()))
