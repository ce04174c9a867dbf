"""paginate(): whole paragraphs when they fit, cut between sentences when one is too long,
never an empty page, always moving on."""
from __future__ import annotations

import random

import pytest

from kiosk.education import paginate
from kiosk.education.sentences import sentence_texts


def fits_chars(limit: int):
    """A fake screen: a page fits while its pieces hold at most `limit` characters."""
    calls = []

    def fits(pieces: list[str]) -> bool:
        calls.append(list(pieces))
        return sum(len(p) for p in pieces) <= limit

    fits.calls = calls
    return fits


def test_short_paragraphs_share_a_page():
    assert paginate(["One.", "Two.", "Three."], fits_chars(100)) == [["One.", "Two.", "Three."]]


def test_a_paragraph_that_fits_on_a_page_of_its_own_is_not_cut():
    first, second = "a" * 30 + ".", "Second paragraph is here. It has two sentences."
    assert paginate([first, second], fits_chars(50)) == [[first], [second]]


def test_a_too_long_paragraph_is_cut_between_sentences_filling_the_page_first():
    long = "One two three. Four five six. Seven eight nine. Ten eleven twelve."
    pages = paginate(["Intro.", long, "End."], fits_chars(36))
    assert pages == [["Intro.", "One two three. Four five six."], ["Seven eight nine. Ten eleven twelve."],
                     ["End."]]


def test_a_sentence_bigger_than_a_page_gets_a_page_of_its_own():
    huge = "This single sentence is far too long for any page at all"
    pages = paginate(["Short.", huge + ". Next one.", "Last."], fits_chars(20))
    assert pages == [["Short."], [huge + "."], ["Next one.", "Last."]]


def test_nothing_fits_at_all_still_moves_on_one_sentence_per_page():
    pages = paginate(["A b. C d.", "E f."], lambda pieces: False)
    assert pages == [["A b."], ["C d."], ["E f."]]


def test_empty_input_and_blank_paragraphs_make_no_pages():
    assert paginate([], fits_chars(10)) == []
    assert paginate(["", "  ", "\n"], fits_chars(10)) == []


def test_the_language_decides_the_sentences():
    pages = paginate(["第一句。第二句。第三句。"], fits_chars(8), language="zh")
    assert pages == [["第一句。第二句。"], ["第三句。"]]


def _paragraph(rng: random.Random) -> str:
    sentences = []
    for _ in range(rng.randint(1, 6)):
        words = ["word" + "x" * rng.randint(0, 8) for _ in range(rng.randint(1, 12))]
        sentences.append(" ".join(words).capitalize() + rng.choice([".", "!", "?"]))
    return " ".join(sentences)


@pytest.mark.parametrize("seed", range(40))
def test_properties_on_random_articles(seed):
    rng = random.Random(seed)
    paragraphs = [_paragraph(rng) for _ in range(rng.randint(1, 8))]
    limit = rng.randint(10, 300)
    fits = fits_chars(limit)
    pages = paginate(paragraphs, fits)
    # never an empty page or piece
    assert pages and all(page and all(piece.strip() for piece in page) for page in pages)
    # nothing lost, nothing added, in order
    assert " ".join(p for page in pages for p in page).split() == " ".join(paragraphs).split()
    # every page fits, unless it is one sentence that fits nowhere
    for page in pages:
        if not fits(page):
            assert len(page) == 1 and len(sentence_texts(page[0])) == 1 and not fits([page[0]])
    # a paragraph that fits on a page of its own is never cut
    pieces = [p for page in pages for p in page]
    for paragraph in paragraphs:
        if fits([paragraph]):
            assert paragraph in pieces
    # a whole paragraph starts a new page only when it did not fit on the one before
    for page, following in zip(pages, pages[1:]):
        if following[0] in paragraphs:
            assert not fits(page + following[:1])
