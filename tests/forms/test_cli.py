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
