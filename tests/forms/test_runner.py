"""FormRunner: the one-question-per-screen state machine the kiosk screen drives."""
import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import pytest

from kiosk.forms import enable_when
from kiosk.forms.answers import COMPLETED, IN_PROGRESS, IncompleteForm
from kiosk.forms.questionnaire import Coding, QuestionnaireError
from kiosk.forms.rules import load_rules
from kiosk.forms.runner import ADD_ANOTHER, ADD_ANOTHER_TEXT, DISPLAY_PAGE, QUESTION, FormRunner, SnapshotError
from kiosk.forms.translations import TRANSLATION
from tests.forms.conftest import LOINC

INSTRUMENTS = Path(__file__).resolve().parents[2] / "kiosk" / "forms" / "instruments"
MAX_OCCURS = "http://hl7.org/fhir/StructureDefinition/questionnaire-maxOccurs"


def es(text: str) -> dict:
    return {"extension": [{"url": TRANSLATION, "extension": [
        {"url": "lang", "valueCode": "es"}, {"url": "content", "valueString": text}]}]}


def load(name: str) -> dict:
    return json.loads((INSTRUMENTS / f"{name}.json").read_text(encoding="utf-8"))


def visit_form() -> dict:
    return {"resourceType": "Questionnaire", "url": "http://x/visit", "language": "en", "item": [
        {"linkId": "welcome", "type": "display", "text": "A few questions", "_text": es("Unas preguntas")},
        {"linkId": "born", "type": "date", "text": "When were you born?", "_text": es("¿Cuándo nació?"), "required": True},
        {"linkId": "pain", "type": "choice", "text": "Pain today?", "_text": es("¿Dolor hoy?"), "prefix": "2.",
         "answerOption": [
             {"valueCoding": {"system": LOINC, "code": "LA32-8", "display": "No", "_display": es("No")}},
             {"valueCoding": {"system": LOINC, "code": "LA33-6", "display": "Yes", "_display": es("Sí")}}]},
        {"linkId": "where", "type": "group", "text": "About the pain", "_text": es("Sobre el dolor"),
         "enableWhen": [{"question": "pain", "operator": "=", "answerCoding": {"system": LOINC, "code": "LA33-6"}}],
         "item": [
             {"linkId": "place", "type": "open-choice", "text": "Where?", "repeats": True,  # no Spanish: falls back
              "answerOption": [{"valueString": "back", "_valueString": es("espalda")}, {"valueString": "head"}]},
             {"linkId": "score", "type": "integer", "text": "How bad, 0 to 10?", "_text": es("¿Qué tan fuerte, de 0 a 10?")},
         ]},
        {"linkId": "meds", "type": "group", "text": "Medicines", "_text": es("Medicamentos"), "repeats": True,
         "extension": [{"url": MAX_OCCURS, "valueInteger": 2}], "item": [
             {"linkId": "med", "type": "string", "text": "Name", "_text": es("Nombre"), "required": True, "maxLength": 40},
             {"linkId": "dose", "type": "decimal", "text": "Dose (mg)", "_text": es("Dosis (mg)")}]},
        {"linkId": "note", "type": "text", "text": "Anything else?", "_text": es("¿Algo más?"), "readOnly": True},
    ]}


def test_pages_in_order_with_display_and_add_another_and_no_read_only():
    runner = FormRunner(visit_form(), "en", rules=[])
    page = runner.page
    assert (page.kind, page.link_id, page.text) == (DISPLAY_PAGE, "welcome", "A few questions")
    assert runner.answer(["x"]).error_id == "not_answerable"
    assert (runner.position, runner.total) == (1, 6)  # welcome, born, pain, med, dose, add another; never "note"
    runner.next()
    assert runner.next().error_id == "required"  # born is required and unanswered
    assert runner.position == 2
    assert runner.answer(["1956-03-14"]).error_id == "not_a_date"
    assert runner.answer([dt.date(1956, 3, 14)]) is None
    assert runner.position == 2  # answer() does not move
    runner.next()
    page = runner.page
    assert (page.kind, page.link_id, page.prefix, page.required) == (QUESTION, "pain", "2.", False)
    assert [label for _, label in page.options] == ["No", "Yes"]
    assert runner.next() is None  # optional
    seen = []
    for answer in (["aspirin"], [], [False]):
        seen.append((runner.page.kind, runner.page.link_id, runner.page.instance))
        assert runner.answer(answer) is None and runner.next() is None
    assert seen == [(QUESTION, "med", (0,)), (QUESTION, "dose", (0,)), (ADD_ANOTHER, "meds", (0,))]
    assert runner.finished and runner.page is None


