"""Where the sentences of a paragraph are, for paging and read-aloud.

`sentences(paragraph, language)` gives (start, end) character spans: `paragraph[start:end]`
is one sentence with its end punctuation and closing quotes, without surrounding spaces.

What ends a sentence:
- Chinese 。！？ (and their full-width forms) and the Arabic ؟: always;
- "!" and "?": when a space (or the end, or a CJK character) follows;
- "." (and "…"): when a space (or the end) follows and the next word does not start with a small
  letter, and the word before is not an abbreviation of the language ("Dr.", "Sra.",
  "BS.") nor a list number at the start of a sentence ("1."). A dot inside a word or a
  number ("1.5", "e.g.", "www.example.org") never ends one.
"""
from __future__ import annotations

import re

# Abbreviations that come before a name or a number: a dot after them never ends a sentence.
_TITLES = {
    "en": {"dr", "mr", "mrs", "ms", "mx", "prof", "st", "sr", "jr", "vs", "fig"},
    "es": {"dr", "dra", "sr", "sra", "srta", "ud", "uds", "lic", "núm", "pág", "av", "p", "ej", "ee", "uu"},
    "vi": {"bs", "ts", "ths", "pgs", "gs", "tp"},
    "ar": {"د", "أ"},
}
_ALWAYS_END = set("。！？｡؟") | {"\uff0e"}  # ｡ half-width, ． full-width full stop
_MAYBE = set(".!?…")
_CLOSING = set("\"'”’»)]}」』】〉》）›")
_OPENING = set("\"'“‘«([{¿¡「『【〈《（‹—-")
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
_WORD_BEFORE = re.compile(r"([^\s\"'“‘«(\[¿¡]+)$")


def _language_root(language: str) -> str:
    return language.lower().split("-")[0].split("_")[0]


def _next_visible(text: str, index: int) -> str:
    """The first character at or after `index` that is not a space or an opening mark."""
    while index < len(text) and (text[index].isspace() or text[index] in _OPENING):
        index += 1
    return text[index] if index < len(text) else ""


def _dot_ends_sentence(text: str, dot: int, after: int, start: int, language: str) -> bool:
    """Does the run of end marks text[dot:after] (which starts with '.') end a sentence?"""
    if after < len(text) and not text[after].isspace() and not _CJK.match(text[after]):
        return False  # a dot inside a word or number: "1.5", "e.g", "example.org"
    following = _next_visible(text, after)
    if following == "":
        return True
    if following.islower():
        return False  # "approx. two", "p. ej. una"
    before = _WORD_BEFORE.search(text, start, dot)
    word = before.group(1).lower() if before else ""
    if word.isdigit() and not text[start:dot].strip(" \"'“‘«(¿¡").replace(word, "", 1).strip():
        return False  # a list number: "1. Wash your hands."
    if word in _TITLES.get(language, ()) and after - dot == 1:
        return False
    return True  # "etc." or "a.m." followed by a capital: the sentence ended there


def sentences(paragraph: str, language: str = "en") -> list[tuple[int, int]]:
    """The (start, end) spans of the sentences of `paragraph`, in order."""
    language = _language_root(language)
    spans: list[tuple[int, int]] = []
    text = paragraph
    n = len(text)
    start = 0
    i = 0
    while i < n:
        char = text[i]
        if char not in _ALWAYS_END and char not in _MAYBE:
            i += 1
            continue
        after = i
        while after < n and (text[after] in _ALWAYS_END or text[after] in _MAYBE):
            after += 1
        run = text[i:after]
        while after < n and text[after] in _CLOSING:
            after += 1
        if any(c in _ALWAYS_END for c in run):
            ends = True
        elif run[0] in ".…":
            ends = _dot_ends_sentence(text, i, after, start, language)
        else:  # ! or ?
            ends = after >= n or text[after].isspace() or bool(_CJK.match(text[after]))
        if ends:
            _add(spans, text, start, after)
            start = after
        i = after
    _add(spans, text, start, n)
    return spans


def _add(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start, end))


def sentence_texts(paragraph: str, language: str = "en") -> list[str]:
    return [paragraph[s:e] for s, e in sentences(paragraph, language)]
