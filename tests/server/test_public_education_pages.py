"""The public education pages (/education/<id>?lang=, /education/): the article in every
kiosk language, which version is shown, the fallback to English, the friendly 404, and a
page that sets no cookie and loads nothing from elsewhere (TestClient; SQLite and
PostgreSQL through the `server` fixture)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest

from practice_server import admin
from practice_server.content_bundle import default_content_bundle

KIOSK_LANGUAGES = ("en", "es", "zh", "vi", "ar")
T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


class Page(HTMLParser):
    """What a test needs to read from a page: <html> attributes, the h1, the article's
    paragraphs, the notices, the language switcher and every link."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.html: dict[str, str | None] = {}
        self.h1 = ""
        self.paragraphs: list[str] = []
        self.notices: list[tuple[str | None, str]] = []  # (lang, text)
        self.switcher: list[tuple[str | None, str, str | None]] = []  # (lang, name, href or None: current)
        self.links: list[str] = []  # every href and src
        self.section_titles: list[str] = []
        self._open: list[tuple[str, dict[str, str | None]]] = []
        self._text: list[str] = []
        self.feed(text)

    def _inside(self, tag: str, cls: str | None = None) -> bool:
        return any(t == tag and (cls is None or cls in (a.get("class") or "").split()) for t, a in self._open)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.links += [v for k, v in attrs.items() if k in ("href", "src") and v is not None]
        if tag == "html":
            self.html = attrs
        if tag in ("meta", "link", "br", "img", "input"):
            return
        self._open.append((tag, attrs))
        self._text = []

    def handle_endtag(self, tag):
        while self._open:
            open_tag, attrs = self._open.pop()
            if open_tag == tag:
                break
        text = " ".join("".join(self._text).split())
        if tag == "h1":
            self.h1 = text
        elif tag == "p" and self._inside("div", "notice"):
            self.notices.append((attrs.get("lang"), text))
        elif tag == "p" and self._inside("article"):
            self.paragraphs.append(text)
        elif tag in ("a", "span") and self._inside("nav", "languages"):
            self.switcher.append((attrs.get("lang"), text, attrs.get("href")))
        elif tag == "h2" and self._inside("section", "list"):
            self.section_titles.append(text)

    def handle_data(self, data):
        self._text.append(data)


