import json
from pathlib import Path

from kiosk.forms.translations import TRANSLATION, missing_translations
from tests.forms.scoring_helpers import phq9

INSTRUMENTS = Path(__file__).resolve().parents[2] / "kiosk" / "forms" / "instruments"


def load(name: str) -> dict:
    return json.loads((INSTRUMENTS / f"{name}.json").read_text(encoding="utf-8"))


def es(text: str) -> dict:
    return {"extension": [{"url": TRANSLATION, "extension": [
        {"url": "lang", "valueCode": "es"}, {"url": "content", "valueString": text}]}]}


def test_translated_file_has_no_problems():
    assert missing_translations(load("phq-9"), ["es"]) == []


def test_removed_translation_is_reported_with_its_link_id():
    raw_q = load("phq-9")
    link_id = raw_q["item"][1]["linkId"]
    del raw_q["item"][1]["_text"]
    assert missing_translations(raw_q, ["es"]) == [f"item {link_id}: text has no 'es' translation"]


def test_title_prefix_value_string_and_nested_items_count():
    raw_q = {"resourceType": "Questionnaire", "title": "T", "item": [
        {"linkId": "g", "type": "group", "text": "G", "_text": es("G"), "item": [
            {"linkId": "q1", "type": "choice", "prefix": "1.", "text": "Q", "_text": es("P"),
             "answerOption": [{"valueString": "yes", "_valueString": es("sí")}, {"valueString": "no"}]},
        ]},
    ]}
    assert missing_translations(raw_q, ["es"]) == [
        "questionnaire title has no 'es' translation",
        "item q1: prefix has no 'es' translation",
        "item q1: option 'no' has no 'es' translation",
    ]


def test_one_problem_per_language_and_none_without_languages():
    raw_q = {"item": [{"linkId": "a", "type": "display", "text": "Hi", "_text": es("Hola")}]}
    assert missing_translations(raw_q, ["es", "zh"]) == ["item a: text has no 'zh' translation"]
    assert missing_translations(phq9(), []) == []


def test_other_language_or_empty_content_does_not_count():
    other = {"extension": [{"url": TRANSLATION, "extension": [
        {"url": "lang", "valueCode": "fr"}, {"url": "content", "valueString": "Salut"}]}]}
    raw_q = {"item": [{"linkId": "a", "type": "display", "text": "Hi", "_text": other},
                      {"linkId": "b", "type": "display", "text": "Hi", "_text": es("  ")}]}
    assert missing_translations(raw_q, ["es"]) == ["item a: text has no 'es' translation",
                                                   "item b: text has no 'es' translation"]


def test_regional_tags_serve_the_language_and_an_exact_tag_wins():
    from kiosk.forms.translations import translation

    def tr(*pairs):
        return {"extension": [{"url": TRANSLATION, "extension": [
            {"url": "lang", "valueCode": lang}, {"url": "content", "valueString": text}]} for lang, text in pairs]}

    assert translation(tr(("es-MX", "Hola")), "es") == "Hola"
    assert translation(tr(("es", "Hola")), "es-US") == "Hola"
    assert translation(tr(("es-MX", "Qué onda"), ("es-US", "Hola")), "es-US") == "Hola"
    assert translation(tr(("pt", "Olá")), "es") is None


def test_text_in_a_language_falls_back_to_the_base_text():
    from kiosk.forms.translations import is_base_language, text_in
    owner = {"text": "Hello", "_text": es("Hola")}
    assert text_in(owner, "text", "es") == "Hola"
    assert text_in(owner, "text", "zh") == "Hello"
    assert text_in({"linkId": "x"}, "text", "es") is None
    assert is_base_language({"language": "en-US"}, "en") and is_base_language({}, "en")
    assert not is_base_language({"language": "en"}, "es")