def test_enable_when_changes_the_total_and_the_pages():
    runner = FormRunner(visit_form(), "en", rules=[])
    runner.next(), runner.answer([dt.date(1980, 1, 1)]), runner.next()
    assert runner.total == 6  # welcome, born, pain, med, dose, add another
    assert runner.answer([Coding(LOINC, "LA33-6")]) is None
    assert runner.total == 8  # + place, score
    assert runner.position == 3
    runner.next()
    page = runner.page
    assert (page.link_id, page.context, page.repeats, page.item_type) == ("place", ("About the pain",), True, "open-choice")
    assert runner.answer(["back", "my knee"]) is None  # open-choice takes the patient's own words too
    runner.back()
    assert runner.answer([Coding(LOINC, "LA32-8")]) is None  # "no pain" after all
    assert runner.total == 6


def test_back_keeps_answers_and_forward_shows_them_again():
    runner = FormRunner(visit_form(), "en", rules=[])
    assert runner.back() is False  # first page
    runner.next()
    runner.answer([dt.date(1980, 1, 1)])
    runner.next()
    assert runner.back() is True
    assert runner.page.link_id == "born" and runner.page.answer == (dt.date(1980, 1, 1),)
    runner.next()
    assert runner.page.link_id == "pain"


def test_add_another_makes_instances_up_to_max_occurs():
    runner = FormRunner(visit_form(), "en", rules=[])
    runner.next(), runner.answer([dt.date(1980, 1, 1)]), runner.next(), runner.next()
    assert runner.page.link_id == "med"
    assert runner.next().error_id == "required"
    runner.answer(["ibuprofen"]), runner.next()
    runner.answer([200]), runner.next()
    page = runner.page
    assert (page.kind, page.link_id, page.instance, page.item_type) == (ADD_ANOTHER, "meds", (0,), "boolean")
    assert page.text == ADD_ANOTHER_TEXT and page.text_params == {"group": "Medicines"}
    assert runner.next().error_id == "required"  # yes or no, please
    assert runner.answer(["yes"]).error_id == "not_yes_no"
    assert runner.answer([True]) is None
    runner.next()
    assert (runner.page.link_id, runner.page.instance, runner.page.context) == ("med", (1,), ("Medicines",))
    runner.answer(["insulin"]), runner.next(), runner.next()
    assert runner.finished  # maxOccurs 2: no "add another" after the second one
    response = runner.to_response(COMPLETED)
    meds = [i for i in response["item"] if i["linkId"] == "meds"]
    assert [m["item"][0]["answer"] for m in meds] == [[{"valueString": "ibuprofen"}], [{"valueString": "insulin"}]]
    assert meds[0]["item"][1]["answer"] == [{"valueDecimal": 200.0}]


def test_saying_no_again_takes_the_instance_back_but_keeps_its_answers():
    runner = FormRunner(visit_form(), "en", rules=[])
    runner.next(), runner.answer([dt.date(1980, 1, 1)]), runner.next(), runner.next()
    runner.answer(["a"]), runner.next(), runner.next(), runner.answer([True]), runner.next()
    runner.answer(["b"])
    runner.back()
    assert runner.page.kind == ADD_ANOTHER and runner.page.answer == (True,)
    runner.answer([False])
    assert runner.total == 6
    runner.next()
    assert runner.finished
    assert [i["linkId"] for i in runner.to_response(IN_PROGRESS)["item"]].count("meds") == 1
    runner.back()
    runner.answer([True])
    runner.next()
    assert runner.page.answer == ("b",)


def test_spanish_texts_fall_back_only_where_there_is_no_translation():
    runner = FormRunner(visit_form(), "es", rules=[])
    assert runner.page.text == "Unas preguntas"
    runner.next(), runner.answer([dt.date(1980, 1, 1)]), runner.next()
    assert [label for _, label in runner.page.options] == ["No", "Sí"]
    runner.answer([Coding(LOINC, "LA33-6")]), runner.next()
    page = runner.page
    assert page.text == "Where?"  # the form has no Spanish for it
    assert page.context == ("Sobre el dolor",)
    assert [label for _, label in page.options] == ["espalda", "head"]
    runner.set_language("en")
    assert runner.page.context == ("About the pain",)


