"""The public education pages a patient opens from the kiosk's "send this to my phone" QR
code (kiosk.education.article_url): GET /education/<id>?lang=<lang> and the list of every
article at GET /education/.

Read-only and anonymous: no cookies, no scripts, nothing loaded from anywhere but this
server, and nothing about the patient in the link. Which text: for each article id, the
newest version among every site's published content bundle and the kiosk package's default
articles; a published article replaces a default one of the same or an older version, as on
the kiosks (kiosk.education.merge), and between sites the higher version, then the later
publication, wins. A language the article lacks falls back to English, and the page says so.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files
from typing import Any
from urllib.parse import quote

from babel import Locale, UnknownLocaleError
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk.education import ArticleEntry, Library, merge, parse_content_bundle

from .bundles import BundleKind
from .content_bundle import default_content_bundle
from .context import get_context
from .models import Bundle

log = logging.getLogger(__name__)

router = APIRouter(prefix="/education", include_in_schema=False)

ENGLISH = "en"
LANGUAGE_ORDER = ("en", "es", "zh", "vi", "ar")  # the kiosk's languages; others follow by code
MAX_LANG_CHARS = 35  # a BCP 47 tag longer than this is not one anybody sends
CSS_FILE = "education.css"
SECURITY_HEADERS = {
    # Nothing but this server's own style sheet; no scripts, images, forms or framing.
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
                               "form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
PAGE_CACHE = "public, max-age=300"  # a newly published version shows within 5 minutes
NOT_FOUND_CACHE = "public, max-age=60"  # an article published a moment later is found soon

# The words around the article. "fallback" and "choose_language" are the kiosk's own
# translations (locales/*/LC_MESSAGES/kiosk.po), so phone and kiosk say the same thing.
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "site": "Health information",
        "choose_language": "Choose your language",
        "fallback": "This text is shown in English because it is not available in your language yet.",
        "all_articles": "All health articles",
        "index_title": "Health articles",
        "not_found_title": "We cannot find this article",
        "not_found_body": "The link may be missing a part, or the article is no longer offered.",
        "privacy": "This page uses no cookies and does not track you.",
    },
    "es": {
        "site": "Información de salud",
        "choose_language": "Elija su idioma",
        "fallback": "Este texto aparece en inglés porque todavía no está disponible en su idioma.",
        "all_articles": "Todos los artículos de salud",
        "index_title": "Artículos de salud",
        "not_found_title": "No encontramos este artículo",
        "not_found_body": "Puede que al enlace le falte una parte o que el artículo ya no esté disponible.",
        "privacy": "Esta página no usa cookies y no le rastrea.",
    },
    "zh": {
        "site": "健康知识",
        "choose_language": "选择您的语言",
        "fallback": "这份内容还没有您的语言版本，所以用英文显示。",
        "all_articles": "所有健康文章",
        "index_title": "健康文章",
        "not_found_title": "找不到这篇文章",
        "not_found_body": "链接可能不完整，或者这篇文章已不再提供。",
        "privacy": "本页面不使用 Cookie，也不跟踪您。",
    },
    "vi": {
        "site": "Thông tin sức khỏe",
        "choose_language": "Chọn ngôn ngữ",
        "fallback": "Nội dung này hiện bằng tiếng Anh vì chưa có bản bằng ngôn ngữ của quý vị.",
        "all_articles": "Tất cả bài viết về sức khỏe",
        "index_title": "Bài viết về sức khỏe",
        "not_found_title": "Chúng tôi không tìm thấy bài viết này",
        "not_found_body": "Có thể đường liên kết bị thiếu một phần, hoặc bài viết không còn nữa.",
        "privacy": "Trang này không dùng cookie và không theo dõi quý vị.",
    },
    "ar": {
        "site": "معلومات صحية",
        "choose_language": "اختر لغتك",
        "fallback": "يظهر هذا النص بالإنجليزية لأنه غير متوفر بلغتك بعد.",
        "all_articles": "كل المقالات الصحية",
        "index_title": "مقالات صحية",
        "not_found_title": "لا نجد هذه المقالة",
        "not_found_body": "ربما ينقص الرابط جزءًا، أو لم تعد المقالة متوفرة.",
        "privacy": "هذه الصفحة لا تستخدم ملفات تعريف الارتباط ولا تتتبعك.",
    },
}


# -- languages -----------------------------------------------------------------------------


def _requested(request: Request) -> str | None:
    """?lang= as a lower-case tag ("es-mx"), or None when absent or empty."""
    raw = request.query_params.get("lang", "").strip()[:MAX_LANG_CHARS]
    return raw.replace("_", "-").lower() or None


def _primary(tag: str) -> str:
    return tag.split("-", 1)[0]


@lru_cache(maxsize=256)
def _locale(tag: str) -> Locale | None:
    try:
        return Locale.parse(tag, sep="-")
    except (ValueError, TypeError, UnknownLocaleError):
        return None


def _own_name(tag: str) -> str:
    """The language's name in itself ("Español", "العربية"); the tag when unknown."""
    locale = _locale(tag)
    name = locale.get_display_name(locale) if locale else None
    return name[:1].upper() + name[1:] if name else tag