def get_page(server, path: str, status: int = 200) -> Page:
    r = server.client.get(path)
    assert r.status_code == status, (path, r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("text/html")
    return Page(r.text)


def default_article_in_every_language() -> dict:
    """A bundled article translated into all the kiosk's languages (picked, not named: the
    bundled set grows)."""
    found = [item for item in default_content_bundle() if set(KIOSK_LANGUAGES) <= set(item["languages"])]
    assert found, "no bundled article has all five kiosk languages"
    return found[0]


def article(article_id: str, version: int, languages: dict[str, str]) -> dict:
    """A synthetic article: `languages` maps a language to its title."""
    return {"id": article_id, "version": version, "topics": ["your-visit"], "visit_types": [],
            "languages": {lang: {"title": title, "paragraphs": [f"{title}: first paragraph.",
                                                                f"{title}: second paragraph."]}
                          for lang, title in languages.items()}}


def publish(server, site_id: str, items: list[dict], at: datetime) -> None:
    with server.sessions.begin() as db:
        admin.publish_content_bundle(db, site_id, items, at)


@pytest.mark.parametrize("lang", KIOSK_LANGUAGES)
def test_a_bundled_article_renders_in_each_kiosk_language(server, lang):
    item = default_article_in_every_language()
    page = get_page(server, f"/education/{item['id']}?lang={lang}")
    text = item["languages"][lang]
    assert page.html["lang"] == lang
    assert page.html["dir"] == ("rtl" if lang == "ar" else "ltr")
    assert page.h1 == " ".join(text["title"].split())
    assert page.paragraphs == [" ".join(p.split()) for p in text["paragraphs"]]
    assert page.notices == []
    # The switcher names every language of the article, in its own words; this one is current.
    assert {entry[0] for entry in page.switcher} == set(item["languages"])
    names = {entry[0]: entry[1] for entry in page.switcher}
    assert (names["en"], names["es"], names["zh"], names["vi"], names["ar"]) == (
        "English", "Español", "中文", "Tiếng Việt", "العربية")
    assert [entry[0] for entry in page.switcher if entry[2] is None] == [lang]
    for other_lang, _, href in page.switcher:
        if href is not None:
            assert href == f"/education/{item['id']}?lang={other_lang}"
            assert get_page(server, href).html["lang"] == other_lang


def test_a_sites_newer_published_version_wins(server, site):
    item = default_article_in_every_language()
    newer = item["version"] + 1
    publish(server, site.id, [article(item["id"], newer, {"en": "Flu shot, newer", "es": "Vacuna, nueva"})], T0)
    page = get_page(server, f"/education/{item['id']}?lang=en")
    assert page.h1 == "Flu shot, newer"
    assert page.paragraphs == ["Flu shot, newer: first paragraph.", "Flu shot, newer: second paragraph."]
    assert get_page(server, f"/education/{item['id']}?lang=es").h1 == "Vacuna, nueva"
    # The newer version has no Arabic: English, said so, and only its own languages offered.
    arabic = get_page(server, f"/education/{item['id']}?lang=ar")
    assert arabic.h1 == "Flu shot, newer" and arabic.html["lang"] == "en" and arabic.notices
    assert {entry[0] for entry in arabic.switcher} == {"en", "es"}

    # Another site's older version does not win; a later publication of the same version does.
    other = server.site("Southside Clinic")
    publish(server, other.id, [article(item["id"], item["version"], {"en": "Older elsewhere"})],
            T0 + timedelta(hours=1))
    assert get_page(server, f"/education/{item['id']}?lang=en").h1 == "Flu shot, newer"
    publish(server, other.id, [article(item["id"], newer, {"en": "Same version, later"})],
            T0 + timedelta(hours=2))
    assert get_page(server, f"/education/{item['id']}?lang=en").h1 == "Same version, later"
    newest = article(item["id"], newer + 5, {"en": "Newest of all"})
    publish(server, site.id, [newest], T0 + timedelta(hours=3))
    assert get_page(server, f"/education/{item['id']}?lang=en").h1 == "Newest of all"


def test_a_published_version_at_or_below_the_default(server, site):
    """As on the kiosks: the same version replaces the bundled article, an older one does not."""
    item = default_article_in_every_language()
    bundled_title = " ".join(item["languages"]["en"]["title"].split())
    if item["version"] > 1:
        publish(server, site.id, [article(item["id"], item["version"] - 1, {"en": "Older"})], T0)
        assert get_page(server, f"/education/{item['id']}?lang=en").h1 == bundled_title
    publish(server, site.id, [article(item["id"], item["version"], {"en": "Same version"})],
            T0 + timedelta(minutes=1))
    assert get_page(server, f"/education/{item['id']}?lang=en").h1 == "Same version"


def test_a_published_article_of_a_new_id_is_served(server, site):
    publish(server, site.id, [article("test-parking", 1, {"en": "Where to park", "ar": "أين تركن سيارتك"})], T0)
    page = get_page(server, "/education/test-parking?lang=ar")
    assert (page.html["lang"], page.html["dir"], page.h1) == ("ar", "rtl", "أين تركن سيارتك")
    listed = get_page(server, "/education/")
    assert {"/education/test-parking?lang=en", "/education/test-parking?lang=ar"} <= set(listed.links)


def test_a_missing_language_falls_back_to_english_and_says_so(server, site):
    publish(server, site.id, [article("test-english-spanish", 1, {"en": "Only two", "es": "Solo dos"})], T0)

    vietnamese = get_page(server, "/education/test-english-spanish?lang=vi")
    assert (vietnamese.html["lang"], vietnamese.h1) == ("en", "Only two")
    assert vietnamese.notices == [
        ("vi", "Nội dung này hiện bằng tiếng Anh vì chưa có bản bằng ngôn ngữ của quý vị."),
        ("en", "This article is not available in Vietnamese yet, so it is shown in English."),
    ]
    r = server.client.get("/education/test-english-spanish?lang=ar")
    arabic = Page(r.text)
    assert (arabic.html["lang"], arabic.html["dir"]) == ("en", "ltr")  # the text shown is English
    assert arabic.notices[0] == ("ar", "يظهر هذا النص بالإنجليزية لأنه غير متوفر بلغتك بعد.")
    # The words around it stay in the reader's language, right to left.
    assert '<header class="top" lang="ar" dir="rtl">' in r.text and "اختر لغتك" in r.text

    french = get_page(server, "/education/test-english-spanish?lang=fr")
    assert french.notices == [("en", "This article is not available in French yet, so it is shown in English.")]
    for nonsense in ("xx", "%3Cscript%3E", "e" * 200):
        page = get_page(server, f"/education/test-english-spanish?lang={nonsense}")
        assert page.h1 == "Only two"
        assert page.notices == [("en", "This article is not available in the language you asked for, "
                                       "so it is shown in English.")]
    assert "<script>" not in server.client.get("/education/test-english-spanish?lang=%3Cscript%3E").text

    assert get_page(server, "/education/test-english-spanish?lang=es-MX").h1 == "Solo dos"  # Spanish is Spanish
    assert get_page(server, "/education/test-english-spanish?lang=ES").h1 == "Solo dos"
    no_language = get_page(server, "/education/test-english-spanish")
    assert (no_language.h1, no_language.notices) == ("Only two", [])  # nothing asked, nothing to excuse


@pytest.mark.parametrize("path", ["/education/no-such-article", "/education/FLU-SHOT",
                                  "/education/no-such-article?lang=zz", "/education/%2E%2E"])
def test_an_unknown_article_is_a_friendly_404(server, path):
    page = get_page(server, path, status=404)
    assert page.h1 == "We cannot find this article"
    assert "/education/?lang=en" in page.links  # the way on: every article


def test_the_404_speaks_the_language_asked_for(server):
    page = get_page(server, "/education/no-such-article?lang=ar", status=404)
    assert (page.html["lang"], page.html["dir"], page.h1) == ("ar", "rtl", "لا نجد هذه المقالة")
    assert get_page(server, "/education/no-such-article?lang=es", status=404).h1 == "No encontramos este artículo"


@pytest.mark.parametrize("path", ["/education/", "/education"])
def test_the_list_of_every_article_by_language(server, path):
    page = get_page(server, path)
    assert page.h1 == "Health articles" and page.html["lang"] == "en"
    defaults = default_content_bundle()
    languages = {lang for item in defaults for lang in item["languages"]}
    assert set(page.section_titles) >= {"English", "Español"} and len(page.section_titles) == len(languages)
    assert page.section_titles[0] == "English"
    for item in defaults:
        for lang in item["languages"]:
            assert f"/education/{item['id']}?lang={lang}" in page.links
    spanish = get_page(server, f"{path}?lang=es")
    assert (spanish.h1, spanish.section_titles[0]) == ("Artículos de salud", "Español")
    arabic = get_page(server, f"{path}?lang=ar")
    assert (arabic.html["lang"], arabic.html["dir"], arabic.section_titles[0]) == ("ar", "rtl", "العربية")


PAGES = ["/education/flu-shot?lang=ar", "/education/flu-shot?lang=en", "/education/no-such-article",
         "/education/", "/education/flu-shot?lang=xx"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_set_no_cookie_and_load_nothing_from_elsewhere(server, path):
    r = server.client.get(path)
    assert r.status_code in (200, 404)
    assert "set-cookie" not in r.headers
    csp = r.headers["content-security-policy"]
    for rule in ("default-src 'none'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'",
                 "form-action 'none'"):
        assert rule in csp
    assert "unsafe-inline" not in csp and "http" not in csp
    assert r.headers["cache-control"].startswith("public, max-age=")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-frame-options"] == "DENY"
    page = Page(r.text)
    assert page.links and all(link.startswith(("/education/", "#")) for link in page.links), page.links
    assert not re.search(r"(?i)https?:|//[a-z0-9]", " ".join(page.links))
    assert "<script" not in r.text.lower() and " style=" not in r.text.lower() and "<img" not in r.text.lower()


def test_the_style_sheet_is_local_and_loads_nothing_more(server):
    page = Page(server.client.get("/education/flu-shot?lang=en").text)
    sheet = next(link for link in page.links if link.endswith(".css"))
    r = server.client.get(sheet)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/css")
    assert r.headers["cache-control"].startswith("public")
    assert "set-cookie" not in r.headers
    assert "url(" not in r.text and "@import" not in r.text
    assert server.client.get("/education/static/other.css").status_code == 404
    assert server.client.get("/education/static/..%2F..%2Fsettings.py").status_code == 404
