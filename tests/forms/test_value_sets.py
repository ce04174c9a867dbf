"""answerValueSet pointing at a ValueSet contained in the form: read offline as answerOption."""
import pytest

from kiosk.forms.questionnaire import Coding, QuestionnaireError, parse_questionnaire
from kiosk.forms.scoring import read_scoring
from kiosk.forms.translations import missing_translations
from kiosk.forms.value_sets import inline_value_sets

ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
SYSTEM = "http://example.org/answers"


def form(value_set: dict, reference: str = "#vs") -> dict:
    return {"resourceType": "Questionnaire", "contained": [value_set],
            "item": [{"linkId": "q", "type": "choice", "text": "How often?", "answerValueSet": reference}]}


def listed(**compose_extra) -> dict:
    return {"resourceType": "ValueSet", "id": "vs", "compose": {"include": [{"system": SYSTEM, "concept": [
        {"code": "never", "display": "Never", "extension": [{"url": ORDINAL, "valueDecimal": 0}],
         "designation": [{"language": "es", "value": "Nunca"}]},
        {"code": "often", "display": "Often", "extension": [{"url": ORDINAL, "valueDecimal": 2}]},
    ]}], **compose_extra}}


def test_listed_concepts_become_options_with_scores_and_translations():
    raw = form(listed())
    item = parse_questionnaire(raw).by_link_id["q"]
    assert [o.value for o in item.answer_options] == [Coding(SYSTEM, "never", "Never"), Coding(SYSTEM, "often", "Often")]
    assert [score for _, score in read_scoring(raw).option_scores["q"]] == [0, 2]
    assert missing_translations(raw, ["es"]) == ["item q: text has no 'es' translation",
                                                 "item q: option often display has no 'es' translation"]
    assert "answerOption" not in raw["item"][0]  # the caller's dict is left alone


def test_expansion_is_read_too():
    value_set = {"resourceType": "ValueSet", "id": "vs", "expansion": {"contains": [
        {"system": SYSTEM, "code": "a", "display": "A"}]}}
    assert parse_questionnaire(form(value_set)).by_link_id["q"].answer_options[0].value == Coding(SYSTEM, "a", "A")


@pytest.mark.parametrize("value_set, reference", [
    (listed(), "http://example.org/ValueSet/elsewhere"),  # not contained: needs a server
    (listed(), "#other"),  # no such contained resource
    ({"resourceType": "ValueSet", "id": "vs", "compose": {"include": [{"system": SYSTEM}]}}, "#vs"),  # whole system
    ({"resourceType": "ValueSet", "id": "vs", "compose": {"include": [
        {"system": SYSTEM, "filter": [{"property": "concept", "op": "is-a", "value": "x"}]}]}}, "#vs"),
    (listed(exclude=[{"system": SYSTEM, "concept": [{"code": "never"}]}]), "#vs"),
])
def test_what_needs_a_terminology_server_is_still_an_error(value_set, reference):
    with pytest.raises(QuestionnaireError, match="answerValueSet .* without answerOption is not supported"):
        parse_questionnaire(form(value_set, reference))


def test_nothing_to_inline_returns_the_same_object():
    raw = {"resourceType": "Questionnaire", "item": []}
    assert inline_value_sets(raw) is raw
