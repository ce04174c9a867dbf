"""The bundled instruments in kiosk/forms/instruments/: valid for our engine, fully translated
into Spanish, matched by our rules, and scored to the known ranges."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.forms.__main__ import check
from kiosk.forms.answers import IN_PROGRESS, FormAnswers
from kiosk.forms.questionnaire import Coding, parse_questionnaire
from kiosk.forms.rules import apply_rules, find_rules, load_rules
from kiosk.forms.scoring import option_score, read_scoring, score_response
from kiosk.forms.translations import missing_translations

INSTRUMENTS = Path(__file__).resolve().parents[2] / "kiosk" / "forms" / "instruments"
LOINC = "http://loinc.org"
# id -> (LOINC code, known maximum total, lowest band, highest band)
EXPECTED = {
    "phq-2": ("55757-9", 6, "negative screen", "positive screen"),
    "phq-9": ("44249-1", 27, "minimal", "severe"),
    "gad-7": ("69737-5", 21, "minimal", "severe"),
    "audit-c": ("72109-2", 12, "negative screen", "positive screen (review)"),
}
FILES = sorted(p for p in INSTRUMENTS.glob("*.json") if p.name != "policy.json")
ALL_INSTRUMENTS = {"phq-2", "phq-9", "gad-7", "audit-c", "general-intake", "covid-flu-screening"}


def load(name: str) -> dict:
    return json.loads((INSTRUMENTS / f"{name}.json").read_text(encoding="utf-8"))


def extreme_response(raw_q: dict, highest: bool) -> dict:
    """Every scored choice answered with its lowest (or highest) scoring option, via FormAnswers."""
    answers = FormAnswers(parse_questionnaire(raw_q))

    def walk(items):
        for item in items or []:
            scored = [(option_score(o), o["valueCoding"]) for o in item.get("answerOption", [])
                      if option_score(o) is not None]
            if scored:
                _, coding = (max if highest else min)(scored, key=lambda pair: pair[0])
                assert answers.set(item["linkId"], [Coding(coding.get("system"), coding["code"])]) is None
            walk(item.get("item"))

    walk(raw_q.get("item"))
    return answers.to_response(IN_PROGRESS)


def outcome(raw_q: dict, response: dict):
    rules = find_rules(load_rules(), raw_q)
    result = score_response(raw_q, response, total_link_id=rules.total_link_id)
    return result, apply_rules(rules, read_scoring(raw_q), result)


def test_all_expected_instruments_are_bundled():
    assert {f.stem for f in FILES} == ALL_INSTRUMENTS


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_check_passes_with_no_problems(path, capsys):
    assert check(str(path)) == 0
    assert capsys.readouterr().out == ""
    assert parse_questionnaire(json.loads(path.read_text(encoding="utf-8"))).warnings == ()


def test_check_cli_exits_zero():
    done = subprocess.run([sys.executable, "-m", "kiosk.forms", "check", str(INSTRUMENTS / "phq-9.json")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_metadata(path):
    raw_q = json.loads(path.read_text(encoding="utf-8"))
    assert raw_q["resourceType"] == "Questionnaire"
    assert raw_q["status"] == "active"
    assert raw_q["version"]
    assert raw_q["url"] == f"http://clinic-kiosk.example/fhir/Questionnaire/{path.stem}"
    assert "official" in raw_q["description"] and "before clinical use" in raw_q["description"]
    if path.stem in EXPECTED:
        assert {"system": LOINC, "code": EXPECTED[path.stem][0]}.items() <= raw_q["code"][0].items()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_text_and_display_has_spanish(path):
    raw_q = json.loads(path.read_text(encoding="utf-8"))
    assert missing_translations(raw_q, ["es"]) == []


def test_translation_walker_finds_gaps():
    raw_q = load("phq-2")
    del raw_q["item"][0]["item"][0]["_text"]
    del raw_q["item"][0]["item"][1]["answerOption"][0]["valueCoding"]["_display"]
    assert missing_translations(raw_q, ["es"]) == [
        "item 44250-9: text has no 'es' translation",
        "item 44255-8: option LA6568-5 display has no 'es' translation",
    ]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_rules_match_by_code(name):
    raw_q = load(name)
    raw_q["url"] = "http://someone-else.example/Questionnaire/x"  # match by LOINC code, not by url
    rules = find_rules(load_rules(), raw_q)
    assert rules is not None and rules.name.lower() == name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_lowest_and_highest_answers(name):
    _, maximum, lowest_band, highest_band = EXPECTED[name]
    raw_q = load(name)
    low, low_outcome = outcome(raw_q, extreme_response(raw_q, highest=False))
    high, high_outcome = outcome(raw_q, extreme_response(raw_q, highest=True))
    assert low.total == 0 and low_outcome.band == lowest_band
    assert high.total == maximum and high_outcome.band == highest_band
    assert low_outcome.flags == ()
    if name == "phq-9":
        assert high_outcome.flags == ("self-harm",) and high_outcome.urgent
        assert "44260-8" in high.item_scores
    else:
        assert high_outcome.flags == ()


def test_phq9_item9_alone_raises_self_harm():
    raw_q = load("phq-9")
    answers = FormAnswers(parse_questionnaire(raw_q))
    assert answers.set("44260-8", [Coding(LOINC, "LA6569-3")]) is None
    result, out = outcome(raw_q, answers.to_response(IN_PROGRESS))
    assert result.total == 1 and out.flags == ("self-harm",) and out.urgent


def test_unscored_difficulty_item_does_not_change_total():
    raw_q = load("gad-7")
    response = extreme_response(raw_q, highest=True)
    answers = FormAnswers(parse_questionnaire(raw_q))
    (group,) = response["item"]
    for item in group["item"]:
        answers.set(item["linkId"], [Coding(a["valueCoding"].get("system"), a["valueCoding"]["code"]) for a in item["answer"]])
    assert answers.set("69722-7", [Coding(LOINC, "LA6574-3")]) is None
    result, _ = outcome(raw_q, answers.to_response(IN_PROGRESS))
    assert result.total == 21


def test_audit_c_threshold_is_documented():
    rules = json.loads((Path(__file__).resolve().parents[2] / "kiosk/forms/rules/audit-c.json").read_text())
    assert "sex" in rules["description"] and ">= 3" in rules["description"]
    raw_q = load("audit-c")
    answers = FormAnswers(parse_questionnaire(raw_q))
    assert answers.set("68518-0", [Coding(LOINC, "LA18928-4")]) is None  # 2-3 times a week: 3
    _, out = outcome(raw_q, answers.to_response(IN_PROGRESS))
    assert out.band == "positive screen (review)"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_valid_against_the_r4_model(path):
    # fhir.resources 8.x ships R5 at the top level and R4B (same Questionnaire shape as R4).
    from fhir.resources.R4B.questionnaire import Questionnaire as q_model

    q_model.model_validate(json.loads(path.read_text(encoding="utf-8")))


# -- wording checked against the official versions -------------------------------------------------

def spanish(element: dict) -> str:
    from kiosk.forms.translations import translation
    return translation(element, "es")


def items_by_id(raw_q: dict) -> dict:
    out = {}

    def walk(items):
        for item in items or []:
            out[item["linkId"]] = item
            walk(item.get("item"))

    walk(raw_q["item"])
    return out


@pytest.mark.parametrize("name, group_en, group_es", [
    ("phq-9", "Over the last 2 weeks, how often have you been bothered by any of the following problems?",
     "Durante las últimas 2 semanas, ¿qué tan seguido ha tenido molestias debido a los siguientes problemas?"),
    ("phq-2", "Over the last 2 weeks, how often have you been bothered by any of the following problems?",
     "Durante las últimas 2 semanas, ¿qué tan seguido ha tenido molestias debido a los siguientes problemas?"),
    # Pfizer's Spanish GAD-7 for the USA uses the PHQ stem and answer words.
    ("gad-7", "Over the last 2 weeks, how often have you been bothered by the following problems?",
     "Durante las últimas 2 semanas, ¿qué tan seguido ha tenido molestias debido a los siguientes problemas?"),
])
def test_scored_questions_sit_under_the_official_stem(name, group_en, group_es):
    raw_q = load(name)
    group = raw_q["item"][0]
    assert group["type"] == "group" and group["text"] == group_en and spanish(group["_text"]) == group_es
    for item in group["item"]:
        assert [spanish(o["valueCoding"]["_display"]) for o in item["answerOption"]] == [
            "Ningún día", "Varios días", "Más de la mitad de los días", "Casi todos los días"]


def test_gad7_spanish_is_pfizers_usa_version():
    by = items_by_id(load("gad-7"))
    assert spanish(by["68509-9"]["_text"]) == "No ha sido capaz de parar o controlar su preocupación"
    assert spanish(by["69736-7"]["_text"]) == "Ha tenido miedo de que algo terrible fuera a pasar"
    assert by["69735-9"]["text"] == "Being so restless that it is hard to sit still"


def test_audit_c_is_worded_as_the_who_audit():
    by = items_by_id(load("audit-c"))
    assert by["68519-8"]["text"] == "How many drinks containing alcohol do you have on a typical day when you are drinking?"
    assert spanish(by["68519-8"]["_text"]) == ("¿Cuántas consumiciones de bebidas alcohólicas suele realizar en un día "
                                               "de consumo normal?")
    assert [o["valueCoding"]["display"] for o in by["68519-8"]["answerOption"]] == [
        "1 or 2", "3 or 4", "5 or 6", "7, 8, or 9", "10 or more"]
    assert spanish(by["68520-6"]["_text"]) == "¿Con qué frecuencia toma 6 o más bebidas alcohólicas en un solo día?"


# -- the general intake and the COVID-19/flu screening ----------------------------------------------

def test_general_intake_codes_and_repeating_groups():
    raw_q = load("general-intake")
    by = items_by_id(raw_q)
    assert by["reason"]["code"][0]["code"] == "29299-5" and by["reason"]["required"]
    assert by["allergies"]["code"][0]["code"] == "48765-2"
    assert by["medications"]["code"][0]["code"] == "10160-0"
    q = parse_questionnaire(raw_q)
    for group, gate, inside in (("allergies", "allergies-any", ["allergen", "reaction"]),
                                ("medications", "medications-any", ["medication-name", "medication-dose"])):
        assert q.by_link_id[group].is_repeating_group
        assert q.by_link_id[group].enable_when[0].question == gate
        assert [i.link_id for i in q.by_link_id[group].items] == inside


def screening(answers: dict[str, str]) -> tuple:
    raw_q = load("covid-flu-screening")
    form = FormAnswers(parse_questionnaire(raw_q))
    for link_id, code in answers.items():
        assert form.set(link_id, [Coding(LOINC, code)]) is None
    return outcome(raw_q, form.to_response(IN_PROGRESS))


YES, NO = "LA33-6", "LA32-8"
SYMPTOMS = ("fever", "cough", "shortness-of-breath", "sore-throat", "taste-smell")


def test_any_symptom_flags_respiratory_symptoms_for_staff_not_urgent():
    result, out = screening({**{s: NO for s in SYMPTOMS}, "sore-throat": YES, "contact": NO, "flu-shot": NO})
    assert result.total == 1 and out.band == "symptoms reported"
    assert out.flags == ("respiratory-symptoms",) and out.urgent is False


def test_no_symptoms_no_flag_and_the_flu_shot_does_not_count():
    result, out = screening({**{s: NO for s in SYMPTOMS}, "contact": NO, "flu-shot": YES})
    assert result.total == 0 and out.band == "no symptoms" and out.flags == ()


def test_contact_with_a_positive_case_is_its_own_flag():
    result, out = screening({**{s: YES for s in SYMPTOMS}, "contact": YES, "flu-shot": NO})
    assert result.total == 5
    assert out.flags == ("respiratory-symptoms", "covid-flu-contact") and not out.urgent


def test_screening_rules_match_only_our_form():
    raw_q = load("covid-flu-screening")
    assert find_rules(load_rules(), raw_q).name == "COVID-19 and flu screening"
    raw_q["url"] = "http://someone-else.example/Questionnaire/screening"  # same generic LOINC code
    assert find_rules(load_rules(), raw_q) is None
