import datetime as dt

import pytest

from kiosk.forms.questionnaire import (
    AnswerOption,
    Coding,
    EnableWhen,
    QuestionnaireError,
    parse_questionnaire,
)
from tests.forms.conftest import LOINC


def q(*items, **top):
    return {"resourceType": "Questionnaire", "status": "active", "item": list(items), **top}


def test_phq2_parses_into_items(phq2):
    parsed = parse_questionnaire(phq2)
    assert parsed.warnings == ()
    assert parsed.codes == (Coding(LOINC, "55757-9", "PHQ-2"),)
    assert parsed.canonical() == "http://example.org/fhir/Questionnaire/phq-2|1.0"
    assert [i.link_id for i in parsed.walk()] == ["intro", "phq2", "44250-9", "44255-8", "talk", "comment"]
    first = parsed.by_link_id["44250-9"]
    assert first.type == "choice" and first.required and not first.repeats
    assert first.answer_options[0] == AnswerOption(Coding(LOINC, "LA6568-5", "Not at all"))
    assert [o.value.code for o in first.answer_options] == ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]
    assert parsed.parent_of["44250-9"] == "phq2" and parsed.parent_of["phq2"] is None
    talk = parsed.by_link_id["talk"]
    assert talk.enable_behavior == "any"
    assert talk.enable_when[0] == EnableWhen("44250-9", "!=", Coding(LOINC, "LA6568-5", "Not at all"))
    assert parsed.by_link_id["comment"].max_length == 20
    assert parsed.by_link_id["comment"].required is False  # absent means false


def test_every_supported_type_and_initial_values():
    parsed = parse_questionnaire(q(
        {"linkId": "b", "type": "boolean", "text": "b", "initial": [{"valueBoolean": True}]},
        {"linkId": "d", "type": "decimal", "text": "d", "initial": [{"valueDecimal": 1.5}]},
        {"linkId": "i", "type": "integer", "text": "i", "readOnly": True, "initial": [{"valueInteger": 3}]},
        {"linkId": "dt", "type": "date", "text": "dt", "initial": [{"valueDate": "2020-02-29"}]},
        {"linkId": "s", "type": "string", "text": "s", "initial": [{"valueString": "x"}]},
        {"linkId": "t", "type": "text", "text": "t"},
        {"linkId": "c", "type": "choice", "text": "c", "repeats": True,
         "answerOption": [{"valueString": "a"}, {"valueInteger": 2, "initialSelected": True}]},
        {"linkId": "oc", "type": "open-choice", "text": "oc", "answerOption": [{"valueString": "a"}]},
    ))
    by = parsed.by_link_id
    assert by["b"].initial == (True,)
    assert by["d"].initial == (1.5,)
    assert by["i"].initial == (3,) and by["i"].read_only
    assert by["dt"].initial == (dt.date(2020, 2, 29),)
    assert by["s"].initial == ("x",)
    assert by["c"].repeats
    assert by["c"].answer_options == (AnswerOption("a"), AnswerOption(2, initial_selected=True))
    assert parsed.warnings == ()


def test_lenient_parse_collects_warnings():
    parsed = parse_questionnaire({  # no resourceType
        "item": [
            {"linkId": "q1", "type": "choice", "text": "q1", "required": "true",
             "answerOption": [{"code": "yes", "system": "http://x"}, {"valueCoding": "no"}]},
            {"linkId": "q2", "type": "integer", "text": "q2", "maxLength": 3},
            {"linkId": "q3", "type": "choice", "text": "q3", "option": [{"valueString": "a"}]},
            {"linkId": "q4", "type": "string", "text": "q4",
             "enableWhen": [{"question": "q1", "answerCoding": {"code": "yes"}},
                            {"question": "q2", "hasAnswer": True}]},
            {"linkId": "q5", "type": "string"},
        ],
    })
    by = parsed.by_link_id
    assert by["q1"].required is True
    assert [o.value for o in by["q1"].answer_options] == [Coding("http://x", "yes"), Coding(None, "no")]
    assert by["q2"].max_length is None
    assert [o.value for o in by["q3"].answer_options] == ["a"]
    assert by["q4"].enable_when == (EnableWhen("q1", "=", Coding(None, "yes")), EnableWhen("q2", "exists", True))
    assert by["q4"].enable_behavior == "all"
    text = "\n".join(parsed.warnings)
    for expected in ("resourceType missing", "'q1': required is the string", "'q1': answerOption without valueCoding",
                     "'q1': answerOption is a bare code", "'q2': maxLength on a integer", "'q3': 'option' (STU3)",
                     "'q4': enableWhen without operator", "'q4': enableWhen.hasAnswer", "'q4': several enableWhen",
                     "'q5': question has no text"):
        assert expected in text, expected
    assert len(parsed.warnings) == 10


