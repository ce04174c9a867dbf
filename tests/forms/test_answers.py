import datetime as dt

import pytest

from kiosk.forms.answers import COMPLETED, IN_PROGRESS, FormAnswers, IncompleteForm, validate_answer
from kiosk.forms.questionnaire import Coding, parse_questionnaire
from tests.forms.conftest import LOINC

NOT_AT_ALL = Coding(LOINC, "LA6568-5")
SEVERAL = Coding(LOINC, "LA6569-3")


def item(**raw):
    raw.setdefault("linkId", "x")
    raw.setdefault("text", "x")
    return parse_questionnaire({"resourceType": "Questionnaire", "item": [raw]}).by_link_id["x"]


@pytest.mark.parametrize("raw, values, error_id", [
    ({"type": "string", "required": True}, [], "required"),
    ({"type": "string", "required": True}, ["   "], "required"),
    ({"type": "string"}, ["a", "b"], "one_answer_only"),
    ({"type": "string", "maxLength": 3}, ["abcd"], "too_long"),
    ({"type": "string"}, [5], "not_text"),
    ({"type": "text"}, [""], "not_text"),
    ({"type": "boolean"}, ["yes"], "not_yes_no"),
    ({"type": "integer"}, [1.5], "not_whole_number"),
    ({"type": "integer"}, [True], "not_whole_number"),
    ({"type": "integer"}, ["3"], "not_whole_number"),
    ({"type": "decimal"}, ["1.5"], "not_a_number"),
    ({"type": "decimal"}, [float("nan")], "not_a_number"),
    ({"type": "date"}, ["2020-01-01"], "not_a_date"),
    ({"type": "date"}, [dt.datetime(2020, 1, 1, 8, 0)], "not_a_date"),
    ({"type": "choice", "answerOption": [{"valueString": "a"}]}, ["b"], "not_an_option"),
    ({"type": "choice", "answerOption": [{"valueInteger": 1}]}, [True], "not_an_option"),
    ({"type": "choice", "answerOption": [{"valueCoding": {"system": LOINC, "code": "LA6568-5"}}]},
     [Coding("http://other", "LA6568-5")], "not_an_option"),
    ({"type": "open-choice", "maxLength": 4, "answerOption": [{"valueString": "a"}]}, ["long text"], "too_long"),
    ({"type": "open-choice", "answerOption": [{"valueString": "a"}]}, [3], "not_an_option"),
    ({"type": "integer", "readOnly": True}, [3], "read_only"),
    ({"type": "display"}, ["x"], "not_answerable"),
    ({"type": "group", "item": [{"linkId": "c", "type": "string"}]}, ["x"], "not_answerable"),
])
def test_validation_errors(raw, values, error_id):
    stored, error = validate_answer(item(**raw), values)
    assert error is not None and error.error_id == error_id
    assert error.message  # plain words the screen shows
    assert stored == ()


@pytest.mark.parametrize("raw, values, stored", [
    ({"type": "string"}, [], ()),  # optional and unanswered is fine
    ({"type": "string", "maxLength": 3}, ["abc"], ("abc",)),
    ({"type": "boolean"}, [False], (False,)),
    ({"type": "integer"}, [0], (0,)),
    ({"type": "decimal"}, [2], (2.0,)),
    ({"type": "date"}, [dt.date(2020, 2, 29)], (dt.date(2020, 2, 29),)),
    ({"type": "choice", "repeats": True, "answerOption": [{"valueString": "a"}, {"valueString": "b"}]},
     ["b", "a", "b"], ("b", "a")),
    ({"type": "open-choice", "answerOption": [{"valueString": "a"}]}, ["my own words"], ("my own words",)),
    # A Coding answer is stored as the option itself, with its display.
    ({"type": "choice", "answerOption": [{"valueCoding": {"system": LOINC, "code": "LA6568-5", "display": "Not at all"}}]},
     [NOT_AT_ALL], (Coding(LOINC, "LA6568-5", "Not at all"),)),
])
def test_valid_answers(raw, values, stored):
    assert validate_answer(item(**raw), values) == (stored, None)


