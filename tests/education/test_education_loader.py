"""Reading articles from folders and from the content bundle: lenient where the meaning is
clear, every other problem named, a broken article left out and never a crash."""
from __future__ import annotations

import json

import pytest

from education_helpers import EASY_EN, bundle_item, write_article
from kiosk.education import load_article_dir, load_article_dirs, parse_article_text, parse_content_bundle
from kiosk.education.articles import BUNDLED, SERVED


def messages(problems) -> str:
    return "\n".join(str(p) for p in problems)


def test_a_good_folder_reads_as_written(articles_dir):
    folder = write_article(articles_dir, "wash-hands", {"id": "wash-hands", "version": 3, "topics": ["germs"],
                                                       "visit_types": ["follow_up"]})
    entry, problems = load_article_dir(folder)
    assert problems == []
    assert (entry.id, entry.version, entry.topics, entry.visit_types, entry.languages, entry.origin) == (
        "wash-hands", 3, ("germs",), ("follow_up",), ("en",), BUNDLED)
    assert entry.texts["en"].title == EASY_EN[0]
    assert entry.texts["en"].paragraphs == tuple(EASY_EN[1])
    assert entry.picture is None


def test_text_files_wrapped_lines_crlf_and_bom_are_read_leniently():
    text, problems = parse_article_text("\ufeffA title\r\n\r\nOne paragraph\r\nwrapped   here.\r\n\r\n\r\nTwo.\r\n")
    assert problems == []
    assert text.title == "A title" and text.paragraphs == ("One paragraph wrapped here.", "Two.")


def test_chinese_lines_of_one_paragraph_join_without_a_space():
    text, _ = parse_article_text("标题\n\n第一行\n第二行。\n")
    assert text.paragraphs == ("第一行第二行。",)


@pytest.mark.parametrize("text, words", [
    ("", "is empty"),
    ("\n\nA paragraph without a title.\n", "first line must be the title"),
    ("Only a title\n", "no paragraphs"),
    ("x" * 300 + "\n\nBody.\n", "is a paragraph where the title should be"),
])
def test_a_text_without_a_usable_title_or_body_is_left_out(text, words):
    article, problems = parse_article_text(text)
    assert article is None and words in messages(problems)


def test_no_blank_line_after_the_title_is_read_but_reported():
    article, problems = parse_article_text("Title\nFirst paragraph.\n\nSecond.\n")
    assert article.title == "Title" and article.paragraphs == ("First paragraph.", "Second.")
    assert "blank line after the title" in messages(problems)


def test_broken_json_skips_the_article_names_the_file_and_keeps_the_others(articles_dir):
    write_article(articles_dir, "good-one")
    write_article(articles_dir, "broken", '{"id": "broken", "version": 1,')
    entries, problems = load_article_dirs(articles_dir)
    assert [e.id for e in entries] == ["good-one"]
    assert len(problems) == 1
    assert "broken/article.json" in problems[0].where and "cannot be read as JSON" in problems[0].message


def test_a_missing_title_skips_that_language_only(articles_dir):
    folder = write_article(articles_dir, "wash-hands", texts={
        "en": "Wash your hands\n\nUse soap.\n", "es": "\nSin título.\n"})
    entry, problems = load_article_dir(folder)
    assert entry.languages == ("en",)
    assert "es.txt" in problems[0].where and "title" in problems[0].message


def test_a_file_not_named_after_a_language_is_left_out_and_named(articles_dir):
    folder = write_article(articles_dir, "wash-hands", texts={
        "en": "Wash your hands\n\nUse soap.\n", "english": "Wash\n\nSoap.\n", "notes": "x\n\ny\n"})
    entry, problems = load_article_dir(folder)
    assert entry.languages == ("en",)
    assert sorted(p.where.rsplit("/", 1)[-1] for p in problems) == ["english.txt", "notes.txt"]
    assert all("not named after a language code" in p.message for p in problems)


def test_a_language_without_a_formula_is_still_an_article_language(articles_dir):
    folder = write_article(articles_dir, "wash-hands", texts={
        "en": "Wash your hands\n\nUse soap.\n", "fr": "Lavez-vous les mains\n\nAvec du savon.\n"})
    entry, problems = load_article_dir(folder)
    assert problems == [] and entry.languages == ("en", "fr")


@pytest.mark.parametrize("meta, kept, words", [
    # lenient: the meaning is clear
    ({"id": " wash-hands ", "version": "2", "topics": "Germs", "visit_types": "follow_up"}, True, None),
    ({"version": 1, "topics": ["germs"]}, True, None),  # the folder name is the id
    ({"id": "wash-hands", "version": 1, "topics": ["Mental Health", "germs", "germs"]}, True, None),
    # kept, with the problem named
    ({"id": "wash-hands", "version": 1, "topics": ["germs", "astrology"]}, True, "'astrology' is not one of"),
    ({"id": "wash-hands", "version": 1, "topics": ["germs"], "visit_type": ["x"]}, True,
     "did you mean 'visit_types'"),
    ({"id": "wash-hands", "version": 1, "topics": ["germs"], "picture": "missing.png"}, True,
     "not in the article's folder"),
    ({"id": "wash-hands", "version": 1, "topics": ["germs"], "picture": "../secret.png"}, True,
     "a file in the article's folder"),
    # left out
    ({"id": "other-name", "version": 1, "topics": ["germs"]}, False, "must be the folder's name"),
    ({"id": "Wash Hands!", "version": 1, "topics": ["germs"]}, False, "'id' must be lower-case"),
    ({"id": "wash-hands", "topics": ["germs"]}, False, "'version' must be a whole number"),
    ({"id": "wash-hands", "version": 0, "topics": ["germs"]}, False, "'version' must be a whole number"),
    ({"id": "wash-hands", "version": True, "topics": ["germs"]}, False, "'version' must be a whole number"),
    ([1, 2], False, "must be a JSON object"),
])
def test_article_json_leniency(articles_dir, meta, kept, words):
    folder = write_article(articles_dir, "wash-hands", meta)
    entry, problems = load_article_dir(folder)
    assert (entry is not None) == kept, messages(problems)
    if words is None:
        assert problems == []
    else:
        assert words in messages(problems)


