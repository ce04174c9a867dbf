"""Turn `answerValueSet: "#id"` that points at a ValueSet *contained in the Questionnaire* into
plain `answerOption`s, so published forms written that way (the SDC PHQ-9 example, Argonaut
questionnaires) work offline.

Only value sets that list their codes can be read: an `expansion.contains`, or a `compose` whose
every `include` lists `concept`s (no filters, no imported value sets, no excludes). Anything else
needs a terminology server the kiosk does not have; such items are left as they are and the
parser names them. Scores (ordinalValue, itemWeight, CO-value) on a concept move to the option,
and `designation`s with a language become `translation` extensions on the option's display.
"""
from __future__ import annotations

import copy
from typing import Any


# Same url as translations.TRANSLATION (that module imports this one, so it is not imported here).
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
SCORE_EXTENSION_URLS = (
    "http://hl7.org/fhir/StructureDefinition/ordinalValue",
    "http://hl7.org/fhir/StructureDefinition/itemWeight",
    "http://hl7.org/fhir/StructureDefinition/iso21090-CO-value",
)


def _contained_value_sets(raw_q: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for resource in raw_q.get("contained") or []:
        if isinstance(resource, dict) and resource.get("resourceType") == "ValueSet" and isinstance(resource.get("id"), str):
            out[resource["id"]] = resource
    return out


def _translated(display: str | None, designations: Any) -> dict[str, Any] | None:
    """The `_display` element carrying each designation with a language as a translation."""
    extensions = []
    for designation in designations if isinstance(designations, list) else []:
        if not isinstance(designation, dict):
            continue
        language, value = designation.get("language"), designation.get("value")
        if isinstance(language, str) and isinstance(value, str) and value.strip() and value != display:
            extensions.append({"url": TRANSLATION, "extension": [
                {"url": "lang", "valueCode": language}, {"url": "content", "valueString": value}]})
    return {"extension": extensions} if extensions else None


def _option(system: Any, concept: dict[str, Any]) -> dict[str, Any] | None:
    code = concept.get("code")
    if not isinstance(code, str) or not code:
        return None
    coding: dict[str, Any] = {"code": code}
    if isinstance(system, str) and system:
        coding["system"] = system
    display = concept.get("display")
    if isinstance(display, str) and display:
        coding["display"] = display
        translated = _translated(display, concept.get("designation"))
        if translated:
            coding["_display"] = translated
    option: dict[str, Any] = {"valueCoding": coding}
    scores = [e for e in concept.get("extension") or [] if isinstance(e, dict) and e.get("url") in SCORE_EXTENSION_URLS]
    if scores:
        option["extension"] = copy.deepcopy(scores)
    return option


def value_set_options(value_set: dict[str, Any]) -> list[dict[str, Any]] | None:
    """answerOptions for a value set that lists its codes; None when it does not."""
    expansion = value_set.get("expansion")
    if isinstance(expansion, dict) and isinstance(expansion.get("contains"), list):
        options = [_option(c.get("system"), c) for c in expansion["contains"] if isinstance(c, dict)]
        return [o for o in options if o] or None
    compose = value_set.get("compose")
    if not isinstance(compose, dict) or compose.get("exclude"):
        return None
    includes = compose.get("include")
    if not isinstance(includes, list) or not includes:
        return None
    options = []
    for include in includes:
        if not isinstance(include, dict) or include.get("filter") or include.get("valueSet"):
            return None
        concepts = include.get("concept")
        if not isinstance(concepts, list) or not concepts:
            return None  # "all codes of a system": needs the code system
        options.extend(_option(include.get("system"), c) for c in concepts if isinstance(c, dict))
    return [o for o in options if o] or None


def inline_value_sets(raw_q: Any) -> Any:
    """raw_q itself when nothing can be inlined; otherwise a copy with the options written in."""
    if not isinstance(raw_q, dict):
        return raw_q
    value_sets = _contained_value_sets(raw_q)
    if not value_sets:
        return raw_q
    copied = copy.deepcopy(raw_q)

    def walk(items: Any) -> None:
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            reference = item.get("answerValueSet")
            if isinstance(reference, str) and reference.startswith("#") and not item.get("answerOption"):
                value_set = value_sets.get(reference[1:])
                options = value_set_options(value_set) if value_set else None
                if options:
                    item["answerOption"] = options
                    del item["answerValueSet"]
            walk(item.get("item"))

    walk(copied.get("item"))
    return copied