@pytest.mark.parametrize("items, link_id, problem", [
    ([{"linkId": "a", "type": "quantity"}], "a", "unsupported item type 'quantity'"),
    ([{"linkId": "a", "type": "attachment"}], "a", "unsupported item type"),
    ([{"linkId": "a"}], "a", "no type"),
    ([{"linkId": "a", "type": "string"}, {"linkId": "g", "type": "group", "item": [{"linkId": "a", "type": "string"}]}],
     "a", "duplicate linkId"),
    ([{"linkId": "a", "type": "string", "enableWhen": [{"question": "nope", "operator": "exists", "answerBoolean": True}]}],
     "a", "unknown linkId 'nope'"),
    ([{"linkId": "a", "type": "string", "enableWhen": [{"question": "a", "operator": "exists", "answerBoolean": True}]}],
     "a", "the item itself"),
    ([{"linkId": "a", "type": "display", "text": "hi"},
      {"linkId": "b", "type": "string", "enableWhen": [{"question": "a", "operator": "exists", "answerBoolean": True}]}],
     "b", "refers to display"),
    ([{"linkId": "a", "type": "string", "enableWhen": [{"question": "b", "operator": "=", "answerBoolean": True}]},
      {"linkId": "b", "type": "integer"}], "a", "does not fit integer"),
    ([{"linkId": "a", "type": "string", "enableWhen": [{"question": "b", "operator": "exists", "answerInteger": 1}]},
      {"linkId": "b", "type": "integer"}], "a", "'exists' needs answerBoolean"),
    ([{"linkId": "a", "type": "string", "enableWhen": [{"question": "b", "operator": ">", "answerCoding": {"code": "x"}}]},
      {"linkId": "b", "type": "choice", "answerOption": [{"valueCoding": {"code": "x"}}]}], "a", "cannot order"),
    ([{"linkId": "a", "type": "string", "enableWhen": [{"question": "b", "operator": "~", "answerString": "x"}]},
      {"linkId": "b", "type": "string"}], "a", "operator '~' is unknown"),
    ([{"linkId": "a", "type": "string", "enableWhen": [{"question": "b", "operator": "=", "answerQuantity": {}}]},
      {"linkId": "b", "type": "string"}], "a", "answerQuantity is not supported"),
    ([{"linkId": "a", "type": "string", "enableBehavior": "most",
       "enableWhen": [{"question": "b", "operator": "exists", "answerBoolean": True}]},
      {"linkId": "b", "type": "string"}], "a", "enableBehavior"),
    ([{"linkId": "a", "type": "choice"}], "a", "no answerOption"),
    ([{"linkId": "a", "type": "choice", "answerValueSet": "http://x/vs"}], "a", "answerValueSet"),
    ([{"linkId": "a", "type": "date", "initial": [{"valueDate": "2020-02"}]}], "a", "full YYYY-MM-DD"),
    ([{"linkId": "a", "type": "string", "maxLength": 0}], "a", "maxLength"),
    ([{"linkId": "a", "type": "string", "enableWhen": [{"question": "b", "operator": "exists", "answerBoolean": True}]},
      {"linkId": "b", "type": "string", "enableWhen": [{"question": "a", "operator": "exists", "answerBoolean": True}]}],
     None, "loop"),
    ([{"linkId": "g", "type": "group", "enableWhen": [{"question": "c", "operator": "exists", "answerBoolean": True}],
       "item": [{"linkId": "c", "type": "string"}]}], None, "loop"),
])
def test_what_cannot_be_understood_names_the_link_id(items, link_id, problem):
    with pytest.raises(QuestionnaireError) as caught:
        parse_questionnaire(q(*items))
    assert problem in str(caught.value)
    if link_id is not None:
        assert caught.value.link_id == link_id
        assert repr(link_id) in str(caught.value)
    else:
        assert caught.value.link_id  # a loop still names one of its items


