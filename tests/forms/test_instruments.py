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
FILES = sorted(INSTRUMENTS.glob("*.json"))


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
    assert {f.stem for f in FILES} >= set(EXPECTED)


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
    del raw_q["item"][1]["_text"]
    del raw_q["item"][2]["answerOption"][0]["valueCoding"]["_display"]
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
    for item in response["item"]:
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