def test_error_messages_never_contain_the_answer():
    secret = "Xyzzy-PHI-123"
    for raw in ({"type": "string", "maxLength": 3}, {"type": "integer"},
                {"type": "choice", "answerOption": [{"valueString": "a"}]}):
        _, error = validate_answer(item(**raw), [secret])
        assert error is not None and secret not in error.message and secret not in error.error_id


def test_set_keeps_old_answer_when_new_one_is_invalid(phq2):
    form = FormAnswers(parse_questionnaire(phq2))
    assert form.set("comment", ["short"]) is None
    assert form.set("comment", ["far too long for twenty chars"]).error_id == "too_long"
    assert form.get("comment") == ("short",)
    assert form.set("comment", []) is None  # optional: emptying it clears it
    assert form.get("comment") == ()
    with pytest.raises(KeyError):
        form.set("nope", ["x"])


def test_initial_values_and_initial_selected():
    q = parse_questionnaire({"resourceType": "Questionnaire", "item": [
        {"linkId": "n", "type": "integer", "text": "n", "readOnly": True, "initial": [{"valueInteger": 7}]},
        {"linkId": "c", "type": "choice", "text": "c",
         "answerOption": [{"valueString": "a"}, {"valueString": "b", "initialSelected": True}]},
    ]})
    form = FormAnswers(q)
    assert form.get("n") == (7,) and form.get("c") == ("b",)
    assert form.set("n", [8]).error_id == "read_only"
    assert FormAnswers(q, use_initial=False).get("c") == ()


def test_enabled_questions_in_order_follow_the_answers(phq2):
    form = FormAnswers(parse_questionnaire(phq2))
    ids = lambda **kw: [i.link_id for i in form.enabled_items(**kw)]  # noqa: E731
    assert ids(include_display=True) == ["intro", "44250-9", "44255-8", "talk", "comment"]
    form.set("44250-9", [NOT_AT_ALL])
    form.set("44255-8", [NOT_AT_ALL])
    assert ids() == ["44250-9", "44255-8", "comment"]
    form.set("44255-8", [SEVERAL])
    assert ids() == ["44250-9", "44255-8", "talk", "comment"]


def test_missing_required_skips_disabled_questions(phq2):
    form = FormAnswers(parse_questionnaire(phq2))
    assert form.missing_required() == ["44250-9", "44255-8", "talk"]
    form.set("44250-9", [NOT_AT_ALL])
    form.set("44255-8", [NOT_AT_ALL])
    assert form.missing_required() == [] and form.is_complete()


def test_completed_response_mirrors_groups_and_drops_disabled_answers(phq2):
    form = FormAnswers(parse_questionnaire(phq2))
    form.set("44250-9", [SEVERAL])
    form.set("44255-8", [NOT_AT_ALL])
    form.set("talk", [True])
    form.set("comment", ["thanks"])
    form.set("44250-9", [NOT_AT_ALL])  # changed mind: 'talk' is disabled again, its answer not sent
    response = form.to_response(COMPLETED, authored="2025-03-10T09:00:00Z")
    assert response == {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "questionnaire": "http://example.org/fhir/Questionnaire/phq-2|1.0",
        "authored": "2025-03-10T09:00:00Z",
        "item": [
            {"linkId": "phq2", "item": [
                {"linkId": "44250-9", "text": "Little interest or pleasure in doing things",
                 "answer": [{"valueCoding": {"system": LOINC, "code": "LA6568-5", "display": "Not at all"}}]},
                {"linkId": "44255-8", "text": "Feeling down, depressed, or hopeless",
                 "answer": [{"valueCoding": {"system": LOINC, "code": "LA6568-5", "display": "Not at all"}}]},
            ]},
            {"linkId": "comment", "text": "Anything else?", "answer": [{"valueString": "thanks"}]},
        ],
    }
    assert form.get("talk") == (True,)  # kept in case the patient changes back