def _english_name(tag: str) -> str | None:
    locale = _locale(tag)
    return locale.get_display_name(ENGLISH) if locale else None


def _direction(tag: str) -> str:
    locale = _locale(tag)
    return "rtl" if locale is not None and locale.character_order == "right-to-left" else "ltr"


def _ordered(languages) -> list[str]:
    known = [code for code in LANGUAGE_ORDER if code in languages]
    return known + sorted(code for code in languages if code not in LANGUAGE_ORDER)


def _words_for(tag: str | None) -> str:
    """The language the words around an article are in: `tag` when we have them, else English."""
    if tag in WORDS:
        return tag
    if tag and _primary(tag) in WORDS:
        return _primary(tag)
    return ENGLISH


@dataclass(frozen=True)
class Notice:
    """A sentence saying the article is not in the language asked for."""

    text: str
    lang: str
    dir: str


def _shown_language(entry: ArticleEntry, requested: str | None) -> tuple[str, list[Notice]]:
    """The language to show `entry` in, and the notices to show when it is not the one asked for."""
    if requested in entry.texts:
        return requested, []
    if requested and _primary(requested) in entry.texts:  # "es-mx" reads the Spanish
        return _primary(requested), []
    shown = ENGLISH if ENGLISH in entry.texts else _ordered(entry.texts)[0]
    if requested is None:
        return shown, []  # nothing was asked for: no apology needed
    notices = []
    own = _words_for(requested)
    if own != ENGLISH and shown == ENGLISH:
        notices.append(Notice(WORDS[own]["fallback"], own, _direction(own)))
    asked = _english_name(requested)
    asked = f"in {asked} yet" if asked else "in the language you asked for"
    notices.append(Notice(f"This article is not available {asked}, so it is shown in "
                          f"{_english_name(shown) or shown}.", ENGLISH, "ltr"))
    return shown, notices


# -- which articles ------------------------------------------------------------------------