def test_item_without_link_id_and_wrong_resource_type():
    with pytest.raises(QuestionnaireError, match="no linkId"):
        parse_questionnaire(q({"type": "string", "text": "Name"}))
    with pytest.raises(QuestionnaireError, match="not Questionnaire"):
        parse_questionnaire({"resourceType": "Patient"})


def test_read_collects_every_error_across_items():
    from kiosk.forms.questionnaire import read_questionnaire
    result = read_questionnaire(q(
        {"linkId": "a", "type": "quantity", "text": "a"},
        {"linkId": "b", "type": "choice", "text": "b"},
        {"linkId": "g", "type": "group", "item": [
            {"linkId": "c", "type": "string", "text": "c",
             "enableWhen": [{"question": "nope", "operator": "exists", "answerBoolean": True}]},
            {"linkId": "c", "type": "string", "text": "dup"},
            {"linkId": "d", "type": "choice", "text": "d", "answerOption": [{"valueTime": "10:00:00"}]},
        ]},
        {"type": "string", "text": "no id"},
        {"linkId": "e", "type": "string", "text": "e", "required": "maybe", "maxLength": -1},
    ))
    problems = [(e.link_id, e.problem) for e in result.errors]
    assert problems == [
        ("a", "unsupported item type 'quantity' (the kiosk reads: boolean, choice, date, decimal, display, group, "
              "integer, open-choice, string, text)"),
        ("b", "choice item has no answerOption"),
        ("c", "duplicate linkId"),
        ("d", "answerOption valueTime is not supported (only valueCoding, valueString and valueInteger)"),
        ("", "an item has no linkId (text: 'no id')"),
        ("e", "maxLength is not a positive integer"),
        ("e", "required is not a boolean"),
        ("c", "enableWhen refers to unknown linkId 'nope'"),
    ]
    # The readable rest is still there for further checks.
    assert result.questionnaire is not None and "g" in result.questionnaire.by_link_id


def test_parse_raises_the_first_error_and_carries_the_others():
    with pytest.raises(QuestionnaireError) as caught:
        parse_questionnaire(q({"linkId": "a", "type": "quantity"}, {"linkId": "b", "type": "choice"}))
    assert caught.value.link_id == "a"
    assert [e.link_id for e in caught.value.others] == ["b"]


def test_an_item_with_errors_is_not_blamed_again_by_its_dependants():
    from kiosk.forms.questionnaire import read_questionnaire
    result = read_questionnaire(q(
        {"linkId": "a", "type": "dateTime", "text": "when?"},
        {"linkId": "b", "type": "string", "text": "b", "enableWhen": [{"question": "a", "operator": "exists",
                                                                        "answerBoolean": True}]},
    ))
    assert [str(e) for e in result.errors] == [
        "item 'a': unsupported item type 'dateTime' (the kiosk reads: boolean, choice, date, decimal, display, "
        "group, integer, open-choice, string, text)"]


def test_every_loop_is_reported():
    from kiosk.forms.questionnaire import read_questionnaire
    ew = lambda other: [{"question": other, "operator": "exists", "answerBoolean": True}]  # noqa: E731
    result = read_questionnaire(q(
        {"linkId": "a", "type": "string", "enableWhen": ew("b")}, {"linkId": "b", "type": "string", "enableWhen": ew("a")},
        {"linkId": "c", "type": "string", "enableWhen": ew("d")}, {"linkId": "d", "type": "string", "enableWhen": ew("c")},
    ))
    assert [e.problem for e in result.errors] == ["enableWhen conditions form a loop"] * 2


