"""python -m kiosk.education check|list: one line per article and language, exit 1 when a text
is too hard or anything is broken."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from education_helpers import bundle_item, write_article
from kiosk.education import bundled_articles
from kiosk.education.cli import main

ROOT = Path(__file__).resolve().parents[2]
HARD = ("Comprehensive cardiovascular risk management\n\nHypertension, characterized by persistently elevated "
        "arterial pressure, substantially increases cardiovascular morbidity and mortality, necessitating "
        "individualized pharmacological intervention.\n")


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_check_of_the_bundled_articles_passes_with_a_line_per_language():
    result = subprocess.run([sys.executable, "-m", "kiosk.education", "check"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    expected = sum(len(e.languages) for e in bundled_articles()[0])
    assert len(lines) == expected + 1
    assert any(line.startswith("flu-shot") and " en " in line and "Flesch-Kincaid grade" in line and " OK " in line
               for line in lines)
    assert any(" es " in line and "Fernández-Huerta ease" in line for line in lines)
    assert any(" zh " in line and "NOT MEASURED" in line and "no standard formula" in line for line in lines)
    assert "0 too hard" in lines[-1] and "0 problems" in lines[-1]


def test_a_too_hard_article_exits_1_and_names_it(articles_dir, capsys):
    write_article(articles_dir, "easy-one")
    write_article(articles_dir, "hard-one", texts={"en": HARD})
    code, out, _ = run(capsys, "check", str(articles_dir))
    assert code == 1
    hard = next(line for line in out.splitlines() if line.startswith("hard-one"))
    assert "TOO HARD" in hard and "shorten the longest sentences" in hard
    assert "OK" in next(line for line in out.splitlines() if line.startswith("easy-one"))


def test_a_broken_article_exits_1_and_is_named(articles_dir, capsys):
    write_article(articles_dir, "easy-one")
    write_article(articles_dir, "broken", "{not json")
    code, out, _ = run(capsys, "check", str(articles_dir))
    assert code == 1 and "BROKEN" in out and "broken/article.json" in out


def test_check_takes_one_article_folder_or_a_bundle_file(articles_dir, tmp_path, capsys):
    folder = write_article(articles_dir, "easy-one")
    assert run(capsys, "check", str(folder))[0] == 0
    bundle = tmp_path / "content.json"
    bundle.write_text(json.dumps({"kind": "content", "items": [bundle_item("from-file")]}))
    code, out, _ = run(capsys, "check", str(bundle))
    assert code == 0 and out.startswith("from-file")
    bundle.write_text(json.dumps([bundle_item("x", version=-1)]))
    code, out, _ = run(capsys, "check", str(bundle))
    assert code == 1 and "content bundle item 1" in out and "'version'" in out


def test_check_of_nothing_or_a_missing_path_exits_1(articles_dir, tmp_path, capsys):
    code, out, _ = run(capsys, "check", str(articles_dir))
    assert code == 1 and "no articles found" in out
    code, out, _ = run(capsys, "check", str(tmp_path / "missing"))
    assert code == 1 and "no such file or folder" in out


def test_list_prints_each_article(articles_dir, capsys):
    write_article(articles_dir, "easy-one", {"id": "easy-one", "version": 2, "topics": ["germs", "sleep"],
                                             "visit_types": ["new_patient"]})
    write_article(articles_dir, "other", texts={"en": "T\n\nB.\n", "es": "T\n\nB.\n"})
    code, out, err = run(capsys, "list", str(articles_dir))
    assert code == 0 and err == ""
    assert out.splitlines()[0].split() == ["easy-one", "v2", "en", "topics:", "germs,", "sleep;", "visits:",
                                           "new_patient"]
    assert "en es" in out.splitlines()[1] and "every visit" in out.splitlines()[1]
    write_article(articles_dir, "broken", "[]")
    code, out, err = run(capsys, "list", str(articles_dir))
    assert code == 1 and "broken" in err


def test_list_of_the_bundled_articles(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0 and len(out.splitlines()) == len(bundled_articles()[0])
