"""Find Questionnaire texts without a translation (FHIR `translation` extension). No Kivy.

A text counts as translated into a language when its primitive's `_x` element holds a
translation extension with that `lang` and a non-empty `content`. Checked: the Questionnaire
`title`, every item's `text` and `prefix`, and every answerOption `valueCoding.display` /
`valueString`, at any nesting depth.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kiosk.forms.value_sets import inline_value_sets

TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"


def _primary(language: str) -> str:
    return language.split("-")[0].lower()


def translation(element: Any, language: str) -> str | None:
    """The translation into `language` held by a primitive's `_x` element, if any. An exact
    language tag wins; otherwise one of the same language ("es-MX" serves "es", and back)."""
    if not isinstance(element, dict):
        return None
    close: str | None = None
    for ext in element.get("extension") or []:
        if not isinstance(ext, dict) or ext.get("url") != TRANSLATION:
            continue
        parts = {e.get("url"): e for e in ext.get("extension") or [] if isinstance(e, dict)}
        lang = (parts.get("lang") or {}).get("valueCode")
        content = (parts.get("content") or {}).get("valueString")
        if not isinstance(lang, str) or not isinstance(content, str) or not content.strip():
            continue
        if lang == language:
            return content
        if close is None and _primary(lang) == _primary(language):
            close = content
    return close


def is_base_language(raw_q: Any, language: str) -> bool:
    """Whether the form's own texts are in `language` (Questionnaire.language, English if unset)."""
    base = raw_q.get("language") if isinstance(raw_q, dict) else None
    return _primary(base if isinstance(base, str) and base else "en") == _primary(language)


def text_in(owner: Any, key: str, language: str) -> str | None:
    """owner[key] (a text, a display...) in `language`: its translation, else the text itself."""
    if not isinstance(owner, dict):
        return None
    base = owner.get(key)
    found = translation(owner.get(f"_{key}"), language)
    if found is not None:
        return found
    return base if isinstance(base, str) else None


def missing_translations(questionnaire_json: Any, languages: Iterable[str]) -> list[str]:
    """One readable problem per missing (linkId, field, language), in document order,
    e.g. "item 44250-9: text has no 'es' translation"."""
    languages = [lang for lang in languages if lang]
    if not languages or not isinstance(questionnaire_json, dict):
        return []
    questionnaire_json = inline_value_sets(questionnaire_json)  # their displays are shown too
    problems: list[str] = []

    def need(where: str, owner: dict, key: str) -> None:
        if key not in owner:
            return
        for lang in languages:
            if translation(owner.get(f"_{key}"), lang) is None:
                problems.append(f"{where} has no {lang!r} translation")

    need("questionnaire title", questionnaire_json, "title")

    def walk(items: Any) -> None:
        if not isinstance(items, list):
            return
        for item in items:
            if not isinstance(item, dict):
                continue
            link_id = item.get("linkId")
            need(f"item {link_id}: text", item, "text")
            need(f"item {link_id}: prefix", item, "prefix")
            for option in item.get("answerOption") or []:
                if not isinstance(option, dict):
                    continue
                coding = option.get("valueCoding")
                if isinstance(coding, dict):
                    need(f"item {link_id}: option {coding.get('code')} display", coding, "display")
                if "valueString" in option:
                    need(f"item {link_id}: option {option['valueString']!r}", option, "valueString")
            walk(item.get("item"))

    walk(questionnaire_json.get("item"))
    return problems
