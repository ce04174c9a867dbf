"""Repeating groups: answers per instance, enableWhen inside an instance, one response item per
instance (FHIR R4: a repeated group is several QuestionnaireResponse.item with the same linkId)."""
import datetime as dt

import pytest

from kiosk.forms.answers import COMPLETED, IN_PROGRESS, FormAnswers, IncompleteForm
from kiosk.forms.enable_when import EnableWhenEvaluator
from kiosk.forms.questionnaire import parse_questionnaire


def meds_form(**group_extra):
    return parse_questionnaire({"resourceType": "Questionnaire", "url": "http://x/meds", "item": [
        {"linkId": "any", "type": "boolean", "text": "Any medicines?", "required": True},
        {"linkId": "meds", "type": "group", "text": "Medicines", "repeats": True, **group_extra,
         "enableWhen": [{"question": "any", "operator": "=", "answerBoolean": True}], "item": [
             {"linkId": "name", "type": "string", "text": "Name", "required": True},
             {"linkId": "prn", "type": "boolean", "text": "Only when needed?"},
             {"linkId": "how-often", "type": "string", "text": "How often?",
              "enableWhen": [{"question": "prn", "operator": "=", "answerBoolean": False}]},
             {"linkId": "started", "type": "date", "text": "Since when?"},
         ]},
        {"linkId": "pharmacy", "type": "string", "text": "Which pharmacy?",
         "enableWhen": [{"question": "name", "operator": "exists", "answerBoolean": True}]},
    ]})


def two_medicines() -> FormAnswers:
    form = FormAnswers(meds_form())
    form.set("any", [True])
    form.set("name", ["aspirin"], (0,))
    form.set("prn", [False], (0,))
    form.set("how-often", ["daily"], (0,))
    assert form.add_instance("meds") == (1,)
    form.set("name", ["salbutamol"], (1,))
    form.set("prn", [True], (1,))
    form.set("how-often", ["hourly"], (1,))  # kept, but its instance's own prn disables it
    form.set("started", [dt.date(2024, 2, 29)], (1,))
    return form


def test_answers_are_kept_per_instance():
    form = two_medicines()
    assert form.get("name", (0,)) == ("aspirin",) and form.get("name", (1,)) == ("salbutamol",)
    assert form.get("name") == ("aspirin",)  # no instance: the first one
    assert form.instance_count("meds") == 2


def test_enable_when_inside_an_instance_reads_that_instance():
    evaluator = two_medicines().evaluator()
    assert evaluator.is_enabled("how-often", (0,)) is True
    assert evaluator.is_enabled("how-often", (1,)) is False


def test_one_response_item_per_instance_with_the_same_link_id():
    response = two_medicines().to_response(COMPLETED)
    meds = [i for i in response["item"] if i["linkId"] == "meds"]
    assert [[(c["linkId"], c["answer"][0]) for c in m["item"]] for m in meds] == [
        [("name", {"valueString": "aspirin"}), ("prn", {"valueBoolean": False}), ("how-often", {"valueString": "daily"})],
        [("name", {"valueString": "salbutamol"}), ("prn", {"valueBoolean": True}),
         ("started", {"valueDate": "2024-02-29"})],
    ]
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse as qr_model
    qr_model.model_validate(response)


def test_required_inside_each_instance():
    form = two_medicines()
    form.add_instance("meds")
    assert form.missing_required_entries() == [("name", (2,))]
    with pytest.raises(IncompleteForm):
        form.to_response(COMPLETED)
    assert [i["linkId"] for i in form.to_response(IN_PROGRESS)["item"]].count("meds") == 2  # the empty one is left out


def test_a_question_outside_reads_the_nearest_instance():
    form = two_medicines()
    evaluator = form.evaluator()
    assert evaluator.target_instance("pharmacy", (), "name") == (1,)  # the group comes before: its last entry
    assert evaluator.is_enabled("pharmacy")
    form.clear("name", (1,))
    assert not form.evaluator().is_enabled("pharmacy")


def test_instances_beyond_the_count_are_kept_but_not_sent():
    form = two_medicines()
    form.set_instance_count("meds", 1)
    response = form.to_response(IN_PROGRESS)
    assert [i["linkId"] for i in response["item"]].count("meds") == 1
    assert not form.evaluator().is_enabled("name", (1,))
    form.set_instance_count("meds", 2)  # the patient adds it back: nothing was lost
    assert form.get("name", (1,)) == ("salbutamol",)


def test_remove_instance_moves_the_later_ones_up():
    form = two_medicines()
    form.add_instance("meds")
    form.set("name", ["insulin"], (2,))
    form.remove_instance("meds", (0,))
    assert form.instance_count("meds") == 2
    assert [form.get("name", (i,)) for i in range(2)] == [("salbutamol",), ("insulin",)]
    assert form.get("started", (0,)) == (dt.date(2024, 2, 29),)
    form.remove_instance("meds", (1,))
    form.remove_instance("meds", (0,))
    assert form.instance_count("meds") == 1 and form.get("name", (0,)) == ()
    with pytest.raises(IndexError):
        form.remove_instance("meds", (3,))


def test_max_occurs_and_wrong_groups():
    form = FormAnswers(meds_form(extension=[
        {"url": "http://hl7.org/fhir/StructureDefinition/questionnaire-maxOccurs", "valueInteger": 2}]))
    form.add_instance("meds")
    with pytest.raises(ValueError, match="outside 1..2"):
        form.add_instance("meds")
    with pytest.raises(KeyError):
        form.add_instance("any")  # not a repeating group


def nested_form():
    return parse_questionnaire({"resourceType": "Questionnaire", "item": [
        {"linkId": "visit", "type": "group", "text": "Visit", "repeats": True, "item": [
            {"linkId": "where", "type": "string", "text": "Where?"},
            {"linkId": "test", "type": "group", "text": "Tests", "repeats": True, "item": [
                {"linkId": "test-name", "type": "string", "text": "Test"}]}]}]})


def test_nested_repeating_groups():
    form = FormAnswers(nested_form())
    form.add_instance("visit")
    form.add_instance("test", (1,))
    form.set("where", ["A"], (0,))
    form.set("where", ["B"], (1,))
    form.set("test-name", ["x-ray"], (1, 0))
    form.set("test-name", ["blood"], (1, 1))
    assert form.instance_count("test", (0,)) == 1 and form.instance_count("test", (1,)) == 2
    response = form.to_response(IN_PROGRESS)
    visits = response["item"]
    assert [v["item"][0]["answer"][0]["valueString"] for v in visits] == ["A", "B"]
    assert [t["item"][0]["answer"][0]["valueString"] for t in visits[1]["item"][1:]] == ["x-ray", "blood"]
    form.remove_instance("visit", (0,))
    assert form.instance_count("test", (0,)) == 2 and form.get("test-name", (0, 1)) == ("blood",)


def test_plain_mapping_evaluator_still_works_for_forms_without_repeats():
    q = meds_form()
    assert EnableWhenEvaluator(q, {"any": (True,)}).is_enabled("meds", (0,))
    assert not EnableWhenEvaluator(q, {"any": (True,)}).is_enabled("meds", (1,))  # one instance by default