def test_partial_response_is_in_progress_and_completed_is_refused(phq2):
    form = FormAnswers(parse_questionnaire(phq2))
    form.set("44250-9", [SEVERAL])
    form.set("comment", ["Xyzzy-PHI"])
    with pytest.raises(IncompleteForm) as caught:
        form.to_response(COMPLETED)
    assert caught.value.missing == ("44255-8", "talk")
    assert "Xyzzy-PHI" not in str(caught.value)
    partial = form.to_response(IN_PROGRESS)
    assert partial["status"] == "in-progress"
    assert [i["linkId"] for i in partial["item"]] == ["phq2", "comment"]
    assert [i["linkId"] for i in partial["item"][0]["item"]] == ["44250-9"]
    with pytest.raises(ValueError):
        form.to_response("amended")


def nested_under_question():
    return parse_questionnaire({"resourceType": "Questionnaire", "url": "http://x/q", "item": [
        {"linkId": "allergy", "type": "boolean", "text": "Any allergies?", "item": [
            {"linkId": "allergy.what", "type": "string", "text": "To what?",
             "enableWhen": [{"question": "allergy", "operator": "=", "answerBoolean": True}]}]},
        {"linkId": "meds", "type": "group", "text": "Medications", "repeats": True, "item": [
            {"linkId": "med.name", "type": "string", "text": "Name"},
            {"linkId": "med.dose", "type": "decimal", "text": "Dose (mg)"},
            {"linkId": "med.since", "type": "date", "text": "Since"}]},
    ]})


def test_items_nested_under_a_question_go_under_its_answer():
    form = FormAnswers(nested_under_question())
    form.set("allergy", [True])
    form.set("allergy.what", ["penicillin"])
    form.set("med.dose", [2.5])
    form.set("med.since", [dt.date(2024, 5, 1)])
    response = form.to_response(COMPLETED)
    assert response["questionnaire"] == "http://x/q"
    assert response["item"] == [
        {"linkId": "allergy", "text": "Any allergies?", "answer": [{"valueBoolean": True, "item": [
            {"linkId": "allergy.what", "text": "To what?", "answer": [{"valueString": "penicillin"}]}]}]},
        {"linkId": "meds", "text": "Medications", "item": [
            {"linkId": "med.dose", "text": "Dose (mg)", "answer": [{"valueDecimal": 2.5}]},
            {"linkId": "med.since", "text": "Since", "answer": [{"valueDate": "2024-05-01"}]}]},
    ]


def test_empty_form_gives_response_without_items(phq2):
    response = FormAnswers(parse_questionnaire(phq2)).to_response(IN_PROGRESS)
    assert response == {"resourceType": "QuestionnaireResponse", "status": "in-progress",
                        "questionnaire": "http://example.org/fhir/Questionnaire/phq-2|1.0"}


def test_response_is_valid_fhir(phq2):
    # fhir.resources 8.x ships R5 at the top level and R4B (same QuestionnaireResponse shape as R4).
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse as qr_model
    form = FormAnswers(parse_questionnaire(phq2))
    form.set("44250-9", [SEVERAL])
    form.set("44255-8", [NOT_AT_ALL])
    form.set("talk", [False])
    for response in (form.to_response(COMPLETED), form.to_response(IN_PROGRESS),
                     FormAnswers(parse_questionnaire(phq2)).to_response(IN_PROGRESS)):
        qr_model.model_validate(response)
    nested = FormAnswers(nested_under_question())
    nested.set("allergy", [True])
    nested.set("allergy.what", ["x"])
    nested.set("med.name", ["y"])
    nested.set("med.dose", [1])
    nested.set("med.since", [dt.date(2020, 1, 1)])
    qr_model.model_validate(nested.to_response(COMPLETED))
    # The model does catch a broken response, so passing above means something.
    with pytest.raises(ValueError):
        qr_model.model_validate({"resourceType": "QuestionnaireResponse", "status": "completed",
                                 "item": [{"answer": [{"valueBoolean": True}]}]})