def test_bundled_phq9_in_spanish_shows_the_stem_as_context():
    runner = FormRunner(load("phq-9"), "es")
    page = runner.page
    assert page.text == "Poco interés o placer en hacer cosas"
    assert page.context == ("Durante las últimas 2 semanas, ¿qué tan seguido ha tenido molestias debido a los "
                            "siguientes problemas?",)
    assert [label for _, label in page.options][0] == "Ningún día"
    assert runner.total == 10  # nine questions and the difficulty one; never the total score


def answer_phq9(runner: FormRunner, scores: list[int]) -> None:
    codes = ["LA6568-5", "LA6569-3", "LA6570-1", "LA6571-9"]
    for score in scores:
        assert runner.answer([Coding(LOINC, codes[score])]) is None
        assert runner.next() is None


def test_outcome_and_response_of_the_phq9():
    runner = FormRunner(load("phq-9"), "en", load_rules())
    answer_phq9(runner, [1, 1, 1, 1, 1, 1, 1, 2, 1])
    out = runner.outcome()
    assert (out.total, out.band, out.flags, out.urgent, out.rules) == (10, "moderate", ("self-harm",), True, "PHQ-9")
    runner.next()  # difficulty question: optional
    assert runner.finished
    response = runner.to_response(COMPLETED, authored="2025-03-10T09:00:00Z")
    total = [i for i in response["item"] if i["linkId"] == "44261-6"]
    assert total == [{"linkId": "44261-6", "text": "PHQ-9 total score", "answer": [{"valueDecimal": 10.0}]}]
    assert response["authored"] == "2025-03-10T09:00:00Z"


def test_incomplete_phq9_cannot_be_completed_but_can_be_saved():
    runner = FormRunner(load("phq-9"), "en")
    answer_phq9(runner, [0, 0])
    with pytest.raises(IncompleteForm):
        runner.to_response(COMPLETED)
    assert runner.to_response(IN_PROGRESS)["status"] == "in-progress"


def test_form_without_scoring_has_no_total():
    out = FormRunner(visit_form(), "en", rules=load_rules()).outcome()
    assert (out.total, out.band, out.flags, out.urgent, out.rules) == (None, None, (), False, None)


def test_a_broken_total_expression_keeps_the_self_harm_flag():
    raw = load("phq-9")
    raw["item"][-1]["extension"][0]["valueExpression"]["expression"] = "%answers.nosuchfunction()"
    runner = FormRunner(raw, "en")
    answer_phq9(runner, [0, 0, 0, 0, 0, 0, 0, 0, 2])
    out = runner.outcome()
    assert out.total is None and out.flags == ("self-harm",) and out.urgent
    assert "'44261-6'" in out.problem


def test_snapshot_round_trips_dates_codings_instances_and_position():
    runner = FormRunner(visit_form(), "es", rules=[])
    runner.next(), runner.answer([dt.date(1956, 3, 14)]), runner.next()
    runner.answer([Coding(LOINC, "LA33-6")]), runner.next()
    runner.answer(["back", "my knee"]), runner.next(), runner.answer([7]), runner.next()
    runner.answer(["a"]), runner.next(), runner.answer([2.5]), runner.next(), runner.answer([True]), runner.next()
    runner.answer(["b"]), runner.next()
    runner.answer([3.0])  # chosen, not confirmed: not in the snapshot
    saved = json.loads(json.dumps(runner.snapshot()))  # what the kiosk stores
    restored = FormRunner.restore(visit_form(), saved, rules=[])
    assert restored.page == replace(runner.page, answer=())
    assert (restored.position, restored.total, restored.language) == (runner.position, runner.total, "es")
    assert restored.to_response(IN_PROGRESS) == runner.to_response(IN_PROGRESS)
    restored.back()
    assert restored.page.answer == ("b",) and restored.page.instance == (1,)
    restored.back()
    assert restored.page.kind == ADD_ANOTHER and restored.page.answer == (True,)
    restored.back()
    assert restored.page.answer == (2.5,)


def test_only_confirmed_answers_reach_partial_responses_outcomes_and_snapshots():
    runner = FormRunner(load("phq-9"), "en")
    answer_phq9(runner, [1, 1])
    runner.answer([Coding(LOINC, "LA6571-9")])  # tapped, then the patient walked away
    assert runner.page.answer == (Coding(LOINC, "LA6571-9", "Nearly every day"),)
    assert runner.outcome().total == 2
    partial = runner.to_response(IN_PROGRESS)
    assert [i["linkId"] for i in partial["item"][0]["item"]] == ["44250-9", "44255-8"]
    assert "44261-6" not in [i["linkId"] for i in partial["item"]]  # no total of half a form
    assert [a["linkId"] for a in runner.snapshot()["answers"]] == ["44250-9", "44255-8"]
    runner.next()
    assert runner.outcome().total == 5