class _Merged:
    """The merged articles of the last-seen published bundles: pages are read far more often
    than bundles are published, and re-parsing every site's articles per view is wasted work.
    Keyed on a hash of what the database holds, so it is never stale."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: str | None = None
        self._entries: dict[str, ArticleEntry] = {}

    def get(self, db: Session) -> dict[str, ArticleEntry]:
        rows = db.execute(
            select(Bundle.site_id, Bundle.updated_at, Bundle.items)
            .where(Bundle.kind == BundleKind.content.value)
            .order_by(Bundle.updated_at, Bundle.site_id)
        ).all()
        digest = hashlib.sha256()
        for site_id, updated_at, items in rows:
            digest.update(f"{site_id}\0{updated_at.isoformat()}\0{len(items)}\0".encode())
            digest.update(items.encode())
        key = digest.hexdigest()
        with self._lock:
            if key == self._key:
                return self._entries
        entries = _merge_published([(site_id, items) for site_id, _, items in rows])
        with self._lock:
            self._key, self._entries = key, entries
        return entries


def _merge_published(published: list[tuple[str, str]]) -> dict[str, ArticleEntry]:
    """The default articles with each site's published bundle laid over them, oldest
    publication first (so at the same version the later one wins)."""
    merged, _ = parse_content_bundle(default_content_bundle())
    for site_id, items in published:
        served, problems = parse_content_bundle(json.loads(items))
        if problems:  # checked when published; a later parser may read it differently
            log.warning("education.published_problems", extra={"fields": {
                "site_id": site_id, "problems": len(problems), "first": str(problems[0])}})
        merged = merge(merged, served)
    return {entry.id: entry for entry in merged}


_merged = _Merged()


# -- pages -----------------------------------------------------------------------------------


@cache
def _environment() -> Environment:
    return Environment(loader=PackageLoader("practice_server", "templates/education"),
                       autoescape=select_autoescape(default=True), undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True)


def _base(request: Request) -> str:
    """/education, under the root path a reverse proxy may put the server at."""
    return f"{request.scope.get('root_path', '').rstrip('/')}/education"


def _article_link(base: str, article_id: str, language: str) -> str:
    return f"{base}/{quote(article_id, safe='')}?lang={quote(language, safe='')}"


def _render(request: Request, template: str, *, lang: str, words_lang: str, status: int = 200,
            cache_control: str = PAGE_CACHE, **values: Any) -> HTMLResponse:
    base = _base(request)
    page = _environment().get_template(template).render(
        lang=lang, dir=_direction(lang), words_lang=words_lang, words_dir=_direction(words_lang),
        w=WORDS[words_lang], base=base, index_url=f"{base}/?lang={quote(words_lang)}",
        css_url=f"{base}/static/{CSS_FILE}", **values)
    return HTMLResponse(page, status_code=status,
                        headers={**SECURITY_HEADERS, "Cache-Control": cache_control})


def _articles(request: Request) -> dict[str, ArticleEntry]:
    with get_context(request).read() as db:
        return _merged.get(db)


@router.get("")
@router.get("/")
def article_list(request: Request) -> Response:
    """Every article's title, grouped by language (the asked-for language first)."""
    entries = _articles(request)
    requested = _requested(request)
    library = Library(entries.values())
    languages = _ordered({code for entry in entries.values() for code in entry.texts})
    first = next((code for code in (requested, requested and _primary(requested), ENGLISH)
                  if code in languages), None)
    if first is not None:
        languages.remove(first)
        languages.insert(0, first)
    words_lang = _words_for(first or requested)
    base = _base(request)
    sections = [{"lang": code, "dir": _direction(code), "name": _own_name(code),
                 "url": f"{base}/?lang={quote(code, safe='')}", "current": code == first,
                 "articles": [(a.title, _article_link(base, a.id, code)) for a in library.articles(code)]}
                for code in languages]
    return _render(request, "index.html", lang=words_lang, words_lang=words_lang,
                   title=WORDS[words_lang]["index_title"], sections=sections)


@router.get("/static/{name}")
def style_sheet(name: str) -> Response:
    if name != CSS_FILE:
        return Response("not found", status_code=404, media_type="text/plain")
    body = files("practice_server").joinpath("templates", "education", CSS_FILE).read_bytes()
    return Response(body, media_type="text/css; charset=utf-8", headers={
        "Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"})


@router.get("/{article_id}")
def article_page(article_id: str, request: Request) -> Response:
    requested = _requested(request)
    entry = _articles(request).get(article_id)
    if entry is None:
        words_lang = _words_for(requested)
        return _render(request, "not_found.html", lang=words_lang, words_lang=words_lang, status=404,
                       cache_control=NOT_FOUND_CACHE, title=WORDS[words_lang]["not_found_title"])
    shown, notices = _shown_language(entry, requested)
    text = entry.texts[shown]
    base = _base(request)
    languages = [{"lang": code, "dir": _direction(code), "name": _own_name(code),
                  "url": _article_link(base, entry.id, code), "current": code == shown}
                 for code in _ordered(entry.texts)]
    # The words around the article speak the reader's language even when the article cannot.
    return _render(request, "article.html", lang=shown, words_lang=_words_for(requested or shown),
                   title=text.title, paragraphs=text.paragraphs, notices=notices, languages=languages)
