import json
import subprocess
import sys
from pathlib import Path

from tests.forms.scoring_helpers import DATA, items_for_total, phq9, response

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kiosk.forms", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_check_good_file_exits_0():
    # the test file is English-only, so the translation check is turned off
    result = run("check", str(DATA / "phq-9.json"), "--languages", "")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stdout


def test_check_reports_missing_translations_by_default():
    result = run("check", str(DATA / "phq-9.json"))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert "error: item 44250-9: text has no 'es' translation" in lines
    assert all(line.startswith("error:") for line in lines if "translation" in line)


def test_check_languages_option_names_each_language():
    result = run("check", str(DATA / "phq-9.json"), "--languages", "es,zh")
    assert result.returncode == 1
    assert "error: item 44250-9: text has no 'zh' translation" in result.stdout.splitlines()


def test_check_broken_file_lists_problems_and_exits_1(tmp_path):
    q = phq9()
    q["item"][3]["enableWhen"] = [{"question": "nope", "operator": "exists", "answerBoolean": True}]
    q["item"][-1]["extension"][0]["valueExpression"]["expression"] = "%answers.weight(.sum("
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(q))
    result = run("check", str(path), "--languages", "")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith("error:") and "'44254-1'" in line and "nope" in line for line in lines)
    assert any(line.startswith("error:") and "'44261-6'" in line and "does not parse" in line for line in lines)


def test_check_warnings_alone_exit_0(tmp_path):
    q = phq9()
    q["item"][0]["required"] = "true"
    path = tmp_path / "lenient.json"
    path.write_text(json.dumps(q))
    result = run("check", str(path), "--languages", "")
    assert result.returncode == 0 and result.stdout.startswith("warning:")


def test_check_unreadable_file_exits_2(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    assert run("check", str(path)).returncode == 2
    assert run("check", str(tmp_path / "missing.json")).returncode == 2


def test_score_prints_total_band_and_self_harm(tmp_path):
    q = phq9()
    path = tmp_path / "response.json"
    path.write_text(json.dumps(response(q, items_for_total(11, item9=1))))
    result = run("score", str(DATA / "phq-9.json"), str(path))
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert (out["total"], out["band"], out["flags"], out["urgent"]) == (11, "moderate", ["self-harm"], True)


def test_score_of_empty_response_is_null(tmp_path):
    path = tmp_path / "response.json"
    path.write_text(json.dumps({"resourceType": "QuestionnaireResponse", "status": "in-progress"}))
    out = json.loads(run("score", str(DATA / "phq-9.json"), str(path)).stdout)
    assert (out["total"], out["band"], out["flags"]) == (None, None, [])


def test_check_lists_every_problem_not_only_the_first(tmp_path):
    q = phq9()
    q["item"][0]["type"] = "quantity"  # unsupported type
    q["item"][2]["answerOption"] = "not a list of options"  # bad option
    q["item"][3]["enableWhen"] = [{"question": "nope", "operator": "exists", "answerBoolean": True}]
    q["item"][4]["maxLength"] = 0
    q["item"][5]["answerValueSet"] = "http://example.org/ValueSet/frequency"
    del q["item"][5]["answerOption"]
    path = tmp_path / "many.json"
    path.write_text(json.dumps(q))
    result = run("check", str(path), "--languages", "es")
    assert result.returncode == 1
    errors = [line for line in result.stdout.splitlines() if line.startswith("error:")]
    for link_id, words in (("44250-9", "unsupported item type 'quantity'"), ("44259-0", "answerOption"),
                           ("44254-1", "unknown linkId 'nope'"), ("44251-7", "maxLength"),
                           ("44258-2", "answerValueSet"), ("44250-9", "no 'es' translation")):
        assert any(f"'{link_id}'" in line or f"item {link_id}:" in line for line in errors if words in line), words


def test_check_reports_what_the_kiosk_screens_would_meet(tmp_path):
    q = {"resourceType": "Questionnaire", "item": [
        {"linkId": "locked", "type": "string", "text": "Locked", "required": True, "readOnly": True},
        {"linkId": "blank", "type": "display"},
        {"linkId": "pick", "type": "choice", "text": "Pick", "answerOption": [{"valueCoding": {"code": "a"}}]},
        {"linkId": "list", "type": "group", "repeats": True, "item": [{"linkId": "x", "type": "string", "text": "x"}]},
        {"linkId": "after", "type": "string", "text": "After",
         "enableWhen": [{"question": "x", "operator": "exists", "answerBoolean": True}]},
    ]}
    path = tmp_path / "kiosk.json"
    path.write_text(json.dumps(q))
    result = run("check", str(path), "--languages", "")
    assert result.returncode == 1
    out = result.stdout
    assert "error: item 'locked': required but read-only or hidden" in out
    assert "warning: item 'blank': display item has no text" in out
    assert "warning: item 'pick': option 'a' has no display" in out
    assert "warning: item 'list': repeating group has no text" in out
    assert "warning: item 'after': enableWhen reads 'x' inside repeating group 'list'" in out


def test_check_warns_when_our_rules_name_an_item_the_form_lacks(tmp_path):
    q = phq9()
    q["item"] = [i for i in q["item"] if i["linkId"] != "44260-8"]  # no item 9: no self-harm flag possible
    path = tmp_path / "no-item-9.json"
    path.write_text(json.dumps(q))
    result = run("check", str(path), "--languages", "")
    assert result.returncode == 0
    assert "flag 'self-harm' names item '44260-8', which this form does not have" in result.stdout


def test_check_of_every_bundled_instrument_in_spanish_passes():
    instruments = ROOT / "kiosk" / "forms" / "instruments"
    for path in sorted(instruments.glob("*.json")):
        if path.name == "policy.json":
            continue
        result = run("check", str(path), "--languages", "es")
        assert (result.returncode, result.stdout) == (0, ""), path.name
