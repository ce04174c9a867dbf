"""Reading level: every bundled article must pass (this is the test that fails when an article
is too hard); a hard text fails with advice an author can act on; languages without a
formula say so and never fail."""
from __future__ import annotations

import pytest

from kiosk.education import bundled_articles
from kiosk.education.readability import (
    FERNANDEZ_HUERTA, FLESCH_KINCAID, MAX_GRADE, MIN_EASE, NOT_MEASURED, SZIGRISZT_PAZOS, measured_text,
    reading_level,
)

BUNDLED = [(entry, language) for entry in bundled_articles()[0] for language in entry.languages]

HARD_EN = ("Comprehensive cardiovascular risk management",
           ["Hypertension, characterized by persistently elevated arterial pressure, substantially increases "
            "cardiovascular morbidity and mortality, necessitating individualized pharmacological intervention "
            "alongside comprehensive lifestyle modification.",
            "Physicians frequently recommend ambulatory monitoring."])
HARD_ES = ("Gestión integral del riesgo cardiovascular",
           ["La hipertensión arterial, caracterizada por una elevación persistente de la presión sanguínea, "
            "incrementa considerablemente la morbilidad y la mortalidad cardiovasculares, lo que hace "
            "imprescindible una intervención farmacológica individualizada y una modificación exhaustiva "
            "de los hábitos."])


@pytest.mark.parametrize("entry, language", BUNDLED, ids=[f"{e.id}-{lang}" for e, lang in BUNDLED])
def test_every_bundled_article_is_easy_enough(entry, language):
    text = entry.texts[language]
    level = reading_level(text.title, text.paragraphs, language)
    assert level.ok, f"{entry.id} ({language}) is too hard: {level.message}"
    assert level.measured == (language in ("en", "es"))


def test_a_hard_english_text_fails_and_says_what_to_change():
    level = reading_level(*HARD_EN, "en")
    assert (level.metric, level.limit, level.ok, level.measured) == (FLESCH_KINCAID, MAX_GRADE, False, True)
    assert level.value > 12
    assert f"is above {MAX_GRADE:.1f}" in level.message
    assert "“Hypertension, characterized by" in level.message and "words)" in level.message
    assert "'cardiovascular' (6 syllables)" in level.message


def test_a_hard_spanish_text_fails_and_reports_szigriszt_pazos_too():
    level = reading_level(*HARD_ES, "es")
    assert (level.metric, level.limit, level.ok) == (FERNANDEZ_HUERTA, MIN_EASE, False)
    assert level.value < MIN_EASE
    assert SZIGRISZT_PAZOS in level.also and SZIGRISZT_PAZOS in level.message
    assert "“La hipertensión arterial" in level.message


def test_an_easy_spanish_text_passes_with_both_scores():
    level = reading_level("La gripe", ["Vacúnese cada año. Es segura. Lo protege a usted y a su familia."], "es")
    assert level.ok and level.value >= MIN_EASE and level.also[SZIGRISZT_PAZOS] > 0


@pytest.mark.parametrize("language, unit", [("zh", "characters"), ("vi", "syllables"), ("ar", "words"),
                                            ("fr", "words")])
def test_languages_without_a_formula_are_not_measured_and_never_fail(language, unit):
    long_sentence = {"zh": "这" * 80 + "。", "vi": "câu " * 60 + "dài.", "ar": "كلمة " * 40 + "طويلة.",
                     "fr": "mot " * 50 + "long."}[language]
    level = reading_level("Title", [long_sentence], language)
    assert (level.ok, level.measured) == (True, False)
    assert level.message.startswith(NOT_MEASURED) and unit in level.metric
    assert level.value > level.limit and "consider shortening" in level.message


def test_the_proxy_counts_chinese_characters_and_vietnamese_syllables():
    assert reading_level("标题", ["一二三四五。六七八九十。"], "zh").value == pytest.approx((2 + 5 + 5) / 3, abs=0.1)
    assert reading_level("Tựa đề", ["Một hai ba. Bốn năm."], "vi").value == pytest.approx((2 + 3 + 2) / 3, abs=0.1)


def test_title_and_paragraphs_are_measured_each_as_a_sentence():
    assert measured_text("A title", ["No end mark", "Ends here.", "Asks?"]) == \
        "A title.\n\nNo end mark.\n\nEnds here.\n\nAsks?"
    # the title counts: a hard title makes an easy body harder
    easy = ["Take it each day. It helps you."]
    assert reading_level("Comprehensive pharmacological considerations", easy, "en").value > \
        reading_level("Your pills", easy, "en").value