def test_snapshot_keeps_a_cleared_initial_value_cleared():
    raw = {"resourceType": "Questionnaire", "item": [
        {"linkId": "n", "type": "integer", "text": "How many?", "initial": [{"valueInteger": 1}]}]}
    runner = FormRunner(raw, "en", rules=[])
    assert runner.page.answer == (1,)
    runner.answer([]), runner.next()
    restored = FormRunner.restore(raw, runner.snapshot(), rules=[])
    restored.back()
    assert restored.page.answer == ()


@pytest.mark.parametrize("damage, message", [
    (lambda s: s.update(form="0" * 32), "another form"),
    (lambda s: s.update(format=99), "known format"),
    (lambda s: s["answers"][0].update(linkId="nope"), "unknown item 'nope'"),
    (lambda s: s["answers"][0].update(values=[{"valueString": "not a date"}]), "item 'born' does not fit"),
    (lambda s: s["answers"][0].update(values=[{"valueQuantity": {}}]), "damaged"),
    (lambda s: s["answers"][0].update(instance="x"), "damaged"),
    (lambda s: s.update(language=None), "no language"),
])
def test_damaged_or_foreign_snapshots_are_refused_without_answers_in_the_message(damage, message):
    runner = FormRunner(visit_form(), "en", rules=[])
    runner.next(), runner.answer([dt.date(1956, 3, 14)]), runner.next()
    saved = json.loads(json.dumps(runner.snapshot()))
    damage(saved)
    with pytest.raises(SnapshotError, match=message) as caught:
        FormRunner.restore(visit_form(), saved, rules=[])
    assert "1956" not in str(caught.value)


def test_finished_runner_goes_back_to_the_last_page():
    runner = FormRunner(load("phq-2"), "en")
    answer_phq9(runner, [0, 3])
    assert runner.finished and runner.page is None and runner.position == runner.total == 2
    assert runner.answer([Coding(LOINC, "LA6568-5")]).error_id == "not_answerable"
    restored = FormRunner.restore(load("phq-2"), runner.snapshot())
    assert restored.finished
    assert runner.back() and runner.page.link_id == "44255-8"


def test_unreadable_form_is_refused_up_front():
    with pytest.raises(QuestionnaireError):
        FormRunner({"resourceType": "Questionnaire", "item": [{"linkId": "a", "type": "quantity"}]}, "en")


def test_general_intake_end_to_end_in_spanish():
    runner = FormRunner(load("general-intake"), "es")
    runner.answer(["Dolor de espalda"]), runner.next()
    runner.answer([True]), runner.next()
    assert runner.page.context == ("Sus alergias",)
    runner.answer(["penicilina"]), runner.next(), runner.answer(["ronchas"]), runner.next()
    assert runner.page.kind == ADD_ANOTHER and runner.page.text_params == {"group": "Sus alergias"}
    runner.answer([False]), runner.next()
    runner.answer([False]), runner.next()
    assert runner.finished
    response = runner.to_response(COMPLETED)
    assert [i["linkId"] for i in response["item"]] == ["reason", "allergies-any", "allergies", "medications-any"]


def thirty_questions() -> dict:
    items = []
    for i in range(30):
        item = {"linkId": f"q{i}", "type": "choice", "required": True, "text": f"Question {i}",
                "answerOption": [{"valueCoding": {"code": "y", "display": "Yes"}},
                                 {"valueCoding": {"code": "n", "display": "No"}}]}
        if i:
            item["enableWhen"] = [{"question": f"q{j}", "operator": "!=", "answerCoding": {"code": "n"}}
                                  for j in range(max(0, i - 3), i)]
            item["enableBehavior"] = "all"
        items.append(item)
    return {"resourceType": "Questionnaire", "item": items}


def test_enable_when_work_per_step_is_linear(monkeypatch):
    # Tests never assert on time; they count the work instead: each answer re-evaluates every
    # condition at most once (memoised), not once per page or per item pair.
    calls = []
    real = enable_when.condition_holds
    monkeypatch.setattr(enable_when, "condition_holds", lambda *a: calls.append(1) or real(*a))
    runner = FormRunner(thirty_questions(), "en", rules=[])
    conditions = sum(min(i, 3) for i in range(30))
    worst = 0
    while not runner.finished:
        calls.clear()
        runner.answer([runner.page.options[0][0]])
        _ = runner.page, runner.position, runner.total
        runner.next()
        worst = max(worst, len(calls))
    assert 0 < worst <= conditions