@pytest.mark.parametrize("extension, problem", [
    ("sdc-questionnaire-enableWhenExpression", "enableWhenExpression is not supported"),
    ("sdc-questionnaire-answerExpression", "answerExpression is not supported"),
])
def test_sdc_features_that_change_the_questions_are_named(extension, problem):
    url = "http://hl7.org/fhir/uv/sdc/StructureDefinition/" + extension
    raw = q({"linkId": "a", "type": "string", "text": "a",
             "extension": [{"url": url, "valueExpression": {"language": "text/fhirpath", "expression": "true"}}]})
    with pytest.raises(QuestionnaireError, match=problem):
        parse_questionnaire(raw)


def test_modifier_extension_is_refused_and_initial_expression_only_warned():
    with pytest.raises(QuestionnaireError, match="modifierExtension"):
        parse_questionnaire(q({"linkId": "a", "type": "string", "text": "a",
                               "modifierExtension": [{"url": "http://x", "valueBoolean": True}]}))
    parsed = parse_questionnaire(q({"linkId": "a", "type": "string", "text": "a", "extension": [
        {"url": "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-initialExpression",
         "valueExpression": {"language": "text/fhirpath", "expression": "%patient.name"}}]}))
    assert parsed.warnings == ("item 'a': initialExpression (pre-filling from the record) is ignored",)


def test_r5_style_options_on_string_and_integer_items_read_as_choice():
    parsed = parse_questionnaire(q(
        {"linkId": "s", "type": "string", "text": "s", "answerOption": [{"valueString": "A"}, {"valueString": "B"}]},
        {"linkId": "i", "type": "integer", "text": "i", "answerOption": [{"valueInteger": 12}]},
        {"linkId": "m", "type": "integer", "text": "m", "answerOption": [{"valueString": "x"}]},
    ))
    assert parsed.by_link_id["s"].type == "choice" and parsed.by_link_id["i"].type == "choice"
    assert parsed.by_link_id["m"].type == "integer" and parsed.by_link_id["m"].answer_options == ()
    assert "item 's': answerOption on a string item (R5 style), read as a choice item" in parsed.warnings
    assert "item 'm': answerOption on a integer item is ignored" in parsed.warnings


def test_kiosk_relevant_extensions_and_structure():
    parsed = parse_questionnaire(q(
        {"linkId": "meds", "type": "group", "text": "Meds", "repeats": True, "extension": [
            {"url": "http://hl7.org/fhir/StructureDefinition/questionnaire-maxOccurs", "valueInteger": 3}],
         "item": [{"linkId": "name", "type": "string", "text": "Name", "prefix": "1."}]},
        {"linkId": "total", "type": "decimal", "text": "Total", "readOnly": True, "extension": [
            {"url": "http://hl7.org/fhir/StructureDefinition/questionnaire-hidden", "valueBoolean": True},
            {"url": "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression",
             "valueExpression": {"language": "text/fhirpath", "expression": "1"}}]},
        language="en",
    ))
    meds, total = parsed.by_link_id["meds"], parsed.by_link_id["total"]
    assert meds.is_repeating_group and meds.max_occurs == 3
    assert parsed.by_link_id["name"].prefix == "1."
    assert total.hidden and total.calculated and not meds.hidden
    assert parsed.language == "en"
    assert parsed.repeat_path == {"meds": ("meds",), "name": ("meds",), "total": ()}
    assert parsed.instance_of("name") == (0,) and parsed.instance_of("name", (2, 5)) == (2,)
    assert parsed.instance_of("total", (1,)) == ()
    with pytest.raises(QuestionnaireError, match="maxOccurs"):
        parse_questionnaire(q({"linkId": "g", "type": "group", "repeats": True, "item": [
            {"linkId": "x", "type": "string", "text": "x"}], "extension": [
            {"url": "http://hl7.org/fhir/StructureDefinition/questionnaire-maxOccurs", "valueInteger": 0}]}))
