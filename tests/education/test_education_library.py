"""The library: bundled articles with the practice's bundle over them, chosen by language,
visit type and topic; links for the patient's phone; no Kivy."""
from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from education_helpers import FakeStore, bundle_item, write_article
from kiosk.education import (
    ASSETS_DIR, TOPICS, Library, article_url, bundled_articles, default_content_bundle, library_from_store, merge,
    parse_content_bundle,
)
from kiosk.store.demo_clinic import VISIT_TYPES

ROOT = Path(__file__).resolve().parents[2]


def entries(*items):
    found, problems = parse_content_bundle(list(items))
    assert problems == []
    return found


def item(article_id, *, version=1, topics=("germs",), visit_types=(), languages=("en",), title=None):
    return bundle_item(article_id, version, topics=list(topics), visit_types=list(visit_types),
                       languages={lang: {"title": title or f"{article_id} {lang}", "paragraphs": [f"Text {lang}."]}
                                  for lang in languages})


def test_the_package_never_imports_kivy():
    code = ("import sys, kiosk.education, kiosk.education.readability, kiosk.education.cli; "
            "assert not [m for m in sys.modules if m.split('.')[0] == 'kivy'], 'kivy imported'")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


# -- merging ------------------------------------------------------------------------------

@pytest.mark.parametrize("bundled_version, served_version, served_wins, picture_kept", [
    (1, 1, True, True),  # same version: the served text, the bundled picture (the server sends none)
    (1, 2, True, False),  # newer: the served article as it is
    (3, 2, False, True),  # older: the kiosk's own copy was updated since
])
def test_a_served_article_wins_at_the_same_or_a_newer_version(articles_dir, bundled_version, served_version,
                                                              served_wins, picture_kept):
    folder = write_article(articles_dir, "wash-hands", {"id": "wash-hands", "version": bundled_version,
                                                        "topics": ["germs"], "picture": "hands.png"})
    (folder / "hands.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    bundled, _ = bundled_articles(articles_dir)
    merged = merge(bundled, entries(item("wash-hands", version=served_version, title="Served title")))
    assert len(merged) == 1
    assert merged[0].texts["en"].title == ("Served title" if served_wins else "Wash your hands")
    assert merged[0].version == (served_version if served_wins else bundled_version)
    assert (merged[0].picture == folder / "hands.png") == picture_kept


def test_bundled_articles_the_practice_did_not_send_stay():
    merged = merge(entries(item("a"), item("b")), entries(item("c")))
    assert sorted(e.id for e in merged) == ["a", "b", "c"]


def test_library_from_store_lays_the_content_bundle_over_the_bundled_articles(articles_dir, caplog):
    write_article(articles_dir, "wash-hands")
    write_article(articles_dir, "broken", "{")
    store = FakeStore({"content": {"kind": "content", "version": "v", "items": [
        item("wash-hands", version=2, title="Newer"), item("from-server"), {"id": "bad"}]}})
    with caplog.at_level(logging.WARNING, logger="kiosk.education.library"):
        library = library_from_store(store, directory=articles_dir)
    assert store.asked == ["content"]
    assert sorted(e.id for e in library.entries) == ["from-server", "wash-hands"]
    assert library.get("wash-hands", "en").title == "Newer"
    logged = "\n".join(r.fields["problem"] for r in caplog.records if hasattr(r, "fields"))
    assert "broken" in logged and "content bundle item 3" in logged


@pytest.mark.parametrize("saved", [None, {"kind": "content", "items": "garbage"}, {"no": "items"}])
def test_without_a_usable_bundle_the_bundled_articles_are_the_library(saved):
    store = FakeStore({"content": saved} if saved else {})
    library = library_from_store(store)
    assert sorted(e.id for e in library.entries) == sorted(e.id for e in bundled_articles()[0])


def test_library_from_a_real_store(store):
    served = item("flu-shot", version=99, title="The practice's own flu article")
    store.save_bundle("content", {"kind": "content", "version": "v1", "items": [served]}, '"v1"')
    library = library_from_store(store)
    assert library.get("flu-shot", "en").title == "The practice's own flu article"
    assert library.get("flu-shot", "es") is None  # the practice's version has English only
    assert library.get("high-blood-pressure", "es") is not None


def test_default_content_bundle_is_the_bundled_articles_in_bundle_form():
    bundle = default_content_bundle()
    assert [i["id"] for i in bundle] == [e.id for e in bundled_articles()[0]]
    again, problems = parse_content_bundle(bundle)
    assert problems == [] and len(again) == len(bundle) >= 12
    assert all("picture" not in i for i in bundle)
    bundle[0]["id"] = "changed"
    assert default_content_bundle()[0]["id"] != "changed"  # a fresh copy each call


# -- choosing articles --------------------------------------------------------------------

@pytest.fixture
def library():
    return Library(entries(
        item("bp", topics=["heart"], visit_types=["annual_physical", "follow_up"], languages=["en", "es"],
             title="Blood pressure"),
        item("portal", topics=["your-visit"], visit_types=["new_patient"], title="Portal"),
        item("flu", topics=["vaccines", "germs"], languages=["en", "es", "zh"], title="Flu shot"),
        item("colds", topics=["germs"], title="Colds"),
        item("active", topics=["activity", "heart"], visit_types=["Annual Physical"], title="Active"),
    ), base_url="https://clinic.example/")


def ids(articles):
    return [a.id for a in articles]


def test_articles_in_a_language_by_topic_order_then_title(library):
    assert ids(library.articles("en")) == ["portal", "active", "bp", "flu", "colds"]
    assert ids(library.articles("es")) == ["bp", "flu"]
    assert ids(library.articles("zh")) == ["flu"]
    assert library.articles("ar") == []


def test_for_visit_puts_the_visit_types_articles_first_then_general_then_the_others(library):
    assert ids(library.for_visit("annual_physical", "en")) == ["active", "bp", "flu", "colds", "portal"]
    assert ids(library.for_visit("new_patient", "en")) == ["portal", "flu", "colds", "active", "bp"]
    assert ids(library.for_visit("follow-up", "en"))[:1] == ["bp"]  # spelled another way, same visit type
    assert ids(library.for_visit(None, "en")) == ["flu", "colds", "portal", "active", "bp"]
    assert ids(library.for_visit("annual_physical", "es")) == ["bp", "flu"]


def test_topics_and_by_topic(library):
    assert [t.id for t in library.topics("en")] == ["your-visit", "heart", "vaccines", "germs", "activity"]
    assert [t.id for t in library.topics("es")] == ["heart", "vaccines", "germs"]
    assert ids(library.by_topic("germs", "en")) == ["colds", "flu"]
    assert ids(library.by_topic("heart", "en")) == ["active", "bp"]
    assert library.by_topic("sleep", "en") == []


def test_topic_labels_are_english_message_ids():
    assert all(t.label and t.label[0].isupper() for t in TOPICS)
    assert len({t.id for t in TOPICS}) == len(TOPICS)


def test_get_falls_back_to_english_only_when_asked(library):
    assert library.get("colds", "es") is None
    fallback = library.get("colds", "es", fallback=True)
    assert (fallback.language, fallback.fell_back, fallback.title) == ("en", True, "Colds")
    own = library.get("flu", "zh", fallback=True)
    assert (own.language, own.fell_back) == ("zh", False)
    assert library.get("nope", "en", fallback=True) is None


def test_the_phone_link_is_the_practices_page_with_the_language_and_nothing_else(library):
    article = library.get("flu", "zh")
    assert article.url == "https://clinic.example/education/flu?lang=zh"
    assert Library(entries(item("flu"))).get("flu", "en").url is None
    assert article_url("https://clinic.example/site/", "a-b", "pt-br") == \
        "https://clinic.example/site/education/a-b?lang=pt-br"


@pytest.mark.parametrize("base_url", ["clinic.example", "ftp://clinic.example", "https://x.example/?utm=1",
                                      "https://x.example/#top"])
def test_a_bad_base_url_is_refused_at_once(base_url):
    with pytest.raises(ValueError, match="base URL"):
        Library([], base_url=base_url)


# -- the bundled content ------------------------------------------------------------------

BUNDLED, BUNDLED_PROBLEMS = bundled_articles()


def test_the_bundled_articles_load_without_a_problem():
    assert [str(p) for p in BUNDLED_PROBLEMS] == []
    assert len(BUNDLED) >= 12 and ASSETS_DIR.is_dir()


@pytest.mark.parametrize("entry", BUNDLED, ids=lambda e: e.id)
def test_every_bundled_article_has_english_and_spanish_of_150_to_350_words(entry):
    assert {"en", "es"} <= set(entry.languages)
    for language in ("en", "es"):
        words = sum(len(p.split()) for p in entry.texts[language].paragraphs)
        assert 150 <= words <= 350, f"{entry.id} {language}: {words} words"


@pytest.mark.parametrize("entry", BUNDLED, ids=lambda e: e.id)
def test_bundled_articles_use_known_topics_and_the_schedules_visit_types(entry):
    assert entry.topics and all(t in {x.id for x in TOPICS} for t in entry.topics)
    assert set(entry.visit_types) <= set(VISIT_TYPES)


def test_three_bundled_articles_are_also_in_chinese_vietnamese_and_arabic():
    full = {e.id for e in BUNDLED if {"zh", "vi", "ar"} <= set(e.languages)}
    assert full == {"preparing-for-your-visit", "flu-shot", "high-blood-pressure"}


def test_every_visit_type_of_the_schedule_has_an_article_of_its_own():
    by_visit = {v for e in BUNDLED for v in e.visit_types}
    assert by_visit == set(VISIT_TYPES)