def test_lenient_values_are_normalised(articles_dir):
    folder = write_article(articles_dir, "wash-hands", {"id": " wash-hands ", "version": "2",
                                                        "topics": ["Mental Health", "germs", "germs"],
                                                        "visit_types": " follow_up "})
    entry, _ = load_article_dir(folder)
    assert (entry.version, entry.topics, entry.visit_types) == (2, ("mental-health", "germs"), ("follow_up",))


def test_a_picture_next_to_the_article_is_used(articles_dir):
    folder = write_article(articles_dir, "wash-hands", {"id": "wash-hands", "version": 1, "topics": ["germs"],
                                                        "picture": "hands.png"})
    (folder / "hands.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    entry, problems = load_article_dir(folder)
    assert problems == [] and entry.picture == folder / "hands.png"


def test_a_folder_without_article_json_or_texts_is_left_out(articles_dir):
    (articles_dir / "empty").mkdir()
    write_article(articles_dir, "no-text", texts={})
    (articles_dir / "_drafts").mkdir()  # folders starting with _ or . are not articles
    (articles_dir / "README.md").write_text("not an article")
    entries, problems = load_article_dirs(articles_dir)
    assert entries == []
    text = messages(problems)
    assert "empty/article.json" in text and "is missing" in text
    assert "no text in any language" in text and "_drafts" not in text


def test_unreadable_text_is_named(articles_dir):
    folder = write_article(articles_dir, "wash-hands", texts={"en": "Title\n\nBody.\n"})
    (folder / "es.txt").write_bytes(b"T\xedtulo\n\nCuerpo.\n")  # Latin-1, not UTF-8
    entry, problems = load_article_dir(folder)
    assert entry.languages == ("en",) and "UTF-8" in messages(problems)


# -- the content bundle -------------------------------------------------------------------

def test_a_good_bundle_reads_as_written():
    entries, problems = parse_content_bundle([bundle_item("a-1"), bundle_item("b-2", 4, visit_types=["new_patient"])])
    assert problems == []
    assert [(e.id, e.version, e.visit_types, e.origin) for e in entries] == [
        ("a-1", 1, (), SERVED), ("b-2", 4, ("new_patient",), SERVED)]
    assert entries[0].as_bundle_item() == bundle_item("a-1")


def test_bundle_items_round_trip_through_json():
    entries, _ = parse_content_bundle(json.loads(json.dumps([bundle_item()])))
    again, problems = parse_content_bundle([e.as_bundle_item() for e in entries])
    assert problems == [] and again == entries


def test_a_bad_bundle_item_is_left_out_and_named_and_the_rest_kept():
    items = [bundle_item("first"), "not an article", bundle_item("third", version="x"),
             bundle_item("fourth", languages={"en": {"paragraphs": ["No title."]}}), bundle_item("first", 2)]
    entries, problems = parse_content_bundle(items)
    assert [e.id for e in entries] == ["first"]
    text = messages(problems)
    assert "content bundle item 2: must be a JSON object" in text
    assert "content bundle item 3 (article 'third'): 'version'" in text
    assert "item 4 (article 'fourth')" in text and "'title' must be text" in text
    assert "item 5 (article 'first'): the same id as item 1" in text


def test_a_bundle_that_is_not_a_list_is_a_problem_not_a_crash():
    for items in (None, {"items": []}, "x", 3):
        entries, problems = parse_content_bundle(items)
        assert entries == [] and "must be a list of articles" in problems[0].message


def test_bundle_leniency_and_its_limits():
    lenient = bundle_item(languages={"EN": {"title": " Title ", "paragraphs": "One.\n\nTwo\nlines."}})
    entries, problems = parse_content_bundle([lenient])
    assert problems == []
    assert entries[0].texts["en"].title == "Title" and entries[0].texts["en"].paragraphs == ("One.", "Two lines.")
    with_picture = bundle_item(picture="x.png")
    entries, problems = parse_content_bundle([with_picture])
    assert entries[0].picture is None and "pictures come only with the articles bundled" in messages(problems)
    bad_language = bundle_item(languages={"en": {"title": "T", "paragraphs": ["P."]}, "english!": {}})
    entries, problems = parse_content_bundle([bad_language])
    assert entries[0].languages == ("en",) and "is not a language code" in messages(problems)
    huge = bundle_item(languages={"en": {"title": "T", "paragraphs": ["word " * 5000]}})
    entries, problems = parse_content_bundle([huge])
    assert entries == [] and "split it into shorter articles" in messages(problems)
