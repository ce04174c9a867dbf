"""Cutting an article into pages that fit the screen, without knowing about the screen.

The reader screen passes `fits(pieces) -> bool`, which measures a page of paragraph pieces
at the current text size. A page holds whole paragraphs while they fit; a paragraph too
long for a page of its own is cut between sentences. A sentence too long for an empty page
gets a page to itself (the screen scrolls it): paging always moves on and never makes an
empty page.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from .sentences import sentences

Page = list[str]  # paragraph pieces, shown one under another


def paginate(paragraphs: Sequence[str], fits: Callable[[list[str]], bool],
             language: str = "en") -> list[Page]:
    pages: list[Page] = []
    page: Page = []

    def turn() -> None:
        nonlocal page
        if page:
            pages.append(page)
            page = []

    for paragraph in (p.strip() for p in paragraphs):
        if not paragraph:
            continue
        if fits(page + [paragraph]):
            page.append(paragraph)
            continue
        if page and fits([paragraph]):  # whole on the next page
            turn()
            page.append(paragraph)
            continue
        # Too long for any page: fill pages sentence by sentence.
        spans = sentences(paragraph, language) or [(0, len(paragraph))]
        start: int | None = None  # where the piece being built starts (None: nothing in it yet)
        end: int | None = None  # where the last sentence that fits in it ends
        for s_start, s_end in spans:
            if start is None:
                start = s_start
            if fits(page + [paragraph[start:s_end]]):
                end = s_end
                continue
            if end is not None:  # the piece so far fits: it closes this page
                page.append(paragraph[start:end])
                start, end = s_start, None
            turn()
            if fits([paragraph[start:s_end]]):
                end = s_end
            else:  # one sentence bigger than a page: alone on its page
                pages.append([paragraph[start:s_end]])
                start = None
        if start is not None and end is not None:
            page.append(paragraph[start:end])
    turn()
    return pages
